"""The group card's wish page: the emailed alert's link; a GET changes nothing, refusals never reveal the card."""

from dataclasses import replace
from datetime import timedelta

import pytest

from cards.links import CardRef, card_token, wish_page_url
from cards.models import Card, PrepSettings, Wish
from tests.cards.conftest import member_person
from tests.factories import WorkspaceFactory
from tests.pages.conftest import csrf_token_of
from workspaces.birthdays import workspace_today

pytestmark = pytest.mark.django_db

BASE = "https://bb.example.com"


@pytest.fixture
def card(settings):
    """Cleo's birthday card, delivered the day after tomorrow; Max and Ada may write on it."""
    settings.PUBLIC_BASE_URL = BASE
    workspace = WorkspaceFactory(name="Acme & Sons", timezone="Europe/Berlin")
    PrepSettings.objects.create(workspace=workspace, alert_days=3, group_card=True)
    day = workspace_today(workspace) + timedelta(days=2)
    people = {
        name.split()[0].lower(): member_person(workspace, name=name)
        for name in ("Cleo Celebrated", "Max Member", "Ada Admin")
    }
    ref = CardRef(workspace_id=workspace.pk, person_id=people["cleo"].pk, kind="birthday", day=day)
    return {"ref": ref, "workspace": workspace, **people}


def path(ref, author) -> str:
    return wish_page_url(ref, author_id=author.pk).removeprefix(BASE)


def test_a_teammate_adds_then_changes_their_wish_and_never_sees_anyone_elses(browser, card):
    cleos = Card.objects.create(workspace=card["workspace"], person=card["cleo"], kind="birthday", day=card["ref"].day)
    Wish.objects.create(workspace=card["workspace"], card=cleos, author=card["ada"], text="Ada's secret words")
    url = path(card["ref"], card["max"])
    page = browser.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Cleo Celebrated" in text
    assert "Cleo Celebrated's birthday" in text
    assert "Ada&#x27;s secret words" not in text
    assert "Ada's secret words" not in text
    assert not Wish.objects.filter(author=card["max"]).exists()  # a GET writes nothing

    saved = browser.post(url, {"text": "Happy birthday!", "csrfmiddlewaretoken": csrf_token_of(page)})
    assert saved.status_code == 303
    again = browser.get(saved["Location"])
    assert "Your wish is on the card" in again.content.decode()
    assert "Happy birthday!" in again.content.decode()  # their own, to change
    browser.post(url, {"text": "Happy birthday, Cleo!", "csrfmiddlewaretoken": csrf_token_of(again)})
    assert Wish.objects.get(author=card["max"]).text == "Happy birthday, Cleo!"
    assert "Ada's secret words" not in browser.get(url).content.decode()


def test_an_empty_wish_is_a_400_on_the_form(browser, card):
    url = path(card["ref"], card["max"])
    page = browser.get(url)
    response = browser.post(url, {"text": "  ", "csrfmiddlewaretoken": csrf_token_of(page)})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert not Wish.objects.exists()


def test_the_celebrated_persons_own_link_looks_like_any_bad_link(browser, card):
    own = browser.get(path(card["ref"], card["cleo"]))
    forged = browser.get("/cards/not-a-signed-token")
    assert own.status_code == forged.status_code == 404
    assert own.content == forged.content  # not a word more than for a link we never signed
    page = browser.get(path(card["ref"], card["max"]))
    posted = browser.post(path(card["ref"], card["cleo"]), {"text": "Me", "csrfmiddlewaretoken": csrf_token_of(page)})
    assert posted.status_code == 404
    assert not Wish.objects.exists()


def test_a_link_without_its_author_or_of_another_workspace_does_not_work(browser, card):
    no_author = "/cards/" + card_token(card["ref"])
    outsider = member_person(WorkspaceFactory(), name="Oscar Outside")
    assert browser.get(no_author).status_code == 404
    assert browser.get(path(card["ref"], outsider)).status_code == 404


def test_after_the_day_the_page_says_the_card_was_delivered(browser, card):
    past = replace(card["ref"], day=workspace_today(card["workspace"]))
    response = browser.get(path(past, card["max"]))
    assert response.status_code == 410
    assert "The card was delivered" in response.content.decode()

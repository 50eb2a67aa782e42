"""The preferences page and one-click unsubscribe: signed, revocable links; the same opt-outs as the API
and Twilio's STOP; every change audited."""

import pytest
from auditlog.models import LogEntry
from django.test import Client

from tests.factories import PersonFactory, WorkspaceFactory
from tests.pages.conftest import csrf_token_of
from workspaces import services
from workspaces.models import Person
from workspaces.preferences import preferences_url, unsubscribe_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_person(db, settings) -> Person:
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    workspace = WorkspaceFactory(name="Tax & Co")
    return PersonFactory(
        workspace=workspace,
        name="Carla Client",
        email="carla@example.com",
        phone="+4915112345678",
        preferred_channels=["sms", "email"],
    )


def path_of(url: str) -> str:
    return url.removeprefix("https://buddy.example.test")


def person_entries(person) -> int:
    return LogEntry.objects.filter(object_pk=str(person.pk), content_type__model="person").count()


def test_the_page_names_the_workspace_and_the_channels_with_their_addresses(browser, client_person):
    response = browser.get(path_of(preferences_url(client_person)))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Tax &amp; Co sends you reminders" in html
    for shown in ("Email (carla@example.com)", "Text message (SMS) (+4915112345678)", "WhatsApp (+4915112345678)"):
        assert shown in html
    assert "Slack" not in html.split("<form", 1)[1].split("</fieldset>", 1)[0], "no Slack id, no Slack choice"


def test_choosing_channels_writes_the_same_opt_outs_the_api_uses_and_is_audited(browser, client_person):
    url = path_of(preferences_url(client_person))
    page = browser.get(url)
    before = person_entries(client_person)

    response = browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), "receive": ["email"], "language": "de"})

    assert response.status_code == 303
    client_person.refresh_from_db()
    assert client_person.opted_out_channels == ["sms", "whatsapp"]
    assert client_person.preferred_channels == ["email"]
    assert client_person.language == "de"
    assert person_entries(client_person) == before + 1
    shown = browser.get(response["Location"]).content.decode()
    assert 'lang="de"' in shown


def test_unsubscribing_from_everything(browser, client_person):
    url = path_of(preferences_url(client_person))
    page = browser.get(url)
    browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), "receive": ["email"], "unsubscribe_all": ""})

    client_person.refresh_from_db()
    assert client_person.opted_out_channels == ["slack", "email", "sms", "whatsapp"]
    assert client_person.preferred_channels == []


def test_channels_the_page_does_not_offer_keep_their_state(client_person):
    client_person.opted_out_channels = ["slack"]
    client_person.save()
    services.person_preferences_update(person=client_person, receive={"email", "sms"}, offered={"email", "sms"})

    client_person.refresh_from_db()
    assert client_person.opted_out_channels == ["slack"]


def test_a_bad_choice_is_400_and_writes_nothing(browser, client_person):
    url = path_of(preferences_url(client_person))
    page = browser.get(url)
    response = browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), "receive": ["slack", "pigeon"]})

    assert response.status_code == 400
    client_person.refresh_from_db()
    assert client_person.opted_out_channels == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url[:-1] + ("A" if url[-1] != "A" else "B"),
        lambda url: url.rsplit("/", 1)[0] + "/short",
        lambda url: (
            url.replace("/preferences/", "/preferences/00000000-0000-0000-0000-000000000000/", 1).rsplit("/", 2)[0]
            + "/"
            + url.rsplit("/", 1)[1]
        ),
    ],
)
def test_altered_links_are_404(browser, client_person, mangle):
    assert browser.get(mangle(path_of(preferences_url(client_person)))).status_code == 404


def test_revoking_makes_every_earlier_link_stop_working(browser, client_person):
    old = path_of(preferences_url(client_person))
    services.person_preferences_links_revoke(person=client_person)

    assert browser.get(old).status_code == 404
    assert browser.get(path_of(preferences_url(client_person))).status_code == 200


def test_rfc_8058_one_click_post_unsubscribes_from_email_only(client_person):
    url = path_of(unsubscribe_url(client_person))
    before = person_entries(client_person)
    # A mail provider posts without cookies or CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    client_person.refresh_from_db()
    assert client_person.opted_out_channels == ["email"]
    assert client_person.preferred_channels == ["sms"]
    assert person_entries(client_person) == before + 1
    again = Client().post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    assert person_entries(client_person) == before + 1, "nothing changed, nothing recorded"


def test_opening_the_unsubscribe_link_asks_first(browser, client_person):
    url = path_of(unsubscribe_url(client_person))
    response = browser.get(url)

    assert response.status_code == 200
    assert "Stop messages from Tax &amp; Co by Email?" in response.content.decode()
    client_person.refresh_from_db()
    assert client_person.opted_out_channels == []


def test_a_bad_one_click_link_is_404_and_changes_nothing(client_person):
    url = path_of(unsubscribe_url(client_person)).replace("/unsubscribe", "x/unsubscribe")
    response = Client().post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 404
    client_person.refresh_from_db()
    assert client_person.opted_out_channels == []

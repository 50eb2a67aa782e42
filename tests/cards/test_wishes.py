"""The card's services: who may write, when, what; the settings' validation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from cards import services
from cards.links import CardRef
from cards.models import Wish
from tests.cards.conftest import FRIDAY, member_person
from tests.factories import PersonFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

OPEN_DAY = FRIDAY - timedelta(days=1)


def ref_of(team, **change) -> CardRef:
    data = {"workspace_id": team["workspace"].pk, "person_id": team["cleo"].pk, "kind": "birthday", "day": FRIDAY}
    return CardRef(**{**data, **change})


def refusal(**kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        services.wish_save(**kwargs)
    return caught.value.code


def test_a_teammate_adds_and_changes_their_own_wish_once(team):
    ref = ref_of(team)
    services.wish_save(ref=ref, author=team["max"], text="  Happy birthday!  ", today=OPEN_DAY - timedelta(days=1))
    services.wish_save(ref=ref, author=team["max"], text="Happy birthday, Cleo!", today=OPEN_DAY)
    services.wish_save(ref=ref, author=team["ada"], text="All the best", today=OPEN_DAY)

    wishes = Wish.objects.filter(card__person=team["cleo"]).order_by("author__name")
    assert [(w.author.name, w.text) for w in wishes] == [
        ("Ada Admin", "All the best"),
        ("Max Member", "Happy birthday, Cleo!"),
    ]
    door = services.wish_check(ref=ref, author=team["max"], today=OPEN_DAY)
    assert door.own_text == "Happy birthday, Cleo!"  # their own, never anyone else's


def test_the_celebrated_person_is_refused_as_if_there_were_no_card(team):
    assert refusal(ref=ref_of(team), author=team["cleo"], text="Me!", today=OPEN_DAY) == services.NOT_FOUND
    assert not Wish.objects.exists()


def test_another_workspaces_person_and_a_client_are_refused(team):
    outsider = PersonFactory(workspace=WorkspaceFactory(), name="Oscar Outside")
    client = PersonFactory(workspace=team["workspace"], name="Carla Client")  # no account, no Slack id
    for author in (outsider, client, None):
        assert refusal(ref=ref_of(team), author=author, text="Hi", today=OPEN_DAY) == services.NOT_FOUND
    # A card of another workspace's person, even signed, is not this workspace's.
    other = ref_of(team, person_id=outsider.pk)
    assert refusal(ref=other, author=team["max"], text="Hi", today=OPEN_DAY) == services.NOT_FOUND
    assert not Wish.objects.exists()


@pytest.mark.parametrize(
    ("today", "code"),
    [
        (FRIDAY, services.CLOSED),
        (FRIDAY + timedelta(days=3), services.CLOSED),
        (FRIDAY - timedelta(days=3), services.NOT_OPEN),
    ],
)
def test_outside_the_window_nothing_is_written(team, today, code):
    assert refusal(ref=ref_of(team), author=team["max"], text="Hi", today=today) == code
    assert not Wish.objects.exists()


def test_cards_turned_off_refuse(team):
    team["prep"].group_card = False
    team["prep"].save()
    assert refusal(ref=ref_of(team), author=team["max"], text="Hi", today=OPEN_DAY) == services.CARDS_OFF


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, None, 42])
def test_an_empty_or_long_wish_is_refused(team, text):
    with pytest.raises(ValidationError) as caught:
        services.wish_save(ref=ref_of(team), author=team["max"], text=text, today=OPEN_DAY)
    assert "text" in caught.value.message_dict
    assert not Wish.objects.exists()


def test_settings_are_validated_together_and_nothing_is_saved_on_error(team):
    workspace = team["workspace"]
    outsider = PersonFactory(workspace=WorkspaceFactory())
    client = PersonFactory(workspace=workspace)
    with pytest.raises(ValidationError) as caught:
        services.prep_settings_update(
            workspace=workspace,
            data={"alert_days": 31, "alert_recipients": "everyone", "chosen": [outsider.pk, client.pk]},
        )
    assert set(caught.value.message_dict) == {"alert_days", "alert_recipients", "chosen"}
    with pytest.raises(ValidationError) as caught:
        services.prep_settings_update(workspace=workspace, data={"alert_days": 0})
    assert "group_card" in caught.value.message_dict
    team["prep"].refresh_from_db()
    assert (team["prep"].alert_days, team["prep"].group_card) == (2, True)

    planner = member_person(workspace, name="Pat Planner")
    saved = services.prep_settings_update(
        workspace=workspace, data={"alert_days": 5, "alert_recipients": "chosen", "chosen": [planner.pk]}
    )
    assert saved.alert_days == 5
    assert list(saved.chosen.all()) == [planner]

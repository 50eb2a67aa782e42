"""Advance alerts planned from the digest: timing across a weekend shift, recipients, keys."""

from datetime import timedelta

import pytest

from cards.links import card_ref_from_token
from cards.models import AlertRecipients
from notifications.models import Notification
from scheduling import services
from tests.cards.conftest import FRIDAY, SATURDAY, member_person
from workspaces.models import Celebrate

pytestmark = pytest.mark.django_db


def alerts(workspace):
    return Notification.objects.filter(workspace=workspace, idempotency_key__contains=":alert:")


def run(workspace, day):
    return services.digest_run_now(workspace=workspace, day=day)


def test_the_alert_goes_out_n_days_before_the_shifted_announcement_only(team):
    workspace = team["workspace"]
    for day in (FRIDAY - timedelta(days=3), FRIDAY - timedelta(days=1), FRIDAY, SATURDAY - timedelta(days=2)):
        run(workspace, day)
    assert not alerts(workspace).exists()  # the 9th: two days before the Saturday itself, not the Friday

    run(workspace, FRIDAY - timedelta(days=2))

    rows = list(alerts(workspace).order_by("recipient"))
    assert [row.recipient for row in rows] == ["ada@team.example", "olga@team.example"]
    for row in rows:
        assert row.channel == "email"
        assert row.occurrence_date == FRIDAY - timedelta(days=2)
        assert "Cleo Celebrated's birthday" in row.subject
        assert "Friday 10 April" in row.body
        assert "the day itself is on Saturday" in row.body
        assert "in 2 days" in row.body
        assert "Add your wishes to the group card: https://" in row.body


def test_the_celebrated_person_never_gets_an_alert_even_when_chosen(team):
    workspace, prep = team["workspace"], team["prep"]
    prep.alert_recipients = AlertRecipients.CHOSEN
    prep.save()
    prep.chosen.set([team["cleo"], team["max"]])

    run(workspace, FRIDAY - timedelta(days=2))

    assert [row.recipient for row in alerts(workspace)] == ["max@team.example"]
    assert not Notification.objects.filter(person=team["cleo"]).exists()


def test_each_recipient_gets_their_own_signed_link_for_the_celebration(team):
    run(team["workspace"], FRIDAY - timedelta(days=2))

    for row in alerts(team["workspace"]):
        token = row.body.split("Add your wishes to the group card: https://")[1].split()[0].rsplit("/", 1)[1]
        ref, author_id = card_ref_from_token(token)
        assert (ref.person_id, ref.kind, ref.day) == (team["cleo"].pk, "birthday", FRIDAY)
        assert author_id == row.person_id


def test_a_rerun_or_a_changed_n_never_alerts_twice(team):
    workspace, prep = team["workspace"], team["prep"]
    run(workspace, FRIDAY - timedelta(days=2))
    first = {row.idempotency_key: row.body for row in alerts(workspace)}

    run(workspace, FRIDAY - timedelta(days=2))
    prep.alert_days = 1
    prep.save()
    run(workspace, FRIDAY - timedelta(days=1))

    assert {row.idempotency_key: row.body for row in alerts(workspace)} == first


def test_without_the_card_the_alert_has_no_link_and_private_celebrations_get_none(team):
    workspace, prep = team["workspace"], team["prep"]
    prep.group_card = False
    prep.save()
    member_person(workspace, name="Pia Private", birth_month=4, birth_day=10, celebrate_birthday=Celebrate.PRIVATE)

    run(workspace, FRIDAY - timedelta(days=2))

    rows = list(alerts(workspace))
    assert len(rows) == 2
    assert all("Cleo" in row.body and "wishes" not in row.body and "Pia" not in row.body for row in rows)


def test_alerts_off_plans_none(team):
    team["prep"].group_card = False
    team["prep"].alert_days = 0
    team["prep"].save()

    run(team["workspace"], FRIDAY - timedelta(days=2))

    assert not alerts(team["workspace"]).exists()


def test_a_slack_member_is_alerted_by_direct_message_when_the_bot_reaches_them(team):
    config = team["workspace"].channel_configs.get(kind="slack")
    config.webhook_url = ""
    config.bot_token = "xoxb-test"
    config.channel_id = "C0CELEB"
    config.save()
    ada = team["ada"]
    ada.slack_user_id = "UADA"
    ada.save()

    run(team["workspace"], FRIDAY - timedelta(days=2))

    slack = alerts(team["workspace"]).get(person=ada)
    assert slack.channel == "slack"
    assert slack.recipient == "UADA"
    assert "<https://" in slack.body
    assert "|Add your wishes to the group card>" in slack.body
    # The Slack alert carries the button that opens the wish modal for this card.
    button = slack.blocks[-1]["elements"][0]
    assert button["action_id"] == "card_add_wishes"
    ref, _ = card_ref_from_token(button["value"])
    assert (ref.person_id, ref.kind, ref.day) == (team["cleo"].pk, "birthday", FRIDAY)
    email = alerts(team["workspace"]).get(person=team["olga"])
    assert email.blocks is None


def test_each_recipient_reads_the_alert_in_their_own_language(team):
    ada = team["ada"]
    ada.language = "de"
    ada.save()

    run(team["workspace"], FRIDAY - timedelta(days=2))

    german = alerts(team["workspace"]).get(person=ada)
    assert (
        german.subject
        == "Demnächst: der Geburtstag von Cleo Celebrated am Freitag, 10. April (der Tag selbst ist am Samstag)"
    )
    assert "Ihre Glückwünsche auf die Glückwunschkarte schreiben: https://" in german.body
    assert "Heads-up" in alerts(team["workspace"]).get(person=team["olga"]).body

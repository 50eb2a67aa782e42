"""Who gets a reminder on which channel: the reminder's order, opt-outs, addresses; nobody dropped silently."""

from datetime import UTC, datetime, timedelta

import pytest

from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from notifications.models import Notification, NotificationStatus
from reminders.services import reminder_create
from scheduling.firing import occurrence_fire
from scheduling.tick import tick
from tests.factories import MembershipFactory

CREATED = datetime(2026, 6, 1, tzinfo=UTC)
AT = datetime(2026, 6, 10, 9, tzinfo=UTC)


def fire(workspace, recipients, channels, **extra):
    data = {
        "kind": "one_time",
        "run_at": AT,
        "recipients": [p.pk for p in recipients],
        "channels": channels,
        "message": "Your documents are due, {{ person.name }}.",
        **extra,
    }
    reminder = reminder_create(workspace=workspace, data=data, now=CREATED)
    tick(now=AT + timedelta(seconds=30))
    return reminder


@pytest.mark.django_db
def test_first_channel_the_person_allows_and_can_be_reached_on(
    make_workspace, person, django_capture_on_commit_callbacks
):
    workspace = make_workspace(sms=True)
    sms_ok = person(workspace, name="Ana", email="ana@example.com", phone="+14155550101")
    opted_out_of_sms = person(
        workspace, name="Bo", email="bo@example.com", phone="+14155550102", opted_out_channels=["sms"]
    )
    no_phone = person(workspace, name="Cy", email="cy@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fire(workspace, [sms_ok, opted_out_of_sms, no_phone], ["sms", "email"])
    routes = {n.person_id: (n.channel, n.recipient) for n in Notification.objects.all()}
    assert routes == {
        sms_ok.pk: ("sms", "+14155550101"),
        opted_out_of_sms.pk: ("email", "bo@example.com"),
        no_phone.pk: ("email", "cy@example.com"),
    }
    assert "Your documents are due, Bo." in Notification.objects.get(person=opted_out_of_sms).body
    assert len(callbacks) == 1  # one on-commit hand-over to the delivery queue


@pytest.mark.django_db
def test_opted_out_everywhere_is_recorded_as_skipped_not_queued(
    make_workspace, person, django_capture_on_commit_callbacks
):
    workspace = make_workspace()
    ana = person(workspace, name="Ana", email="ana@example.com")
    hermit = person(workspace, name="Hermit", email="h@example.com", opted_out_channels=["email", "sms"])
    unreachable = person(workspace, name="Nobody", email="")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reminder = fire(workspace, [ana, hermit, unreachable], ["email", "sms"])
    queued = callbacks[0].args[0]  # notifications.queueing.dispatch(ids)
    assert queued == [str(Notification.objects.get(person=ana).pk)]

    skipped = {n.person_id: n for n in Notification.objects.filter(status=NotificationStatus.SKIPPED)}
    assert set(skipped) == {hermit.pk, unreachable.pk}
    assert skipped[hermit.pk].last_error.startswith("opted_out: opted out of email, sms")
    assert skipped[unreachable.pk].last_error.startswith("unreachable")
    assert Notification.objects.get(person=ana).status == NotificationStatus.PENDING
    # A second run of the occurrence creates nothing, the skipped rows included.
    again = occurrence_fire(reminder=reminder, slot=Slot(at=AT, local=AT.replace(tzinfo=None)))
    assert again.created_ids == []
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_without_channels_each_person_follows_their_own_preferences(make_workspace, person):
    workspace = make_workspace(sms=True)
    ana = person(workspace, email="ana@example.com", phone="+14155550101", preferred_channels=["sms", "email"])
    bo = person(workspace, email="bo@example.com", phone="+14155550102")
    fire(workspace, [ana, bo], [])
    assert Notification.objects.get(person=ana).channel == "sms"
    assert Notification.objects.get(person=bo).channel == "email"


@pytest.mark.django_db
def test_to_the_workspace_slack_channel(make_workspace):
    workspace = make_workspace()
    reminder_create(
        workspace=workspace,
        now=CREATED,
        data={"kind": "one_time", "run_at": AT, "message": "Stand-up in 5 minutes", "channels": ["slack"]},
    )
    tick(now=AT + timedelta(seconds=30))
    notification = Notification.objects.get()
    assert (notification.channel, notification.recipient, notification.body) == (
        "slack",
        "webhook",
        "Stand-up in 5 minutes",
    )


@pytest.mark.django_db
def test_members_audience(make_workspace, person):
    workspace = make_workspace()
    membership = MembershipFactory(workspace=workspace)
    member_person = person(workspace, email="m@example.com", user=membership.user)
    person(workspace, email="client@example.com")  # a client, not a member
    reminder_create(
        workspace=workspace,
        now=CREATED,
        data={"kind": "one_time", "run_at": AT, "message": "All hands", "audience": "members", "channels": ["email"]},
    )
    tick(now=AT + timedelta(seconds=30))
    assert list(Notification.objects.values_list("person", flat=True)) == [member_person.pk]

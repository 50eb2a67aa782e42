"""What the events app does inside an event's transaction, and what it only announces after commit.

Invitations, change and cancel notices are written by the event services in the event's own
transaction (with the change, or not at all); ``event_changed`` / ``event_cancelled`` are
announcements after commit that nothing depends on.
"""

from datetime import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from events import services, signals
from events.models import Attendee, Event, Rsvp
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls = []

    def listen(signal_name):
        def receiver(sender, **kwargs):
            calls.append((signal_name, sender, kwargs))

        return receiver

    receivers = {"event_changed": listen("event_changed"), "event_cancelled": listen("event_cancelled")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, weak=False, dispatch_uid=f"test-{name}")
    yield calls
    for name in receivers:
        getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


def party(office, **data):
    return services.event_create(
        workspace=office.workspace,
        created_by=office.owner,
        data={"title": "Party", "kind": "gathering", "starts_at": datetime(2030, 7, 3, 18), **data},
    )


def test_announcements_come_after_commit_with_what_changed(office, heard, django_capture_on_commit_callbacks):
    event = party(office, attendees=[office.ana.pk])
    with django_capture_on_commit_callbacks(execute=False) as pending:
        services.event_update(event=event, data={"starts_at": datetime(2030, 7, 4, 18), "title": "Big party"})
    assert heard == []  # nothing before commit
    for callback in pending:
        callback()
    [(name, sender, kwargs)] = heard
    assert (name, sender) == ("event_changed", Event)
    assert kwargs["changed_fields"] == frozenset({"starts_at", "title"})
    assert kwargs["event"].sequence == 1

    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=event, data={"title": "Big party"})  # no change: no signal
        services.event_cancel(event=event)
        services.event_cancel(event=event)
    assert [name for name, _, _ in heard] == ["event_cancelled"]


def test_invitations_and_notices_are_written_in_the_events_own_transaction(office, django_capture_on_commit_callbacks):
    """GIVEN a gathering with an attendee who said yes
    WHEN it is created, moved and cancelled, each time before the transaction commits
    THEN its invitation, change notice and cancel notice already exist (only their delivery
    waits for the commit)."""
    with django_capture_on_commit_callbacks(execute=False):
        event = party(office, attendees=[office.ana.pk])
        keys = set(Notification.objects.values_list("idempotency_key", flat=True))
        assert [key.split(":")[2] for key in keys] == ["invite"]

        Attendee.objects.filter(event=event).update(answer=Rsvp.YES)
        services.event_update(event=event, data={"starts_at": datetime(2030, 7, 4, 18)})
        services.event_cancel(event=event)
        kinds = sorted(key.split(":")[2] for key in Notification.objects.values_list("idempotency_key", flat=True))
    assert kinds == ["cancel", "invite", "update"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a trigger makes the write fail")
def test_an_invitation_that_cannot_be_written_takes_the_event_with_it(office):
    """GIVEN the outbox refuses every new row (a real failure inside the database)
    WHEN a gathering with an attendee is created
    THEN the whole creation fails and nothing is left: an event whose invitation was lost
    silently cannot exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION bb_refuse_notifications() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'outbox refuses rows'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER bb_refuse_notifications BEFORE INSERT ON notifications_notification "
            "FOR EACH ROW EXECUTE FUNCTION bb_refuse_notifications()"
        )
    with pytest.raises(DatabaseError, match="outbox refuses rows"), transaction.atomic():
        party(office, attendees=[office.ana.pk])
    assert not Event.objects.filter(title="Party").exists()
    assert not Notification.objects.exists()

"""What the events app announces, after commit, for listeners such as the reminders engine."""

from datetime import datetime

import pytest

from events import services, signals
from events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls = []

    def listen(signal_name):
        def receiver(sender, **kwargs):
            calls.append((signal_name, sender, kwargs))

        return receiver

    receivers = {
        "invitations_requested": listen("invitations_requested"),
        "event_changed": listen("event_changed"),
        "event_cancelled": listen("event_cancelled"),
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, weak=False, dispatch_uid=f"test-{name}")
    yield calls
    for name in receivers:
        getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


def test_signals_fire_after_commit_with_what_changed(office, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        event = services.event_create(
            workspace=office.workspace,
            created_by=office.owner,
            data={
                "title": "Party",
                "kind": "gathering",
                "starts_at": datetime(2030, 7, 3, 18),
                "attendees": [office.ana.pk],
            },
        )
    assert heard == []  # nothing before commit
    for callback in pending:
        callback()
    [(name, sender, kwargs)] = heard
    assert (name, sender) == ("invitations_requested", Event)
    assert kwargs["event"] == event
    assert kwargs["attendee_ids"] == list(event.attendances.values_list("pk", flat=True))

    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=event, data={"starts_at": datetime(2030, 7, 4, 18), "title": "Big party"})
    [(name, _, kwargs)] = heard
    assert name == "event_changed"
    assert kwargs["changed_fields"] == frozenset({"starts_at", "title"})
    assert kwargs["event"].sequence == 1

    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=event, data={"title": "Big party"})  # no change: no signal
        services.event_cancel(event=event)
        services.event_cancel(event=event)
    assert [name for name, _, _ in heard] == ["event_cancelled"]


def test_a_failed_transaction_announces_nothing(office, heard, django_capture_on_commit_callbacks):
    from django.db import transaction

    def create_then_fail():
        with transaction.atomic():
            services.event_create(
                workspace=office.workspace,
                created_by=office.owner,
                data={
                    "title": "Party",
                    "kind": "gathering",
                    "starts_at": datetime(2030, 7, 3, 18),
                    "attendees": [office.ana.pk],
                },
            )
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        create_then_fail()
    assert heard == []
    assert Event.objects.count() == 0

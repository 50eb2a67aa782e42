"""Waitlist offers lapse on time through the periodic job, not only when someone answers."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

from birthdaybuddy.celery import app
from events import guests, rsvp, services
from events.models import Attendee
from events.tasks import expire_offers
from tests.events.test_guests import create, offers, seats
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

beat_migration = importlib.import_module("events.migrations.0006_beat_expire_offers")
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def offered(office, django_capture_on_commit_callbacks, **overrides):
    """Capacity 1: Ana declines, Bo is offered her place (for two hours), Dee waits behind him."""
    dee = PersonFactory(workspace=office.workspace, name="Dee Ek", email="dee@example.com")
    event, tokens = create(
        office,
        django_capture_on_commit_callbacks,
        capacity=1,
        offer_hours=2,
        attendees=[str(office.ana.pk), str(office.bo.pk), str(dee.pk)],
        **overrides,
    )
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="yes", now=NOW)
    rsvp.rsvp_answer(token=tokens["Bo Berg"], answer="yes", now=NOW + timedelta(minutes=1))
    rsvp.rsvp_answer(token=tokens["Dee Ek"], answer="yes", now=NOW + timedelta(minutes=2))
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="no", now=NOW + timedelta(minutes=3))
    assert seats(event) == {"Ana Lima": "", "Bo Berg": "offered", "Dee Ek": "waitlisted"}
    return event


def test_an_offer_lapses_when_its_time_is_up_and_the_next_guest_is_offered_once(
    office, django_capture_on_commit_callbacks
):
    event = offered(office, django_capture_on_commit_callbacks)
    expires = Attendee.objects.get(event=event, person=office.bo).offer_expires_at
    assert expires == NOW + timedelta(minutes=3, hours=2)

    assert guests.offers_expire_due(now=expires - timedelta(seconds=1)) == 0
    assert seats(event)["Bo Berg"] == "offered"

    assert guests.offers_expire_due(now=expires + timedelta(seconds=30)) == 1
    assert guests.offers_expire_due(now=expires + timedelta(seconds=90)) == 0

    bo = Attendee.objects.get(event=event, person=office.bo)
    assert (bo.answer, bo.seat, bo.offer_expires_at) == ("pending", "", None)
    assert seats(event)["Dee Ek"] == "offered"
    assert sorted(offers(event)) == ["Bo Berg", "Dee Ek"]
    dee_offers = [n for n in offers(event).values() if n.person.name == "Dee Ek"]
    assert len(dee_offers) == 1


def test_offers_of_a_cancelled_event_are_left_alone(office, django_capture_on_commit_callbacks):
    event = offered(office, django_capture_on_commit_callbacks)
    services.event_cancel(event=event)

    assert guests.offers_expire_due(now=NOW + timedelta(days=1)) == 0
    assert seats(event)["Dee Ek"] == "waitlisted"


def test_the_task_runs_the_expiry_and_beat_runs_it_every_minute(office, django_capture_on_commit_callbacks):
    event = offered(office, django_capture_on_commit_callbacks)
    # The task uses the clock: make the offer one that has run out.
    Attendee.objects.filter(event=event, seat="offered").update(
        offer_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )

    assert expire_offers.apply().get() == 1
    assert seats(event)["Dee Ek"] == "offered"

    for _ in range(2):  # the data migration's function is idempotent
        beat_migration.create_entry(apps, None)
    [entry] = PeriodicTask.objects.filter(task="events.expire_offers")
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (60, "seconds")
    assert entry.expire_seconds < 60
    app.loader.import_default_modules()
    assert "events.expire_offers" in app.tasks

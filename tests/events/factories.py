"""Factories for the events app (also found by the tenancy walk in tests/test_tenancy.py)."""

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from events.models import CalendarFeed, Event, EventKind
from tests.factories import WorkspaceFactory


class EventFactory(DjangoModelFactory[Event]):
    class Meta:
        model = Event

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Event {n}")
    kind = EventKind.CUSTOM
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda event: event.starts_at + timedelta(hours=1))


class CalendarFeedFactory(DjangoModelFactory[CalendarFeed]):
    class Meta:
        model = CalendarFeed

    workspace = factory.SubFactory(WorkspaceFactory)
    user = None
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"feed-token-{n}".encode()).hexdigest())
    token_hint = "feed"

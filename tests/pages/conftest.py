"""Fixtures for the people's pages: a Berlin gathering with one invited person and their RSVP token."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.test import Client

from events.models import Attendee, Event, EventKind
from events.tokens import attendee_rsvp_token_issue
from tests.events.factories import EventFactory
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def browser() -> Client:
    """A test client that asks for pages the way a browser does, with CSRF checks on."""
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT=BROWSER_ACCEPT)


@dataclass
class Invited:
    event: Event
    attendee: Attendee
    token: str

    @property
    def url(self) -> str:
        return f"/rsvp/{self.token}"


@pytest.fixture
def invited(db) -> Invited:
    """Ana is invited to a dinner on 3 July 2030, 18:00-22:00 in Berlin (16:00 UTC), hosted by Hanna Host."""
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin", locale="en")
    host = UserFactory(first_name="Hanna", last_name="Host")
    MembershipFactory(workspace=workspace, user=host, role=Role.MEMBER)
    ana = PersonFactory(workspace=workspace, name="Ana Lima", email="ana@example.com")
    event = EventFactory(
        workspace=workspace,
        title="Summer dinner",
        kind=EventKind.GATHERING,
        starts_at=datetime(2030, 7, 3, 16, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 3, 20, 0, tzinfo=UTC),
        location="Rooftop, Torstraße 1",
        notes="Bring a dessert.",
        host=host,
    )
    attendee = Attendee.objects.create(event=event, person=ana)
    token = attendee_rsvp_token_issue(attendee=attendee)
    return Invited(event=event, attendee=attendee, token=token)


def csrf_token_of(response) -> str:
    """The CSRF token the page put in its form (the test client keeps the cookie)."""
    return response.context["csrf_token"]

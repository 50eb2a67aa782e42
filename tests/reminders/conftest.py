from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from events.models import Attendee, Event
from notifications.models import ChannelConfig
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role


def local(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of a local wall time (which must exist and be unambiguous)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.fixture
def make_workspace(db):
    """A workspace in ``tz`` with a Slack webhook, Twilio SMS and an owner."""

    def make(*, tz: str = "UTC", notify_at: time = time(9), slack: bool = True, sms: bool = False, **extra):
        workspace = WorkspaceFactory(timezone=tz, notify_at=notify_at, **extra)
        MembershipFactory(workspace=workspace, user=UserFactory(), role=Role.OWNER)
        if slack:
            ChannelConfig.objects.create(
                workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secret"
            )
        if sms:
            ChannelConfig.objects.create(
                workspace=workspace,
                kind="sms",
                account_sid="AC" + "0" * 32,
                auth_token="secret",
                from_number="+15005550006",
            )
        return workspace

    return make


@pytest.fixture
def make_event(db):
    def make(workspace, *, attendees=(), **fields):
        fields.setdefault("title", "Quarterly filing")
        event = Event.objects.create(workspace=workspace, **fields)
        for person in attendees:
            Attendee.objects.create(event=event, person=person)
        return event

    return make


@pytest.fixture
def person(db):
    def make(workspace, **fields):
        fields.setdefault("birth_month", None)
        fields.setdefault("birth_day", None)
        return PersonFactory(workspace=workspace, **fields)

    return make

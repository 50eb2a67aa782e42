"""Reads with a rule in them: calendar windows, RSVP counts, feeds and what they contain."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from birthdaybuddy.timerules.occurrences import local_days, spans_between
from birthdaybuddy.timerules.recurrence import local_to_utc
from birthdaybuddy.tokens import hash_token
from events.models import Attendee, CalendarFeed, Event, EventStatus, Rsvp
from events.tokens import TOKEN_RE
from workspaces.models import ADMIN_ROLES, Membership, Person, Workspace
from workspaces.selectors import effective_role

# A calendar window may span at most this long (so expansion stays cheap), and lists at
# most this many occurrences per event.
MAX_WINDOW_DAYS = 366
WINDOW_OCCURRENCE_LIMIT = 500


def event_list_in_window(*, queryset: QuerySet[Event], workspace: Workspace, start: datetime, end: datetime) -> list:
    """Events of ``queryset`` with at least one occurrence overlapping ``[start, end)``.

    Recurring events are expanded (windowed) in the workspace's zone. Each event gets
    ``window_occurrences`` (a list of ``Span``); the list is ordered by first occurrence.
    """
    tz = ZoneInfo(workspace.timezone)
    first_day, last_day = local_days(tz=tz, start=start, end=end)
    found = []
    for event in queryset.may_occur_between(start=start, end=end, first_day=first_day, last_day=last_day):
        spans = spans_between(event, tz=tz, start=start, end=end, limit=WINDOW_OCCURRENCE_LIMIT)
        if spans:
            event.window_occurrences = spans
            found.append(event)

    def sort_key(event: Event):
        span = event.window_occurrences[0]
        return (span.starts_at or _day_start(span.date, tz), str(event.pk))

    return sorted(found, key=sort_key)


def _day_start(day, tz) -> datetime:
    return local_to_utc(datetime.combine(day, time()), tz)


def rsvp_counts(event: Event) -> dict[str, int]:
    """``{yes, no, maybe, pending}``: from the queryset's annotation when present, else counted."""
    answers = (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE, Rsvp.PENDING)
    if all(hasattr(event, f"rsvp_{answer}") for answer in answers):
        return {answer: getattr(event, f"rsvp_{answer}") for answer in answers}
    counts = dict.fromkeys(answers, 0)
    for answer in event.attendances.values_list("answer", flat=True):
        counts[answer] = counts.get(answer, 0) + 1
    return counts


def attendee_for_rsvp_token(*, token: str) -> Attendee | None:
    """The attendee an RSVP token belongs to, whatever the event's state (the page says why it is closed)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    return (
        Attendee.objects.select_related("event", "event__workspace", "event__host", "person", "person__workspace")
        .filter(rsvp_token_hash=hash_token(token))
        .first()
    )


def calendar_feed_for_token(*, token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown, revoked, or its owner lost the rights it needs)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    feed = (
        CalendarFeed.objects.select_related("workspace", "user", "created_by")
        .live()
        .filter(token_hash=hash_token(token))
        .first()
    )
    if feed is None or not calendar_feed_owner_entitled(feed=feed):
        return None
    return feed


def calendar_feed_owner_entitled(*, feed: CalendarFeed) -> bool:
    """Whether the feed's owner may still read what it shows, checked on every read.

    A member feed belongs to its member: an active account still in the workspace. The
    workspace feed (every event's notes, every birthday) belongs to whoever created it and
    works only while they are an active owner or admin of the workspace (staff count as
    admins, as everywhere). Removing, demoting or deactivating the owner also revokes the
    feed for good (``events.receivers``); this check covers every other way rights end.
    """
    owner = feed.user if feed.user_id is not None else feed.created_by
    if owner is None or not owner.is_active:
        return False
    membership = Membership.objects.filter(workspace_id=feed.workspace_id, user=owner).first()
    if feed.user_id is not None:
        return membership is not None
    return effective_role(membership=membership, user=owner) in ADMIN_ROLES


def calendar_feed_events(*, feed: CalendarFeed) -> QuerySet[Event]:
    """The active events a feed shows: all of the workspace's, or those its member hosts or attends."""
    events = Event.objects.for_workspace(feed.workspace).filter(status=EventStatus.ACTIVE)
    if feed.user_id is not None:
        mine = Q(host=feed.user) | Q(attendances__person__user=feed.user)
        events = events.filter(mine).distinct()
    return events.order_by("created_at", "id")


def calendar_feed_people(*, feed: CalendarFeed) -> QuerySet[Person]:
    """People of the feed's workspace with a birthday or a work anniversary."""
    return (
        Person.objects.for_workspace(feed.workspace)
        .filter(Q(birth_month__isnull=False, birth_day__isnull=False) | Q(joined_on__isnull=False))
        .order_by("name", "id")
    )

"""Links that put an event or a feed into someone's calendar: Google Calendar and ``webcal://``."""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import quote, urlencode

from birthdaybuddy.links import webcal_url
from events.models import Event

GOOGLE_RENDER = "https://calendar.google.com/calendar/render"


def google_event_url(event: Event, *, details: str = "") -> str:
    """Google Calendar's "add this event" page, pre-filled (title, time, place, repetition)."""
    if event.all_day:
        dates = f"{event.date:%Y%m%d}/{event.date + timedelta(days=1):%Y%m%d}"
    else:
        start = event.starts_at.astimezone(UTC)
        end = (event.ends_at or event.starts_at + timedelta(hours=1)).astimezone(UTC)
        dates = f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    query = {"action": "TEMPLATE", "text": event.title, "dates": dates, "ctz": event.workspace.timezone}
    if event.location:
        query["location"] = event.location
    if details:
        query["details"] = details
    if event.rrule:
        query["recur"] = f"RRULE:{event.rrule}"
    return f"{GOOGLE_RENDER}?{urlencode(query)}"


def google_subscribe_url(feed_url: str) -> str:
    """Google Calendar's "add by URL" page for a feed (it takes the ``webcal://`` form)."""
    return f"{GOOGLE_RENDER}?cid={quote(webcal_url(feed_url), safe='')}"

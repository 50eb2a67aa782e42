"""iCalendar (RFC 5545) feeds, built with the ``icalendar`` library.

- Events: one VEVENT each (UID ``<id>@birthdaybuddy``, SEQUENCE bumped by every move).
  All-day events are DATE values; one-off timed events are UTC. A recurring timed event
  keeps ``DTSTART;TZID=<workspace zone>`` at the wall time it was written with (with its
  VTIMEZONE, ``events.vtimezone``: the zone's current rule as RRULE observances, so it never
  runs out) and a ``DURATION``, so calendar clients expand the RRULE in the same wall-clock
  time as this service does across DST — a time in a gap included, which both read as RFC
  5545 §3.3.5 says; ``UNTIL`` is written in UTC (DATE for all-day events), as RFC 5545
  requires. EXDATE and RDATE are written one value per line, in the DTSTART's zone/type.
- Birthdays and work anniversaries: yearly all-day VEVENTs. Feb 29 follows the workspace's
  leap-day policy with a rule that is exact in every year: ``BYMONTH=2;BYMONTHDAY=-1``
  (the last day of February: Feb 29, else Feb 28) or ``BYYEARDAY=60`` (Feb 29, else Mar 1).
- Privacy: a birth year (or anything that reveals it: the DTSTART year, an age) appears
  only for people who show their age; otherwise the series starts in the year 2000.
"""

from __future__ import annotations

import calendar as pycalendar
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.text import slugify
from icalendar import Calendar, vRecur, vText
from icalendar import Event as VEvent

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.occurrences import series_start
from birthdaybuddy.timerules.recurrence import local_to_utc_rfc5545, utc_to_local
from events import selectors
from events.models import CalendarFeed, Event
from events.vtimezone import vtimezone
from workspaces.models import LeapDayPolicy, Person

PRODID = "-//BirthdayBuddy//Calendar feed 1.0//EN"
UID_DOMAIN = "birthdaybuddy"
HIDDEN_YEAR = 2000  # a leap year, so Feb 29 exists
REFRESH_INTERVAL = timedelta(hours=1)


def calendar_feed_name(feed: CalendarFeed) -> str:
    """The calendar's display name: the workspace, and for a member feed the member."""
    workspace = feed.workspace
    return workspace.name if feed.user_id is None else f"{workspace.name} — {feed.user.get_full_name()}"


def calendar_feed_filename(feed: CalendarFeed) -> str:
    """``lima-co.ics`` / ``lima-co-ana-lima.ics``: a download named after the feed."""
    return f"{slugify(calendar_feed_name(feed)) or 'calendar'}.ics"


def calendar_feed_ics(*, feed: CalendarFeed, now: datetime) -> bytes:
    """The feed's calendar as RFC 5545 text."""
    workspace = feed.workspace
    tz = ZoneInfo(workspace.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", vText(calendar_feed_name(feed)))  # escaped like any TEXT (commas, semicolons, new lines)
    cal.add("x-wr-timezone", workspace.timezone)
    cal.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    zoned_from, zoned = now.date(), False
    for event in selectors.calendar_feed_events(feed=feed):
        cal.add_component(_event_component(event, tz=tz, now=now))
        if event.rrule and not event.all_day:
            zoned = True
            zoned_from = min(zoned_from, utc_to_local(event.starts_at, tz).date())
    policy = workspace.leap_day_policy
    for person in selectors.calendar_feed_people(feed=feed):
        if person.birth_month and person.birth_day:
            cal.add_component(_birthday_component(person, policy=policy, now=now))
        if person.joined_on:
            cal.add_component(_anniversary_component(person, policy=policy, now=now))
    # The VTIMEZONE for the TZID of recurring timed events, from the earliest such event on.
    if zoned:
        cal.add_component(vtimezone(workspace.timezone, first=zoned_from, now=now))
    return cal.to_ical()


def event_ics(*, event: Event, now: datetime, method: str = "PUBLISH", attendee_email: str = "") -> bytes:
    """One event as an RFC 5545 calendar ("Add to calendar", invitation attachments).

    ``method`` is ``PUBLISH`` for a download, ``REQUEST`` for an invitation or its update (the
    same ``UID``, a higher ``SEQUENCE``: calendars move the entry) and ``CANCEL`` for a
    cancellation (calendars remove it).
    """
    tz = ZoneInfo(event.workspace.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    component = _event_component(event, tz=tz, now=now)
    if method == "CANCEL" or event.is_cancelled:
        component["status"] = "CANCELLED"
    if method in ("REQUEST", "CANCEL"):
        component.pop("DTSTAMP", None)  # when this message was written, not when the event last changed
        component.add("dtstamp", _stamp(now, now))
        component.add("organizer", f"mailto:{_organizer_address()}", parameters={"CN": event.workspace.name})
        if attendee_email:
            component.add(
                "attendee",
                f"mailto:{attendee_email}",
                parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"},
            )
    cal.add_component(component)
    if event.rrule and not event.all_day:
        start = utc_to_local(event.starts_at, tz).date()
        cal.add_missing_timezones(first_date=start - timedelta(days=1), last_date=date(now.year + 5, 1, 1))
    return cal.to_ical()


def appointment_ics(
    *,
    uid: str,
    sequence: int,
    summary: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    organizer_name: str,
    method: str,
    attendee_email: str,
    now: datetime,
) -> bytes:
    """A one-off timed appointment as an iTIP message (RFC 5546), for what is not an ``Event`` row
    (a client's appointment on a one-time reminder).

    ``method`` ``REQUEST`` adds the entry or, with the same ``uid`` and a higher ``sequence``, moves
    it; ``CANCEL`` removes it. Times are UTC, as for one-off timed events.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    component = VEvent()
    component.add("uid", f"{uid}@{UID_DOMAIN}")
    component.add("dtstamp", _stamp(now, now))
    component.add("sequence", sequence)
    component.add("summary", summary)
    component.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    component.add("categories", ["APPOINTMENT"])
    component.add("dtstart", starts_at.astimezone(UTC).replace(microsecond=0))
    component.add("dtend", ends_at.astimezone(UTC).replace(microsecond=0))
    if location:
        component.add("location", location)
    component.add("organizer", f"mailto:{_organizer_address()}", parameters={"CN": organizer_name})
    if attendee_email:
        component.add(
            "attendee",
            f"mailto:{attendee_email}",
            parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"},
        )
    cal.add_component(component)
    return cal.to_ical()


def _organizer_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "no-reply@birthdaybuddy.local"


def _stamp(value: datetime | None, now: datetime) -> datetime:
    return (value or now).astimezone(UTC).replace(microsecond=0)


def _event_component(event: Event, *, tz: ZoneInfo, now: datetime) -> VEvent:
    component = VEvent()
    component.add("uid", f"{event.id}@{UID_DOMAIN}")
    component.add("dtstamp", _stamp(event.updated_at, now))
    component.add("created", _stamp(event.created_at, now))
    component.add("last-modified", _stamp(event.updated_at, now))
    component.add("sequence", event.sequence)
    component.add("summary", event.title)
    component.add("status", "CONFIRMED")
    component.add("categories", [event.kind.upper()])
    if event.location:
        component.add("location", event.location)
    if event.notes:
        component.add("description", event.notes)
    if event.all_day:
        component.add("dtstart", event.date)
        component.add("dtend", event.date + timedelta(days=1))
        component.add("transp", "TRANSPARENT")
    elif event.rrule:
        component.add("dtstart", series_start(event, tz=tz).replace(tzinfo=tz, microsecond=0))
        if event.ends_at:
            component.add("duration", event.ends_at - event.starts_at)
    else:
        component.add("dtstart", event.starts_at.astimezone(UTC))
        if event.ends_at:
            component.add("dtend", event.ends_at.astimezone(UTC))
    if event.rrule:
        component.add("rrule", _recurrence(event.rrule, all_day=event.all_day, tz=tz))
        for name in ("exdate", "rdate"):
            for value in rrules.parse_wall_times(getattr(event, f"{name}s")):
                # One value per property: some clients read only the first of a list.
                component.add(name, value.date() if event.all_day else value.replace(tzinfo=tz))
    return component


def _recurrence(text: str, *, all_day: bool, tz: ZoneInfo) -> vRecur:
    """The stored rule with ``UNTIL`` as RFC 5545 wants it next to our DTSTART (stored UNTIL is local)."""
    rule = vRecur.from_ical(text)
    until = rule.get("UNTIL")
    if until:
        value = until[0]
        if all_day:
            value = value.date() if isinstance(value, datetime) else value
        else:
            if not isinstance(value, datetime):
                value = datetime.combine(value, time(23, 59, 59))
            value = value.astimezone(UTC) if value.tzinfo else local_to_utc_rfc5545(value, tz)
        rule["UNTIL"] = [value]
    return rule


def _yearly_rule(month: int, day: int, policy: str) -> vRecur:
    if (month, day) != (2, 29):
        return vRecur({"FREQ": "YEARLY"})
    if policy == LeapDayPolicy.MAR1:
        return vRecur({"FREQ": "YEARLY", "BYYEARDAY": [60]})
    return vRecur({"FREQ": "YEARLY", "BYMONTH": [2], "BYMONTHDAY": [-1]})


def _first_date(year: int, month: int, day: int, policy: str) -> date:
    if (month, day) == (2, 29) and not pycalendar.isleap(year):
        return date(year, 3, 1) if policy == LeapDayPolicy.MAR1 else date(year, 2, 28)
    return date(year, month, day)


def _all_day_yearly(*, uid: str, summary: str, start: date, rule: vRecur, stamp: datetime, category: str) -> VEvent:
    component = VEvent()
    component.add("uid", uid)
    component.add("dtstamp", stamp)
    component.add("summary", summary)
    component.add("dtstart", start)
    component.add("dtend", start + timedelta(days=1))
    component.add("rrule", rule)
    component.add("transp", "TRANSPARENT")
    component.add("categories", [category])
    return component


def _birthday_component(person: Person, *, policy: str, now: datetime) -> VEvent:
    month, day = person.birth_month, person.birth_day
    year_shown = bool(person.show_age and person.birth_year)
    start = _first_date(person.birth_year if year_shown else HIDDEN_YEAR, month, day, policy)
    component = _all_day_yearly(
        uid=f"birthday-{person.id}@{UID_DOMAIN}",
        summary=f"🎂 Birthday: {person.name}",
        start=start,
        rule=_yearly_rule(month, day, policy),
        stamp=_stamp(person.updated_at, now),
        category="BIRTHDAY",
    )
    if year_shown:
        component.add("description", f"Born in {person.birth_year}.")
    return component


def _anniversary_component(person: Person, *, policy: str, now: datetime) -> VEvent:
    joined = person.joined_on
    start = _first_date(joined.year + 1, joined.month, joined.day, policy)
    component = _all_day_yearly(
        uid=f"anniversary-{person.id}@{UID_DOMAIN}",
        summary=f"🎉 Work anniversary: {person.name}",
        start=start,
        rule=_yearly_rule(joined.month, joined.day, policy),
        stamp=_stamp(person.updated_at, now),
        category="ANNIVERSARY",
    )
    component.add("description", f"With us since {joined:%-d %B %Y}.")
    return component

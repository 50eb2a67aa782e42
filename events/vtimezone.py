"""VTIMEZONE components that stay right for as long as a series runs (RFC 5545 §3.6.5).

icalendar's own ``Timezone.from_tzid`` lists each transition up to a last date as an RDATE, so a
client that honours the VTIMEZONE puts every occurrence after that date an hour off, and writes
the RDATEs of an observance on one line, of which a widely used client reads only the first.
Here the zone's transitions from ``first`` onwards are written one RDATE per line until the year
its current rule (the POSIX TZ string at the end of the pinned tzdata file, which zoneinfo itself
applies after the last listed transition) takes over, and from then on as that rule: one
DAYLIGHT and one STANDARD observance with a yearly RRULE. A rule RRULE cannot express (Egypt's
"the day after the last Thursday", which may fall in the next month) is listed transition by
transition up to ``EXPLICIT_UNTIL_YEAR`` instead.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

EXPLICIT_UNTIL_YEAR = 2100
# How far ahead transitions are compared with the rule before it is trusted.
CHECK_YEARS = 3
_POSIX = re.compile(
    r"(?P<std><[^>]+>|[A-Za-z]+)(?P<stdoff>[+-]?[\d:]+)"
    r"(?:(?P<dst><[^>]+>|[A-Za-z]+)(?P<dstoff>[+-]?[\d:]+)?"
    r",M(?P<m1>\d+)\.(?P<w1>\d)\.(?P<d1>\d)(?:/(?P<t1>[+-]?[\d:]+))?"
    r",M(?P<m2>\d+)\.(?P<w2>\d)\.(?P<d2>\d)(?:/(?P<t2>[+-]?[\d:]+))?)?$"
)
_RRULE_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX weekday numbers: 0 is Sunday


@dataclass(frozen=True)
class _Rule:
    """One yearly transition of a POSIX TZ rule: month, week (5 = last), weekday (0 = Sunday), seconds."""

    month: int
    week: int
    weekday: int
    seconds: int

    def local(self, year: int) -> datetime:
        """The wall time (in the offset before it) of this year's transition."""
        first = date(year, self.month, 1)
        day = first + timedelta(days=(self.weekday - (first.isoweekday() % 7)) % 7 + 7 * (self.week - 1))
        while day.month != self.month:
            day -= timedelta(days=7)
        return datetime.combine(day, datetime.min.time()) + timedelta(seconds=self.seconds)

    def rrule(self) -> vRecur | None:
        """The transition as a yearly RRULE, or None when one cannot say it (the day may leave the month)."""
        shift, _ = divmod(self.seconds, 86400)
        weekday = _RRULE_DAYS[(self.weekday + shift) % 7]
        if self.week == 5:
            days = [day + shift for day in range(-7, 0)]
            if shift == 0:
                return vRecur({"FREQ": "YEARLY", "BYMONTH": [self.month], "BYDAY": [f"-1{weekday}"]})
            if max(days) >= 0:
                return None
        else:
            days = [day + shift for day in range(7 * (self.week - 1) + 1, 7 * self.week + 1)]
            if shift == 0:
                return vRecur({"FREQ": "YEARLY", "BYMONTH": [self.month], "BYDAY": [f"{self.week}{weekday}"]})
            if min(days) < 1 or max(days) > calendar.monthrange(2023, self.month)[1]:  # a common year
                return None
        return vRecur({"FREQ": "YEARLY", "BYMONTH": [self.month], "BYDAY": [weekday], "BYMONTHDAY": days})

    @property
    def time_of_day(self) -> timedelta:
        return timedelta(seconds=self.seconds % 86400)


def _seconds(text: str | None, default: int) -> int:
    if not text:
        return default
    sign = -1 if text.startswith("-") else 1
    parts = [int(part) for part in text.lstrip("+-").split(":")]
    return sign * sum(part * unit for part, unit in zip(parts, (3600, 60, 1), strict=False))


def posix_rule(tzid: str) -> tuple[_Rule, _Rule] | None:
    """The zone's current (DST start, DST end) rule from its tzdata footer, or None without DST."""
    data = resources.files("tzdata").joinpath("zoneinfo", *tzid.split("/")).read_bytes()
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii", "replace")
    match = _POSIX.match(footer)
    if match is None or not match["dst"]:
        return None
    start = _Rule(int(match["m1"]), int(match["w1"]), int(match["d1"]), _seconds(match["t1"], 7200))
    end = _Rule(int(match["m2"]), int(match["w2"]), int(match["d2"]), _seconds(match["t2"], 7200))
    return start, end


@dataclass(frozen=True)
class _Transition:
    at: datetime  # UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool

    @property
    def local(self) -> datetime:
        """DTSTART/RDATE of the observance: the wall time in the offset before the transition."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[_Transition]:
    """Every change of offset (or name) between two UTC instants, found day by day then to the second."""
    found = []
    step = timedelta(hours=12)
    cursor = start
    before = cursor.astimezone(tz)
    while cursor < end:
        nxt = min(cursor + step, end)
        after = nxt.astimezone(tz)
        if (after.utcoffset(), after.tzname()) != (before.utcoffset(), before.tzname()):
            low, high = cursor, nxt
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                probe = middle.astimezone(tz)
                if (probe.utcoffset(), probe.tzname()) == (before.utcoffset(), before.tzname()):
                    low = middle
                else:
                    high = middle
            at = high.replace(microsecond=0)
            changed = at.astimezone(tz)
            found.append(
                _Transition(at, before.utcoffset(), changed.utcoffset(), changed.tzname() or "", bool(changed.dst()))
            )
        cursor, before = nxt, after
    return found


def vtimezone(tzid: str, *, first: date, now: datetime) -> Timezone:
    """The zone's VTIMEZONE, valid from ``first`` for as long as its current rule holds."""
    tz = ZoneInfo(tzid)
    rule = posix_rule(tzid)
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    horizon_year = now.year + CHECK_YEARS
    rrules = None
    if rule is not None:
        rrules = (rule[0].rrule(), rule[1].rrule())
        if None in rrules:
            rrules, horizon_year = None, EXPLICIT_UNTIL_YEAR
    transitions = _transitions(tz, start, datetime(horizon_year + 1, 1, 1, tzinfo=UTC))
    component = Timezone()
    component.add("tzid", tzid)
    opening = start.astimezone(tz)
    listed = transitions
    ruled: list[_Transition] = []
    if rule is not None and rrules is not None:
        # The first year from which every transition is the rule's: from there the RRULEs speak.
        predicted = {rule[0].local(year) for year in range(first.year, horizon_year + 1)} | {
            rule[1].local(year) for year in range(first.year, horizon_year + 1)
        }
        split = len(transitions)
        while split > 0 and transitions[split - 1].local in predicted:
            split -= 1
        # Start the rule at a whole year (both of its transitions), so each RRULE's DTSTART is its first.
        while (
            split < len(transitions)
            and split + 1 < len(transitions)
            and (transitions[split].at.year != transitions[split + 1].at.year)
        ):
            split += 1
        listed, ruled = transitions[:split], transitions[split : split + 2]
    _add_observance(
        component,
        dtstart=opening.replace(tzinfo=None, microsecond=0),
        offset_from=opening.utcoffset(),
        offset_to=opening.utcoffset(),
        name=opening.tzname() or "",
        dst=bool(opening.dst()),
        rdates=[],
    )
    groups: dict[tuple, list[_Transition]] = {}
    for transition in listed:
        groups.setdefault((transition.offset_from, transition.offset_to, transition.name, transition.dst), []).append(
            transition
        )
    for (offset_from, offset_to, name, dst), items in groups.items():
        _add_observance(
            component,
            dtstart=items[0].local,
            offset_from=offset_from,
            offset_to=offset_to,
            name=name,
            dst=dst,
            rdates=[item.local for item in items[1:]],
        )
    for transition in ruled:
        which = 0 if transition.local == rule[0].local(transition.local.year) else 1
        _add_observance(
            component,
            dtstart=transition.local,
            offset_from=transition.offset_from,
            offset_to=transition.offset_to,
            name=transition.name,
            dst=transition.dst,
            rdates=[],
            rrule=rrules[which],
        )
    return component


def _add_observance(
    component: Timezone,
    *,
    dtstart: datetime,
    offset_from: timedelta,
    offset_to: timedelta,
    name: str,
    dst: bool,
    rdates: list[datetime],
    rrule: vRecur | None = None,
) -> None:
    observance = TimezoneDaylight() if dst else TimezoneStandard()
    observance.add("dtstart", dtstart)
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    if name:
        observance.add("tzname", name)
    if rrule is not None:
        observance.add("rrule", rrule)
    for value in rdates:  # one per line: some clients read only the first of a list
        observance.add("rdate", value)
    component.add_component(observance)

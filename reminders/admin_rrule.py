"""An RRULE read aloud for the reminder form ("on the last day of every month at 16:00"), and the
next occurrences of a rule not saved yet, in the workspace's zone.

The reading covers what the form's picker builds (frequency, interval, weekdays, month days,
months, positions, COUNT, UNTIL); any other part is named as written, so the reading never
claims less than the rule says.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from zoneinfo import ZoneInfo

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.recurrence import local_to_utc
from reminders import slots
from reminders.models import Reminder, ReminderKind
from reminders.validators import rrule_error

UNITS = {"HOURLY": "hour", "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
DAY_NAMES = dict(zip(("MO", "TU", "WE", "TH", "FR", "SA", "SU"), calendar.day_name, strict=True))
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second-to-last"}
READ_PARTS = frozenset({"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "COUNT", "UNTIL", "WKST"})
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _nth(number: int) -> str:
    suffix = "th" if 11 <= abs(number) % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(abs(number) % 10, "th")
    return f"{number}{suffix}"


def _month_day(value: int) -> str:
    if value == -1:
        return "last day"
    if value < 0:
        return f"{_nth(-value)}-to-last day"
    return _nth(value)


def _weekday(item: str) -> str:
    ordinal, day = item[:-2], item[-2:]
    name = DAY_NAMES.get(day, day)
    if not ordinal:
        return name
    number = int(ordinal)
    return f"{ORDINALS.get(number, _nth(number))} {name}"


def describe(text: str, *, start: datetime) -> str:
    """``text`` (a valid RRULE) in words, starting from the local wall time ``start``."""
    found = rrules.parts(text)
    frequency = found.get("FREQ", "")
    unit = UNITS.get(frequency, frequency.lower())
    interval = int(found.get("INTERVAL", "1") or 1)
    every = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    by_day = [item for item in found.get("BYDAY", "").split(",") if item]
    month_days = [int(item) for item in found.get("BYMONTHDAY", "").split(",") if item]
    months = [calendar.month_name[int(item)] for item in found.get("BYMONTH", "").split(",") if item]
    positions = [int(item) for item in found.get("BYSETPOS", "").split(",") if item]

    if by_day and positions:
        pick = "weekday" if sorted(by_day) == sorted(WEEKDAYS) else _and([_weekday(d) for d in by_day])
        days = "the " + _and([f"{ORDINALS.get(p, _nth(p))} {pick}" for p in positions])
    elif by_day:
        days = _and([_weekday(d) for d in by_day])
        if sorted(by_day) == sorted(WEEKDAYS):
            days = "weekdays (Monday to Friday)"
        if any(item[:-2] for item in by_day):
            days = "the " + days
    elif month_days:
        days = "the " + _and([_month_day(d) for d in month_days])
    else:
        days = ""

    clock = f"{start:%H:%M}"
    if frequency == "HOURLY":
        reading = f"{every} from {clock}"
        if days:
            reading += f", on {days}"
    elif frequency == "DAILY":
        reading = f"{every} at {clock}" if not days else f"{every} on {days} at {clock}"
    elif frequency == "WEEKLY":
        on = days or DAY_NAMES[("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]]
        reading = f"{every} on {on} at {clock}"
    elif frequency == "MONTHLY":
        on = days or f"the {_nth(start.day)}"
        reading = f"on {on} of {every} at {clock}"
    elif frequency == "YEARLY":
        if months and month_days and not by_day:
            on = _and([f"{d} {m}" if d > 0 else f"the {_month_day(d)} of {m}" for m in months for d in month_days])
        elif months and days:
            on = f"{days} of {_and(months)}"
        elif months:
            on = f"day {start.day} of {_and(months)}"
        else:
            on = days or f"{start.day} {calendar.month_name[start.month]}"
        reading = f"{every} on {on} at {clock}"
    else:
        reading = f"{every} at {clock}"
    if found.get("COUNT"):
        reading += f", {found['COUNT']} times in all"
    if found.get("UNTIL"):
        until = found["UNTIL"]
        reading += f", until {until[0:4]}-{until[4:6]}-{until[6:8]}"
        if "T" in until:
            reading += f" {until[9:11]}:{until[11:13]}" + (" UTC" if until.endswith("Z") else "")
    others = sorted(set(found) - READ_PARTS)
    if others:
        reading += " (also " + "; ".join(f"{name}={found[name]}" for name in others) + ")"
    return reading[0].upper() + reading[1:]


def rule_preview(*, workspace, rrule: str, start: datetime, now: datetime, count: int = 5) -> dict:
    """What the form shows beside the rule: its reading and next ``count`` occurrences, or why it is refused.

    ``start``: the first occurrence as a naive local wall time in the workspace's zone.
    """
    text = rrules.normalize(rrule)
    problem = rrule_error(text, dtstart=start)
    tz = ZoneInfo(workspace.timezone)
    if problem:
        return {"ok": False, "error": problem, "timezone": tz.key}
    reminder = Reminder(
        workspace=workspace,
        kind=ReminderKind.RECURRING,
        rrule=text,
        run_at=local_to_utc(start, tz),
        run_at_local=start.isoformat(),
    )
    occurrences = []
    cursor = now
    for _ in range(count):
        slot = slots.next_slot(reminder, after=cursor)
        if slot is None:
            break
        occurrences.append(
            {
                "local": f"{slot.local:%a %Y-%m-%d %H:%M}",
                "utc": f"{slot.at:%Y-%m-%d %H:%M} UTC",
            }
        )
        cursor = slot.at
    return {
        "ok": True,
        "rrule": text,
        "reading": describe(text, start=start),
        "timezone": tz.key,
        "occurrences": occurrences,
    }

"""Reads the dates people type after ``/birthday set``: "14 July", "July 14th", "14.07.", "07-14",
"2025-07-14", "14.07.1990", "July 14, 1990" … (pure functions, no Django)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\.?"
YEAR = r"(?P<year>\d{4})"

# Order matters: the ISO form first (its year leads), then words, then numbers.
PATTERNS = [
    re.compile(rf"^{YEAR}-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})$"),
    re.compile(rf"^{DAY}\s*(?:of\s+)?(?P<mword>{MONTH_WORD})\.?(?:,?\s+{YEAR})?$"),
    re.compile(rf"^(?P<mword>{MONTH_WORD})\.?\s+{DAY}(?:,?\s+{YEAR})?$"),
    # Day first with dots (European): 14.07. / 14.07 / 14.07.1990
    re.compile(rf"^(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.?(?:{YEAR})?$"),
    # Month first with a dash or slash: 07-14 / 07/14 / 07-14-1990
    re.compile(rf"^(?P<month>\d{{1,2}})[-/](?P<day>\d{{1,2}})(?:[-/]{YEAR})?$"),
]

EXAMPLES = '"14 July", "July 14th", "14.07.", "07-14" or "14 July 1990"'


class DateNotUnderstood(ValueError):
    """The text is not a date we read, or names a day that does not exist."""


@dataclass(frozen=True)
class ParsedDate:
    month: int
    day: int
    year: int | None

    def describe(self) -> str:
        text = f"{self.day} {calendar.month_name[self.month]}"
        return f"{text} {self.year}" if self.year else text


def parse_date(text: str, *, today: date) -> ParsedDate:
    """The month, day and optional year in ``text``.

    Feb 29 is accepted without a year or with a leap year; Feb 30, Apr 31, month 13 and
    years before 1900 or in the future are refused with a message saying why.
    """
    cleaned = " ".join(text.strip().lower().replace(",", ", ").split()).replace(" ,", ",")
    for pattern in PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        parts = match.groupdict()
        month = MONTHS[parts["mword"].rstrip(".")] if parts.get("mword") else int(parts["month"])
        day = int(parts["day"])
        year = int(parts["year"]) if parts.get("year") else None
        return _checked(month, day, year, today=today)
    raise DateNotUnderstood(f"I could not read {text.strip()[:40]!r} as a date. Try {EXAMPLES}.")


def _checked(month: int, day: int, year: int | None, *, today: date) -> ParsedDate:
    if not 1 <= month <= 12:
        raise DateNotUnderstood(f"There is no month {month}. Try {EXAMPLES}.")
    last = calendar.monthrange(year or 2000, month)[1]
    if not 1 <= day <= last:
        where = f"{calendar.month_name[month]} {year}" if year else calendar.month_name[month]
        raise DateNotUnderstood(f"{where} has no day {day}.")
    if year is not None and (year < 1900 or date(year, month, day) > today):
        raise DateNotUnderstood(f"The year {year} cannot be a birth year.")
    return ParsedDate(month, day, year)

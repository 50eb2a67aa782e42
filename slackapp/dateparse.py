"""Reads the dates people type after ``/birthday set``: "14 July", "July 14th", "14.07.", "07-14",
"2025-07-14", "14.07.1990", "July 14, 1990", "14. Juli", "3. März 1990" … (pure functions: no
database; the refusals are in the active language).

Month names are English and German whatever the reader's language (a German speaker may type
"14 July", an English one "14. Juli"): Babel's full and abbreviated names of each, stand-alone
and in a date, plus Austria's "Jänner" and "Maerz" for keyboards without umlauts."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from babel.dates import get_month_names
from django.utils.translation import gettext as _

MONTH_LOCALES = ("en", "de", "de_AT")


def _month_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for locale in MONTH_LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    word = name.lower().rstrip(".")
                    if words.setdefault(word, number) != number:  # pragma: no cover - a clash in CLDR
                        raise ValueError(f"{word!r} names two months")
    words.update({"sept": 9, "maerz": 3})
    return words


MONTHS = _month_words()
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


def _examples() -> str:
    return _('"14 July", "July 14th", "14.07.", "07-14" or "14 July 1990"')


class DateNotUnderstood(ValueError):
    """The text is not a date we read, or names a day that does not exist."""


@dataclass(frozen=True)
class ParsedDate:
    month: int
    day: int
    year: int | None

    def describe(self) -> str:
        """ "14 July" / "14. Juli 1990": what was understood, in the active language."""
        from birthdaybuddy.i18n import month_day_text

        return month_day_text(self.month, self.day, self.year)


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
    raise DateNotUnderstood(
        _("I could not read “%(text)s” as a date. Try %(examples)s.")
        % {"text": text.strip()[:40], "examples": _examples()}
    )


def _checked(month: int, day: int, year: int | None, *, today: date) -> ParsedDate:
    if not 1 <= month <= 12:
        raise DateNotUnderstood(
            _("There is no month %(month)s. Try %(examples)s.") % {"month": month, "examples": _examples()}
        )
    last = calendar.monthrange(year or 2000, month)[1]
    if not 1 <= day <= last:
        raise DateNotUnderstood(_month_has_no_day(month, day, year))
    if year is not None and (year < 1900 or date(year, month, day) > today):
        raise DateNotUnderstood(_("The year %(year)s cannot be a birth year.") % {"year": year})
    return ParsedDate(month, day, year)


def _month_has_no_day(month: int, day: int, year: int | None) -> str:
    from django.utils import formats

    where = formats.date_format(date(year or 2000, month, 1), "F Y" if year else "F")
    return _("%(month)s has no day %(day)s.") % {"month": where, "day": day}

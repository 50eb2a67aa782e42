"""Which of the shipped languages (``LANGUAGES``) a workspace's locale or a person's language means."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils import translation


def supported_language(code: str | None) -> str | None:
    """``code`` ("de-AT", "de", "en-US") as one of ``LANGUAGES``, or None."""
    if not code or not isinstance(code, str):
        return None
    try:
        return translation.get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None


def language_of(*, person=None, workspace=None) -> str:
    """The person's own language if set, else the workspace's locale, else the default (English)."""
    for code in (getattr(person, "language", ""), getattr(workspace, "locale", "")):
        if language := supported_language(code):
            return language
    return settings.LANGUAGE_CODE


def _day_text(day, with_year: bool) -> str:
    return _day_text_in(day, with_year, translation.get_language())


@lru_cache(maxsize=2048)
def _day_text_in(day, with_year: bool, language: str | None) -> str:
    """``_day_text`` in ``language`` (the active one): the same few days are written thousands of
    times a day, in every digest's context and footer (bench/RESULTS.md, round 3)."""
    from django.utils import formats
    from django.utils.translation import pgettext

    if with_year:
        return formats.date_format(day, pgettext("a day in a message, with its year", "l j F Y"))
    return formats.date_format(day, pgettext("a day in a message", "l j F"))


def day_text(day, *, with_year: bool = False):
    """ "Sunday 22 November" / "Sonntag, 22. November": a day in words, in the language active
    when the text is used (lazy: a message's context is built before its language is chosen)."""
    from django.utils.functional import lazy

    return lazy(_day_text, str)(day, with_year)


def _moved_text(day, announced) -> str:
    from django.utils import formats
    from django.utils.translation import pgettext

    when = formats.date_format(day, "l") if abs((day - announced).days) < 7 else _day_text(day, False)
    return pgettext("a celebration announced on another (working) day", "on %(day)s") % {"day": when}


def moved_text(day, *, announced):
    """ "on Saturday" / "am Samstag": the real day of a celebration announced on another day
    (its day in words when a week or more away); lazy, like :func:`day_text`."""
    from django.utils.functional import lazy

    return lazy(_moved_text, str)(day, announced)


def month_day_text(month: int, day: int, year: int | None = None) -> str:
    """ "14 July" / "14. Juli" (with the year when given): a date without a weekday, for a
    birthday whose year is unknown or private, in the active language (not lazy)."""
    from datetime import date

    from django.utils import formats
    from django.utils.translation import pgettext

    if year is None:
        # 2000 is a leap year: 29 February stays a day.
        return formats.date_format(date(2000, month, day), pgettext("a date without weekday or year", "j F"))
    return formats.date_format(date(year, month, day), pgettext("a date without weekday", "j F Y"))


def short_day_text(day) -> str:
    """ "Mon 13 Jul" / "Mo, 13. Jul": a day in a list, in the active language (not lazy)."""
    from django.utils import formats
    from django.utils.translation import pgettext

    return formats.date_format(day, pgettext("a day in a list", "D j M"))


def moment_text(instant, *, tz) -> str:
    """ "Friday 11 December, 09:00 (Europe/Berlin)" / "Freitag, 11. Dezember, 09:00 Uhr (Europe/Berlin)":
    an aware instant as the clock in ``tz`` (a ``ZoneInfo``) shows it, the zone named, in the active
    language (not lazy)."""
    from django.utils import formats
    from django.utils.translation import pgettext

    local = instant.astimezone(tz)
    when = formats.date_format(local, pgettext("a day and time in a message", "l j F, H:i"))
    return f"{when} ({tz.key})"

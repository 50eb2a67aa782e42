"""Weekends and public holidays: on which day a celebration is announced.

A workspace announces a celebration on the day itself, on the working day before, or on the
next working day. Applied after the Feb 29 rule: first the date a birthday falls on in a year
(``recurrence.celebration_date``), then :func:`shift`. Which days are working days comes from
the ``holidays`` package (the country's weekend and public holidays, optionally a region's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

import holidays

ON_DAY = "on_day"
WORKING_DAY_BEFORE = "working_day_before"
NEXT_WORKING_DAY = "next_working_day"
POLICIES = (ON_DAY, WORKING_DAY_BEFORE, NEXT_WORKING_DAY)

# No country's calendar has a longer run of days off; a longer one is a broken calendar.
MAX_DAYS_OFF = 31

IsWorkday = Callable[[date], bool]


class UnknownCountry(ValueError):
    pass


class UnknownRegion(ValueError):
    pass


def shift(day: date, *, policy: str, is_workday: IsWorkday) -> date:
    """The day a celebration falling on ``day`` is announced under ``policy``."""
    if policy == ON_DAY or is_workday(day):
        return day
    step = timedelta(days=-1 if policy == WORKING_DAY_BEFORE else 1)
    moved = day
    for _ in range(MAX_DAYS_OFF):
        moved += step
        if is_workday(moved):
            return moved
    return day


def announced_on(day: date, *, policy: str, is_workday: IsWorkday) -> list[date]:
    """Every date whose celebration is announced on ``day`` (its inverse of :func:`shift`).

    Empty when ``day`` itself is a day off and celebrations move away from days off; else
    ``day`` and the days off next to it that move onto it, in calendar order.
    """
    if policy == ON_DAY:
        return [day]
    if not is_workday(day):
        return []
    step = timedelta(days=1 if policy == WORKING_DAY_BEFORE else -1)
    found = [day]
    moved = day
    for _ in range(MAX_DAYS_OFF):
        moved += step
        if is_workday(moved):
            break
        found.append(moved)
    return sorted(found)


def supported_countries() -> dict[str, list[str]]:
    """ISO 3166-1 alpha-2 codes the holiday calendars know, each with its region codes."""
    return {code: list(regions) for code, regions in holidays.list_supported_countries().items()}


def check_country(country: str, region: str = "") -> tuple[str, str]:
    """The codes as the calendars spell them (any letter case accepted).

    Raises :class:`UnknownCountry` or :class:`UnknownRegion` for codes no calendar knows.
    """
    known = holidays.list_supported_countries()
    country = country.upper()
    if country not in known:
        raise UnknownCountry(country)
    if not region:
        return country, ""
    for code in known[country]:
        if code.upper() == region.upper():
            return country, code
    raise UnknownRegion(region)


@lru_cache(maxsize=512)
def _days_off(country: str, region: str, year: int) -> tuple[frozenset[date], frozenset[int]]:
    calendar = holidays.country_holidays(country, subdiv=region or None, years=year)
    return frozenset(calendar.keys()), frozenset(getattr(calendar, "weekend", {5, 6}))


def workday_calendar(country: str = "", region: str = "") -> IsWorkday:
    """``is_workday(day)``: not a weekend day of the country and not one of its public holidays.

    Without a country: Monday to Friday. Holidays are read per year, once (cached).
    """
    if not country:
        return lambda day: day.weekday() < 5

    def is_workday(day: date) -> bool:
        off, weekend = _days_off(country, region, day.year)
        return day.weekday() not in weekend and day not in off

    return is_workday

"""Weekends and public holidays: the pure shift rule and its inverse, across years and countries."""

from datetime import date, timedelta

import pytest

from birthdaybuddy.timerules import workdays
from birthdaybuddy.timerules.recurrence import FEB28, MAR1, celebration_date
from birthdaybuddy.timerules.workdays import (
    NEXT_WORKING_DAY,
    ON_DAY,
    WORKING_DAY_BEFORE,
    announced_on,
    shift,
    workday_calendar,
)


@pytest.mark.parametrize(
    ("day", "policy", "country", "region", "expected"),
    [
        # A plain weekend, no country: Monday to Friday.
        (date(2026, 12, 12), WORKING_DAY_BEFORE, "", "", date(2026, 12, 11)),
        (date(2026, 12, 13), NEXT_WORKING_DAY, "", "", date(2026, 12, 14)),
        (date(2026, 12, 13), ON_DAY, "", "", date(2026, 12, 13)),
        (date(2026, 12, 10), WORKING_DAY_BEFORE, "", "", date(2026, 12, 10)),
        # Good Friday 2026 before a Saturday birthday: Thursday; Easter Monday after it: Tuesday.
        (date(2026, 4, 4), WORKING_DAY_BEFORE, "DE", "", date(2026, 4, 2)),
        (date(2026, 4, 4), NEXT_WORKING_DAY, "DE", "", date(2026, 4, 7)),
        (date(2026, 4, 3), WORKING_DAY_BEFORE, "DE", "", date(2026, 4, 2)),
        # A regional holiday: Corpus Christi 2026 (Thursday 4 June) is one in Bavaria, not in Berlin.
        (date(2026, 6, 4), WORKING_DAY_BEFORE, "DE", "BY", date(2026, 6, 3)),
        (date(2026, 6, 4), WORKING_DAY_BEFORE, "DE", "BE", date(2026, 6, 4)),
        # Thanksgiving (Thursday) in the US: the day after is a working day.
        (date(2026, 11, 26), NEXT_WORKING_DAY, "US", "", date(2026, 11, 27)),
        # Israel's weekend is Friday and Saturday: a Friday birthday moves to Thursday or Sunday.
        (date(2026, 12, 11), WORKING_DAY_BEFORE, "IL", "", date(2026, 12, 10)),
        (date(2026, 12, 11), NEXT_WORKING_DAY, "IL", "", date(2026, 12, 13)),
        # Across the year's end: New Year's Day 2028 is a Saturday.
        (date(2028, 1, 1), WORKING_DAY_BEFORE, "DE", "", date(2027, 12, 31)),
        (date(2028, 1, 1), NEXT_WORKING_DAY, "DE", "", date(2028, 1, 3)),
    ],
)
def test_shift(day, policy, country, region, expected):
    assert shift(day, policy=policy, is_workday=workday_calendar(country, region)) == expected


@pytest.mark.parametrize(
    ("year", "leap_policy", "shift_policy", "expected"),
    [
        (2020, FEB28, WORKING_DAY_BEFORE, date(2020, 2, 28)),  # Feb 29 2020 is a Saturday
        (2020, FEB28, NEXT_WORKING_DAY, date(2020, 3, 2)),
        (2025, MAR1, WORKING_DAY_BEFORE, date(2025, 2, 28)),  # falls on Sat 1 March 2025
        (2025, MAR1, NEXT_WORKING_DAY, date(2025, 3, 3)),
        (2025, FEB28, NEXT_WORKING_DAY, date(2025, 2, 28)),  # a Friday: stays
    ],
)
def test_feb29_rule_first_then_the_shift(year, leap_policy, shift_policy, expected):
    falls_on = celebration_date(month=2, day=29, year=year, leap_day_policy=leap_policy)
    assert shift(falls_on, policy=shift_policy, is_workday=workday_calendar("DE")) == expected


@pytest.mark.parametrize(("country", "region"), [("", ""), ("DE", "BY"), ("US", "NY"), ("IL", ""), ("GB", "SCT")])
@pytest.mark.parametrize("policy", [ON_DAY, WORKING_DAY_BEFORE, NEXT_WORKING_DAY])
def test_every_day_is_announced_exactly_once(country, region, policy):
    """``announced_on`` is the inverse of ``shift``: each date lands on exactly one announcing day."""
    is_workday = workday_calendar(country, region)
    start = date(2025, 12, 1)
    days = [start + timedelta(days=n) for n in range(800)]
    landed: dict[date, list[date]] = {}
    for day in days[20:-20]:
        for source in announced_on(day, policy=policy, is_workday=is_workday):
            landed.setdefault(source, []).append(day)
    for day in days[40:-40]:
        assert landed.get(day) == [shift(day, policy=policy, is_workday=is_workday)], day


def test_announced_on_lists_the_days_off_moved_onto_a_working_day():
    is_workday = workday_calendar("DE")
    thursday = date(2026, 4, 2)
    assert announced_on(thursday, policy=WORKING_DAY_BEFORE, is_workday=is_workday) == [
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 4),
        date(2026, 4, 5),
        date(2026, 4, 6),
    ]
    assert announced_on(date(2026, 4, 4), policy=WORKING_DAY_BEFORE, is_workday=is_workday) == []


@pytest.mark.parametrize(
    ("country", "region", "error"),
    [("XX", "", workdays.UnknownCountry), ("DE", "ZZ", workdays.UnknownRegion), ("", "", workdays.UnknownCountry)],
)
def test_unknown_codes_are_refused(country, region, error):
    with pytest.raises(error):
        workdays.check_country(country, region)


def test_codes_are_spelt_as_the_calendars_spell_them():
    assert workdays.check_country("de", "by") == ("DE", "BY")

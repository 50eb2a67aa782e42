"""The occurrence engine: DST gaps and overlaps, odd offsets, leap days, RRULEs."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from birthdaybuddy.timerules.recurrence import (
    FEB28,
    MAR1,
    celebration_date,
    local_to_utc,
    next_daily,
    next_rrule,
    next_yearly,
    occurrences_between,
    parse_rrule,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily_run(*, tz: str, at: time, start: datetime, days: int) -> list:
    occurrences, after = [], start
    for _ in range(days):
        occurrence = next_daily(at=at, tz=ZoneInfo(tz), after=after)
        occurrences.append(occurrence)
        after = occurrence.at
    return occurrences


@pytest.mark.parametrize(
    ("tz", "transition_day", "expected_before", "expected_after"),
    [
        # 09:00 local the day before / the day of the change, as UTC.
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
        ("America/New_York", date(2026, 11, 1), utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),
        ("Europe/London", date(2026, 3, 29), utc(2026, 3, 28, 9), utc(2026, 3, 29, 8)),
        ("Europe/London", date(2026, 10, 25), utc(2026, 10, 24, 8), utc(2026, 10, 25, 9)),
        ("Australia/Lord_Howe", date(2026, 4, 5), utc(2026, 4, 3, 22), utc(2026, 4, 4, 22, 30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), utc(2026, 10, 2, 22, 30), utc(2026, 10, 3, 22)),
        ("Asia/Kathmandu", date(2026, 3, 8), utc(2026, 3, 7, 3, 15), utc(2026, 3, 8, 3, 15)),
    ],
)
def test_daily_digest_fires_once_per_local_day_across_transitions(tz, transition_day, expected_before, expected_after):
    start = datetime.combine(transition_day - timedelta(days=4), time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    occurrences = daily_run(tz=tz, at=time(9), start=start, days=8)

    local_dates = [o.local_date for o in occurrences]
    assert local_dates == [transition_day - timedelta(days=4 - i) for i in range(8)]
    assert all(o.local.time() == time(9) for o in occurrences)
    assert all(o.at.astimezone(ZoneInfo(tz)).time() == time(9) for o in occurrences)
    by_date = {o.local_date: o.at for o in occurrences}
    assert by_date[transition_day - timedelta(days=1)] == expected_before
    assert by_date[transition_day] == expected_after


@pytest.mark.parametrize(
    ("tz", "local", "expected"),
    [
        # Spring forward: the nonexistent time fires when the clocks jump.
        ("America/New_York", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7)),
        ("Europe/London", datetime(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1)),
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 10), utc(2026, 10, 3, 15, 30)),
        # Fall back: the ambiguous time fires at its first occurrence.
        ("America/New_York", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30)),
        ("Europe/London", datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30)),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45)),
        # Ordinary times in an odd offset.
        ("Asia/Kathmandu", datetime(2026, 6, 1, 9, 0), utc(2026, 6, 1, 3, 15)),
    ],
)
def test_local_to_utc_gap_and_overlap_rules(tz, local, expected):
    assert local_to_utc(local, ZoneInfo(tz)) == expected


@pytest.mark.parametrize(
    ("tz", "at", "day"),
    [
        ("America/New_York", time(2, 30), date(2026, 3, 8)),
        ("America/New_York", time(1, 30), date(2026, 11, 1)),
        ("Europe/London", time(1, 30), date(2026, 10, 25)),
        ("Australia/Lord_Howe", time(2, 15), date(2026, 10, 4)),
        ("Australia/Lord_Howe", time(1, 45), date(2026, 4, 5)),
    ],
)
def test_daily_at_a_gap_or_overlap_time_fires_exactly_once_that_day(tz, at, day):
    start = datetime.combine(day - timedelta(days=2), time(12), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    occurrences = daily_run(tz=tz, at=at, start=start, days=4)
    local_dates = [o.local_date for o in occurrences]
    assert local_dates == [day - timedelta(days=1), day, day + timedelta(days=1), day + timedelta(days=2)]
    instants = [o.at for o in occurrences]
    assert instants == sorted(set(instants))


@pytest.mark.parametrize(
    ("year", "policy", "expected"),
    [
        (2027, FEB28, date(2027, 2, 28)),
        (2027, MAR1, date(2027, 3, 1)),
        (2028, FEB28, date(2028, 2, 29)),
        (2028, MAR1, date(2028, 2, 29)),
        (2100, MAR1, date(2100, 3, 1)),
    ],
)
def test_leap_day_birthdays(year, policy, expected):
    assert celebration_date(month=2, day=29, year=year, leap_day_policy=policy) == expected


def test_next_yearly_for_feb29_walks_common_and_leap_years():
    tz = ZoneInfo("Europe/Berlin")
    after = utc(2026, 6, 1)
    seen = []
    for _ in range(3):
        occurrence = next_yearly(month=2, day=29, at=time(9), tz=tz, after=after, leap_day_policy=MAR1)
        seen.append(occurrence.local_date)
        after = occurrence.at
    assert seen == [date(2027, 3, 1), date(2028, 2, 29), date(2029, 3, 1)]


def test_next_yearly_later_today_is_still_this_year():
    tz = ZoneInfo("Asia/Tokyo")
    occurrence = next_yearly(month=11, day=22, at=time(9), tz=tz, after=utc(2026, 11, 21, 23))
    assert occurrence.at == utc(2026, 11, 22, 0)


def test_rrule_monthly_on_the_31st_skips_short_months():
    rule = parse_rrule("RRULE:FREQ=MONTHLY;BYMONTHDAY=31", dtstart=datetime(2026, 1, 31, 9))
    found = occurrences_between(rule=rule, tz=ZoneInfo("UTC"), start=utc(2026, 1, 1), end=utc(2026, 12, 31, 23))
    assert [o.local_date.month for o in found] == [1, 3, 5, 7, 8, 10, 12]


def test_rrule_quarterly_over_three_years_across_dst():
    tz = ZoneInfo("America/New_York")
    rule = parse_rrule("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", dtstart=datetime(2026, 1, 15, 9))
    found = occurrences_between(rule=rule, tz=tz, start=utc(2026, 1, 1), end=utc(2028, 12, 31))
    assert len(found) == 12
    assert all(o.at.astimezone(tz).time() == time(9) for o in found)
    assert {o.at.utcoffset() for o in found} == {timedelta(0)}
    assert {o.at.astimezone(tz).utcoffset() for o in found} == {timedelta(hours=-5), timedelta(hours=-4)}


def test_rrule_that_ended_returns_none():
    rule = parse_rrule("FREQ=DAILY;COUNT=2", dtstart=datetime(2026, 1, 1, 9))
    assert next_rrule(rule=rule, tz=ZoneInfo("UTC"), after=utc(2026, 1, 2, 10)) is None


def test_hourly_rule_through_a_gap_fires_once_at_the_jump():
    tz = ZoneInfo("America/New_York")
    rule = parse_rrule("FREQ=MINUTELY;INTERVAL=30", dtstart=datetime(2026, 3, 8, 1, 0))
    found = occurrences_between(rule=rule, tz=tz, start=utc(2026, 3, 8, 5, 59), end=utc(2026, 3, 8, 8, 0))
    assert [o.at for o in found] == [
        utc(2026, 3, 8, 6),
        utc(2026, 3, 8, 6, 30),
        utc(2026, 3, 8, 7),
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 8, 8),
    ]


@pytest.mark.parametrize(
    "text", ["", "FREQ=SOMETIMES", "RRULE:FREQ=DAILY;BYHOUR=25", "hello", "FREQ=DAILY\nFREQ=WEEKLY"]
)
def test_invalid_rrules_are_refused(text):
    with pytest.raises(ValueError):  # noqa: PT011
        parse_rrule(text, dtstart=datetime(2026, 1, 1, 9))


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="aware"):
        next_daily(at=time(9), tz=ZoneInfo("UTC"), after=datetime(2026, 1, 1))

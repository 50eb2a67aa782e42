"""Occurrences of events: RRULE validation and windowed expansion (pure functions, no database)."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from birthdaybuddy.timerules.occurrences import (
    RRuleError,
    Span,
    event_occurrences,
    first_conflict,
    normalize_rrule,
    spans_between,
    validated_rule,
)

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class Ev:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    date: date | None = None
    rrule: str = ""


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("FREQ=FOO", "invalid_rrule"),
        ("FOO", "invalid_rrule"),
        ("FREQ=DAILY;BYHOUR=25", "invalid_rrule"),
        ("FREQ=DAILY;X-NAME=1", "invalid_rrule"),
        ("FREQ=DAILY\nFREQ=WEEKLY", "invalid_rrule"),
        ("", "invalid_rrule"),
        ("FREQ=HOURLY", "invalid_rrule"),
        ("FREQ=MINUTELY", "invalid_rrule"),
        ("FREQ=DAILY;INTERVAL=0", "invalid_rrule"),
        ("FREQ=DAILY;INTERVAL=-1", "invalid_rrule"),
        ("FREQ=DAILY;COUNT=0", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=20250101T000000Z", "rrule_until_before_start"),
        ("FREQ=WEEKLY;BYDAY=TU", "rrule_start_mismatch"),  # the start is a Monday
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "invalid_rrule"),  # never happens: said before the start is compared
        ("FREQ=WEEKLY;BYMONTHDAY=1", "invalid_rrule"),  # RFC 5545: no BYMONTHDAY in a weekly rule
        ("FREQ=YEARLY;BYEASTER=0", "invalid_rrule"),  # a dateutil extension, not RFC 5545
        ("FREQ=YEARLY;BYMONTH=13", "invalid_rrule"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "invalid_rrule"),
        ("FREQ=YEARLY;BYWEEKNO=60", "invalid_rrule"),
        ("FREQ=DAILY;FREQ=WEEKLY", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=99991231T235959Z", "invalid_rrule"),
        # What RFC 5545 §3.3.10 forbids, which engines read differently (and one client hangs on).
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z", "invalid_rrule"),
        ("FREQ=DAILY;BYDAY=1MO", "invalid_rrule"),
        ("FREQ=WEEKLY;BYDAY=-1MO", "invalid_rrule"),
        ("FREQ=YEARLY;BYWEEKNO=10;BYDAY=1MO", "invalid_rrule"),
        ("FREQ=MONTHLY;BYSETPOS=1", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=2026-12-31", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=20261231T2359Z", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=20261231", "invalid_rrule"),  # a date with a timed start
        ("FREQ=DAILY;UNTIL=20261231T235959", "invalid_rrule"),  # floating, with a zoned start
        ("FREQ=DAILY;UNTIL=20261331T000000Z", "invalid_rrule"),
        ("FREQ=MONTHLY;BYDAY=+9MO", "rrule_start_mismatch"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(text, code):
    with pytest.raises(RRuleError) as caught:
        validated_rule(text, dtstart=datetime(2026, 3, 2, 9, 0))
    assert caught.value.code == code


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;BYDAY=MO",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
        "freq=daily;count=3",
        "FREQ=MONTHLY;BYMONTHDAY=2",
        "FREQ=YEARLY",
        "FREQ=DAILY;UNTIL=20261231T235959Z",
        "FREQ=MONTHLY;BYDAY=1MO",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
    ],
)
def test_good_rules_pass(text):
    validated_rule(text, dtstart=datetime(2026, 3, 2, 9, 0))


def test_a_rule_that_never_matches_is_refused_quickly():
    """dateutil alone would scan day by day to the year 9999 (about ten seconds)."""
    started = clock.perf_counter()
    with pytest.raises(RRuleError):
        validated_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", dtstart=datetime(2026, 1, 1, 9, 0))
    assert clock.perf_counter() - started < 3


def test_leap_day_start_is_an_occurrence_of_a_leap_day_rule():
    validated_rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", dtstart=datetime(2028, 2, 29, 0, 0))


def test_normalize_keeps_until_as_given():
    assert normalize_rrule("rrule:freq=weekly;byday=mo") == "FREQ=WEEKLY;BYDAY=MO"
    assert normalize_rrule("FREQ=DAILY;UNTIL=20261231T230000z") == "FREQ=DAILY;UNTIL=20261231T230000Z"


def test_an_all_day_rule_takes_a_date_until_only():
    validated_rule("FREQ=DAILY;UNTIL=20261231", dtstart=datetime(2026, 3, 2), all_day=True)
    with pytest.raises(RRuleError, match="UNTIL must be a date"):
        validated_rule("FREQ=DAILY;UNTIL=20261231T000000Z", dtstart=datetime(2026, 3, 2), all_day=True)


def test_weekly_expansion_keeps_local_time_across_both_dst_changes():
    # Mondays 09:00-10:00 Berlin, from a winter Monday (UTC+1) into summer (UTC+2) and back.
    event = Ev(starts_at=utc(2026, 3, 16, 8, 0), ends_at=utc(2026, 3, 16, 9, 0), rrule="FREQ=WEEKLY")
    spring = spans_between(event, tz=BERLIN, start=utc(2026, 3, 16), end=utc(2026, 4, 7))
    assert [span.starts_at for span in spring] == [
        utc(2026, 3, 16, 8),
        utc(2026, 3, 23, 8),
        utc(2026, 3, 30, 7),
        utc(2026, 4, 6, 7),
    ]
    autumn = spans_between(event, tz=BERLIN, start=utc(2026, 10, 19), end=utc(2026, 11, 3))
    assert [span.starts_at for span in autumn] == [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)]
    assert all(span.ends_at - span.starts_at == timedelta(hours=1) for span in spring + autumn)


def test_a_local_time_in_the_spring_gap_takes_the_offset_before_the_gap():
    # Daily at 02:30 Berlin; on 29 March 2026 02:30 does not exist (02:00 -> 03:00). RFC 5545
    # §3.3.5 reads it with the offset before the gap (+01:00): 01:30 UTC, 03:30 CEST.
    event = Ev(starts_at=utc(2026, 3, 27, 1, 30), rrule="FREQ=DAILY")
    spans = spans_between(event, tz=BERLIN, start=utc(2026, 3, 28), end=utc(2026, 3, 31))
    assert [span.starts_at for span in spans] == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]


def test_expansion_is_windowed_for_unbounded_rules_started_long_ago():
    event = Ev(starts_at=utc(1990, 1, 1, 8), ends_at=utc(1990, 1, 1, 9), rrule="FREQ=DAILY")
    started = clock.perf_counter()
    spans = spans_between(event, tz=BERLIN, start=utc(2026, 6, 1), end=utc(2026, 6, 8))
    assert len(spans) == 7
    assert clock.perf_counter() - started < 0.5


def test_an_occurrence_that_began_before_the_window_but_reaches_into_it_is_listed():
    event = Ev(starts_at=utc(2026, 1, 5, 22), ends_at=utc(2026, 1, 6, 2), rrule="FREQ=WEEKLY")
    spans = spans_between(event, tz=UTC, start=utc(2026, 1, 13, 0), end=utc(2026, 1, 13, 1))
    assert spans == [Span(utc(2026, 1, 12, 22), utc(2026, 1, 13, 2))]


def test_all_day_recurring_uses_local_days():
    event = Ev(all_day=True, date=date(2026, 1, 31), rrule="FREQ=MONTHLY;BYMONTHDAY=-1")
    # Berlin's 1 March starts at 23:00 UTC on 28 Feb: the window is two local days, 28 Feb and 1 Mar.
    spans = spans_between(event, tz=BERLIN, start=utc(2026, 2, 27, 23), end=utc(2026, 3, 1, 23))
    assert spans == [Span(date=date(2026, 2, 28))]


def test_one_off_events_overlap_exactly():
    event = Ev(starts_at=utc(2026, 5, 1, 10), ends_at=utc(2026, 5, 1, 11))
    assert spans_between(event, tz=UTC, start=utc(2026, 5, 1, 11), end=utc(2026, 5, 1, 12)) == []
    assert len(spans_between(event, tz=UTC, start=utc(2026, 5, 1, 10, 59), end=utc(2026, 5, 1, 12))) == 1


def test_first_conflict_finds_the_earliest_overlap_and_ignores_back_to_back():
    ours = [Span(utc(2026, 5, 1, 10), utc(2026, 5, 1, 11)), Span(utc(2026, 5, 8, 10), utc(2026, 5, 8, 11))]
    back_to_back = ("a", Span(utc(2026, 5, 1, 11), utc(2026, 5, 1, 12)))
    overlapping = ("b", Span(utc(2026, 5, 8, 9), utc(2026, 5, 8, 10, 30)))
    assert first_conflict(ours, [back_to_back]) is None
    owner, theirs, mine = first_conflict(ours, [back_to_back, overlapping])
    assert (owner, theirs, mine) == ("b", overlapping[1], ours[1])


@pytest.mark.parametrize("all_day", [False, True])
def test_the_start_is_the_first_occurrence_for_calendars_conflicts_and_reminders_alike(all_day):
    """GIVEN a recurring event whose start is not an occurrence of its rule (validation refuses
    that for new events; RFC 5545 still says DTSTART counts as the first instance)
    WHEN its occurrences are expanded for a calendar window and for its reminders
    THEN both start with the event's own start and list the same occurrences."""
    tuesday = date(2026, 3, 3)
    if all_day:
        event = Ev(all_day=True, date=tuesday, rrule="FREQ=WEEKLY;BYDAY=MO")
    else:
        start = datetime(2026, 3, 3, 8, tzinfo=UTC)
        event = Ev(starts_at=start, ends_at=start + timedelta(hours=1), rrule="FREQ=WEEKLY;BYDAY=MO")
    window_start, window_end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 25, tzinfo=UTC)

    spans = spans_between(event, tz=BERLIN, start=window_start, end=window_end)
    expanded = list(islice(event_occurrences(event, tz=BERLIN, after=window_start - timedelta(days=1)), len(spans) + 1))

    if all_day:
        assert [span.date for span in spans] == [tuesday, date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
        assert [o.local.date() for o in expanded[: len(spans)]] == [span.date for span in spans]
    else:
        assert spans[0].starts_at == event.starts_at
        assert [span.starts_at for span in spans] == [o.starts_at for o in expanded[: len(spans)]]
        assert [span.starts_at.date() for span in spans[1:]] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    assert expanded[len(spans)].starts_at >= window_end

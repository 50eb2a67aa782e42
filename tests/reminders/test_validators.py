import time as clock
from datetime import datetime

import pytest

from birthdaybuddy.timerules import rrules
from reminders.validators import rrule_error, template_error

ANCHOR = datetime(2026, 1, 15, 9)  # a naive local wall time, as the engine expands it


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
        "RRULE:freq=yearly;byweekno=1;byday=MO",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20301231T235959Z",
        "FREQ=HOURLY;BYHOUR=9,13,17",
        "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
    ],
)
def test_good_rules(text):
    assert rrule_error(text, dtstart=ANCHOR) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an RFC 5545 RRULE"),
        ("FREQ=SOMETIMES", "Not a valid RRULE"),
        ("FREQ=DAILY;DTSTART=20260101T000000", "Not a valid RRULE"),
        ("FREQ=MINUTELY;INTERVAL=15", "at most hourly"),
        ("FREQ=SECONDLY", "at most hourly"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;INTERVAL=5000", "INTERVAL"),
        ("FREQ=DAILY;BYEASTER=0", "BYEASTER"),
        ("FREQ=HOURLY;BYSECOND=30", "BYSECOND"),
        ("FREQ=HOURLY;BYWEEKNO=1;BYMONTH=7", "BYWEEKNO cannot be used with FREQ=HOURLY"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31", "never occurs"),
        ("FREQ=DAILY;" + "BYHOUR=1;" * 100, "at most 500"),
    ],
)
def test_bad_rules_say_why_and_fast(text, reason):
    started = clock.monotonic()
    assert reason in (rrule_error(text, dtstart=ANCHOR) or "")
    assert clock.monotonic() - started < 0.5


def test_normalize():
    assert rrules.normalize(" rrule:freq=daily;count=3 ") == "FREQ=DAILY;COUNT=3"


def test_template_syntax():
    assert template_error("Hi {{ person.name }}") is None
    assert template_error("Hi {{ person.name ").startswith("Line 1")
    assert template_error("{% for %}").startswith("Line 1")

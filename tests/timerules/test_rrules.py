"""RFC 5545's rules for RRULE text (``birthdaybuddy.timerules.rrules``): one verdict for events and reminders."""

from datetime import datetime

import pytest

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.occurrences import RRuleError, validated_rule
from reminders.validators import rrule_error

START = datetime(2026, 3, 2, 9, 0)  # a Monday, naive local time

NOT_RFC_5545 = [
    ("FREQ=DAILY;", "expected NAME=VALUE"),
    ("FREQ=DAILY;BYHOUR", "expected NAME=VALUE"),
    ("FREQ=DAILY;X-NAME=1", "unknown rule part 'X-NAME'"),
    ("FREQ=YEARLY;BYEASTER=0", "unknown rule part 'BYEASTER'"),
    ("FREQ=DAILY;DTSTART=20260101T000000", "unknown rule part 'DTSTART'"),
    ("FREQ=DAILY;FREQ=WEEKLY", "FREQ appears twice"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH value '13' is out of range"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY value '0' is out of range"),
    ("FREQ=MONTHLY;BYMONTHDAY=-32", "out of range"),
    ("FREQ=YEARLY;BYWEEKNO=60", "out of range"),
    ("FREQ=MONTHLY;BYDAY=+54MO", "out of range"),
    ("FREQ=YEARLY;BYMONTH=\u00b2", "out of range"),  # a digit to str.isdigit, not to int()
    ("FREQ=YEARLY;BYMONTH=1,,2", "out of range"),
    ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO cannot be used with FREQ=MONTHLY"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
    ("FREQ=DAILY;BYYEARDAY=100", "BYYEARDAY cannot be used with FREQ=DAILY"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31,-31", "never occurs"),
    # RFC 5545 §3.3.10's MUST NOTs, which engines read differently (and a client hangs on).
    ("BYDAY=MO", "FREQ is required"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z", "UNTIL and COUNT cannot both be given"),
    ("FREQ=DAILY;BYDAY=1MO", "A numbered BYDAY (1MO) needs FREQ=MONTHLY or YEARLY"),
    ("FREQ=WEEKLY;BYDAY=MO,-2FR", "A numbered BYDAY (-2FR) needs FREQ=MONTHLY or YEARLY"),
    ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO", "cannot be used with BYWEEKNO"),
    ("FREQ=MONTHLY;BYSETPOS=-1", "BYSETPOS needs another BYxxx rule part"),
    ("FREQ=WEEKLY;BYDAY=MONDAY", "BYDAY value 'MONDAY'"),
    ("FREQ=WEEKLY;WKST=XX", "WKST must be a weekday"),
    # UNTIL next to a start with a time (and a zone): a UTC date-time in RFC 5545's basic format.
    ("FREQ=DAILY;UNTIL=2026-12-31", "UNTIL must be a UTC date-time"),
    ("FREQ=DAILY;UNTIL=20261231T2359Z", "UNTIL must be a UTC date-time"),
    ("FREQ=DAILY;UNTIL=20261231", "UNTIL must be a UTC date-time"),
    ("FREQ=DAILY;UNTIL=20261231T235959", "UNTIL must be a UTC date-time"),
    ("FREQ=DAILY;UNTIL=20260230T000000Z", "UNTIL must be a UTC date-time"),
]


@pytest.mark.parametrize(("text", "reason"), NOT_RFC_5545)
def test_events_and_reminders_refuse_the_same_text_with_the_same_words(text, reason):
    problem = rrules.syntax_error(text, start=rrules.START_DATE_TIME)
    assert reason in (problem or ""), problem

    with pytest.raises(RRuleError) as caught:
        validated_rule(text, dtstart=START)
    assert caught.value.message == problem
    assert caught.value.code == "invalid_rrule"
    assert rrule_error(text, dtstart=START) == problem


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;BYDAY=MO",
        "rrule:freq=monthly;bymonthday=-1",
        "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;BYMONTH=4,5;BYMONTHDAY=31",  # May has one
        "FREQ=HOURLY;BYYEARDAY=1,-1",
        "FREQ=DAILY;UNTIL=20301231T235959Z;WKST=SU",
    ],
)
def test_rfc_5545_rules_pass(text):
    assert rrules.syntax_error(text) is None


def test_policy_differs_after_the_shared_rules():
    """Hourly is RFC 5545 and fine for a reminder; an event repeats at most daily."""
    assert rrules.syntax_error("FREQ=HOURLY") is None
    assert rrule_error("FREQ=HOURLY", dtstart=START) is None
    with pytest.raises(RRuleError, match="at most daily"):
        validated_rule("FREQ=HOURLY", dtstart=START)


def test_normalize_and_parts():
    assert rrules.normalize(" rrule:freq=daily;count=3 ") == "FREQ=DAILY;COUNT=3"
    assert rrules.parts("rrule:FREQ=weekly;byday=mo,fr") == {"FREQ": "WEEKLY", "BYDAY": "MO,FR"}

from datetime import date

import pytest
from django.utils import translation

from slackapp.dateparse import DateNotUnderstood, ParsedDate, parse_date

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 July", ParsedDate(7, 14, None)),
        ("July 14th", ParsedDate(7, 14, None)),
        ("july 14", ParsedDate(7, 14, None)),
        ("14.07.", ParsedDate(7, 14, None)),
        ("14.07", ParsedDate(7, 14, None)),
        ("07-14", ParsedDate(7, 14, None)),
        ("7/14", ParsedDate(7, 14, None)),
        ("14 July 1990", ParsedDate(7, 14, 1990)),
        ("July 14, 1990", ParsedDate(7, 14, 1990)),
        ("14.07.1990", ParsedDate(7, 14, 1990)),
        ("07-14-1990", ParsedDate(7, 14, 1990)),
        ("1990-07-14", ParsedDate(7, 14, 1990)),
        ("3rd of September", ParsedDate(9, 3, None)),
        ("Sept 3rd", ParsedDate(9, 3, None)),
        ("1 Dec", ParsedDate(12, 1, None)),
        ("  29 February ", ParsedDate(2, 29, None)),
        ("29.02.2024", ParsedDate(2, 29, 2024)),
        # German month names (Babel's, full and abbreviated), whatever the reader's language.
        ("14. Juli", ParsedDate(7, 14, None)),
        ("14 juli", ParsedDate(7, 14, None)),
        ("3. März 1990", ParsedDate(3, 3, 1990)),
        ("3. Maerz", ParsedDate(3, 3, None)),
        ("1. Okt.", ParsedDate(10, 1, None)),
        ("24. Dez", ParsedDate(12, 24, None)),
        ("2. Mai", ParsedDate(5, 2, None)),
        ("5. Jänner", ParsedDate(1, 5, None)),
        ("Juli 14", ParsedDate(7, 14, None)),
    ],
)
def test_understood(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30 February", "February has no day 30"),
        ("30.02.", "February has no day 30"),
        ("29.02.2023", "February 2023 has no day 29"),
        ("31 April", "April has no day 31"),
        ("13-01", "no month 13"),
        ("14 July 2030", "cannot be a birth year"),
        ("14 July 1850", "cannot be a birth year"),
        ("tomorrow", "could not read"),
        ("", "could not read"),
        ("14 Julei", "could not read"),
        ("31. Juni", "June has no day 31"),
    ],
)
def test_refused_with_a_reason(text, message):
    with pytest.raises(DateNotUnderstood, match=message):
        parse_date(text, today=TODAY)


def test_describe_says_what_was_understood():
    assert parse_date("July 14th", today=TODAY).describe() == "14 July"
    assert parse_date("14.07.1990", today=TODAY).describe() == "14 July 1990"


def test_describe_and_refusals_in_german():
    with translation.override("de"):
        assert parse_date("14. Juli", today=TODAY).describe() == "14. Juli"
        assert parse_date("14.07.1990", today=TODAY).describe() == "14. Juli 1990"
        with pytest.raises(DateNotUnderstood, match=r"Februar 2023 hat keinen 29\. Tag"):
            parse_date("29.02.2023", today=TODAY)
        with pytest.raises(DateNotUnderstood, match="nicht als Datum lesen"):
            parse_date("morgen", today=TODAY)

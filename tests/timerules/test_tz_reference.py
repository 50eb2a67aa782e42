"""The time engine against a reference built straight from the zones' own transition lists.

The reference reads each zone's TZif file in the pinned ``tzdata`` package (the transitions and
their UTC offsets, and the POSIX TZ rule its footer gives for later years — the package's files
are "slim", so recent years come from that rule; nothing of zoneinfo's logic) and answers the
three questions by brute force:
the local time of an instant, and the instant(s) of a local time — none in a gap (then the jump
rule gives the transition, RFC 5545 the offset before it), two in a fold (the first wins).
Zones: 30-minute DST (Lord Howe), negative DST (Dublin), +14 (Kiritimati) and -11 (Pago Pago),
a skipped day (Apia, 30 December 2011), and others with long or odd histories.
"""

from __future__ import annotations

import bisect
import re
import struct
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from birthdaybuddy.timerules.recurrence import local_to_utc, local_to_utc_rfc5545, utc_to_local

ZONES = [
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Pacific/Apia",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tehran",
    "Africa/Casablanca",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Asia/Gaza",
    "America/St_Johns",
    "Antarctica/Troll",
]
EPOCH = datetime(1970, 1, 1)
# TZif files list explicit transitions up to 2037; the reference stays inside them.
FIRST_YEAR, LAST_YEAR = 1971, 2036
SETTINGS = settings(max_examples=400, derandomize=True, database=None, deadline=None)


def _posix_seconds(text: str | None, default: int) -> int:
    if not text:
        return default
    sign = -1 if text.startswith("-") else 1
    parts = [int(part) for part in text.lstrip("+-").split(":")]
    return sign * sum(part * unit for part, unit in zip(parts, (3600, 60, 1), strict=False))


_FOOTER = re.compile(
    r"(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)(?:(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)?"
    r",M(\d+)\.(\d)\.(\d)(?:/([+-]?[\d:]+))?,M(\d+)\.(\d)\.(\d)(?:/([+-]?[\d:]+))?)?$"
)


def _rule_day(year: int, month: int, week: int, weekday: int) -> datetime:
    """POSIX ``Mm.w.d``: the ``week``-th (5: last) ``weekday`` (0: Sunday) of the month, at midnight."""
    days = [datetime(year, month, day) for day in range(1, 32) if _valid(year, month, day)]
    matching = [day for day in days if (day.weekday() + 1) % 7 == weekday]
    return matching[-1] if week == 5 else matching[week - 1]


def _valid(year: int, month: int, day: int) -> bool:
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    return True


@cache
def footer_transitions(name: str, year: int) -> list[tuple[int, int]]:
    """(UTC seconds, offset after) of the footer rule's transitions in ``year``, sorted."""
    footer = _raw(name).rstrip(b"\n").rsplit(b"\n", 1)[-1].decode()
    match = _FOOTER.match(footer)
    assert match, footer
    standard = -_posix_seconds(match[2], 0)
    if not match[3]:
        return []
    daylight = -_posix_seconds(match[4], -(standard + 3600))
    found = []
    for month, week, day, at, before, after in (
        (match[5], match[6], match[7], match[8], standard, daylight),
        (match[9], match[10], match[11], match[12], daylight, standard),
    ):
        local = _rule_day(year, int(month), int(week), int(day)) + timedelta(seconds=_posix_seconds(at, 7200))
        found.append((seconds_of(local) - before, after))
    return sorted(found)


@cache
def _raw(name: str) -> bytes:
    return resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).read_bytes()


@cache
def transitions(name: str) -> tuple[list[int], list[int], int]:
    """(transition times as UTC seconds, the UTC offset in seconds after each, the offset before the first).

    The file's own list, extended with its footer rule's transitions up to the reference's last year.
    """
    data = _raw(name)
    assert data[:4] == b"TZif"
    counts = struct.unpack(">6l", data[20:44])
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts
    # Skip the version-1 block (32-bit times) to the version-2 header and its 64-bit data.
    skip = 44 + timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = struct.unpack(">6l", data[skip + 20 : skip + 44])
    at = skip + 44
    times = list(struct.unpack(f">{timecnt}q", data[at : at + timecnt * 8]))
    at += timecnt * 8
    indices = list(data[at : at + timecnt])
    at += timecnt
    offsets = [struct.unpack(">lBB", data[at + 6 * i : at + 6 * i + 6])[0] for i in range(typecnt)]
    after = [offsets[i] for i in indices]
    last = times[-1] if times else seconds_of(datetime(1900, 1, 1))
    for year in range(EPOCH.year, LAST_YEAR + 2):
        for moment, offset in footer_transitions(name, year):
            if moment > last:
                times.append(moment)
                after.append(offset)
                last = moment
    return times, after, offsets[0]


def offset_at(name: str, seconds: int) -> int:
    times, offsets, initial = transitions(name)
    index = bisect.bisect_right(times, seconds) - 1
    return offsets[index] if index >= 0 else initial


def seconds_of(local: datetime) -> int:
    return int((local - EPOCH).total_seconds())


def reference_local_to_utc(name: str, local: datetime) -> tuple[list[int], int | None, int | None]:
    """(the instants showing ``local``, and for a gap the transition and the offset before it)."""
    wall = seconds_of(local)
    times, offsets, initial = transitions(name)
    candidates = sorted({wall - offset for offset in {*offsets, initial} if offset_at(name, wall - offset) == offset})
    if candidates:
        return candidates, None, None
    for index, moment in enumerate(times):
        before = offsets[index - 1] if index else initial
        if moment + before <= wall < moment + offsets[index]:
            return [], moment, before
    raise AssertionError(f"{local} in {name}: neither shown nor skipped")


def instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


minutes = st.integers(
    min_value=seconds_of(datetime(FIRST_YEAR, 1, 2)) // 60, max_value=seconds_of(datetime(LAST_YEAR, 12, 30)) // 60
)


@st.composite
def near_transitions(draw):
    """A zone and a local wall time within three hours of one of its transitions (gaps and folds)."""
    name = draw(st.sampled_from(ZONES))
    times, _, _ = transitions(name)
    usable = [t for t in times if seconds_of(datetime(FIRST_YEAR, 1, 2)) < t < seconds_of(datetime(LAST_YEAR, 12, 30))]
    if not usable:
        return name, EPOCH + timedelta(minutes=draw(minutes))
    moment = draw(st.sampled_from(usable))
    shift = draw(st.integers(min_value=-180, max_value=180))
    local = EPOCH + timedelta(seconds=moment + offset_at(name, moment) + shift * 60)
    return name, local.replace(second=0)


def check(name: str, local: datetime) -> None:
    tz = ZoneInfo(name)
    shown, jump, before = reference_local_to_utc(name, local)
    if shown:
        assert local_to_utc(local, tz) == instant(shown[0])
        assert local_to_utc_rfc5545(local, tz) == instant(shown[0])
        for seconds in shown:
            assert utc_to_local(instant(seconds), tz) == local
    else:
        assert local_to_utc(local, tz) == instant(jump), "the jump rule: the transition itself"
        assert local_to_utc_rfc5545(local, tz) == instant(seconds_of(local) - before), "RFC 5545 §3.3.5"


@SETTINGS
@given(name=st.sampled_from(ZONES), minute=minutes)
def test_any_local_time_matches_the_transition_lists(name, minute):
    check(name, EPOCH + timedelta(minutes=minute))


@SETTINGS
@given(case=near_transitions())
def test_local_times_around_transitions_match_the_transition_lists(case):
    check(*case)


@SETTINGS
@given(name=st.sampled_from(ZONES), minute=minutes)
def test_any_instant_shows_the_wall_time_of_its_offset(name, minute):
    seconds = minute * 60
    assert utc_to_local(instant(seconds), ZoneInfo(name)) == EPOCH + timedelta(
        seconds=seconds + offset_at(name, seconds)
    )


def test_the_skipped_day_and_the_extreme_offsets_are_covered():
    # Samoa skipped 30 December 2011 (UTC-10 → UTC+14); Kiritimati is UTC+14, Pago Pago UTC-11.
    shown, jump, _ = reference_local_to_utc("Pacific/Apia", datetime(2011, 12, 30, 12))
    assert not shown
    assert local_to_utc(datetime(2011, 12, 30, 12), ZoneInfo("Pacific/Apia")) == instant(jump)
    assert offset_at("Pacific/Kiritimati", seconds_of(datetime(2030, 1, 1))) == 14 * 3600
    assert offset_at("Pacific/Pago_Pago", seconds_of(datetime(2030, 1, 1))) == -11 * 3600
    # Dublin: winter (GMT) is the "daylight" of negative DST; Lord Howe moves by 30 minutes.
    assert offset_at("Europe/Dublin", seconds_of(datetime(2030, 1, 15))) == 0
    lord_howe = {offset_at("Australia/Lord_Howe", seconds_of(datetime(2030, m, 15))) for m in (1, 7)}
    assert lord_howe == {11 * 3600, 10 * 3600 + 1800}

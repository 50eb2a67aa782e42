"""Who is celebrated on a local date, and the digest's content.

Reads only; the tick and manual runs turn the result into notifications.

**At most once, never dropped, whatever the weekend policy does.** A digest announces the
celebration dates that fall on its day or move onto it (``workdays.announced_on``). Each digest
occurrence records the last celebration date it covered (``Occurrence.covered_through``); the
next digest announces only dates after that one, and also the days off in between that no
digest covered although the digest of the day they belong to (under the policy now in force)
has run — so a preview of a later day leaves them to the earlier digest still to come.

So a Saturday birthday announced on Friday under "the working day before" is not announced
again on Monday when the policy changes to "the next working day" meanwhile; and one that "the
next working day" would have announced on Monday is still announced on Monday (late, with its
own date) when the policy changes to "the working day before" after Friday passed. Only days
off are caught up: a working day's celebrations belong to that day's digest whatever the
policy, and a digest missed after downtime stays missed, as before. The catching up reaches
back at most ``CATCH_UP_DAYS``: a digest that did not run for longer (paused) starts afresh.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.db.models import Q

from birthdaybuddy.i18n import day_text, moved_text
from birthdaybuddy.timerules.recurrence import MAR1, celebrates_on
from birthdaybuddy.timerules.workdays import announced_on, shift, workday_calendar
from notifications.rendering import slack_mention
from scheduling.models import Occurrence
from workspaces.models import Celebrate, Person, Workspace
from workspaces.querysets import may_be_celebrated

# Work anniversaries with their own greeting: the first year, then every fifth.
MILESTONE_FIRST = 1
MILESTONE_EVERY = 5
# How far back a digest catches up days off that no earlier digest covered.
CATCH_UP_DAYS = 14


def is_milestone(years: int | None) -> bool:
    return years is not None and years > 0 and (years == MILESTONE_FIRST or years % MILESTONE_EVERY == 0)


@dataclass(frozen=True, slots=True)
class Celebration:
    person: Person
    kind: str  # "birthday" | "anniversary"
    years: int | None  # age (only when the person shows it) or years since joining
    on: date | None = None  # the celebration's own date when announced on another (working) day
    private: bool = False  # greeted personally only, never in the team's digest

    @property
    def milestone(self) -> bool:
        return self.kind == "anniversary" and is_milestone(self.years)

    def as_context(self, *, mentions: bool, announced: date | None = None) -> dict:
        # A mention only from the stored Slack id; the name is data (escaped for the channel).
        mention = (slack_mention(self.person.slack_user_id) if mentions else None) or self.person.name
        when = moved_text(self.on, announced=announced) if self.on and announced and self.on != announced else None
        data = {"name": self.person.name, "mention": mention, "when": when, "milestone": self.milestone}
        data["age" if self.kind == "birthday" else "years"] = self.years
        return data


@dataclass(slots=True)
class Celebrations:
    day: date
    birthdays: list[Celebration] = field(default_factory=list)
    anniversaries: list[Celebration] = field(default_factory=list)
    # The last celebration date this day's digest stands for (None: a day off with none).
    through: date | None = None

    def __bool__(self) -> bool:
        return bool(self.birthdays or self.anniversaries)

    @property
    def public(self) -> bool:
        """Whether the team's digest has anyone to announce (private celebrations are greetings only)."""
        return any(not c.private for c in (*self.birthdays, *self.anniversaries))

    @property
    def people(self) -> list[Person]:
        seen: dict = {}
        for celebration in (*self.birthdays, *self.anniversaries):
            seen.setdefault(celebration.person.pk, celebration.person)
        return list(seen.values())

    def context(self, *, workspace: Workspace, mentions: bool) -> dict:
        return {
            "workspace": {"name": workspace.name},
            "date": self.day.isoformat(),
            "date_display": day_text(self.day),
            "birthdays": [c.as_context(mentions=mentions, announced=self.day) for c in self.birthdays if not c.private],
            "anniversaries": [
                c.as_context(mentions=mentions, announced=self.day) for c in self.anniversaries if not c.private
            ],
        }


def _month_day_q(prefix_month: str, prefix_day: str, *, day: date, leap_day_policy: str) -> Q:
    """Matches a stored month/day celebrated on ``day``, including Feb 29 in common years."""
    q = Q(**{prefix_month: day.month, prefix_day: day.day})
    if not calendar.isleap(day.year):
        feb29 = Q(**{prefix_month: 2, prefix_day: 29})
        if (leap_day_policy == MAR1 and (day.month, day.day) == (3, 1)) or (
            leap_day_policy != MAR1 and (day.month, day.day) == (2, 28)
        ):
            q |= feb29
    return q


def celebrations_on(*, workspace: Workspace, day: date) -> Celebrations:
    """Birthdays and work anniversaries celebrated in ``workspace`` on local date ``day``."""
    return celebrations_for(pairs=[(workspace, day)])[(workspace.pk, day)]


def announced_through(*, workspace: Workspace, day: date) -> date | None:
    """The last celebration date the digest of ``day`` stands for (None on a day off with none)."""
    is_workday = workday_calendar(workspace.holiday_country, workspace.holiday_region)
    dates = announced_on(day, policy=workspace.celebration_shift, is_workday=is_workday)
    return max(dates) if dates else None


class Covered(NamedTuple):
    """What the earlier occurrences of a digest say: the last celebration date one covered
    (``after``), and the last local date the digest ran at all (``ran``, covered or not)."""

    after: date
    ran: date


def covered_dates(dates: list[date], *, day: date, covered: Covered | None, policy: str, is_workday) -> list[date]:
    """The celebration dates the digest of ``day`` announces, given ``dates`` (those the policy
    moves onto it) and ``covered`` (what earlier digests covered; None if nothing is recorded).

    Dates up to ``covered.after`` were announced already. A day off after it and before
    ``dates`` is caught up when no digest covered it although the day it belongs to under the
    policy now in force has had its digest run (``covered.ran``): so a preview of a later day
    does not take what an earlier day's digest, not run yet, will announce.
    """
    if not dates or covered is None or covered.after < day - timedelta(days=CATCH_UP_DAYS):
        return dates
    missed: list[date] = []
    cursor = covered.after + timedelta(days=1)
    while cursor < dates[0]:
        if not is_workday(cursor) and shift(cursor, policy=policy, is_workday=is_workday) <= covered.ran:
            missed.append(cursor)
        cursor += timedelta(days=1)
    return missed + [d for d in dates if d > covered.after]


def celebrations_for(
    *,
    pairs: Iterable[tuple[Workspace, date]],
    people: Iterable[Person] | None = None,
    covered_after: dict[tuple, Covered] | None = None,
) -> dict[tuple, Celebrations]:
    """``celebrations_on`` for many (workspace, local date) pairs with one query.

    Keyed by ``(workspace id, date)``; every pair has an entry, empty when nobody celebrates.
    A celebration falls on its date by the Feb 29 rule, then moves by the workspace's
    weekend/holiday policy (``timerules.workdays``): a date's digest holds every celebration
    announced on it. ``covered_after`` (by the same key: what earlier digests covered, see
    :class:`Covered`) leaves out what was announced already and catches up days off nobody
    announced (:func:`covered_dates`). The query selects people whose stored month/day matches
    one of the celebration dates of their workspace (grouped by date and leap-day policy);
    Python then decides per pair. ``people`` (already read: each person's own time claims them
    with their rows) are the only candidates, and no query is made: the same rules are applied to them here.
    """
    workspaces: dict = {}
    sources: dict[tuple, list[date]] = {}
    through: dict[tuple, date | None] = {}
    groups: dict[tuple[date, str], set] = defaultdict(set)
    calendars: dict = {}
    for workspace, day in pairs:
        workspaces[workspace.pk] = workspace
        key = (workspace.celebration_shift, workspace.holiday_country, workspace.holiday_region)
        if key not in calendars:
            calendars[key] = workday_calendar(workspace.holiday_country, workspace.holiday_region)
        dates = announced_on(day, policy=workspace.celebration_shift, is_workday=calendars[key])
        through[(workspace.pk, day)] = max(dates) if dates else None
        covered = (covered_after or {}).get((workspace.pk, day))
        dates = covered_dates(
            dates, day=day, covered=covered, policy=workspace.celebration_shift, is_workday=calendars[key]
        )
        sources[(workspace.pk, day)] = dates
        for source in dates:
            groups[(source, workspace.leap_day_policy)].add(workspace.pk)
    result = {key: Celebrations(day=key[1], through=through[key]) for key in sources}
    if not groups:
        return result
    days_of: dict = defaultdict(list)
    for workspace_id, day in sources:
        days_of[workspace_id].append(day)
    for person in _candidates(groups, people):
        policy = workspaces[person.workspace_id].leap_day_policy
        for day in days_of[person.workspace_id]:
            celebrations = result[(person.workspace_id, day)]
            for on in sources[(person.workspace_id, day)]:
                moved = on if on != day else None
                if (
                    person.celebrate_birthday != Celebrate.OFF
                    and person.birth_month is not None
                    and person.birth_day is not None
                    and celebrates_on(month=person.birth_month, day=person.birth_day, on=on, leap_day_policy=policy)
                ):
                    age = on.year - person.birth_year if person.show_age and person.birth_year else None
                    private = person.celebrate_birthday == Celebrate.PRIVATE
                    celebrations.birthdays.append(
                        Celebration(person=person, kind="birthday", years=age, on=moved, private=private)
                    )
                joined = person.joined_on
                if (
                    joined
                    and person.celebrate_anniversary != Celebrate.OFF
                    and joined.year < on.year
                    and celebrates_on(month=joined.month, day=joined.day, on=on, leap_day_policy=policy)
                ):
                    private = person.celebrate_anniversary == Celebrate.PRIVATE
                    years = on.year - joined.year
                    celebrations.anniversaries.append(
                        Celebration(person=person, kind="anniversary", years=years, on=moved, private=private)
                    )
    return result


def covered_after_for(digests: Sequence[tuple[Any, Any]]) -> dict[tuple, Covered]:
    """For the (digest reminder, slot) pairs of a batch: ``(workspace id, local date)`` → what the
    earlier occurrences of the workspace's digest covered (one query over the catch-up reach);
    no entry when none recorded a covered date. The argument of :func:`celebrations_for`'s
    ``covered_after``."""
    if not digests:
        return {}
    days = [slot.local_date for _, slot in digests]
    rows = Occurrence.objects.filter(
        reminder_id__in={reminder.pk for reminder, _ in digests},
        local_date__gte=min(days) - timedelta(days=CATCH_UP_DAYS),
        local_date__lt=max(days),
    ).values_list("reminder_id", "local_date", "covered_through")
    by_reminder: dict = defaultdict(list)
    for reminder_id, local_date, through in rows:
        by_reminder[reminder_id].append((local_date, through))
    found: dict[tuple, Covered] = {}
    for reminder, slot in digests:
        earlier = [
            (local_date, through)
            for local_date, through in by_reminder.get(reminder.pk, ())
            if local_date < slot.local_date
        ]
        covered = [through for _, through in earlier if through is not None]
        if covered:
            key = (reminder.workspace_id, slot.local_date)
            mine = Covered(after=max(covered), ran=max(local_date for local_date, _ in earlier))
            known = found.get(key)
            found[key] = mine if known is None else Covered(max(known.after, mine.after), max(known.ran, mine.ran))
    return found


def _candidates(groups: dict[tuple[date, str], set], people: Iterable[Person] | None) -> Iterable[Person]:
    """Who may celebrate on the groups' dates, by name: the matching people of the database, or
    the ``people`` given (declined and Slack-deactivated people are never celebrated)."""
    if people is not None:
        workspace_ids = set().union(*groups.values())
        mine = (p for p in people if p.workspace_id in workspace_ids and may_be_celebrated(p))
        return sorted(mine, key=lambda p: (p.name, str(p.pk)))
    condition = Q()
    for (day, policy), workspace_ids in groups.items():
        birthdays_q = _month_day_q("birth_month", "birth_day", day=day, leap_day_policy=policy)
        anniversaries_q = _month_day_q("joined_on__month", "joined_on__day", day=day, leap_day_policy=policy) & Q(
            joined_on__year__lt=day.year
        )
        condition |= Q(workspace_id__in=workspace_ids) & (birthdays_q | anniversaries_q)
    return Person.objects.filter(condition).celebrated().order_by("name", "pk")

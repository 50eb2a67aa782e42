"""Who is celebrated on a local date, and the digest's content.

Reads only; the tick and manual runs turn the result into notifications.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from birthdaybuddy.i18n import day_text, moved_text
from birthdaybuddy.timerules.recurrence import MAR1, celebrates_on
from birthdaybuddy.timerules.workdays import announced_on, workday_calendar
from notifications.rendering import slack_mention
from workspaces.models import Celebrate, Person, Workspace
from workspaces.querysets import may_be_celebrated

# Work anniversaries with their own greeting: the first year, then every fifth.
MILESTONE_FIRST = 1
MILESTONE_EVERY = 5


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


def celebrations_for(
    *, pairs: Iterable[tuple[Workspace, date]], people: Iterable[Person] | None = None
) -> dict[tuple, Celebrations]:
    """``celebrations_on`` for many (workspace, local date) pairs with one query.

    Keyed by ``(workspace id, date)``; every pair has an entry, empty when nobody celebrates.
    A celebration falls on its date by the Feb 29 rule, then moves by the workspace's
    weekend/holiday policy (``timerules.workdays``): a date's digest holds every celebration
    announced on it. The query selects people whose stored month/day matches one of the
    celebration dates of their workspace (grouped by date and leap-day policy); Python then
    decides per pair. ``people`` (already read: each person's own time claims them with their
    rows) are the only candidates, and no query is made: the same rules are applied to them here.
    """
    workspaces: dict = {}
    sources: dict[tuple, list[date]] = {}
    groups: dict[tuple[date, str], set] = defaultdict(set)
    calendars: dict = {}
    for workspace, day in pairs:
        workspaces[workspace.pk] = workspace
        key = (workspace.celebration_shift, workspace.holiday_country, workspace.holiday_region)
        if key not in calendars:
            calendars[key] = workday_calendar(workspace.holiday_country, workspace.holiday_region)
        dates = announced_on(day, policy=workspace.celebration_shift, is_workday=calendars[key])
        sources[(workspace.pk, day)] = dates
        for source in dates:
            groups[(source, workspace.leap_day_policy)].add(workspace.pk)
    result = {key: Celebrations(day=key[1]) for key in sources}
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

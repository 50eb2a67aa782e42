"""Reads of the cards app that other apps plan from: whom to alert, and what a day's cards say."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q

from cards.models import AlertRecipients, PrepSettings, Wish
from workspaces.models import ADMIN_ROLES, Membership, Person


def prep_settings_for(*, workspace_ids: Iterable) -> dict:
    """The saved settings of these workspaces, by workspace id (one query for the settings, one for the chosen)."""
    found = PrepSettings.objects.filter(workspace_id__in=set(workspace_ids)).prefetch_related("chosen")
    return {settings.workspace_id: settings for settings in found}


def alert_recipients_for(*, prep: dict) -> dict:
    """Who receives each workspace's advance alerts, by workspace id, ordered by name.

    ``admins``: the people linked to the workspace's owners and admins; ``chosen``: the chosen
    members who are still members. Either way the celebrated person is left out by the planner.
    """
    result: dict = defaultdict(list)
    admin_workspaces = [ws for ws, s in prep.items() if s.alert_recipients == AlertRecipients.ADMINS]
    if admin_workspaces:
        is_admin = Membership.objects.filter(
            workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"), role__in=ADMIN_ROLES
        )
        for person in Person.objects.filter(Exists(is_admin), workspace_id__in=admin_workspaces).order_by("name", "pk"):
            result[person.workspace_id].append(person)
    chosen = [s for s in prep.values() if s.alert_recipients == AlertRecipients.CHOSEN]
    if chosen:
        is_member = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
        still = set(
            Person.objects.filter(Exists(is_member), workspace_id__in=[s.workspace_id for s in chosen]).values_list(
                "pk", flat=True
            )
        )
        for settings in chosen:
            people = [p for p in settings.chosen.all() if p.pk in still]
            result[settings.workspace_id] = sorted(people, key=lambda p: (p.name, str(p.pk)))
    return result


def wishes_for(*, days: Iterable[tuple]) -> dict[tuple, list[Wish]]:
    """The wishes of the cards delivered on each (workspace id, day), keyed by (person id, kind, day).

    Oldest first; one query for all the pairs.
    """
    pairs = set(days)
    if not pairs:
        return {}
    condition = Q()
    for workspace_id, day in pairs:
        condition |= Q(card__workspace_id=workspace_id, card__day=day)
    result: dict[tuple, list[Wish]] = defaultdict(list)
    wishes = Wish.objects.filter(condition).select_related("card", "author").order_by("created_at", "pk")
    for wish in wishes:
        result[(wish.card.person_id, wish.card.kind, wish.card.day)].append(wish)
    return result

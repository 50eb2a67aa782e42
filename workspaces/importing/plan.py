"""Planning an import against the workspace: each checked row matched to a person, created or updated."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone as dj_timezone

from workspaces.importing.parse import WRITE_CHUNK, Candidate, channel_errors
from workspaces.importing.results import RowError
from workspaces.models import Person, Workspace


@dataclass
class Plan:
    create: list[Person] = field(default_factory=list)
    update: list[tuple[Person, Person]] = field(default_factory=list)  # (before, after)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)


def _existing_people(workspace: Workspace) -> tuple[dict[str, Person], dict[str, Person]]:
    """The workspace's people by lower-cased email and by phone (the oldest wins a tie): one query."""
    by_email: dict[str, Person] = {}
    by_phone: dict[str, Person] = {}
    people = Person.objects.for_workspace(workspace).exclude(email="", phone="").order_by("created_at", "pk")
    for person in people.iterator(chunk_size=WRITE_CHUNK):
        if person.email:
            by_email.setdefault(person.email.lower(), person)
        if person.phone:
            by_phone.setdefault(person.phone, person)
    return by_email, by_phone


def _merged_errors(candidate: Candidate, person: Person | None) -> list[RowError]:
    """Rules that span fields, on the values the person would end up with."""
    values = candidate.values

    def current(name: str, default: Any = None) -> Any:
        if name in values:
            return values[name]
        return getattr(person, name) if person is not None else default

    # A row's birthday replaces the whole birthday and was checked on its own; the channel
    # lists may combine a new list with the person's current other list.
    errors = []
    channel_problems = channel_errors(current("preferred_channels", []), current("opted_out_channels", []))
    for column, message in channel_problems.items():
        errors.append(RowError(candidate.number, column, message))
    return errors


def plan_import(*, workspace: Workspace, candidates: list[Candidate]) -> Plan:
    plan = Plan()
    by_email, by_phone = _existing_people(workspace)
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    seen_person: dict[Any, int] = {}
    now = dj_timezone.now()

    for candidate in candidates:
        errors = list(candidate.errors)
        email, phone = candidate.email_key, candidate.phone_key
        person = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        # Duplicates are judged against every earlier row, good or bad: which of two rows
        # about one person is right is for the file's author to say.
        if email and email in seen_email:
            errors.append(RowError(candidate.number, "email", f"The same email as row {seen_email[email]}."))
        elif phone and phone in seen_phone:
            errors.append(RowError(candidate.number, "phone", f"The same phone as row {seen_phone[phone]}."))
        elif person is not None and person.pk in seen_person:
            errors.append(RowError(candidate.number, None, f"Row {seen_person[person.pk]} is about the same person."))
        if email:
            seen_email.setdefault(email, candidate.number)
        if phone:
            seen_phone.setdefault(phone, candidate.number)
        if person is not None:
            seen_person.setdefault(person.pk, candidate.number)
        if not errors:
            errors = _merged_errors(candidate, person)
        if errors:
            plan.errors.extend(errors)
            plan.bad_rows.add(candidate.number)
            continue
        if person is None:
            plan.create.append(Person(workspace=workspace, created_at=now, updated_at=now, **candidate.values))
            continue
        changes = {
            name: value
            for name, value in candidate.values.items()
            if getattr(person, name) != value
            # an email matched case-insensitively keeps its stored spelling
            and not (name == "email" and person.email.lower() == value.lower())
        }
        if not changes:
            plan.unchanged += 1
            continue
        before = copy.copy(person)
        for name, value in changes.items():
            setattr(person, name, value)
        person.updated_at = now
        plan.update.append((before, person))
    return plan

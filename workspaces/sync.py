"""Members' Person rows kept in step with their user profiles (``manage.py sync_birthdays``).

Every member of a workspace should have a Person there, linked to their account, carrying
the profile's name, email, phone, Slack id and date of birth, so that birthdays reach the
digest without anyone typing them twice.

The rules, where the issue left it open:

- The profile is the source of truth for the fields it has: a non-empty profile value
  overwrites the Person's. An *empty* profile value never clears the Person's field, so a
  phone or birthday an admin entered for a member who left their profile blank survives.
  ``show_age``, ``joined_on`` and channel preferences are never touched (they are the
  workspace's or the person's own choices), and a Person created here hides the age.
- A member without a linked Person gets the workspace's unlinked Person with the same
  email (the earliest, e.g. added as a client before joining) linked to them rather than a
  duplicate; otherwise a new Person.
- "Backfill only" gives members without a Person one and changes no data of existing
  rows; it still links a matching unlinked Person (setting only ``user``), because a
  duplicate would be worse.
- When a user edits their profile, only the Person fields derived from the profile fields
  that changed are copied (a name change does not reset an admin's edit of the phone).
- A profile value the Person model would reject (say a date of birth "in the future" by
  the server's date) is reported as an error for that member and skipped.

Writes use bulk statements, which send no signals, so the workspace's cached birthdays
are invalidated explicitly and the people steps (``workspaces.lifecycle``: each person's
greeting schedule) run once per workspace with the people written.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone

from audit.entries import audit_bulk_changes
from workspaces import cache as bb_cache
from workspaces.lifecycle import people_written_steps_run
from workspaces.models import Membership, Person, Workspace, validate_birthday

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

SYNCED_FIELDS = ("name", "email", "phone", "slack_user_id", "birth_month", "birth_day", "birth_year")
# Which Person fields each profile field feeds (for syncing only what a profile edit changed).
PROFILE_TO_PERSON: dict[str, tuple[str, ...]] = {
    "first_name": ("name",),
    "last_name": ("name",),
    "email": ("email",),
    "phone": ("phone",),
    "slack_user_id": ("slack_user_id",),
    "date_of_birth": ("birth_month", "birth_day", "birth_year"),
}
NAME_MAX_LENGTH = Person._meta.get_field("name").max_length


@dataclass(slots=True)
class PersonChange:
    """A Person created or updated (or, on a dry run, that would be)."""

    user_id: Any
    name: str
    email: str
    person_id: Any = None
    fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person": str(self.person_id) if self.person_id else None,
            "user": str(self.user_id),
            "name": self.name,
            "email": self.email,
            "fields": self.fields,
        }


@dataclass(slots=True)
class WorkspaceSync:
    workspace_id: Any
    slug: str
    name: str
    created: list[PersonChange] = field(default_factory=list)
    updated: list[PersonChange] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Names of the members left unchanged, for the command's -v 2 (not in the JSON: it can be long).
    unchanged_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.workspace_id),
            "slug": self.slug,
            "name": self.name,
            "created": [change.as_dict() for change in self.created],
            "updated": [change.as_dict() for change in self.updated],
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


@dataclass(slots=True)
class SyncReport:
    """What ``person_sync_from_members`` did (or, with ``dry_run``, would do), per workspace."""

    dry_run: bool
    backfill_only: bool
    workspaces: list[WorkspaceSync] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "workspaces": len(self.workspaces),
            "created": sum(len(ws.created) for ws in self.workspaces),
            "updated": sum(len(ws.updated) for ws in self.workspaces),
            "unchanged": sum(ws.unchanged for ws in self.workspaces),
            "errors": sum(len(ws.errors) for ws in self.workspaces),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "backfill_only": self.backfill_only,
            "totals": self.totals,
            "workspaces": [ws.as_dict() for ws in self.workspaces],
        }


def profile_values(user: User) -> dict[str, Any]:
    """The Person field values ``user``'s profile provides; empty profile fields are left out."""
    values: dict[str, Any] = {}
    name = f"{user.first_name} {user.last_name}".strip()[:NAME_MAX_LENGTH]
    if name:
        values["name"] = name
    for attr in ("email", "phone", "slack_user_id"):
        value = (getattr(user, attr, "") or "").strip()
        if value:
            values[attr] = value
    born = getattr(user, "date_of_birth", None)
    if born is not None:
        values.update(birth_month=born.month, birth_day=born.day, birth_year=born.year)
    return values


def _invalid_birthday(values: dict[str, Any]) -> str | None:
    if "birth_month" not in values:
        return None
    errors = validate_birthday(values["birth_month"], values["birth_day"], values["birth_year"])
    return "; ".join(errors.values()) or None


def _unlinked_by_email(*, workspace: Workspace, emails: Iterable[str]) -> dict[str, Person]:
    emails = {email.lower() for email in emails if email}
    if not emails:
        return {}
    found: dict[str, Person] = {}
    candidates = (
        Person.objects.for_workspace(workspace)
        .filter(user__isnull=True)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .order_by("created_at", "pk")
    )
    for person in candidates:
        found.setdefault(person.email_lower, person)
    return found


def _validate(person: Person) -> str | None:
    try:
        # The foreign keys are ours to set; checking they exist would cost two queries per row.
        person.full_clean(exclude=["workspace", "user"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return None


def _plan_workspace(*, workspace: Workspace, backfill_only: bool) -> tuple[WorkspaceSync, list[Person], list[Person]]:
    """What to create and update in ``workspace``: the report and the unsaved rows."""
    result = WorkspaceSync(workspace_id=workspace.pk, slug=workspace.slug, name=workspace.name)
    memberships = Membership.objects.for_workspace(workspace).select_related("user").order_by("created_at", "pk")
    users = [membership.user for membership in memberships]
    linked = {
        person.user_id: person
        for person in Person.objects.for_workspace(workspace).filter(user_id__in=[user.pk for user in users])
    }
    unlinked = _unlinked_by_email(workspace=workspace, emails=[user.email for user in users if user.pk not in linked])
    to_create: list[Person] = []
    to_update: list[Person] = []
    taken: set = set()  # unlinked people already given to a member in this run
    for user in users:
        values = profile_values(user)
        if problem := _invalid_birthday(values):
            result.errors.append({"user": str(user.pk), "email": user.email, "error": f"date_of_birth: {problem}"})
            for name in ("birth_month", "birth_day", "birth_year"):
                values.pop(name)
        person = linked.get(user.pk)
        relinked = False
        if person is None:
            candidate = unlinked.get((user.email or "").lower())
            if candidate is not None and candidate.pk not in taken:
                person, relinked = candidate, True
                taken.add(candidate.pk)
                person.user = user
        if person is None:
            person = Person(
                workspace=workspace,
                user=user,
                name=values.pop("name", user.email)[:NAME_MAX_LENGTH],
                show_age=False,
                **values,
            )
            if problem := _validate(person):
                result.errors.append({"user": str(user.pk), "email": user.email, "error": problem})
                continue
            to_create.append(person)
            result.created.append(
                PersonChange(user_id=user.pk, name=person.name, email=person.email, person_id=person.pk)
            )
            continue
        changed = ["user"] if relinked else []
        if not backfill_only:
            for name in SYNCED_FIELDS:
                if name in values and getattr(person, name) != values[name]:
                    setattr(person, name, values[name])
                    changed.append(name)
        if not changed:
            result.unchanged += 1
            result.unchanged_names.append(person.name)
            continue
        if problem := _validate(person):
            result.errors.append({"user": str(user.pk), "email": user.email, "error": problem})
            continue
        to_update.append(person)
        result.updated.append(
            PersonChange(user_id=user.pk, name=person.name, email=person.email, person_id=person.pk, fields=changed)
        )
    return result, to_create, to_update


def _write(*, result: WorkspaceSync, to_create: list[Person], to_update: list[Person]) -> None:
    now = dj_timezone.now()
    if to_create:
        try:
            with transaction.atomic():
                Person.objects.bulk_create(to_create)
        except IntegrityError:
            # A member got a Person concurrently (e.g. joined through an invitation): row by row.
            for person in to_create:
                try:
                    with transaction.atomic():
                        person.save(force_insert=True)
                except IntegrityError:
                    result.created = [change for change in result.created if change.person_id != person.pk]
                    result.errors.append(
                        {"user": str(person.user_id), "email": person.email, "error": "created concurrently; skipped"}
                    )
    if to_update:
        for person in to_update:
            person.updated_at = now
        names = sorted({name for change in result.updated for name in change.fields} | {"updated_at"})
        Person.objects.bulk_update(to_update, names)
    if to_create or to_update:
        bb_cache.birthdays_bump(result.workspace_id)


def _sync_workspace(*, workspace: Workspace, dry_run: bool, backfill_only: bool) -> WorkspaceSync:
    if dry_run:
        result, _, _ = _plan_workspace(workspace=workspace, backfill_only=backfill_only)
        for change in result.created:
            change.person_id = None  # nothing was created
        return result
    with transaction.atomic():
        # Serialises with membership changes and invitation acceptance (they lock it too).
        workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
        result, to_create, to_update = _plan_workspace(workspace=workspace, backfill_only=backfill_only)
        _write(result=result, to_create=to_create, to_update=to_update)
        people_written_steps_run(workspace, [person.pk for person in (*to_create, *to_update)])
    return result


def person_sync_from_members(
    *, workspace: Workspace | None = None, dry_run: bool = False, backfill_only: bool = False
) -> SyncReport:
    """Creates or updates every member's Person from their profile, in one workspace or all.

    Each workspace is its own transaction (a failure in one keeps the others' work).
    ``dry_run`` writes nothing and reports what would change; ``backfill_only`` only
    creates missing Persons (see the module doc for the rules).
    """
    report = SyncReport(dry_run=dry_run, backfill_only=backfill_only)
    workspaces = [workspace] if workspace is not None else Workspace.objects.order_by("slug").iterator()
    for current in workspaces:
        report.workspaces.append(_sync_workspace(workspace=current, dry_run=dry_run, backfill_only=backfill_only))
    logger.info("sync_birthdays%s: %s", " (dry run)" if dry_run else "", report.totals)
    return report


def person_sync_for_user(*, user: User, changed_fields: Collection[str] | None = None) -> list[PersonChange]:
    """Copies ``user``'s profile to the Persons linked to them, in every workspace.

    ``changed_fields``: the profile fields that changed (``None``: all of them); only the
    Person fields derived from those are copied, and empty profile values never clear a
    Person's field. Members without a Person are left to ``person_sync_from_members``: an
    admin may have deleted it on purpose. Returns the changes made.
    """
    fields = set(SYNCED_FIELDS)
    if changed_fields is not None:
        fields = {name for profile_field in changed_fields for name in PROFILE_TO_PERSON.get(profile_field, ())}
    values = {name: value for name, value in profile_values(user).items() if name in fields}
    if _invalid_birthday(values):
        for name in ("birth_month", "birth_day", "birth_year"):
            values.pop(name)
    if not values:
        return []
    now = dj_timezone.now()
    changes: list[PersonChange] = []
    to_update: list[Person] = []
    before: dict[Any, Person] = {}
    with transaction.atomic():
        for person in Person.objects.select_for_update().filter(user=user).order_by("pk"):
            changed = [name for name, value in values.items() if getattr(person, name) != value]
            if not changed:
                continue
            before[person.pk] = copy.copy(person)
            for name in changed:
                setattr(person, name, values[name])
            if problem := _validate(person):
                logger.warning("profile of user %s not copied to person %s: %s", user.pk, person.pk, problem)
                continue
            person.updated_at = now
            to_update.append(person)
            changes.append(
                PersonChange(user_id=user.pk, name=person.name, email=person.email, person_id=person.pk, fields=changed)
            )
        if to_update:
            Person.objects.bulk_update(to_update, sorted({*values, "updated_at"}))
            bb_cache.birthdays_bump({person.workspace_id for person in to_update})
            _audit_profile_copies(updated=[(before[person.pk], person) for person in to_update])
            _people_steps_run(to_update)
    return changes


def _people_steps_run(people: list[Person]) -> None:
    """The people steps for a profile's copies, per workspace (a user is in a few)."""
    by_workspace: dict[Any, list[Any]] = {}
    for person in people:
        by_workspace.setdefault(person.workspace_id, []).append(person.pk)
    for workspace in Workspace.objects.filter(pk__in=by_workspace):
        people_written_steps_run(workspace, by_workspace[workspace.pk])


def _audit_profile_copies(*, updated: list[tuple[Person, Person]]) -> None:
    """The bulk update sends no signals: each workspace's audit trail gets its entries here, as a
    save would have written them, by whoever is making the request (the user editing their own
    profile, or staff in the admin); outside a request, by the system."""
    by_workspace: dict[Any, list[tuple[Person, Person]]] = {}
    for pair in updated:
        by_workspace.setdefault(pair[1].workspace_id, []).append(pair)
    for workspace_id, pairs in by_workspace.items():
        audit_bulk_changes(
            workspace=Workspace(pk=workspace_id),
            actor=None,
            updated=pairs,
            extra={"source": "profile"},
        )

"""What the apps above do when a workspace is created or its settings change, and when people
are written in bulk.

The workspace services call these steps explicitly (never a model signal, so a plain ``save()``
elsewhere runs none of them), in their own transaction: a step that fails fails the write.
The apps above register their steps once, from their ``AppConfig.ready`` (the reminders: every
new workspace gets its digest; a changed zone, ``notify_at`` or quiet hours reschedules).

People written in bulk (``bulk_create``, ``bulk_update``, an UPDATE statement: the CSV import,
``sync_birthdays``, a profile copied to its people) send no ``post_save``: the code writing them
runs the people steps once per workspace with the ids it wrote, so what the apps above derive
from people (the greeting schedule of each person's own time) follows in the same transaction,
with a bounded number of statements whatever the number of people.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from workspaces.models import Workspace

CreatedStep = Callable[[Workspace], object]
ChangedStep = Callable[[Workspace, Mapping[str, Any]], object]
PeopleStep = Callable[[Workspace, Collection[Any]], object]

_created: list[CreatedStep] = []
_changed: list[ChangedStep] = []
_people_written: list[PeopleStep] = []


def workspace_steps_register(*, created: CreatedStep | None = None, changed: ChangedStep | None = None) -> None:
    """Adds a step run after a workspace is created, or after its settings changed (``before``:
    the workspace's field values as they were). Registering the same step twice adds it once."""
    if created is not None and created not in _created:
        _created.append(created)
    if changed is not None and changed not in _changed:
        _changed.append(changed)


def workspace_field_values(workspace: Workspace) -> dict[str, Any]:
    """The workspace's own column values, by field name: what ``before`` holds."""
    return {field.name: getattr(workspace, field.attname) for field in Workspace._meta.concrete_fields}


def workspace_created_steps_run(workspace: Workspace) -> None:
    for step in _created:
        step(workspace)


def workspace_changed_steps_run(workspace: Workspace, before: Mapping[str, Any]) -> None:
    for step in _changed:
        step(workspace, before)


def people_steps_register(*, written: PeopleStep) -> None:
    """Adds a step run after people of a workspace were created or changed in bulk (``person_ids``:
    theirs; a step reads them again). Registering the same step twice adds it once."""
    if written not in _people_written:
        _people_written.append(written)


def people_written_steps_run(workspace: Workspace, person_ids: Collection[Any]) -> None:
    """Runs the people steps for ``workspace`` (as read in the writing transaction: a step may
    decide on its settings without reading it again); nothing when no one was written."""
    if not person_ids:
        return
    for step in _people_written:
        step(workspace, person_ids)

"""What the apps above do when a workspace is created or its settings change.

The workspace services call these steps explicitly (never a model signal, so a plain ``save()``
elsewhere runs none of them), in their own transaction: a step that fails fails the write.
The apps above register their steps once, from their ``AppConfig.ready`` (the reminders: every
new workspace gets its digest; a changed zone, ``notify_at`` or quiet hours reschedules).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workspaces.models import Workspace

CreatedStep = Callable[[Workspace], object]
ChangedStep = Callable[[Workspace, Mapping[str, Any]], object]

_created: list[CreatedStep] = []
_changed: list[ChangedStep] = []


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

"""The reminders' part when a workspace is created or changes its settings.

Registered with ``workspaces.lifecycle`` from ``RemindersConfig.ready``; the workspace services
run them in their transaction (``workspace_create``, ``workspace_update``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reminders import schedule
from reminders.services import digest_ensure
from workspaces.models import Workspace


def workspace_created(workspace: Workspace) -> None:
    """Every new workspace gets its birthday digest."""
    digest_ensure(workspace=workspace)


def workspace_changed(workspace: Workspace, before: Mapping[str, Any]) -> None:
    """The digest follows every change; the others a new zone, ``notify_at`` or quiet hours."""
    schedule.workspace_reminders_reschedule(
        workspace=workspace, before={name: before.get(name) for name in schedule.SCHEDULE_SETTINGS}
    )

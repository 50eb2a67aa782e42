"""Assertions shared by the tests of manual operations: an audit entry is where workspace admins look."""

from __future__ import annotations

from auditlog.models import LogEntry

from audit.names import DETAILS_KEY, NOTIFICATION_FAILED
from audit.queries import audit_entries
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role


def latest_operation(workspace, operation: str) -> LogEntry:
    """The newest entry of ``operation`` in ``workspace`` (fails if there is none)."""
    entry = audit_entries().for_workspace(workspace).with_operation(operation).order_by("-pk").first()
    assert entry is not None, f"no {operation} entry in workspace {workspace.pk}"
    return entry


def failure_entries(notification) -> list[dict]:
    """The ``notification.failed`` entries recorded for ``notification``: their details, oldest first."""
    entries = (
        audit_entries()
        .for_workspace(notification.workspace)
        .with_operation(NOTIFICATION_FAILED)
        .filter(object_pk=str(notification.pk))
        .order_by("pk")
    )
    return [entry.additional_data[DETAILS_KEY] for entry in entries]


def assert_shown_to_workspace_admins_only(entry: LogEntry, workspace) -> dict:
    """``entry`` is in ``workspace``'s ``…/audit/`` for its admins, 403 for its members, 404 elsewhere.

    Returns the entry as the API shows it.
    """
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER).user
    outsider = UserFactory()
    other = WorkspaceFactory()
    MembershipFactory(workspace=other, user=outsider, role=Role.OWNER)
    url = f"/api/v1/workspaces/{workspace.pk}/audit/"

    listing = client_for(admin).get(url, {"action": "manual"})
    assert listing.status_code == 200, listing.content
    rows = {row["id"]: row for row in listing.json()["results"]}
    assert entry.pk in rows, f"entry {entry.pk} is not in the workspace's audit list"

    assert client_for(member).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).get(f"{url}{entry.pk}/").status_code == 404
    elsewhere = client_for(outsider).get(f"/api/v1/workspaces/{other.pk}/audit/").json()["results"]
    assert entry.pk not in {row["id"] for row in elsewhere}
    assert client_for(outsider).get(f"/api/v1/workspaces/{other.pk}/audit/{entry.pk}/").status_code == 404
    return rows[entry.pk]

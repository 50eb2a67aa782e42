"""Fixtures for the events tests: a Berlin workspace with an owner, an admin, a member and people.

``workspace`` (owned by ``user``, in UTC) and ``member`` come from ``tests/conftest.py``.
"""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Person, Role, Workspace


@pytest.fixture(autouse=True)
def _event_settings(settings):
    # Without a configured channel, SMS/WhatsApp/Slack cannot reach anyone (as in production).
    settings.NOTIFICATIONS_CONSOLE_FALLBACK = False
    settings.PUBLIC_BASE_URL = "https://app.example.com"


@dataclass
class Office:
    """A workspace in Europe/Berlin with one user per role and three people."""

    workspace: Workspace
    owner: User
    admin: User
    member: User
    ana: Person  # email
    bo: Person  # email
    cy: Person  # email
    owner_client: APIClient
    admin_client: APIClient
    member_client: APIClient

    @property
    def events_url(self) -> str:
        return f"/api/v1/workspaces/{self.workspace.id}/events/"

    def event_url(self, event_id) -> str:
        return f"{self.events_url}{event_id}/"


@pytest.fixture
def office(db) -> Office:
    workspace = WorkspaceFactory(name="Lima & Co", slug="lima-co", timezone="Europe/Berlin")
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    MembershipFactory(workspace=workspace, user=admin, role=Role.ADMIN)
    MembershipFactory(workspace=workspace, user=member, role=Role.MEMBER)
    return Office(
        workspace=workspace,
        owner=owner,
        admin=admin,
        member=member,
        ana=PersonFactory(workspace=workspace, name="Ana Lima", email="ana@example.com"),
        bo=PersonFactory(workspace=workspace, name="Bo Berg", email="bo@example.com"),
        cy=PersonFactory(workspace=workspace, name="Cy Diaz", email="cy@example.com"),
        owner_client=client_for(owner),
        admin_client=client_for(admin),
        member_client=client_for(member),
    )


@pytest.fixture
def elsewhere(db):
    """Another workspace, with a person and an owner of its own."""
    workspace = WorkspaceFactory(name="Elsewhere")
    MembershipFactory(workspace=workspace, role=Role.OWNER)
    return workspace, PersonFactory(workspace=workspace, name="Stranger")

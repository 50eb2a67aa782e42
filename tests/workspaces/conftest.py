"""Fixtures and helpers for the workspaces tests.

``workspace`` (owned by ``user``) and ``member`` come from ``tests/conftest.py``; this adds
an admin, an outsider with a workspace of their own, and "changed nothing" checks.
"""

import pytest

from tests.conftest import client_for
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role, Workspace


@pytest.fixture
def owner(user):
    """The owner of ``workspace`` (an alias that reads better in role tests)."""
    return user


@pytest.fixture
def owner_client(auth_client):
    return auth_client


@pytest.fixture
def admin(workspace):
    return MembershipFactory(workspace=workspace, role=Role.ADMIN).user


@pytest.fixture
def admin_client(admin):
    return client_for(admin)


@pytest.fixture
def outsider(db):
    """A verified user who owns another workspace and is not a member of ``workspace``."""
    outsider = UserFactory()
    other = WorkspaceFactory()
    MembershipFactory(workspace=other, user=outsider, role=Role.OWNER)
    return outsider


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)


@pytest.fixture
def other_workspace(outsider):
    """The outsider's workspace, with a person and a pending invitation."""
    other = Workspace.objects.get(memberships__user=outsider)
    PersonFactory(workspace=other, name="Other Person")
    InvitationFactory(workspace=other)
    return other


@pytest.fixture
def person(workspace):
    return PersonFactory(workspace=workspace, name="Ada Lovelace", birth_month=12, birth_day=10, birth_year=1985)

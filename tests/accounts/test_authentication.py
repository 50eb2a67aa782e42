"""JWT authentication (accounts, workspaces.api.authentication): the same checks, whoever loads the user."""

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import AccessToken
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/users/me"


def people_url(workspace) -> str:
    return reverse("workspace-person-list", kwargs={"workspace_id": workspace.id})


@pytest.fixture
def membership():
    return MembershipFactory(workspace=WorkspaceFactory(), user=UserFactory(), role=Role.MEMBER)


def test_a_member_is_read_with_their_membership_in_one_query(membership, django_assert_num_queries):
    client = client_for(membership.user)
    url = reverse("workspace-birthday-list", kwargs={"workspace_id": membership.workspace.id})
    client.get(url)
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


def test_me_still_reads_the_user(membership):
    client = client_for(membership.user)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["email"] == membership.user.email


@pytest.mark.parametrize("where", ["workspace", "me", "outside"])
def test_inactive_users_are_refused_everywhere_alike(membership, where):
    other = WorkspaceFactory()
    url = {"workspace": people_url(membership.workspace), "me": ME_URL, "outside": people_url(other)}[where]
    client = client_for(membership.user)
    membership.user.is_active = False
    membership.user.save()
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["detail"] == "User is inactive"


@pytest.mark.parametrize("where", ["workspace", "me"])
def test_a_token_of_a_deleted_user_is_refused(membership, where):
    token = AccessToken.for_user(membership.user)
    token["user_id"] = str(uuid.uuid4())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = people_url(membership.workspace) if where == "workspace" else ME_URL
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["detail"] == "User not found"


def test_a_non_member_gets_404_with_no_extra_query(membership, django_assert_num_queries):
    outsider = UserFactory()
    client = client_for(outsider)
    client.get(ME_URL)
    with django_assert_num_queries(2):  # no membership; then the user, as simplejwt reads it
        response = client.get(people_url(membership.workspace))
    assert response.status_code == 404


def test_staff_act_as_admins_without_a_membership(membership):
    staff = UserFactory(is_staff=True)
    response = client_for(staff).post(people_url(membership.workspace), {"name": "By Staff"}, format="json")
    assert response.status_code == 201


def test_writes_record_the_caller_as_the_audit_actor(membership):
    from auditlog.models import LogEntry

    membership.role = Role.ADMIN
    membership.save()
    response = client_for(membership.user).post(people_url(membership.workspace), {"name": "Audited"}, format="json")
    assert response.status_code == 201
    entry = LogEntry.objects.filter(object_pk=response.json()["id"]).get()
    assert entry.actor_id == membership.user.pk
    assert entry.actor_email == membership.user.email


def test_the_membership_read_is_the_callers_own(membership):
    """The membership loaded with the user belongs to the token's user and the URL's workspace."""
    other = MembershipFactory(workspace=membership.workspace, role=Role.OWNER)
    response = client_for(membership.user).delete(
        reverse("workspace-detail", kwargs={"workspace_id": membership.workspace.id})
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.role == Role.OWNER

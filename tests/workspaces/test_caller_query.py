"""The authentication's one query per request builds the same objects as its ORM meaning."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.api.memberships import caller_membership, caller_membership_orm
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_caller_query_builds_what_the_orm_builds(django_assert_num_queries):
    creator = UserFactory()
    workspace = WorkspaceFactory(timezone="Asia/Kathmandu", created_by=creator, sender_name="Team")
    user = UserFactory(is_staff=True, phone="+14155550100", slack_user_id="U1")
    MembershipFactory(workspace=workspace, user=UserFactory(), role=Role.OWNER)
    MembershipFactory(workspace=workspace, user=user, role=Role.ADMIN)
    MembershipFactory(workspace=WorkspaceFactory(), user=user, role=Role.MEMBER)

    with django_assert_num_queries(1):
        found = caller_membership(workspace_id=workspace.pk, user_id=str(user.pk))
    expected = caller_membership_orm(workspace_id=workspace.pk, user_id=user.pk)
    assert expected == Membership.objects.get(workspace=workspace, user=user)

    with django_assert_num_queries(0):
        pairs = [(found, expected), (found.user, expected.user), (found.workspace, expected.workspace)]
        for built, loaded in pairs:
            assert type(built) is type(loaded)
            assert fields_of(built) == fields_of(loaded)
            assert built._state.db == loaded._state.db
            assert built._state.adding is False
    assert found.user.check_password(DEFAULT_PASSWORD)


def test_no_membership_no_row():
    user = UserFactory()
    workspace = WorkspaceFactory()
    MembershipFactory(workspace=WorkspaceFactory(), user=user)
    MembershipFactory(workspace=workspace)
    for workspace_id in (workspace.pk, uuid.uuid4()):
        assert caller_membership(workspace_id=workspace_id, user_id=user.pk) is None
        assert caller_membership_orm(workspace_id=workspace_id, user_id=user.pk) is None


def test_an_id_that_is_no_uuid_is_a_validation_error():
    with pytest.raises(ValidationError):
        caller_membership(workspace_id=uuid.uuid4(), user_id="not-a-uuid")

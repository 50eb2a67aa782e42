"""WorkspaceScopedMixin on its own, with views that do not exist in the URLconf."""

import uuid

import pytest
from rest_framework import permissions, viewsets
from rest_framework.test import APIRequestFactory, force_authenticate

from tests.factories import MembershipFactory, PersonFactory, UserFactory
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.serializers import PersonSerializer
from workspaces.models import Person, Role
from workspaces.selectors import workspace_list_solely_owned

factory = APIRequestFactory()


class PublicPeople(WorkspaceScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A careless view: open to anonymous callers and with a str lookup."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    permission_classes = [permissions.AllowAny]


def call(user, workspace_id, pk=None):
    view = PublicPeople.as_view({"get": "retrieve" if pk else "list"})
    request = factory.get("/")
    if user is not None:
        force_authenticate(request, user=user)
    kwargs = {"workspace_id": workspace_id}
    if pk:
        kwargs["pk"] = pk
    return view(request, **kwargs)


@pytest.mark.django_db
def test_anonymous_callers_are_refused_even_when_the_view_allows_anyone(workspace):
    assert call(None, str(workspace.id)).status_code == 401


@pytest.mark.django_db
def test_malformed_ids_are_404_even_without_uuid_converters(user, workspace):
    assert call(user, "not-a-uuid").status_code == 404
    assert call(user, str(workspace.id), pk="not-a-uuid").status_code == 404


@pytest.mark.django_db
def test_scoping_applies_to_views_with_a_plain_queryset(user, workspace):
    mine = PersonFactory(workspace=workspace)
    foreign = PersonFactory()
    assert call(user, str(workspace.id), pk=str(mine.id)).status_code == 200
    assert call(user, str(workspace.id), pk=str(foreign.id)).status_code == 404
    assert call(user, str(foreign.workspace_id), pk=str(foreign.id)).status_code == 404
    assert call(user, str(uuid.uuid4())).status_code == 404


@pytest.mark.django_db
def test_solely_owned_workspaces(user, workspace):
    shared = MembershipFactory(user=user, role=Role.OWNER).workspace
    MembershipFactory(workspace=shared, role=Role.OWNER)
    MembershipFactory(user=user, role=Role.ADMIN)
    other_owner = UserFactory()

    assert list(workspace_list_solely_owned(user=user)) == [workspace]
    assert list(workspace_list_solely_owned(user=other_owner)) == []

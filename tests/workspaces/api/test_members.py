import uuid

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Membership, Person, Role


def members_url(workspace) -> str:
    return reverse("workspace-member-list", kwargs={"workspace_id": workspace.id})


def member_url(workspace, membership_id) -> str:
    return reverse("workspace-member-detail", kwargs={"workspace_id": workspace.id, "pk": membership_id})


def membership_of(user, workspace) -> Membership:
    return Membership.objects.get(user=user, workspace=workspace)


# --- list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_any_member_lists_members(member_client, workspace, owner, member):
    response = member_client.get(members_url(workspace))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["user"]: row["role"] for row in rows} == {str(owner.id): "owner", str(member.id): "member"}
    owner_row = next(row for row in rows if row["user"] == str(owner.id))
    assert set(owner_row) == {"id", "user", "email", "name", "role", "joined_at"}
    assert owner_row["email"] == owner.email
    assert owner_row["name"] == owner.get_full_name()
    assert owner_row["id"] == str(membership_of(owner, workspace).id)


@pytest.mark.django_db
def test_member_list_filters_and_searches(member_client, workspace, admin):
    admins = member_client.get(members_url(workspace), {"role": "admin"}).json()["results"]
    found = member_client.get(members_url(workspace), {"search": admin.email}).json()["results"]

    assert [row["user"] for row in admins] == [str(admin.id)]
    assert [row["user"] for row in found] == [str(admin.id)]
    assert_error(member_client.get(members_url(workspace), {"role": "king"}), 400, field="role")


@pytest.mark.django_db
def test_member_list_has_no_n_plus_one(member_client, workspace, django_assert_max_num_queries):
    for _ in range(15):
        MembershipFactory(workspace=workspace)
    # auth user + membership/workspace + count + page
    with django_assert_max_num_queries(5):
        response = member_client.get(members_url(workspace))
    assert response.json()["count"] == 17


# --- change role --------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_promotes_member_to_admin(admin_client, workspace, member):
    response = admin_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "admin"})

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "admin"
    assert membership_of(member, workspace).role == Role.ADMIN


@pytest.mark.django_db
def test_admin_cannot_grant_owner(admin_client, workspace, member):
    with unchanged():
        response = admin_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "owner"})
    assert_error(response, 403, "owner_required")


@pytest.mark.django_db
def test_admin_cannot_demote_an_owner(admin_client, workspace, owner):
    with unchanged():
        response = admin_client.patch(member_url(workspace, membership_of(owner, workspace).id), {"role": "member"})
    assert_error(response, 403, "owner_required")


@pytest.mark.django_db
def test_owner_grants_owner_then_steps_down(owner_client, workspace, owner, member):
    promoted = owner_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "owner"})
    stepped_down = owner_client.patch(member_url(workspace, membership_of(owner, workspace).id), {"role": "admin"})

    assert promoted.status_code == 200
    assert stepped_down.status_code == 200
    assert membership_of(member, workspace).role == Role.OWNER
    assert membership_of(owner, workspace).role == Role.ADMIN


@pytest.mark.django_db
def test_last_owner_cannot_be_demoted(owner_client, workspace, owner):
    with unchanged():
        response = owner_client.patch(member_url(workspace, membership_of(owner, workspace).id), {"role": "admin"})
    assert_error(response, 409, "last_owner")


@pytest.mark.django_db
def test_setting_the_same_role_is_a_no_op(owner_client, workspace, owner):
    response = owner_client.patch(member_url(workspace, membership_of(owner, workspace).id), {"role": "owner"})
    assert response.status_code == 200
    assert response.json()["role"] == "owner"


@pytest.mark.django_db
def test_member_cannot_change_roles(member_client, workspace, member):
    with unchanged():
        response = member_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "admin"})
    assert_error(response, 403, "role_required")


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{}, {"role": "king"}, {"role": None}, {"role": 1}, {"role": ["admin"]}])
def test_change_role_rejects_bad_input(owner_client, workspace, member, payload):
    with unchanged():
        response = owner_client.patch(
            member_url(workspace, membership_of(member, workspace).id), payload, format="json"
        )
    assert_error(response, 400, field="role")


@pytest.mark.django_db
def test_membership_of_another_workspace_is_404(owner_client, workspace, outsider):
    foreign = Membership.objects.get(user=outsider)
    with unchanged():
        patch = owner_client.patch(member_url(workspace, foreign.id), {"role": "member"})
        delete = owner_client.delete(member_url(workspace, foreign.id))
        get = owner_client.get(member_url(workspace, foreign.id))
    for response in (patch, delete, get):
        assert_error(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_and_malformed_membership_ids_are_404(owner_client, workspace):
    assert_error(owner_client.get(member_url(workspace, uuid.uuid4())), 404)
    assert_error(owner_client.get(f"{members_url(workspace)}not-a-uuid/"), 404)


# --- remove / leave -----------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_removes_member_and_their_person_stays_unlinked(admin_client, workspace, member):
    person = PersonFactory(workspace=workspace, user=member)

    response = admin_client.delete(member_url(workspace, membership_of(member, workspace).id))

    assert response.status_code == 204
    assert not Membership.objects.filter(user=member, workspace=workspace).exists()
    person.refresh_from_db()
    assert person.user is None


@pytest.mark.django_db
def test_member_leaves(member_client, workspace, member):
    response = member_client.delete(member_url(workspace, membership_of(member, workspace).id))

    assert response.status_code == 204
    assert not Membership.objects.filter(user=member, workspace=workspace).exists()
    assert_error(member_client.get(members_url(workspace)), 404)


@pytest.mark.django_db
def test_member_cannot_remove_someone_else(member_client, workspace, admin):
    with unchanged():
        response = member_client.delete(member_url(workspace, membership_of(admin, workspace).id))
    assert_error(response, 403, "role_required")


@pytest.mark.django_db
def test_admin_cannot_remove_an_owner(admin_client, workspace, owner):
    with unchanged():
        response = admin_client.delete(member_url(workspace, membership_of(owner, workspace).id))
    assert_error(response, 403, "owner_required")


@pytest.mark.django_db
def test_last_owner_cannot_leave(owner_client, workspace, owner):
    with unchanged():
        response = owner_client.delete(member_url(workspace, membership_of(owner, workspace).id))
    assert_error(response, 409, "last_owner")


@pytest.mark.django_db
def test_owner_removes_another_owner(owner_client, workspace):
    co_owner = MembershipFactory(workspace=workspace, role=Role.OWNER)

    response = owner_client.delete(member_url(workspace, co_owner.id))

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=co_owner.pk).exists()


@pytest.mark.django_db
def test_one_of_two_owners_may_leave(workspace, owner):
    co_owner = MembershipFactory(workspace=workspace, role=Role.OWNER)

    response = client_for(co_owner.user).delete(member_url(workspace, co_owner.id))

    assert response.status_code == 204
    assert membership_of(owner, workspace).role == Role.OWNER


@pytest.mark.django_db
def test_leaving_keeps_other_workspaces(workspace, member):
    elsewhere = MembershipFactory(user=member)
    PersonFactory(workspace=elsewhere.workspace, user=member)

    client_for(member).delete(member_url(workspace, membership_of(member, workspace).id))

    assert Membership.objects.filter(pk=elsewhere.pk).exists()
    assert Person.objects.get(workspace=elsewhere.workspace).user == member


@pytest.mark.django_db
def test_staff_acts_as_admin(staff_client, workspace, member):
    response = staff_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "admin"})
    assert response.status_code == 200
    assert_error(
        staff_client.patch(member_url(workspace, membership_of(member, workspace).id), {"role": "owner"}),
        403,
        "owner_required",
    )


@pytest.mark.django_db
def test_removed_member_loses_access(admin_client, workspace):
    leaver = UserFactory()
    membership = MembershipFactory(workspace=workspace, user=leaver)
    admin_client.delete(member_url(workspace, membership.id))
    assert_error(client_for(leaver).get(members_url(workspace)), 404)

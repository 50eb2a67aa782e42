"""The service layer on its own: rules that hold whatever calls them (API, admin, commands)."""

import hashlib
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from birthdaybuddy.errors import ApplicationError, Conflict, PermissionDeniedError
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces import invitations, services
from workspaces.models import Invitation, Membership, Person, Role


@pytest.mark.django_db
def test_workspace_create_derives_a_slug_from_any_name_that_says_nothing_about_others():
    creator = UserFactory()
    alone = services.workspace_create(creator=creator, name="Über Café")
    WorkspaceFactory(slug="uber-cafe")
    beside_a_namesake = services.workspace_create(creator=creator, name="Über Café")

    for workspace in (alone, beside_a_namesake):
        assert re.fullmatch(r"uber-cafe-[0-9a-f]{6}", workspace.slug), workspace.slug
    assert alone.slug != beside_a_namesake.slug
    assert Membership.objects.get(workspace=alone).user == creator


@pytest.mark.django_db
def test_workspace_create_skips_an_impossible_profile_birthday():
    creator = UserFactory(date_of_birth=date(2999, 1, 1))
    workspace = services.workspace_create(creator=creator, name="Future")
    person = Person.objects.get(workspace=workspace)
    assert person.birth_month is None


@pytest.mark.django_db
def test_workspace_create_validates_like_the_api():
    with pytest.raises(ValidationError) as excinfo:
        services.workspace_create(creator=UserFactory(), name="X", timezone="Nope/Nope", locale="??")
    assert {"timezone", "locale"} <= set(excinfo.value.message_dict)


@pytest.mark.django_db
def test_workspace_update_refuses_unknown_fields(workspace):
    with pytest.raises(ValueError, match="created_by"):
        services.workspace_update(workspace=workspace, data={"created_by": None})


@pytest.mark.django_db
def test_invitation_token_is_returned_once_and_stored_hashed(workspace, owner):
    invitation = invitations.invitation_create(
        workspace=workspace, email=" Someone@Example.com ", role=Role.MEMBER, invited_by=owner
    )

    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.email == "someone@example.com"
    assert stored.token_hash == hashlib.sha256(invitation.token.encode()).hexdigest()
    assert not hasattr(stored, "token")


@pytest.mark.django_db
def test_a_plain_member_cannot_invite(workspace, member):
    with pytest.raises(PermissionDeniedError):
        invitations.invitation_create(workspace=workspace, email="x@example.com", role=Role.MEMBER, invited_by=member)


@pytest.mark.django_db
def test_invitation_accept_with_an_unknown_token(user):
    with pytest.raises(ApplicationError) as excinfo:
        invitations.invitation_accept(token="nope", user=user)
    assert excinfo.value.code == "invalid_token"


@pytest.mark.django_db
def test_invitation_accept_with_an_empty_token_never_matches(user, workspace):
    InvitationFactory(workspace=workspace, token_hash=hashlib.sha256(b"").hexdigest(), email=user.email)
    with pytest.raises(ApplicationError) as excinfo:
        invitations.invitation_accept(token="", user=user)
    assert excinfo.value.code == "invalid_token"


@pytest.mark.django_db
def test_last_owner_rules_hold_in_the_service(workspace, owner):
    membership = Membership.objects.get(user=owner)
    with pytest.raises(Conflict):
        services.membership_change_role(membership=membership, role=Role.MEMBER, actor=owner)
    with pytest.raises(Conflict):
        services.membership_remove(membership=membership, actor=owner)
    assert Membership.objects.get(user=owner).role == Role.OWNER


@pytest.mark.django_db
def test_membership_change_role_refuses_an_unknown_role(workspace, owner, member):
    with pytest.raises(ValidationError):
        services.membership_change_role(membership=Membership.objects.get(user=member), role="emperor", actor=owner)


@pytest.mark.django_db
def test_person_services_normalise_and_validate(workspace):
    person = services.person_create(workspace=workspace, name="  Ann  ", phone="+49 30 901820")
    assert (person.name, person.phone) == ("Ann", "+4930901820")

    with pytest.raises(ValidationError) as excinfo:
        services.person_update(person=person, data={"birth_month": 2, "birth_day": 30})
    assert "birth_day" in excinfo.value.message_dict

    with pytest.raises(ValidationError) as excinfo:
        services.person_update(person=person, data={"preferred_channels": ["sms", "sms"]})
    assert "preferred_channels" in excinfo.value.message_dict

    with pytest.raises(ValueError, match="workspace"):
        services.person_update(person=person, data={"workspace": None})


@pytest.mark.django_db
def test_rejoining_relinks_the_same_person(workspace, owner):
    joiner = UserFactory()
    membership = MembershipFactory(workspace=workspace, user=joiner)
    person = PersonFactory(workspace=workspace, user=joiner, email=joiner.email)
    services.membership_remove(membership=membership, actor=joiner)
    person.refresh_from_db()
    assert person.user is None

    InvitationFactory(workspace=workspace, email=joiner.email, token_hash=hashlib.sha256(b"tok").hexdigest())
    invitations.invitation_accept(token="tok", user=joiner)

    person.refresh_from_db()
    assert person.user == joiner
    assert Person.objects.filter(workspace=workspace).count() == 1

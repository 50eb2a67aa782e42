import hashlib
import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.conftest import client_for
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, UserFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Invitation, Membership, Person, Role

ACCEPT = reverse("invitation-accept")
INVITATION_KEYS = {
    "id",
    "email",
    "role",
    "status",
    "invited_by",
    "created_at",
    "expires_at",
    "accepted_at",
    "accepted_by",
    "revoked_at",
}


def invitations_url(workspace) -> str:
    return reverse("workspace-invitation-list", kwargs={"workspace_id": workspace.id})


def invitation_url(workspace, invitation_id) -> str:
    return reverse("workspace-invitation-detail", kwargs={"workspace_id": workspace.id, "pk": invitation_id})


def token_from_mail(message) -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_\-]{43})\b", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def invite(owner_client, workspace, django_capture_on_commit_callbacks):
    """Invites ``email`` through the API and returns (response, token from the email)."""

    def _invite(email: str, role: str = "member", client=None):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or owner_client).post(
                invitations_url(workspace), {"email": email, "role": role}, format="json"
            )
        token = token_from_mail(mail.outbox[-1]) if response.status_code == 201 else None
        return response, token

    return _invite


# --- create -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invite_mails_a_token_and_stores_only_its_hash(invite, workspace, owner, settings):
    response, token = invite("New.Person@Example.com", "admin")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == INVITATION_KEYS
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "admin"
    assert body["status"] == "pending"
    assert body["invited_by"] == str(owner.id)
    assert "token" not in body
    assert token not in response.content.decode()
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    message = mail.outbox[-1]
    assert message.to == ["new.person@example.com"]
    assert workspace.name in message.subject
    assert f"{settings.PUBLIC_BASE_URL or settings.SERVED_BASE_URL}/invitations/{token}" in message.body


@pytest.mark.django_db
def test_no_email_is_sent_when_the_transaction_rolls_back(owner_client, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.post(invitations_url(workspace), {"email": "bad"}, format="json")
    assert response.status_code == 400
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_reinviting_a_pending_address_replaces_the_invitation(invite, workspace):
    first, first_token = invite("again@example.com")
    second, second_token = invite("AGAIN@example.com")

    assert Invitation.objects.get(pk=first.json()["id"]).status == "revoked"
    assert Invitation.objects.get(pk=second.json()["id"]).status == "pending"
    assert first_token != second_token


@pytest.mark.django_db
def test_inviting_a_member_is_400(invite, member):
    with unchanged():
        response, _ = invite(member.email.upper())
    assert_error(response, 400, "already_member", field="email")


@pytest.mark.django_db
def test_only_owners_invite_owners(invite, admin_client):
    with unchanged():
        response, _ = invite("boss@example.com", "owner", client=admin_client)
    assert_error(response, 403, "owner_required")
    response, _ = invite("boss@example.com", "owner")
    assert response.status_code == 201


@pytest.mark.django_db
def test_members_cannot_see_or_send_invitations(member_client, workspace):
    invitation = InvitationFactory(workspace=workspace)
    with unchanged():
        responses = [
            member_client.get(invitations_url(workspace)),
            member_client.get(invitation_url(workspace, invitation.id)),
            member_client.post(invitations_url(workspace), {"email": "x@example.com"}, format="json"),
            member_client.delete(invitation_url(workspace, invitation.id)),
        ]
    for response in responses:
        assert_error(response, 403, "role_required")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
        ({"email": "ok@example.com", "role": "king"}, "role"),
        ({"email": "ok@example.com", "role": None}, "role"),
    ],
)
def test_invite_rejects_bad_input(owner_client, workspace, payload, field):
    with unchanged():
        response = owner_client.post(invitations_url(workspace), payload, format="json")
    assert_error(response, 400, field=field)


# --- list / retrieve / revoke -------------------------------------------------------------


@pytest.mark.django_db
def test_list_and_filter_by_status(admin_client, workspace):
    pending = InvitationFactory(workspace=workspace)
    InvitationFactory(workspace=workspace, revoked_at=timezone.now())
    InvitationFactory(workspace=workspace, expires_at=timezone.now() - timedelta(minutes=1))

    everything = admin_client.get(invitations_url(workspace)).json()
    pending_only = admin_client.get(invitations_url(workspace), {"status": "pending"}).json()

    assert everything["count"] == 3
    assert sorted(i["status"] for i in everything["results"]) == ["expired", "pending", "revoked"]
    assert [i["id"] for i in pending_only["results"]] == [str(pending.id)]
    assert_error(admin_client.get(invitations_url(workspace), {"status": "lost"}), 400, field="status")


@pytest.mark.django_db
def test_retrieve(admin_client, workspace):
    invitation = InvitationFactory(workspace=workspace)
    response = admin_client.get(invitation_url(workspace, invitation.id))
    assert response.status_code == 200
    assert response.json()["id"] == str(invitation.id)


@pytest.mark.django_db
def test_revoke_then_accept_fails(admin_client, invite, workspace):
    response, token = invite("late@example.com")
    invitee = UserFactory(email="late@example.com")

    revoked = admin_client.delete(invitation_url(workspace, response.json()["id"]))
    again = admin_client.delete(invitation_url(workspace, response.json()["id"]))
    with unchanged():
        accepted = client_for(invitee).post(ACCEPT, {"token": token}, format="json")

    assert revoked.status_code == 204
    assert again.status_code == 204
    assert Invitation.objects.get(pk=response.json()["id"]).revoked_at is not None
    assert_error(accepted, 400, "invitation_revoked")


@pytest.mark.django_db
def test_an_accepted_invitation_cannot_be_revoked(admin_client, workspace):
    invitation = InvitationFactory(workspace=workspace, accepted_at=timezone.now())
    with unchanged():
        response = admin_client.delete(invitation_url(workspace, invitation.id))
    assert_error(response, 409, "invitation_used")


@pytest.mark.django_db
def test_invitation_of_another_workspace_is_404(owner_client, workspace, other_workspace):
    foreign = Invitation.objects.get(workspace=other_workspace)
    with unchanged():
        get = owner_client.get(invitation_url(workspace, foreign.id))
        delete = owner_client.delete(invitation_url(workspace, foreign.id))
        missing = owner_client.get(invitation_url(workspace, uuid.uuid4()))
    for response in (get, delete, missing):
        assert_error(response, 404, "not_found")


# --- accept -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accept_joins_the_workspace(invite, workspace):
    response, token = invite("joiner@example.com", "admin")
    joiner = UserFactory(email="joiner@example.com", first_name="Jo", last_name="Iner")

    accepted = client_for(joiner).post(ACCEPT, {"token": token}, format="json")

    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["id"] == str(workspace.id)
    assert body["role"] == "admin"
    assert Membership.objects.get(workspace=workspace, user=joiner).role == Role.ADMIN
    invitation = Invitation.objects.get(pk=response.json()["id"])
    assert invitation.status == "accepted"
    assert invitation.accepted_by == joiner
    person = Person.objects.get(workspace=workspace, user=joiner)
    assert (person.name, person.email, person.show_age) == ("Jo Iner", "joiner@example.com", False)


@pytest.mark.django_db
def test_accept_matches_email_case_insensitively(invite):
    _, token = invite("MiXeD@Example.com")
    joiner = UserFactory(email="mixed@example.com")
    assert client_for(joiner).post(ACCEPT, {"token": token}, format="json").status_code == 200


@pytest.mark.django_db
def test_accept_links_an_existing_person_with_the_same_email(invite, workspace):
    client_person = PersonFactory(workspace=workspace, email="Client@Example.com", user=None)
    _, token = invite("client@example.com")
    joiner = UserFactory(email="client@example.com")

    client_for(joiner).post(ACCEPT, {"token": token}, format="json")

    client_person.refresh_from_db()
    assert client_person.user == joiner
    assert Person.objects.filter(workspace=workspace).count() == 1


@pytest.mark.django_db
def test_a_token_works_once(invite):
    _, token = invite("once@example.com")
    joiner = UserFactory(email="once@example.com")
    client = client_for(joiner)

    assert client.post(ACCEPT, {"token": token}, format="json").status_code == 200
    with unchanged():
        reused = client.post(ACCEPT, {"token": token}, format="json")
    assert_error(reused, 400, "invitation_used")


@pytest.mark.django_db
def test_expired_invitation_is_refused(invite):
    _, token = invite("slow@example.com")
    slow = UserFactory(email="slow@example.com")

    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1), tick=False), unchanged():
        response = client_for(slow).post(ACCEPT, {"token": token}, format="json")

    assert_error(response, 400, "invitation_expired")
    assert not Membership.objects.filter(user=slow).exists()


@pytest.mark.django_db
def test_invitation_still_valid_just_before_expiry(invite):
    _, token = invite("intime@example.com")
    user = UserFactory(email="intime@example.com")

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
        response = client_for(user).post(ACCEPT, {"token": token}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_wrong_user_is_403(invite):
    _, token = invite("right@example.com")
    wrong = UserFactory(email="wrong@example.com")

    with unchanged():
        response = client_for(wrong).post(ACCEPT, {"token": token}, format="json")

    assert_error(response, 403, "invitation_email_mismatch")


@pytest.mark.django_db
def test_unverified_user_cannot_accept(invite):
    _, token = invite("pending@example.com")
    pending = UserFactory(email="pending@example.com", status=User.Status.PENDING)
    with unchanged():
        response = client_for(pending).post(ACCEPT, {"token": token}, format="json")
    assert_error(response, 403, "email_not_verified")


@pytest.mark.django_db
def test_existing_member_keeps_their_role(invite, workspace):
    _, token = invite("already@example.com", "member")
    already = UserFactory(email="already@example.com")
    MembershipFactory(workspace=workspace, user=already, role=Role.ADMIN)

    response = client_for(already).post(ACCEPT, {"token": token}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert Membership.objects.filter(workspace=workspace, user=already).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"token": "not-a-real-token"}, 400, "invalid_token"),
        ({}, 400, "required"),
        ({"token": ""}, 400, "blank"),
        ({"token": None}, 400, "null"),
        ({"token": 12345}, 400, "invalid"),
        ({"token": "x" * 500}, 400, "max_length"),
    ],
)
def test_accept_rejects_bad_tokens(auth_client, workspace, payload, status, code):
    InvitationFactory(workspace=workspace)
    with unchanged():
        response = auth_client.post(ACCEPT, payload, format="json")
    assert_error(response, status, code)


@pytest.mark.django_db
def test_accept_needs_a_login(api_client, invite):
    _, token = invite("anon@example.com")
    with unchanged():
        response = api_client.post(ACCEPT, {"token": token}, format="json")
    assert_error(response, 401)


@pytest.mark.django_db
def test_accept_malformed_json(auth_client):
    assert_error(auth_client.post(ACCEPT, b'{"token": ', content_type="application/json"), 400, "parse_error")

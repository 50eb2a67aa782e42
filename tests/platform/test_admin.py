"""Every model in the admin renders for a superuser: changelist, search, add and change pages.

The pages are found through ``admin.site._registry``, so a model registered later is
covered without touching this file.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import EmailVerification, User
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Invitation, Person, Role

# Apps whose every model must be in the admin (the issue: "Django admin for every model").
ADMIN_COMPLETE_APPS = ("accounts", "workspaces")

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTERED]


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def some_rows(superuser):
    """A row for each of our models, so list columns and change pages really render."""
    workspace = WorkspaceFactory(name="Acme Test", slug="acme-test", created_by=superuser)
    MembershipFactory(workspace=workspace, user=superuser, role=Role.OWNER)
    PersonFactory(workspace=workspace, name="Test Person", birth_year=1990, joined_on=timezone.localdate())
    InvitationFactory(workspace=workspace, email="test-invitee@example.com", invited_by=superuser)
    EmailVerification.objects.create(
        user=UserFactory(email="pending-test@example.com", status=User.Status.PENDING),
        code_hash="not-shown-" + "0" * 54,
        expires_at=timezone.now() + timedelta(minutes=15),
    )


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("app_label", ADMIN_COMPLETE_APPS)
def test_every_model_of_the_app_is_in_the_admin(app_label):
    missing = [
        model._meta.label for model in apps.get_app_config(app_label).get_models() if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.usefixtures("some_rows")
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_changelist_and_search_render(admin_client, model, model_admin):
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    response = admin_client.get(_url(model, "changelist"), {"q": "test"})
    assert response.status_code == 200
    for list_filter in model_admin.list_filter:
        if isinstance(list_filter, str) and "__" not in list_filter:
            assert admin_client.get(_url(model, "changelist"), {f"{list_filter}__isnull": "False"}).status_code in (
                200,
                302,  # a lookup the filter does not offer sends the admin back with ?e=1
            )


@pytest.mark.usefixtures("some_rows")
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_add_page_renders_or_is_refused(admin_client, superuser, model, model_admin):
    response = admin_client.get(_url(model, "add"))
    request = response.wsgi_request
    request.user = superuser
    expected = 200 if model_admin.has_add_permission(request) else 403
    assert response.status_code == expected


@pytest.mark.usefixtures("some_rows")
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_change_page_renders(admin_client, model, model_admin):
    obj = model._default_manager.first()
    if obj is None:
        pytest.skip(f"no {model._meta.label} row to show")
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.usefixtures("some_rows")
def test_secrets_are_never_shown(admin_client):
    verification = EmailVerification.objects.get()
    invitation = Invitation.objects.get()
    pages = [
        admin_client.get(_url(EmailVerification, "change", verification.pk)),
        admin_client.get(_url(EmailVerification, "changelist")),
        admin_client.get(_url(Invitation, "change", invitation.pk)),
        admin_client.get(_url(Invitation, "changelist")),
    ]
    for page in pages:
        assert page.status_code == 200
        content = page.content.decode()
        assert verification.code_hash not in content
        assert invitation.token_hash not in content
        assert "code_hash" not in content
        assert "token_hash" not in content


def test_search_finds_a_user_by_email(admin_client):
    UserFactory(email="findme@example.com")
    response = admin_client.get(_url(User, "changelist"), {"q": "findme"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_add_user_with_email_and_password(admin_client):
    response = admin_client.post(
        _url(User, "add"),
        {"email": "New.Staff@Example.com", "password1": "Sturdy-Passw0rd-42", "password2": "Sturdy-Passw0rd-42"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    user = User.objects.get(email="new.staff@example.com")
    assert user.check_password("Sturdy-Passw0rd-42")


def test_add_user_refuses_weak_password_and_duplicate_email(admin_client, superuser):
    weak = admin_client.post(_url(User, "add"), {"email": "weak@example.com", "password1": "123", "password2": "123"})
    assert weak.status_code == 200
    assert "password2" in weak.context["adminform"].form.errors
    duplicate = admin_client.post(
        _url(User, "add"),
        {"email": superuser.email.upper(), "password1": "Sturdy-Passw0rd-42", "password2": "Sturdy-Passw0rd-42"},
    )
    assert duplicate.status_code == 200
    assert "email" in duplicate.context["adminform"].form.errors
    assert not User.objects.filter(email="weak@example.com").exists()


def test_user_change_page_shows_the_password_hash_widget_and_change_link(admin_client, superuser):
    response = admin_client.get(_url(User, "change", superuser.pk))
    content = response.content.decode()
    assert response.status_code == 200
    assert "../password/" in content
    password_page = admin_client.get(reverse("admin:auth_user_password_change", args=(superuser.pk,)))
    assert password_page.status_code == 200


def test_revoke_action_revokes_pending_invitations_only(admin_client, superuser):
    pending = InvitationFactory()
    accepted = InvitationFactory(accepted_at=timezone.now(), accepted_by=superuser)
    response = admin_client.post(
        _url(Invitation, "changelist"),
        {"action": "revoke", "_selected_action": [str(pending.pk), str(accepted.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    accepted.refresh_from_db()
    assert pending.revoked_at is not None
    assert accepted.revoked_at is None
    shown = [str(message) for message in response.context["messages"]]
    assert "Revoked 1 invitation(s)." in shown
    assert any(accepted.email in message for message in shown)


def test_person_filters_by_workspace_and_birth_month(admin_client):
    first, second = WorkspaceFactory(), WorkspaceFactory()
    PersonFactory(workspace=first, birth_month=2, birth_day=29)
    PersonFactory(workspace=first, birth_month=7, birth_day=1)
    PersonFactory(workspace=second, birth_month=2, birth_day=3)
    url = _url(Person, "changelist")
    assert admin_client.get(url, {"workspace__id__exact": str(first.pk)}).context["cl"].result_count == 2
    assert admin_client.get(url, {"birth_month": "2"}).context["cl"].result_count == 2
    both = admin_client.get(url, {"workspace__id__exact": str(first.pk), "birth_month": "2"})
    assert both.context["cl"].result_count == 1


def test_workspace_inline_lists_members(admin_client, superuser):
    workspace = WorkspaceFactory()
    MembershipFactory(workspace=workspace, user=superuser, role=Role.OWNER)
    response = admin_client.get(_url(type(workspace), "change", workspace.pk))
    assert response.status_code == 200
    assert superuser.email in response.content.decode()
    assert "Members" in response.content.decode() or "memberships" in response.content.decode()


def test_autocomplete_for_person_user_and_workspace(admin_client, superuser):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "workspaces", "model_name": "person", "field_name": "user", "term": "root"},
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == [superuser.email]


def test_the_admin_is_named_birthdaybuddy_and_view_site_opens_the_api_docs(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "BirthdayBuddy administration" in page
    assert "Django administration" not in page
    assert 'href="/api/docs/"' in page

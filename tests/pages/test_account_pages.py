"""Password reset, email verification and invitation pages: every state and bad input, and the emails behind them."""

import re
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.utils import timezone

from accounts import registration
from accounts import services as account_services
from accounts.models import User
from birthdaybuddy.tokens import hash_token
from tests.factories import DEFAULT_PASSWORD, InvitationFactory, MembershipFactory, UserFactory, WorkspaceFactory
from tests.pages.conftest import csrf_token_of
from workspaces import invitations
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Violet-Harbor-Tandem-77"


def link_in(message, path: str) -> str:
    match = re.search(rf"https?://[^\s\"<]+{re.escape(path)}[^\s\"<]*", message.body)
    assert match, message.body
    return match.group(0)


def parts_of(message) -> dict[str, str]:
    """The text and HTML parts of a sent email, as a real parser sees them."""
    parsed = message_from_bytes(message.message().as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if not part.is_multipart()
    }


# --- password reset -----------------------------------------------------------------------------


@pytest.fixture
def reset_url(user, settings, django_capture_on_commit_callbacks) -> str:
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_reset_request(email=user.email)
    (message,) = mail.outbox
    return link_in(message, "/account/reset/").removeprefix("https://buddy.example.test")


def test_the_reset_email_is_multipart_with_a_button_to_the_page(user, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        account_services.password_reset_request(email=user.email)
    parts = parts_of(mail.outbox[0])
    link = link_in(mail.outbox[0], "/account/reset/")

    assert link.startswith("https://buddy.example.test/account/reset/")
    assert link in parts["text/plain"]
    assert f'href="{link}"' in parts["text/html"]
    assert "max-width:600px" in parts["text/html"]


def test_resetting_on_the_page(browser, user, reset_url):
    page = browser.get(reset_url)
    assert page.status_code == 200
    assert user.email in page.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD), "opening the link changes nothing"

    done = browser.post(
        reset_url,
        {"csrfmiddlewaretoken": csrf_token_of(page), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 200
    assert "Your password is changed" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    again = browser.get(reset_url)
    assert again.status_code == 410
    assert "expired" in again.content.decode()


@pytest.mark.parametrize(
    ("first", "second", "field_error"),
    [
        ("short", "short", "This password is too short."),
        ("password123", "password123", "This password is too common."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two password fields didn\N{RIGHT SINGLE QUOTATION MARK}t match."),
        ("", "", "This field is required."),
    ],
)
def test_a_refused_password_is_400_with_the_reason_and_changes_nothing(
    browser, user, reset_url, first, second, field_error
):
    page = browser.get(reset_url)
    response = browser.post(
        reset_url, {"csrfmiddlewaretoken": csrf_token_of(page), "new_password1": first, "new_password2": second}
    )

    assert response.status_code == 400
    assert field_error in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("path", ["/account/reset/bm90LWEtdXVpZA/abc-def", "/account/reset/x/y"])
def test_a_bad_reset_link_says_so(browser, path, db):
    response = browser.get(path)
    assert response.status_code == 410
    assert "Send me a new link" in response.content.decode()


def test_the_forgot_page_sends_a_link_and_says_the_same_for_unknown_addresses(
    browser, user, django_capture_on_commit_callbacks
):
    page = browser.get("/account/forgot")
    with django_capture_on_commit_callbacks(execute=True):
        known = browser.post("/account/forgot", {"csrfmiddlewaretoken": csrf_token_of(page), "email": user.email})
        unknown = browser.post("/account/forgot", {"csrfmiddlewaretoken": csrf_token_of(page), "email": "no@x.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox] == [[user.email]]
    bad = browser.post("/account/forgot", {"csrfmiddlewaretoken": csrf_token_of(page), "email": "not an email"})
    assert bad.status_code == 400


# --- email verification -------------------------------------------------------------------------


@pytest.fixture
def pending(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = registration.user_register(email="new@example.com", password=NEW_PASSWORD, first_name="Nia")
    (message,) = mail.outbox
    return user, message


def test_the_verification_email_carries_a_link_that_verifies_after_one_press(browser, pending):
    user, message = pending
    link = link_in(message, "/account/verify/")
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert f'href="{link}"' in parts_of(message)["text/html"]

    page = browser.get(f"/{path}")
    assert page.status_code == 200
    user.refresh_from_db()
    assert user.status == User.Status.PENDING, "a GET (a mail scanner) verifies nothing"

    done = browser.post(f"/{path}", {"csrfmiddlewaretoken": csrf_token_of(page)})
    assert done.status_code == 200
    assert "confirmed" in done.content.decode()
    user.refresh_from_db()
    assert user.status == User.Status.VERIFIED


def test_an_altered_or_replaced_verification_link_is_refused(browser, pending, django_capture_on_commit_callbacks):
    user, message = pending
    path = "/" + link_in(message, "/account/verify/").split("://", 1)[1].split("/", 1)[1]
    assert browser.get(path[:-3] + "abc").status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        registration.verification_send(user=user)  # a newer code makes the old link useless
    page = browser.get(path)
    response = browser.post(path, {"csrfmiddlewaretoken": csrf_token_of(page)})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.status == User.Status.PENDING


# --- invitations --------------------------------------------------------------------------------


@pytest.fixture
def invitation(db, django_capture_on_commit_callbacks, settings):
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    workspace = WorkspaceFactory(name="Lima & Co")
    owner = UserFactory(first_name="Olga", last_name="Owner")
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invitation_create(
            workspace=workspace, email="invitee@example.com", role=Role.ADMIN, invited_by=owner
        )
    (message,) = mail.outbox
    return invitation, message


def test_the_invitation_email_links_to_the_page_and_asks_nobody_to_post_tokens(invitation):
    found, message = invitation
    link = link_in(message, "/invitations/")
    parts = parts_of(message)

    assert link == f"https://buddy.example.test/invitations/{found.token}"
    assert "POST" not in parts["text/plain"]
    assert f'href="{link}"' in parts["text/html"]
    assert message.subject == "Olga Owner invited you to Lima & Co on BirthdayBuddy"


def test_a_new_person_signs_up_on_the_page_with_the_invited_email(browser, invitation):
    found, _ = invitation
    url = f"/invitations/{found.token}"
    page = browser.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for shown in ("Lima &amp; Co", "Olga Owner", "Admin", "invitee@example.com", "Create your account"):
        assert shown in html

    response = browser.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token_of(page),
            "first_name": "Ina",
            "last_name": "Vite",
            "password": NEW_PASSWORD,
            "email": "someone-else@example.com",  # the email is fixed: a posted one is ignored
        },
    )
    assert response.status_code == 200
    assert "Welcome to Lima &amp; Co" in response.content.decode()
    user = User.objects.get(email="invitee@example.com")
    assert user.status == User.Status.VERIFIED
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=user, workspace=found.workspace).role == Role.ADMIN
    assert not User.objects.filter(email="someone-else@example.com").exists()
    assert browser.get(url).status_code == 410


def test_a_weak_password_at_sign_up_is_400_and_creates_nobody(browser, invitation):
    found, _ = invitation
    url = f"/invitations/{found.token}"
    page = browser.get(url)
    response = browser.post(
        url, {"csrfmiddlewaretoken": csrf_token_of(page), "first_name": "Ina", "password": "password"}
    )
    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="invitee@example.com").exists()


def test_an_existing_user_joins_with_their_password(browser, invitation):
    found, _ = invitation
    user = UserFactory(email="invitee@example.com")
    url = f"/invitations/{found.token}"
    page = browser.get(url)
    assert "Join with your account" in page.content.decode()

    wrong = browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), "password": "not-it"})
    assert wrong.status_code == 400
    assert "This password is not right." in wrong.content.decode()
    assert not Membership.objects.filter(user=user).exists()

    right = browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), "password": DEFAULT_PASSWORD})
    assert right.status_code == 200
    assert Membership.objects.get(user=user, workspace=found.workspace).role == Role.ADMIN


@pytest.mark.parametrize(
    ("change", "title"),
    [
        ({"revoked_at": timezone.now}, "This invitation was withdrawn"),
        ({"expires_at": lambda: timezone.now() - timedelta(minutes=1)}, "This invitation has expired"),
        ({"accepted_at": timezone.now}, "This invitation was already used"),
    ],
)
def test_closed_invitations_get_a_clear_410_page(browser, db, change, title):
    token = "t" * 43
    InvitationFactory(token_hash=hash_token(token), **{field: make() for field, make in change.items()})
    response = browser.get(f"/invitations/{token}")
    assert response.status_code == 410
    assert title in response.content.decode()


def test_an_unknown_invitation_link_is_404(browser, db):
    assert browser.get("/invitations/" + "u" * 43).status_code == 404
    assert browser.get("/invitations/short").status_code == 404

"""Account links in Chromium: a password reset from the email to the new password; an invitation
accepted by a new and by an existing user."""

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.browser.conftest import PHONE
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from workspaces import invitations
from workspaces.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Violet-Harbor-Tandem-77"


def link_in(message, path: str) -> str:
    match = re.search(rf"https?://\S+{re.escape(path)}\S*", message.body)
    assert match, message.body
    return match.group(0)


def test_password_reset_from_the_email(open_page, public_base, screenshot):
    user = UserFactory(email="ada@example.com")
    page = open_page(viewport=PHONE)
    page.goto(f"{public_base}/account/forgot")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_role("button", name="Send me a link").click()
    assert "Check your inbox" in page.locator("h1").inner_text()

    (message,) = mail.outbox
    page.goto(link_in(message, "/account/reset/"))
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Save the new password").click()
    assert "This password is too short" in page.locator(".errorlist").first.inner_text()
    screenshot(page, "password-reset-phone")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    assert page.locator("h1").inner_text() == "Your password is changed"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert page.js_errors == []


@pytest.fixture
def invite(public_base):
    workspace = WorkspaceFactory(name="Lima & Co")
    owner = UserFactory(first_name="Olga", last_name="Owner")
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)

    def _invite(email: str):
        mail.outbox.clear()
        invitations.invitation_create(workspace=workspace, email=email, role=Role.MEMBER, invited_by=owner)
        (message,) = mail.outbox
        return workspace, link_in(message, "/invitations/")

    return _invite


def test_a_new_user_accepts_an_invitation(open_page, invite, screenshot):
    workspace, link = invite("ina@example.com")
    page = open_page()
    page.goto(link)
    assert page.locator("h1").inner_text() == "Lima & Co"
    assert "Olga Owner invites you to join" in page.locator("main").inner_text()
    screenshot(page, "invitation-desktop")

    page.get_by_label("First name").fill("Ina")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account and join Lima & Co").click()
    assert page.locator("h1").inner_text() == "Welcome to Lima & Co"
    user = User.objects.get(email="ina@example.com")
    assert Membership.objects.filter(user=user, workspace=workspace, role=Role.MEMBER).exists()


def test_an_existing_user_accepts_an_invitation(open_page, invite, screenshot):
    user = UserFactory(email="eve@example.com")
    workspace, link = invite("eve@example.com")
    page = open_page(viewport=PHONE)
    page.goto(link)
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    screenshot(page, "invitation-existing-phone")
    page.get_by_role("button", name="Join Lima & Co").click()
    assert page.locator("h1").inner_text() == "Welcome to Lima & Co"
    assert Membership.objects.filter(user=user, workspace=workspace).exists()

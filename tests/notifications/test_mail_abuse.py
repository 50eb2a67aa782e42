"""Mail is not a way to reach anyone: channel tests go to the workspace's own people, invitations
to one address are limited, and platform mail cannot borrow another sender's name."""

import pytest
from django.core import mail

from notifications.providers.base import Message
from notifications.providers.email import EmailProvider, sender_display_name
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from workspaces.models import Invitation, Role

pytestmark = pytest.mark.django_db


def channel_test_url(workspace, config) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/channels/{config.pk}/test"


@pytest.fixture
def email_channel(workspace):
    return ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None, from_name="Lima and Co")


def test_a_test_email_goes_only_to_the_caller_or_a_verified_member(auth_client, user, workspace, email_channel):
    MembershipFactory(workspace=workspace, user=UserFactory(email="colleague@example.com"))
    MembershipFactory(workspace=workspace, user=UserFactory(email="pending@example.com", status="pending"))
    UserFactory(email="outsider@example.com")  # a user, but not a member here
    url = channel_test_url(workspace, email_channel)
    mail.outbox.clear()

    refused = [
        auth_client.post(url, {"recipient": address}, format="json")
        for address in ("victim@example.com", "outsider@example.com", "pending@example.com")
    ]
    to_member = auth_client.post(url, {"recipient": "Colleague@example.com"}, format="json")
    to_me = auth_client.post(url, {}, format="json")

    for response in refused:
        assert response.status_code == 400, response.content
        assert "recipient" in response.json()["errors"]
    assert to_member.json()["ok"] is True
    assert to_me.json()["ok"] is True
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        ["Colleague@example.com", user.email]
    )


def test_a_test_sms_goes_only_to_the_callers_or_a_members_phone(auth_client, workspace, fake_twilio):
    config = ChannelConfigFactory(
        workspace=workspace,
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
    )
    MembershipFactory(workspace=workspace, user=UserFactory(phone="+14155550177"))

    stranger = auth_client.post(channel_test_url(workspace, config), {"recipient": "+14155550199"}, format="json")
    member = auth_client.post(channel_test_url(workspace, config), {"recipient": "+14155550177"}, format="json")

    assert stranger.status_code == 400
    assert member.json()["ok"] is True
    assert [request.body["To"] for request in fake_twilio.received] == ["+14155550177"]


def test_invitations_to_one_address_are_rate_limited_across_workspaces(django_capture_on_commit_callbacks):
    """Ten invitations to one address, from two workspaces: three are mailed, the rest get 429."""
    answers = []
    mail.outbox.clear()
    for index in range(10):
        owner = UserFactory()
        workspace = WorkspaceFactory()
        MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(owner).post(
                f"/api/v1/workspaces/{workspace.pk}/invitations/",
                {"email": "Target@Example.com" if index % 2 else "target@example.com", "role": "member"},
                format="json",
            )
        answers.append(response.status_code)

    assert answers == [201, 201, 201] + [429] * 7
    assert len(mail.outbox) == 3
    assert Invitation.objects.count() == 3


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Lima & Co", "Lima & Co via BirthdayBuddy"),
        ("PayPal <security@paypal.example>", "PayPal security paypal.example via BirthdayBuddy"),
        (
            '"BirthdayBuddy Support" <help@birthdaybuddy.local>',
            "BirthdayBuddy Support help birthdaybuddy.local via BirthdayBuddy",
        ),
        ("birthdaybuddy", "BirthdayBuddy"),
        ("", "BirthdayBuddy"),
        ("Bank\r\nBcc: all@example.com", "Bank Bcc: all example.com via BirthdayBuddy"),
    ],
)
def test_the_sender_name_cannot_pass_for_another_sender(name, shown):
    assert sender_display_name(name) == shown


def test_platform_mail_always_comes_from_the_platforms_address(settings):
    settings.DEFAULT_FROM_EMAIL = "BirthdayBuddy <no-reply@birthdaybuddy.test>"
    provider = EmailProvider(from_name="IT Desk <it@corp.example>", reply_to="", rate_key=None, rate_per_second=None)
    message = Message(
        notification_id="00000000-0000-0000-0000-000000000002",
        channel="email",
        recipient="ana@example.com",
        subject="Hi",
        body="Hello",
        workspace_name="Corp",
    )

    email = provider.build(message)

    assert email.from_email == '"IT Desk it corp.example via BirthdayBuddy" <no-reply@birthdaybuddy.test>'


def test_an_address_as_sender_name_is_refused_on_save(auth_client, workspace):
    response = auth_client.post(
        f"/api/v1/workspaces/{workspace.pk}/channels/",
        {"kind": "email", "from_name": "Support <help@bank.example>"},
        format="json",
    )

    assert response.status_code == 400
    assert "from_name" in response.json()["errors"]

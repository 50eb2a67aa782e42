"""Factories of the notifications app's models (the shared ones live in ``tests/factories.py``)."""

import factory
from factory.django import DjangoModelFactory

from notifications.models import ChannelConfig, Notification, Template
from tests.factories import WorkspaceFactory

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "twilio-secret-token-0123456789"
BOT_TOKEN = "xoxb-1234567890-abcdefghijklmnop"


class ChannelConfigFactory(DjangoModelFactory[ChannelConfig]):
    class Meta:
        model = ChannelConfig

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = "slack"
    webhook_url = "https://hooks.slack.com/services/T000/B000/XXXXSECRETabcd"


class NotificationFactory(DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    workspace = factory.SubFactory(WorkspaceFactory)
    channel = "slack"
    recipient = "webhook"
    body = factory.Sequence(lambda n: f"🎂 Today: message {n}")
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")


class TemplateFactory(DjangoModelFactory[Template]):
    class Meta:
        model = Template

    workspace = factory.SubFactory(WorkspaceFactory)
    reminder_kind = "birthday_digest"
    channel = "slack"
    body = "Party: {{ birthdays | map(attribute='name') | join(' & ') }}"

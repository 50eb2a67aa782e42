"""WhatsApp's 24-hour session window: free-form inside it, the approved template outside, never
free-form text outside it — what reaches (the fake) Twilio is what is asserted."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import DeliveryAttempt, InboundContact
from notifications.services import channel_config_send_test, notification_deliver, notifications_deliver_batch
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory, NotificationFactory
from tests.notifications.twilio_signing import PUBLIC_BASE_URL, inbound_params, inbound_path, post_signed

pytestmark = pytest.mark.django_db

OUR_NUMBER = "+14155550100"
CLIENT = "+14155550123"
TEMPLATE = "HX" + "c3" * 16


def whatsapp_config(*, template=TEMPLATE, from_number=OUR_NUMBER, **fields):
    return ChannelConfigFactory(
        kind="whatsapp",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=from_number,
        whatsapp_template_sid=template,
        **fields,
    )


def wrote_to_us(*, ago: timedelta, phone=CLIENT, to_number=OUR_NUMBER, account_sid=ACCOUNT_SID, **fields):
    return InboundContact.objects.create(
        channel="whatsapp",
        phone=phone,
        to_number=to_number,
        account_sid=account_sid,
        last_inbound_at=timezone.now() - ago,
        **fields,
    )


def whatsapp(config, body="Your VAT return is due on Friday.", recipient=CLIENT):
    return NotificationFactory(workspace=config.workspace, channel="whatsapp", recipient=recipient, body=body)


@pytest.mark.parametrize("template", [TEMPLATE, ""])
def test_inside_the_window_free_form_text_is_sent(fake_twilio, template):
    config = whatsapp_config(template=template)
    wrote_to_us(ago=timedelta(hours=3))
    notification = whatsapp(config)

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_twilio.received
    assert received.body["Body"] == "Your VAT return is due on Friday."
    assert "ContentSid" not in received.body
    assert received.body["To"] == f"whatsapp:{CLIENT}"


def test_outside_the_window_the_approved_template_is_sent(fake_twilio):
    config = whatsapp_config()
    wrote_to_us(ago=timedelta(hours=25))
    notification = whatsapp(config)

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_twilio.received
    assert received.body["ContentSid"] == TEMPLATE
    assert json.loads(received.body["ContentVariables"]) == {"1": "Your VAT return is due on Friday."}
    assert "Body" not in received.body


@pytest.mark.parametrize("history", ["never_wrote", "wrote_25_hours_ago"])
def test_outside_the_window_without_a_template_nothing_reaches_twilio(fake_twilio, history):
    config = whatsapp_config(template="")
    if history == "wrote_25_hours_ago":
        wrote_to_us(ago=timedelta(hours=25))
    notification = whatsapp(config)

    assert notification_deliver(notification_id=notification.pk) == "failed"

    assert fake_twilio.received == []
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.last_error.startswith("whatsapp_session_closed: ")
    [attempt] = DeliveryAttempt.objects.filter(notification=notification)
    assert attempt.outcome == "permanent"
    assert attempt.error.startswith("whatsapp_session_closed")


@pytest.mark.parametrize(
    "other",
    [
        {"to_number": "+14155550177"},  # wrote to another of our numbers
        {"account_sid": "AC" + "ff" * 16},  # the same number string under another account
        {"phone": "+14155550124"},  # someone else wrote
    ],
)
def test_a_session_with_another_sender_does_not_count(fake_twilio, other):
    config = whatsapp_config()
    wrote_to_us(ago=timedelta(hours=1), **other)
    notification = whatsapp(config)

    notification_deliver(notification_id=notification.pk)

    assert fake_twilio.received[0].body["ContentSid"] == TEMPLATE


def test_a_session_through_the_messaging_service_counts(fake_twilio):
    service = "MG" + "b2" * 16
    config = whatsapp_config(from_number="", messaging_service_sid=service)
    wrote_to_us(ago=timedelta(hours=1), to_number="+14155550188", messaging_service_sid=service)
    notification = whatsapp(config)

    notification_deliver(notification_id=notification.pk)

    body = fake_twilio.received[0].body
    assert body["MessagingServiceSid"] == service
    assert body["Body"] == notification.body


def test_the_window_keeps_a_safety_margin(fake_twilio, settings):
    """23 h 58 min after the last message the window is treated as closed (default margin: 5 min)."""
    config = whatsapp_config()
    wrote_to_us(ago=timedelta(hours=23, minutes=58))
    notification = whatsapp(config)

    notification_deliver(notification_id=notification.pk)

    assert "ContentSid" in fake_twilio.received[0].body


def test_an_inbound_message_through_the_hook_opens_the_window(client, fake_twilio, settings):
    """GIVEN a WhatsApp channel without a template, and a client who has never written
    WHEN a reminder is due it fails (session closed); the client then writes to us
    THEN the next message goes out as free-form text."""
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    config = whatsapp_config(template="")
    first = whatsapp(config)
    assert notification_deliver(notification_id=first.pk) == "failed"

    response = post_signed(
        client,
        inbound_path(config),
        inbound_params(from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", body="Hello, any news?"),
    )
    assert response.status_code == 200
    second = whatsapp(config, body="Yes: the deadline moved to Monday.")

    assert notification_deliver(notification_id=second.pk) == "sent"
    [received] = fake_twilio.received
    assert received.body["Body"] == "Yes: the deadline moved to Monday."


def test_a_batch_decides_per_recipient(fake_twilio):
    config = whatsapp_config()
    wrote_to_us(ago=timedelta(hours=2))
    inside = whatsapp(config, body="inside", recipient=CLIENT)
    outside = whatsapp(config, body="outside", recipient="+14155550124")

    outcomes = notifications_deliver_batch(notification_ids=[inside.pk, outside.pk])

    assert outcomes == {"sent": 2}
    by_recipient = {item.body["To"]: item.body for item in fake_twilio.received}
    assert by_recipient[f"whatsapp:{CLIENT}"]["Body"] == "inside"
    assert "ContentSid" not in by_recipient[f"whatsapp:{CLIENT}"]
    assert by_recipient["whatsapp:+14155550124"]["ContentSid"] == TEMPLATE
    assert "Body" not in by_recipient["whatsapp:+14155550124"]


def test_the_channel_test_message_respects_the_window(fake_twilio):
    config = whatsapp_config(template="")

    result = channel_config_send_test(config=config, recipient=CLIENT)

    assert (result.ok, result.outcome) == (False, "permanent")
    assert result.detail.startswith("whatsapp_session_closed")
    assert fake_twilio.received == []

    wrote_to_us(ago=timedelta(minutes=5))
    assert channel_config_send_test(config=config, recipient=CLIENT).ok
    assert "Body" in fake_twilio.received[0].body

"""End to end: a deadline reminder to three clients by email, SMS and WhatsApp, through the real
SMTP backend (aiosmtpd) and the real twilio client (a fake Twilio API), with Twilio's signed
status callbacks closing the loop — then the clients answer (STOP, a WhatsApp message) and the
next reminder respects it.

Notifications are written the way the scheduler writes them (``notifications_write`` in a
transaction, queued after commit), and each queued task is run as the worker runs it
(``notification_deliver``). Only the network ends are fake.
"""

from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import reverse

from notifications.models import ChannelConfig, Notification
from notifications.rendering import render_message
from notifications.services import notification_deliver, notifications_enqueue, notifications_write
from tests.factories import PersonFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from tests.notifications.twilio_signing import (
    PUBLIC_BASE_URL,
    inbound_params,
    inbound_path,
    post_signed,
    status_params,
)

pytestmark = pytest.mark.django_db

OUR_NUMBER = "+14155550100"
TWILIO = ("sms", "whatsapp")
TEMPLATE = "HX" + "c3" * 16


@pytest.fixture
def firm(workspace, settings, smtp_server, fake_twilio):
    """An accounting firm (Berlin) with email, SMS and WhatsApp configured, and three clients."""
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    workspace.name = "Ledger & Co"
    workspace.timezone = "Europe/Berlin"
    workspace.save()
    ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None, from_name="Ledger & Co")
    for kind in ("sms", "whatsapp"):
        ChannelConfigFactory(
            workspace=workspace,
            kind=kind,
            webhook_url=None,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=OUR_NUMBER,
            whatsapp_template_sid=TEMPLATE if kind == "whatsapp" else "",
        )
    clients = {
        "email": PersonFactory(workspace=workspace, name="Ana Client", email="ana@client.test"),
        "sms": PersonFactory(workspace=workspace, name="Bo Client", phone="+14155550123"),
        "whatsapp": PersonFactory(workspace=workspace, name="Cy Client", phone="+14155550124"),
    }
    return workspace, clients


def write_deadline_reminder(workspace, clients, *, occurrence: str) -> list:
    """What the scheduler does for one occurrence: render, write the outbox rows, queue after commit."""
    context = {
        "event": {"title": "VAT return", "when": "Friday 27 November, 09:00", "kind": "deadline"},
        "message": "Please send us your receipts by Wednesday.",
    }
    rows = []
    for channel, person in clients.items():
        rendered = render_message(workspace=workspace, reminder_kind="event", channel=channel, context=context)
        rows.append(
            Notification(
                workspace=workspace,
                person=person,
                channel=channel,
                recipient=person.email if channel == "email" else person.phone,
                subject=rendered.subject,
                body=rendered.body,
                idempotency_key=f"e2e:vat:{occurrence}:{channel}:{person.pk}",
            )
        )
    with transaction.atomic():
        ids = notifications_write(notifications=rows)
        notifications_enqueue(notification_ids=ids)
    return ids


def run_queued_tasks(queued) -> list[str]:
    """Runs every queued delivery task the way the worker does; returns the outcomes."""
    tasks = queued()
    assert {name for name, _, _ in tasks} == {"notifications.deliver"}
    return [notification_deliver(notification_id=args[0]) for _, args, _ in tasks]


def twilio_receipt(client, received, notification, status, **more):
    """Twilio posting a status callback to the StatusCallback URL it was given, signed."""
    callback = urlsplit(received.body["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}" == PUBLIC_BASE_URL
    path = f"{callback.path}?{callback.query}"
    return post_signed(client, path, status_params(notification.provider_message_id, status, **more))


def test_deadline_reminder_to_three_clients_with_receipts_and_replies(
    firm, client, auth_client, smtp_server, fake_twilio, queued, django_capture_on_commit_callbacks
):
    """GIVEN a firm with email, SMS and WhatsApp (with an approved template) and a client on each
    WHEN the VAT deadline reminder is written, queued and delivered
    THEN the email reaches the SMTP server and stays `sent`; the SMS (free-form) and the
    WhatsApp message (the template: Cy never wrote to us) reach Twilio, each with our status
    callback URL, and Twilio's signed `sent` → `delivered` receipts make them `delivered`.
    WHEN Bo texts STOP and Cy writes on WhatsApp, and the next reminder goes out
    THEN Bo's SMS is skipped (nothing reaches Twilio), Cy gets free-form text, and the stats say so."""
    workspace, clients = firm

    with django_capture_on_commit_callbacks(execute=True):
        ids = write_deadline_reminder(workspace, clients, occurrence="2026-11-27")
    assert len(ids) == 3
    assert sorted(run_queued_tasks(queued)) == ["sent", "sent", "sent"]

    # Email: Django's SMTP backend to aiosmtpd.
    [email] = smtp_server.messages
    assert email.rcpt_tos == ["ana@client.test"]
    assert "Subject: Reminder: VAT return (Friday 27 November, 09:00)" in email.content.decode()
    # SMS and WhatsApp: the real twilio client to the fake API.
    by_to = {item.body["To"]: item for item in fake_twilio.received}
    sms_request, whatsapp_request = by_to["+14155550123"], by_to["whatsapp:+14155550124"]
    assert sms_request.body["Body"].startswith("⏰ VAT return — Friday 27 November, 09:00")
    assert whatsapp_request.body["ContentSid"] == TEMPLATE
    assert "Body" not in whatsapp_request.body

    rows = {row.channel: row for row in Notification.objects.filter(pk__in=ids)}
    for channel, request in (("sms", sms_request), ("whatsapp", whatsapp_request)):
        row = rows[channel]
        assert request.body["StatusCallback"].endswith(f"?n={row.pk}")
        assert row.provider_message_id.startswith("SM")
        for status in ("sent", "delivered"):
            response = twilio_receipt(client, request, row, status)
            assert response.status_code == 200
    # A late duplicate "sent" receipt changes nothing.
    assert twilio_receipt(client, sms_request, rows["sms"], "sent").json() == {"result": "unchanged"}

    statuses = dict(Notification.objects.filter(pk__in=ids).values_list("channel", "status"))
    assert statuses == {"email": "sent", "sms": "delivered", "whatsapp": "delivered"}
    assert all(
        row.delivered_at is not None for row in Notification.objects.filter(pk__in=ids, channel__in=("sms", "whatsapp"))
    )

    # The clients answer: Bo opts out of SMS, Cy writes on WhatsApp (opening the 24-hour window).
    bo, cy = clients["sms"], clients["whatsapp"]
    sms_channel, whatsapp_channel = (ChannelConfig.objects.get(workspace=bo.workspace, kind=k) for k in TWILIO)
    stop = post_signed(client, inbound_path(sms_channel), inbound_params(from_=bo.phone, to=OUR_NUMBER, body="STOP"))
    assert stop.status_code == 200
    hello = post_signed(
        client,
        inbound_path(whatsapp_channel),
        inbound_params(
            from_=f"whatsapp:{cy.phone}", to=f"whatsapp:{OUR_NUMBER}", body="Thanks, will do!", sid="SM" + "e8" * 16
        ),
    )
    assert hello.status_code == 200
    bo.refresh_from_db()
    assert bo.opted_out_channels == ["sms"]

    fake_twilio.reset()
    with django_capture_on_commit_callbacks(execute=True):
        second = write_deadline_reminder(workspace, clients, occurrence="2026-11-26")
    assert sorted(run_queued_tasks(queued)) == ["sent", "sent", "skipped"]

    [whatsapp_again] = fake_twilio.received  # nothing for Bo
    assert whatsapp_again.body["To"] == f"whatsapp:{cy.phone}"
    assert whatsapp_again.body["Body"].startswith("⏰ VAT return")
    assert "ContentSid" not in whatsapp_again.body
    assert len(smtp_server.messages) == 2
    statuses = dict(Notification.objects.filter(pk__in=second).values_list("channel", "status"))
    assert statuses == {"email": "sent", "sms": "skipped", "whatsapp": "sent"}

    stats = auth_client.get(
        reverse("notification-stats", kwargs={"workspace_id": workspace.pk}), {"group": "channel"}
    ).json()
    channels = {group["key"]: group for group in stats["groups"]}
    assert (channels["email"]["total"], channels["email"]["sent"]) == (2, 2)
    assert (channels["sms"]["delivered"], channels["sms"]["skipped"]) == (1, 1)
    assert (channels["whatsapp"]["delivered"], channels["whatsapp"]["sent"]) == (1, 1)
    assert stats["totals"]["failed"] == 0


def test_the_same_loop_through_a_reminder_and_send_now(
    firm, client, auth_client, smtp_server, fake_twilio, queued, django_capture_on_commit_callbacks
):
    """GIVEN the firm's three clients, each preferring their own channel
    WHEN a one-time deadline reminder to them is created through the API and sent now
    THEN each gets it on their channel (email via SMTP, SMS and the WhatsApp template via the
    twilio client), and Twilio's signed receipts make the SMS and WhatsApp rows `delivered`."""
    workspace, clients = firm
    for channel, person in clients.items():
        person.preferred_channels = [channel]
        if channel != "email":
            person.email = ""
        person.save()
    base = f"/api/v1/workspaces/{workspace.pk}/reminders/"

    created = auth_client.post(
        base,
        {
            "kind": "one_time",
            "at": "2030-11-27T09:00:00+01:00",
            "recipients": [str(person.pk) for person in clients.values()],
            "message_type": "deadline",
            "template": "VAT return due on Friday, {{ person.name }}: please send us your receipts.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    with django_capture_on_commit_callbacks(execute=True):
        sent = auth_client.post(base + f"{created.json()['id']}/send-now")
    assert sent.status_code in (200, 201), sent.content
    assert sorted(run_queued_tasks(queued)) == ["sent", "sent", "sent"]

    rows = {row.channel: row for row in Notification.objects.filter(workspace=workspace)}
    assert set(rows) == {"email", "sms", "whatsapp"}
    assert {row.person_id for row in rows.values()} == {person.pk for person in clients.values()}
    [email] = smtp_server.messages
    assert email.rcpt_tos == ["ana@client.test"]
    by_to = {item.body["To"]: item for item in fake_twilio.received}
    assert "Bo Client" in by_to["+14155550123"].body["Body"]
    assert by_to["whatsapp:+14155550124"].body["ContentSid"] == TEMPLATE

    for channel, to in (("sms", "+14155550123"), ("whatsapp", "whatsapp:+14155550124")):
        assert twilio_receipt(client, by_to[to], rows[channel], "delivered").json() == {"result": "delivered"}
    statuses = dict(Notification.objects.filter(workspace=workspace).values_list("channel", "status"))
    assert statuses == {"email": "sent", "sms": "delivered", "whatsapp": "delivered"}

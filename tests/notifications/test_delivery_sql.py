"""The single-statement claim and record (PostgreSQL) against the portable ORM path they replace.

``NOTIFICATIONS_DELIVERY_SQL=False`` runs the ORM queries SQLite uses, so both paths are
checked here on the same rows: what the claim loads, the state machine's answers, and the
rule that a delivery receipt which settled the row first is kept.
"""

import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.delivery.claim import claim
from notifications.delivery.common import WORKSPACE_FIELDS, Job
from notifications.delivery.outcome import record
from notifications.delivery.sql import sql_connection
from notifications.models import ChannelConfig, DeliveryAttempt, Notification
from notifications.providers import SendResult
from notifications.services import notification_deliver, notifications_deliver_batch
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.factories import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    ChannelConfigFactory,
    NotificationFactory,
)
from tests.notifications.fakes import Reply

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path runs on PostgreSQL only")

SID = "SM" + "ab" * 16


@pytest.fixture(params=["sql", "orm"])
def path(request, settings):
    settings.NOTIFICATIONS_DELIVERY_SQL = request.param == "sql"
    return request.param


@on_postgresql
def test_postgresql_uses_the_single_statements(settings):
    settings.NOTIFICATIONS_DELIVERY_SQL = True
    assert connection.vendor == "postgresql"  # the tests' database: these tests cover the SQL path
    assert sql_connection() is not None
    settings.NOTIFICATIONS_DELIVERY_SQL = False
    assert sql_connection() is None


def _config_values(config: ChannelConfig) -> dict:
    return {field.attname: getattr(config, field.attname) for field in ChannelConfig._meta.concrete_fields}


def _claimed_values(notification: Notification, token: uuid.UUID) -> tuple:
    return (
        *(getattr(notification, field) for field in ("id", "workspace_id", "person_id", "channel", "recipient")),
        *(getattr(notification, field) for field in ("subject", "body", "status", "attempts")),
        notification.retried_after_unknown,
        notification.rate_reserved,
        notification.claim_token == token,
        *(getattr(notification.workspace, field) for field in WORKSPACE_FIELDS),
        notification.person.opted_out_channels if notification.person else None,
    )


@pytest.mark.parametrize("several", [False, True])
def test_the_claim_loads_what_the_orm_loads(settings, several):
    """Every column the send needs, the workspace, the person's opt-outs and the active config
    (secrets decrypted by the field itself): the same values whichever path claimed them."""
    workspace = WorkspaceFactory(sender_name="Front desk", sender_email="desk@example.com")
    person = PersonFactory(workspace=workspace, opted_out_channels=["sms", "email"])
    bot = ChannelConfigFactory(
        workspace=workspace, kind="slack", webhook_url=None, bot_token=BOT_TOKEN, channel_id="C0123456789"
    )
    twilio = ChannelConfigFactory(
        workspace=workspace,
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
        rate_per_second=2.5,
    )
    ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None, active=False)
    rows = [
        NotificationFactory(workspace=workspace, person=person, channel="slack", recipient="C0123456789"),
        NotificationFactory(workspace=workspace, channel="sms", recipient="+14155550123", subject="s", attempts=2),
        NotificationFactory(workspace=workspace, channel="email", recipient="a@example.com", rate_reserved=True),
    ]
    ids = [str(n.pk) for n in rows] if several else [str(rows[0].pk)]
    loaded = {}
    for use_sql in (True, False):
        settings.NOTIFICATIONS_DELIVERY_SQL = use_sql
        Notification.objects.filter(pk__in=ids).update(status="pending", attempts=0)
        token = uuid.uuid4()
        claimed, configs = claim(ids, now=timezone.now(), token=token)
        loaded[use_sql] = (
            sorted(_claimed_values(n, token) for n in claimed),
            {key: _config_values(config) for key, config in configs.items()},
        )

    assert loaded[True] == loaded[False]
    claimed, configs = loaded[True]
    assert len(claimed) == len(ids)
    assert all(row[11] for row in claimed)  # ours: the claim token
    assert configs[(workspace.pk, "slack")] == _config_values(bot)
    assert configs[(workspace.pk, "slack")]["bot_token"] == BOT_TOKEN  # decrypted, not the stored ciphertext
    if several:
        assert configs[(workspace.pk, "sms")] == _config_values(twilio)
        assert configs[(workspace.pk, "sms")]["auth_token"] == AUTH_TOKEN
        assert (workspace.pk, "email") not in configs  # inactive


def test_the_claimed_notification_keeps_working_as_a_model(settings):
    settings.NOTIFICATIONS_DELIVERY_SQL = True
    person = PersonFactory(opted_out_channels=["sms"])
    notification = NotificationFactory(workspace=person.workspace, person=person)
    [claimed], _ = claim([str(notification.pk)], now=timezone.now(), token=uuid.uuid4())

    with CaptureQueriesContext(connection) as queries:
        assert claimed.workspace.name == person.workspace.name
        assert claimed.person.opted_out_channels == ["sms"]
    assert queries.captured_queries == []  # loaded with the claim
    assert claimed.idempotency_key == notification.idempotency_key  # a column not loaded: fetched on access
    assert claimed._state.adding is False


def test_success_and_failure_on_both_paths(path, fake_slack, settings):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    ok, failing = (NotificationFactory(workspace=config.workspace) for _ in range(2))

    assert notification_deliver(notification_id=ok.pk) == "sent"
    fake_slack.script(Reply(404, "channel_not_found"))
    assert notification_deliver(notification_id=failing.pk) == "failed"
    assert notification_deliver(notification_id=ok.pk) == "ignored"

    ok.refresh_from_db()
    failing.refresh_from_db()
    assert (ok.status, ok.attempts, ok.claim_token, ok.rate_reserved) == ("sent", 1, None, False)
    assert ok.sent_at is not None
    assert (failing.status, failing.last_error) == ("failed", "channel_not_found")
    assert sorted(DeliveryAttempt.objects.values_list("outcome", flat=True)) == ["permanent", "success"]


def test_opted_out_and_unconfigured_on_both_paths(path, fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    person = PersonFactory(workspace=config.workspace, opted_out_channels=["slack"])
    skipped = NotificationFactory(workspace=config.workspace, person=person)
    orphan = NotificationFactory(workspace=WorkspaceFactory(), channel="slack")

    assert notification_deliver(notification_id=skipped.pk) == "skipped"
    assert notification_deliver(notification_id=orphan.pk) == "failed"

    orphan.refresh_from_db()
    assert orphan.last_error == "channel_not_configured"
    assert fake_slack.received == []


def test_batch_on_both_paths(path, fake_slack, fake_twilio, settings):
    settings.SLACK_TIMEOUT_SECONDS = 10
    webhooks = [ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + str(i)) for i in range(2)]
    sms_config = ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )
    person = PersonFactory(workspace=webhooks[0].workspace, opted_out_channels=["slack"])
    notifications = [NotificationFactory(workspace=config.workspace) for config in webhooks for _ in range(5)]
    notifications.append(NotificationFactory(workspace=webhooks[0].workspace, person=person))
    notifications.append(NotificationFactory(workspace=sms_config.workspace, channel="sms", recipient="+14155550123"))
    later = NotificationFactory(workspace=webhooks[1].workspace, next_attempt_at=timezone.now() + timedelta(hours=1))
    fake_slack.script(Reply(500, "internal_error"))

    counts = notifications_deliver_batch(notification_ids=[n.pk for n in [*notifications, later]])

    assert counts == {"sent": 10, "retry": 1, "skipped": 1, "not_due": 1}
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert sorted(statuses.values()).count("sent") == 10
    sms_row = Notification.objects.get(channel="sms")
    assert sms_row.provider_message_id.startswith("SM")  # the SID, recorded with the success
    assert DeliveryAttempt.objects.get(notification=sms_row).provider_message_id == sms_row.provider_message_id
    assert statuses[later.pk] == "pending"


@pytest.mark.parametrize("receipt", ["delivered", "failed"])
def test_a_receipt_that_settled_the_row_first_wins_on_both_paths(path, receipt):
    """A worker recording its success after a receipt moved the row on keeps the receipt's status."""
    config = ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )
    token = uuid.uuid4()
    notification = NotificationFactory(
        workspace=config.workspace,
        channel="sms",
        recipient="+14155550123",
        status="sending",
        claim_token=token,
        attempts=1,
    )
    Notification.objects.filter(pk=notification.pk).update(status=receipt, provider_message_id=SID)
    notification.refresh_from_db()
    job = Job(
        notification, None, None, started_at=timezone.now(), result=SendResult(provider_message_id=SID, status_code=201)
    )

    assert record([job], token=token, now=timezone.now()) == {"sent": 1}

    notification.refresh_from_db()
    assert (notification.status, notification.claim_token, notification.provider_message_id) == (receipt, None, SID)
    [attempt] = DeliveryAttempt.objects.filter(notification=notification)
    assert (attempt.outcome, attempt.status_code, attempt.provider_message_id) == ("success", 201, SID)


def test_a_record_for_a_lost_claim_changes_nothing_but_the_attempt(path):
    """Only the token holder settles the row (here the sweeper took the claim away meanwhile)."""
    notification = NotificationFactory(status="pending", claim_token=None, attempts=1)
    job = Job(notification, None, None, started_at=timezone.now(), result=SendResult(status_code=200))

    record([job], token=uuid.uuid4(), now=timezone.now())

    notification.refresh_from_db()
    assert (notification.status, notification.sent_at) == ("pending", None)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_batches_skip_rows_another_worker_is_claiming(fake_slack, settings):
    """A row locked by another transaction (an overlapping batch's claim) is neither waited for
    nor taken: the batch claims the rest and reports it as taken by someone else."""
    settings.NOTIFICATIONS_DELIVERY_SQL = True
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    free, held = (NotificationFactory(workspace=config.workspace) for _ in range(2))
    table = Notification._meta.db_table
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        db = connection.settings_dict
        conninfo = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
        with psycopg.connect(dbname=db["NAME"], **conninfo) as other, other.transaction():
            other.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [held.pk])  # noqa: S608 - test
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        counts = notifications_deliver_batch(notification_ids=[free.pk, held.pk])
    finally:
        release.set()
        holder.join()

    assert counts == {"sent": 1, "ignored": 1}
    assert notifications_deliver_batch(notification_ids=[free.pk, held.pk]) == {"sent": 1, "ignored": 1}
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(fake_slack.received) == 2

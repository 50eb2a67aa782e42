import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone
from encrypted_fields.fields import EncryptedCharField

from notifications.querysets import ChannelConfigQuerySet, NotificationQuerySet
from notifications.validators import MAX_RATE_PER_SECOND, MIN_RATE_PER_SECOND, validate_image_url
from workspaces.models import Channel
from workspaces.querysets import WorkspaceOwnedQuerySet


class DigestLayout(models.TextChoices):
    """How the daily digest appears in a Slack channel."""

    ONE_POST = "one_post", "One post"
    THREADED = "threaded", "A short post with one reply per celebration in its thread"


class ChannelConfig(models.Model):
    """How a workspace reaches one channel: Slack webhook or bot, email sender, Twilio SMS/WhatsApp.

    Secrets are encrypted at rest (Fernet, keys derived from ``SECRET_KEY`` and
    ``FIELD_ENCRYPTION_SALT``), write-only in the API and masked in the admin.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="channel_configs")
    kind = models.CharField(max_length=10, choices=Channel.choices)
    active = models.BooleanField(default=True)
    # Slack: an incoming webhook, or a bot token + channel id (Web API, allows <@U…> mentions).
    webhook_url = EncryptedCharField(max_length=500, null=True, blank=True)
    bot_token = EncryptedCharField(max_length=200, null=True, blank=True)
    channel_id = models.CharField(max_length=40, blank=True)
    # Twilio SMS / WhatsApp.
    account_sid = models.CharField(max_length=64, blank=True)
    auth_token = EncryptedCharField(max_length=200, null=True, blank=True)
    from_number = models.CharField(max_length=40, blank=True)
    messaging_service_sid = models.CharField(max_length=64, blank=True)
    whatsapp_template_sid = models.CharField(max_length=64, blank=True)
    # Email: the platform's SMTP settings with the workspace's sender name.
    from_name = models.CharField(max_length=120, blank=True)
    reply_to = models.EmailField(blank=True)
    rate_per_second = models.FloatField(null=True, blank=True, help_text="Override of the provider's send rate.")
    # Slack only. Threads need the bot (chat.postMessage answers the parent's ``ts``): an incoming
    # webhook answers "ok" and nothing else, so a webhook-only config posts one message whatever this says.
    digest_layout = models.CharField(
        max_length=10,
        choices=DigestLayout.choices,
        default=DigestLayout.ONE_POST,
        help_text=(
            "Slack: the daily digest as one post, or threaded (a short post, one reply per celebration). "
            "Threads need the bot token and channel: with a webhook the digest is always one post."
        ),
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelConfigQuerySet.as_manager()
    # Set by reads that know whether a bot token is stored without decrypting it (``for_routing``).
    bot_token_set: bool | None = None

    class Meta:
        ordering = ("kind",)
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "kind"),
                name="channelconfig_one_per_kind",
                violation_error_message="This workspace already has a channel of this kind.",
            ),
            # The send rate limiter cannot work with other rates (NaN fails this check too).
            models.CheckConstraint(
                condition=Q(rate_per_second__isnull=True)
                | Q(rate_per_second__gte=MIN_RATE_PER_SECOND, rate_per_second__lte=MAX_RATE_PER_SECOND),
                name="channelconfig_rate_in_range",
                violation_error_message="The send rate must be between 0.01 and 100 messages per second.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace.name} · {self.get_kind_display()}"

    def clean(self) -> None:
        from notifications.validators import channel_config_errors

        errors = channel_config_errors(self)
        if errors:
            raise ValidationError(errors)

    @property
    def has_bot(self) -> bool:
        """Whether a bot token is set (Slack direct messages and posts through the Web API).

        Routing asks this rather than the secret: ``for_routing()`` reads it as a flag
        (``bot_token_set``) and leaves the token encrypted in the database."""
        return bool(self.bot_token) if self.bot_token_set is None else self.bot_token_set

    @property
    def digest_threads(self) -> bool:
        """Whether the digest really is threaded: the setting, and a bot that learns the parent's ``ts``."""
        return (
            self.kind == Channel.SLACK
            and self.digest_layout == DigestLayout.THREADED
            and bool(self.has_bot and self.channel_id)
        )


class MessageKind(models.TextChoices):
    """What a message is about: the kinds with a shipped template under ``templates/messages/``."""

    BIRTHDAY_DIGEST = "birthday_digest", "Birthday and anniversary digest"
    PERSONAL_GREETING = "personal_greeting", "Personal greeting"
    MILESTONE = "milestone", "Milestone work anniversary greeting (1, 5, 10 … years)"
    EVENT = "event", "Event reminder"
    ONE_TIME = "one_time", "One-time message"
    RECURRING = "recurring", "Recurring message"
    EVENT_INVITATION = "event_invitation", "Event invitation (with the RSVP link)"
    EVENT_UPDATE = "event_update", "Event changed or cancelled"
    APPOINTMENT = "appointment", "Appointment confirmed, moved or cancelled"


TEMPLATE_BODY_MAX_CHARS = 10_000


class Template(models.Model):
    """A workspace's override of the shipped message template for a reminder kind and channel.

    ``subject`` and ``body`` are Jinja templates rendered in a sandbox; a template that does
    not compile (or fails on sample data) is rejected by ``clean()``, never at send time.

    Each row is one **variant**: a workspace may keep several for a kind and channel, told
    apart by ``label``; together they replace the shipped set, and each occurrence's message
    uses one of them, chosen from its idempotency key (``notifications.variants``). A variant
    is a whole template (validation, preview, admin and API alike), so it is this model with
    a label rather than a second model beside it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="templates")
    reminder_kind = models.CharField(max_length=20, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(max_length=TEMPLATE_BODY_MAX_CHARS)
    label = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="Tells this variant apart from the others of its kind and channel.",
    )
    image_url = models.CharField(
        max_length=500,
        blank=True,
        default="",
        validators=[validate_image_url],
        help_text="Optional https:// picture shown with the message (Slack and email).",
    )
    image_alt = models.CharField(
        max_length=200, blank=True, default="", help_text="What the picture shows, for screen readers (email)."
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("reminder_kind", "channel", "created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "reminder_kind", "channel", "label"),
                name="template_variant_label_unique",
                violation_error_message="This workspace already has a variant with this label for this template.",
            ),
        ]

    def __str__(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"{self.reminder_kind}/{self.channel}{label} for {self.workspace_id}"

    def clean(self) -> None:
        from notifications.rendering import template_errors

        errors = template_errors(
            reminder_kind=self.reminder_kind, channel=self.channel, subject=self.subject, body=self.body
        )
        if errors:
            raise ValidationError(errors)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    UNKNOWN = "unknown", "Outcome unknown"


class Notification(models.Model):
    """One message to one destination (the outbox row).

    ``idempotency_key`` (reminder, occurrence, channel, recipient) is unique: running the
    same occurrence again creates nothing. Status moves pending → sending → sent (→
    delivered) or back to pending (retry), failed, skipped or unknown, each move a
    conditional UPDATE (see ``notifications/delivery/``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: ``notification_ws_created_idx`` (workspace, -created_at) leads with it.
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    reminder = models.ForeignKey(
        "reminders.Reminder", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    person = models.ForeignKey(
        "workspaces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=320, help_text="Email, phone, Slack channel or 'webhook'.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    occurrence_date = models.DateField(null=True, blank=True, help_text="Local date of the occurrence.")
    # Email only: an iCalendar object (RFC 5545, with its METHOD) attached as ``text/calendar`` —
    # an invitation or its update (REQUEST) or a cancellation (CANCEL), written with the text.
    calendar = models.TextField(blank=True, default="")
    # The person's links this message carries (also in the text): email turns them into
    # ``List-Unsubscribe`` headers and RSVP buttons.
    preferences_url = models.CharField(max_length=500, blank=True, default="")
    rsvp_url = models.CharField(max_length=500, blank=True, default="")
    # Slack only: Block Kit blocks posted with ``body`` (which stays the plain-text fallback that
    # notifications and screen readers use), built when the message is planned, like the text.
    blocks = models.JSONField(null=True, blank=True, editable=False)
    # A message about a celebration being prepared (an advance alert) is hidden from the person it
    # is about until ``secret_until`` (the end of the celebration's day): the history shown to a
    # workspace's admins leaves it out for them (``NotificationQuerySet.visible_to``).
    about_person = models.ForeignKey(
        "workspaces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    secret_until = models.DateTimeField(null=True, blank=True)
    # A reply in the thread of another notification (by its idempotency key, so a rerun that
    # plans the parent again still names the row that was written). Delivered only once the
    # parent is settled; see ``notifications/threads.py``.
    thread_parent = models.ForeignKey(
        "self",
        to_field="idempotency_key",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thread_replies",
        db_index=False,  # ``notification_thread_parent_idx``: replies only
        help_text="Posted in the Slack thread of this notification, once it is sent.",
    )
    # The chosen variant's picture, fixed when the message is written (Slack and email show it).
    image_url = models.CharField(max_length=500, blank=True, default="")
    image_alt = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    next_attempt_at = models.DateTimeField(default=dj_timezone.now)
    # Set by the worker that moved the row to ``sending``; only that worker may finish the attempt.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    # A Slack/email send whose outcome was unknown is retried once; this marks that the retry was used.
    retried_after_unknown = models.BooleanField(default=False, editable=False)
    # The rate limiter reserved a send slot for the next attempt: it goes without asking again.
    rate_reserved = models.BooleanField(default=False, editable=False)
    resent_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resends",
        help_text="The failed notification this one resends.",
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(default=dj_timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("workspace", "-created_at"), name="notification_ws_created_idx"),
            models.Index(
                fields=("next_attempt_at",),
                condition=Q(status__in=("pending", "sending")),
                name="notification_open_idx",
            ),
            # A parent's waiting replies (released by its outcome): only replies are indexed.
            models.Index(
                fields=("thread_parent",),
                condition=Q(thread_parent__isnull=False),
                name="notification_thread_parent_idx",
            ),
            # Failure reasons of a workspace's range (stats): failures are few, so is this index.
            models.Index(
                fields=("workspace", "created_at"),
                condition=Q(status="failed"),
                name="notification_ws_failed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at handing a notification to its provider."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        TRANSIENT = "transient", "Transient failure (retried)"
        PERMANENT = "permanent", "Permanent failure"
        UNKNOWN = "unknown", "Outcome unknown (timeout or crash)"

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=dj_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ("notification", "number")
        constraints = [
            models.UniqueConstraint(fields=("notification", "number"), name="attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.notification_id}: {self.outcome or 'running'}"


class InboundContact(models.Model):
    """The last message a phone sent to one of our Twilio senders (SMS or WhatsApp).

    One row per (channel, phone, our number, Twilio account), moved forward by each
    inbound message: WhatsApp allows free-form messages only within 24 hours of the
    person's last message (the "session window"), so delivery looks here before choosing
    between free-form text and the channel's approved template. ``last_keyword`` keeps the
    last opt-out/opt-in keyword seen, for support questions ("why did they stop getting texts?").
    """

    class Keyword(models.TextChoices):
        NONE = "", "None"
        STOP = "stop", "Opt-out (STOP …)"
        START = "start", "Opt-in (START …)"

    id = models.BigAutoField(primary_key=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    phone = models.CharField(max_length=20, help_text="The sender's number (E.164).")
    to_number = models.CharField(max_length=40, help_text="Our number the message was sent to (E.164).")
    messaging_service_sid = models.CharField(max_length=64, blank=True)
    account_sid = models.CharField(max_length=64)
    last_inbound_at = models.DateTimeField()
    last_message_sid = models.CharField(max_length=64, blank=True)
    last_keyword = models.CharField(max_length=5, choices=Keyword.choices, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ("-last_inbound_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("channel", "phone", "to_number", "account_sid"), name="inboundcontact_one_per_sender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.phone} → {self.to_number} at {self.last_inbound_at:%Y-%m-%d %H:%M}"


class TwilioCallback(models.Model):
    """What Twilio has told us about one message (``MessageSid``), so a replayed callback acts once.

    Twilio's signature covers the URL and the form, not a time: a captured request stays valid
    forever. An inbound message is acted on the first time its SID arrives; a status callback
    only when its status ranks above the last one applied for that SID (queued < sending <
    sent < delivered/undelivered/failed < read), so replays and late, out-of-order receipts
    change nothing.
    """

    class Kind(models.TextChoices):
        STATUS = "status", "Status callback"
        INBOUND = "inbound", "Inbound message"

    message_sid = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=7, choices=Kind.choices)
    status = models.CharField(max_length=20, blank=True)
    rank = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        indexes = [models.Index(fields=("created_at",), name="twiliocallback_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_sid} ({self.status or 'received'})"

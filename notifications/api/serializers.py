from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from birthdaybuddy.api.fields import StrictBooleanField
from notifications import conf
from notifications.models import (
    ChannelConfig,
    DeliveryAttempt,
    DigestLayout,
    MessageKind,
    Notification,
    NotificationStatus,
    Template,
)
from notifications.validators import validate_image_url
from workspaces.models import Channel

MASK = "••••"


def mask_secret(value: str | None) -> str | None:
    """``••••abcd``: enough to recognise a secret, never enough to use it."""
    if not value:
        return None
    return MASK + value[-4:] if len(value) >= 12 else MASK


def mask_webhook_url(value: str | None) -> str | None:
    """``https://hooks.slack.com/••••abcd``: the host shows where it points, the path stays secret."""
    if not value:
        return None
    scheme, _, rest = value.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{mask_secret(value)}"


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(**kwargs):
    return StrictCharField(required=False, allow_blank=True, **kwargs)


def _secret(max_length: int, help_text: str):
    return StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        max_length=max_length,
        trim_whitespace=True,
        help_text=help_text + " Write-only; send null or an empty string to clear it, omit it to keep it.",
        style={"input_type": "password"},
    )


TWILIO_KINDS = (Channel.SMS, Channel.WHATSAPP)


class ChannelConfigSerializer(serializers.Serializer):
    """A channel config. Secrets are write-only and come back masked (``…_masked``)."""

    id = serializers.UUIDField(read_only=True)
    kind = serializers.ChoiceField(
        choices=Channel.choices,
        help_text="slack | email | sms | whatsapp | teams (Microsoft Teams) | gchat (Google Chat)",
    )
    active = StrictBooleanField(required=False, default=True)
    webhook_url = _secret(
        500,
        "Incoming webhook URL. Slack: must start with an allowed prefix. Teams: https://….webhook.office.com/"
        "webhookb2/… or a Workflows URL (….logic.azure.com/workflows/…, "
        "….environment.api.powerplatform.com/powerautomate/…). Google Chat: "
        "https://chat.googleapis.com/v1/spaces/<space>/messages?key=…&token=….",
    )
    bot_token = _secret(200, "Slack bot token (xoxb-…), used with channel_id.")
    channel_id = _text(max_length=40, help_text="Slack channel id for the bot, e.g. C0123456789.")
    account_sid = _text(max_length=64, help_text="Twilio account SID (AC…).")
    auth_token = _secret(200, "Twilio auth token.")
    from_number = _text(max_length=40, help_text="Sender number in E.164 (SMS/WhatsApp).")
    messaging_service_sid = _text(
        max_length=64, help_text="Twilio messaging service SID (MG…), instead of from_number."
    )
    whatsapp_template_sid = _text(max_length=64, help_text="Approved WhatsApp template content SID (HX…).")
    from_name = _text(max_length=120, help_text="Email sender name (default: the workspace's).")
    reply_to = _text(max_length=254, help_text="Email reply-to address.")
    rate_per_second = serializers.FloatField(
        required=False, allow_null=True, help_text="Send rate override for this destination (messages per second)."
    )
    digest_layout = serializers.ChoiceField(
        choices=DigestLayout.choices,
        required=False,
        help_text=(
            "Slack: the daily digest as `one_post` (default) or `threaded` (a short post such as "
            '"3 celebrations today" and one reply per celebration in its thread). Threads need '
            "`bot_token` + `channel_id`: with a webhook the digest is one post whatever this says "
            "(see `digest_threads`). Other kinds: `one_post` only."
        ),
    )
    digest_threads = serializers.SerializerMethodField(
        help_text="Whether the digest really goes out threaded: `threaded` and a bot (a webhook cannot thread)."
    )
    webhook_url_masked = serializers.SerializerMethodField()
    bot_token_masked = serializers.SerializerMethodField()
    auth_token_masked = serializers.SerializerMethodField()
    inbound_webhook_url = serializers.SerializerMethodField(
        help_text="SMS/WhatsApp: set it as the incoming-message webhook of the number or messaging service."
    )
    status_callback_url = serializers.SerializerMethodField(
        help_text="SMS/WhatsApp: where Twilio posts this channel's delivery receipts (sent with each message)."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(serializers.BooleanField())
    def get_digest_threads(self, obj: ChannelConfig) -> bool:
        return obj.digest_threads

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_webhook_url_masked(self, obj: ChannelConfig) -> str | None:
        return mask_webhook_url(obj.webhook_url)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_bot_token_masked(self, obj: ChannelConfig) -> str | None:
        return mask_secret(obj.bot_token)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_auth_token_masked(self, obj: ChannelConfig) -> str | None:
        return mask_secret(obj.auth_token)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_inbound_webhook_url(self, obj: ChannelConfig) -> str | None:
        return conf.twilio_inbound_webhook_url(obj.pk) if obj.kind in TWILIO_KINDS else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_status_callback_url(self, obj: ChannelConfig) -> str | None:
        return (conf.twilio_status_callback_url(obj.pk) or None) if obj.kind in TWILIO_KINDS else None


class ChannelTestRequestSerializer(serializers.Serializer):
    recipient = _text(
        max_length=320,
        help_text="Email address or E.164 number to send the test to (default: yours). Ignored for Slack.",
    )


class ChannelTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Whether the provider accepted the message.")
    outcome = serializers.ChoiceField(
        choices=["sent", "transient", "permanent", "unknown"],
        help_text="sent; or how it failed: transient (try later), permanent, unknown (may have been sent).",
    )
    provider = serializers.CharField(help_text="slack_webhook, slack_bot, email, twilio_sms, twilio_whatsapp, console.")
    recipient = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The provider's HTTP (or SMTP) status.")
    provider_message_id = serializers.CharField(allow_blank=True)
    detail = serializers.CharField(allow_blank=True, help_text="The provider's answer or error.")


class TemplateSerializer(serializers.ModelSerializer):
    reminder_kind = serializers.ChoiceField(choices=MessageKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = StrictCharField(required=False, allow_blank=True, max_length=200, help_text="Email subject template.")
    body = StrictCharField(max_length=10_000, trim_whitespace=False, help_text="Jinja template (sandboxed).")
    # Shadows ``Field.label`` for the type checker only: the metaclass moves declared fields off the class.
    label = StrictCharField(  # type: ignore[assignment]
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Tells this variant apart from the workspace's others of this kind and channel (unique among them).",
    )
    image_url = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        validators=[validate_image_url],
        help_text="Optional https:// picture shown with this variant (Slack: an image attachment; email: in the "
        "HTML part). http, javascript: and data: addresses are refused. SMS and WhatsApp send the text only.",
    )
    image_alt = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="What the picture shows (email alt text)."
    )

    class Meta:
        model = Template
        fields = (
            "id",
            "reminder_kind",
            "channel",
            "label",
            "subject",
            "body",
            "image_url",
            "image_alt",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")


class TemplatePreviewRequestSerializer(serializers.Serializer):
    reminder_kind = serializers.ChoiceField(choices=MessageKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = StrictCharField(required=False, allow_blank=True, max_length=200)
    body = StrictCharField(
        required=False,
        max_length=10_000,
        trim_whitespace=False,
        help_text="A template to try (not saved); omit it to preview the workspace's current template.",
    )


class TemplatePreviewVariantSerializer(serializers.Serializer):
    # ``label`` and ``source`` shadow ``Field``'s attributes for the type checker only (as in TemplateSerializer).
    label = serializers.CharField(  # type: ignore[assignment]
        allow_blank=True,
        help_text="The workspace variant's label (may be blank); `shipped 1`, `shipped 2` … for the shipped "
        "variants; `draft` for a draft.",
    )
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["workspace", "shipped", "draft"],
        help_text="A variant of the workspace (`Template`), a shipped one, or the draft sent with the request.",
    )
    id = serializers.UUIDField(allow_null=True, help_text="The workspace variant's id; null for shipped and drafts.")
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    image_url = serializers.CharField(allow_blank=True, help_text="The variant's picture, if it has one.")
    image_alt = serializers.CharField(allow_blank=True)


class TemplatePreviewSerializer(serializers.Serializer):
    subject = serializers.CharField(
        allow_blank=True, help_text="The first variant's subject (the same as `variants[0]`)."
    )
    body = serializers.CharField(allow_blank=True, help_text="The first variant's body (the same as `variants[0]`).")
    variants = TemplatePreviewVariantSerializer(
        many=True,
        help_text="Every variant a message of this kind and channel may use, in the order messages choose among "
        "them: the workspace's own, else the shipped ones (a draft alone).",
    )


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("number", "started_at", "finished_at", "outcome", "status_code", "error", "provider_message_id")


class NotificationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=NotificationStatus.choices, read_only=True)
    delivery_attempts = DeliveryAttemptSerializer(many=True, read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = (
            "id",
            "channel",
            "recipient",
            "subject",
            "body",
            "status",
            "attempts",
            "last_error",
            "provider_message_id",
            "occurrence_date",
            "reminder",
            "person",
            "person_name",
            "resent_from",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "sent_at",
            "delivered_at",
            "delivery_attempts",
        )
        read_only_fields = fields

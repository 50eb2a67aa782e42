"""Channels in the admin: the form (secrets write-only, only the kind's fields, saved through the
channel services) and the channel test, with its answer in words a support person understands."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path

from audit.names import ADMIN_ORIGIN
from birthdaybuddy.admin_tools import WorkspaceColumns
from birthdaybuddy.errors import ApplicationError
from notifications import services
from notifications.api.serializers import mask_secret, mask_webhook_url
from notifications.channel_test import ChannelTestResult
from notifications.models import ChannelConfig, DigestLayout

PROVIDERS = {
    "slack_webhook": "Slack",
    "slack_bot": "Slack",
    "teams_webhook": "Microsoft Teams",
    "google_chat_webhook": "Google Chat",
    "twilio_sms": "Twilio",
    "twilio_whatsapp": "Twilio (WhatsApp)",
    "email": "The mail server",
    "console": "The outbox (no provider is configured, so nothing left this server)",
}

# The provider's own word for a refusal → what it means and what to do.
REASONS = {
    "channel_not_configured": "the channel is missing its credentials; fill them in and save",
    "channel_not_found": "Slack does not know this channel id; check the channel id and that the bot is in it",
    "not_in_channel": "the Slack bot is not a member of the channel; invite it with /invite",
    "is_archived": "the Slack channel is archived",
    "invalid_auth": "Slack rejected the bot token; paste a fresh one",
    "token_revoked": "the Slack bot token was revoked; paste a fresh one",
    "account_inactive": "the Slack bot token belongs to a deactivated app or user",
    "no_service": "the Slack webhook URL no longer exists; create a new incoming webhook",
    "invalid_token": "the Slack webhook URL is not valid; create a new incoming webhook",
    "channel_is_archived": "the Slack channel behind the webhook is archived",
    "webhook_url_not_allowed": "the webhook URL is not an allowed address for this kind of channel",
    "webhook_not_found": "the webhook no longer exists (deleted, or its workflow turned off); create a new one",
    "webhook_forbidden": "the webhook refused our request (its key or token, or it was removed); create a new one",
    "invalid_payload": "the service refused the message's format",
    "message_too_long": "the message is longer than the service takes",
    "redirect_refused": "the webhook answered with a redirect, which is never followed; check the URL",
    "authentication_failed": "Twilio rejected the account SID or auth token",
    "not_found": "Twilio does not know this account or sender",
    "invalid_to_number": "the phone number is not valid",
    "region_not_enabled": "sending to this country is not enabled in the Twilio account",
    "from_number_not_sms_capable": "the sending number cannot send SMS",
    "unverified_number_on_trial_account": "a Twilio trial account can only send to verified numbers",
    "recipient_unsubscribed": "the recipient replied STOP to this sender and must send START first",
    "unreachable_to_number": "the phone number cannot be reached",
    "not_a_mobile_number": "the number is not a mobile number",
    "from_number_not_owned": "the sending number does not belong to this Twilio account",
    "whatsapp_sender_not_found": "the WhatsApp sender is not set up in Twilio",
    "outside_whatsapp_session_window": "WhatsApp allows free text only within 24 hours of the person's last message",
    "whatsapp_session_closed": (
        "WhatsApp allows free text only within 24 hours of the person's last message; set a template SID"
    ),
    "rate_limited": "the provider is limiting how fast we send",
    "ratelimited": "the provider is limiting how fast we send",
}


def _reason_in_words(reason: str) -> str:
    word = reason.split(":", 1)[0].split(" (", 1)[0].strip()
    explained = REASONS.get(word)
    if explained is None:
        return f"it answered: {reason}" if reason else "it gave no reason"
    return explained if word == reason else f"{explained} (it answered: {reason})"


def describe_test_result(result: ChannelTestResult) -> str:
    """One or two sentences: sent or not, by whom, why, and what to do next."""
    provider = PROVIDERS.get(result.provider, "The provider")
    to = f" to {result.recipient}" if result.recipient else ""
    if result.ok:
        reference = f" Its reference: {result.provider_message_id}." if result.provider_message_id else ""
        return f"Sent. {provider} accepted the test message{to}.{reference}"
    if result.outcome == "transient":
        return (
            f"Not sent{to}: {provider} could not take it right now; {_reason_in_words(result.detail)}. "
            "This usually passes: try again in a few minutes."
        )
    if result.outcome == "unknown":
        return (
            f"Unclear{to}: {provider} did not answer in time ({result.detail or 'no answer'}). "
            "The message may still arrive; check before trying again."
        )
    return f"Not sent{to}: {provider} refused it: {_reason_in_words(result.detail)}."


SECRET_FIELDS = ("webhook_url", "bot_token", "auth_token")


KIND_FIELDS = {
    "slack": ("webhook_url", "bot_token", "channel_id", "digest_layout"),
    "email": ("from_name", "reply_to"),
    "sms": ("account_sid", "auth_token", "from_number", "messaging_service_sid"),
    "whatsapp": ("account_sid", "auth_token", "from_number", "messaging_service_sid", "whatsapp_template_sid"),
    "teams": ("webhook_url",),
    "gchat": ("webhook_url",),
}
KIND_SECTIONS = {
    "slack": "Slack",
    "email": "Email",
    "sms": "Twilio SMS",
    "whatsapp": "Twilio WhatsApp",
    "teams": "Microsoft Teams (incoming webhook or Workflows webhook URL)",
    "gchat": "Google Chat (the space's incoming webhook URL)",
}
# Kinds that post to their own channel or space: the test message needs no recipient.
NO_RECIPIENT_KINDS = frozenset({"slack", "teams", "gchat"})
SECRET_MASKS = {"webhook_url": mask_webhook_url, "bot_token": mask_secret, "auth_token": mask_secret}


class ChannelConfigForm(forms.ModelForm):
    """Secrets are write-only: the inputs start empty, an empty input keeps the stored value, and the
    stored value is shown once, masked, in the field's help. Saved through the channel services, so
    the admin accepts exactly what the API accepts."""

    clear_secrets = forms.BooleanField(required=False, help_text="Remove the stored secrets of this channel.")

    class Meta:
        model = ChannelConfig
        fields = ("workspace", "kind", "active", "rate_per_second", *dict.fromkeys(sum(KIND_FIELDS.values(), ())))
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "digest_layout" in self.fields:
            self.fields["digest_layout"].required = False  # not sent: one post, as in the API
        stored = None if self.instance._state.adding else self.instance
        for name in SECRET_FIELDS:
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.required = False
            masked = SECRET_MASKS[name](getattr(stored, name, None)) if stored else ""
            field.help_text = (
                f"Stored: {masked}. Write-only: leave empty to keep it, type a new value to replace it."
                if masked
                else "Write-only: it is never shown again after saving."
            )
            self.initial[name] = ""

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding:
            cleaned["kind"] = self.instance.kind  # a channel's kind cannot change (as in the API)
        if "digest_layout" in self.fields and not cleaned.get("digest_layout"):
            cleaned["digest_layout"] = self.instance.digest_layout or DigestLayout.ONE_POST
        for name in SECRET_FIELDS:
            if self.cleaned_data.get("clear_secrets"):
                cleaned[name] = None
            elif not cleaned.get(name) and not self.instance._state.adding:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def _post_clean(self):
        """Saves through the channel services (inside the admin's transaction): their validation, the
        API's, decides; what they refuse comes back as the form's field errors and nothing is written."""
        if self.errors:
            return
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data.pop("workspace", None)
        try:
            if not self.instance._state.adding:
                data.pop("kind", None)
                self.instance = services.channel_config_update(config=self.instance, **data)
            else:
                self.instance = services.channel_config_create(workspace=self.cleaned_data["workspace"], **data)
        except ValidationError as exc:
            self._update_errors(exc)

    def save(self, commit=True):
        return self.instance  # saved by ``_post_clean`` through the services

    def save_m2m(self):
        pass


class ChannelTestForm(forms.Form):
    recipient = forms.CharField(
        required=False,
        max_length=254,
        label="Send the test to",
        help_text="An email address for email; a phone number in international format (+49…) for SMS/WhatsApp. "
        "Empty: your own.",
    )


@admin.register(ChannelConfig)
class ChannelConfigAdmin(WorkspaceColumns, admin.ModelAdmin):
    form = ChannelConfigForm
    change_form_template = "admin/notifications/channelconfig/change_form.html"
    list_display = ("__str__", "workspace_name", "kind", "active", "destination", "secret_masked", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("workspace__name", "workspace__slug", "channel_id", "from_number")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("send_test_message",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "workspace", "kind") if obj is not None else self.readonly_fields

    def _kind(self, request, obj) -> str | None:
        if obj is not None:
            return obj.kind
        kind = request.POST.get("kind") or request.GET.get("kind")
        return kind if kind in KIND_FIELDS else None

    def get_fieldsets(self, request, obj=None):
        kind = self._kind(request, obj)
        kinds = [kind] if kind else list(KIND_FIELDS)
        fieldsets = [(None, {"fields": ("workspace", "kind", "active", "rate_per_second")})]
        for name in kinds:
            classes = () if kind else ("bb-kind-fields", f"bb-kind-{name}")
            fieldsets.append((KIND_SECTIONS[name], {"fields": KIND_FIELDS[name], "classes": classes}))
        if obj is not None and any(getattr(obj, name) for name in SECRET_FIELDS if name in KIND_FIELDS[obj.kind]):
            fieldsets.append(("Secrets", {"fields": ("clear_secrets",)}))
        if obj is not None:
            fieldsets.append(("Timestamps", {"fields": ("created_at", "updated_at")}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if kwargs.get("fields") is None:
            kind = self._kind(request, obj)
            names = ["workspace", "kind", "active", "rate_per_second"]
            names += list(KIND_FIELDS[kind]) if kind else list(dict.fromkeys(sum(KIND_FIELDS.values(), ())))
            if obj is not None:
                names += ["clear_secrets"]
            kwargs["fields"] = [n for n in names if n not in self.get_readonly_fields(request, obj)]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        """The form saved it through the channel services already."""

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="notifications_channelconfig_send_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        config = self.get_object(request, object_id)
        extra = {}
        if config is not None:
            extra = {
                "test_form": ChannelTestForm(),
                "needs_recipient": config.kind not in NO_RECIPIENT_KINDS,
                "can_test": self.has_change_permission(request, config),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def send_test_view(self, request, pk):
        if request.method != "POST":
            raise PermissionDenied
        config = ChannelConfig.objects.select_related("workspace").filter(pk=pk).first()
        if config is None:
            raise Http404("No such channel.")
        if not self.has_change_permission(request, config):
            raise PermissionDenied
        form = ChannelTestForm(request.POST)
        recipient = None
        if form.is_valid() and config.kind not in NO_RECIPIENT_KINDS:
            recipient = form.cleaned_data["recipient"].strip() or None
        report_test(self, request, config, recipient=recipient)
        return redirect("admin:notifications_channelconfig_change", config.pk)

    @admin.display(description="Secret")
    def secret_masked(self, obj):
        return mask_webhook_url(obj.webhook_url) or mask_secret(obj.bot_token or obj.auth_token) or "—"

    @admin.display(description="Destination")
    def destination(self, obj):
        return obj.channel_id or obj.from_number or obj.messaging_service_sid or obj.from_name or "—"

    @admin.action(
        description="Send a test message (team chats: their channel; email/SMS/WhatsApp: your address or phone)"
    )
    def send_test_message(self, request, queryset):
        for config in queryset.select_related("workspace"):
            report_test(self, request, config, recipient=None)


def report_test(model_admin, request, config, *, recipient):
    try:
        result = services.channel_config_send_test(
            config=config, recipient=recipient, user=request.user, origin=ADMIN_ORIGIN
        )
    except ApplicationError as exc:
        model_admin.message_user(request, f"{config}: {exc.message}", messages.WARNING)
        return
    except ValidationError as exc:  # the recipient: not an address or number we may test with
        model_admin.message_user(request, f"{config}: not sent. {' '.join(exc.messages)}", messages.ERROR)
        return
    level = messages.SUCCESS if result.ok else messages.ERROR
    model_admin.message_user(request, f"{config}: {describe_test_result(result)}", level)

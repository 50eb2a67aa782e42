"""Twilio's webhooks: delivery receipts and inbound messages (``/api/v1/hooks/twilio/…``).

Public (no JWT): Twilio authenticates each request by ``X-Twilio-Signature``, an HMAC of
the exact URL it called and the form parameters, keyed with the account's auth token.
That URL is ``PUBLIC_BASE_URL`` + the request's path and query when the setting is set
(it must be behind a proxy or load balancer that changes scheme, host or port), else the
URL the request itself names (``build_absolute_uri``: ``X-Forwarded-Proto`` is honoured
through ``SECURE_PROXY_SSL_HEADER``). A missing or wrong signature gets 403 and nothing
is written.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.twiml.messaging_response import MessagingResponse

from birthdaybuddy.api.throttling import AnonRateThrottle
from notifications import conf, twilio_hooks, twilio_signatures
from notifications.api.views import ErrorSerializer

PUBLIC = "**Permissions:** Public (Twilio-signed). A missing or invalid `X-Twilio-Signature` gets 403."
TAGS = ["hooks"]


class TwilioHookThrottle(AnonRateThrottle):
    scope = "twilio_hook"

    def get_rate(self):
        return conf.twilio_hook_throttle_rate()


class FirstRendererNegotiation(DefaultContentNegotiation):
    """Twilio's ``Accept`` header decides nothing: the answer is JSON (or TwiML) whatever it asks for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class InvalidCharacters(exceptions.ValidationError):
    default_detail = "A form field holds a NUL character."
    default_code = "invalid_characters"


class InvalidSignature(exceptions.PermissionDenied):
    default_detail = "The request is not signed by Twilio (X-Twilio-Signature missing or invalid)."
    default_code = "invalid_signature"


def public_url(request) -> str:
    """The URL Twilio called, as it signed it."""
    base = conf.public_base_url()
    return base + request.get_full_path() if base else request.build_absolute_uri()


class HookMoved(exceptions.APIException):
    status_code = 410
    default_detail = (
        "This shared inbound URL serves the platform's own Twilio account only: set each number's "
        "(or messaging service's) incoming-message "
        "webhook to its channel's own URL, `inbound_webhook_url` in the channel's API answer."
    )
    default_code = "hook_moved"


class TwilioHookView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (FormParser,)
    throttle_classes = (TwilioHookThrottle,)
    content_negotiation_class = FirstRendererNegotiation

    def form(self, request):
        """The form parameters; 403 without a signature, 400 for NUL characters, before anything is read."""
        if not request.headers.get("X-Twilio-Signature", ""):
            raise InvalidSignature
        params = request.data
        bad = sorted(key for key, value in params.lists() if "\x00" in key or any("\x00" in item for item in value))
        if bad:
            raise InvalidCharacters(
                {name.replace("\x00", "\\x00"): ["NUL characters are not allowed."] for name in bad}
            )
        return params

    def signed(self, request, **kwargs) -> tuple[twilio_signatures.TwilioScope, object]:
        """The signed form parameters and the one channel they may touch; 403 before anything is written."""
        params = self.form(request)
        signature = request.headers["X-Twilio-Signature"]
        if "channel_id" in kwargs:
            scope = twilio_signatures.channel_signature_scope(
                channel_id=kwargs["channel_id"], url=public_url(request), params=params, signature=signature
            )
        else:
            scope = twilio_signatures.status_signature_scope(
                url=public_url(request),
                params=params,
                signature=signature,
                notification_hint=str(request.query_params.get("n", "")),
            )
        if scope is None:
            raise InvalidSignature
        return scope, params


SIGNATURE_HEADER = OpenApiParameter(
    "X-Twilio-Signature",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Twilio's HMAC-SHA1 signature of the URL and the form parameters (base64).",
)


class TwilioStatusCallbackSerializer(serializers.Serializer):
    """The fields of Twilio's message status callback that we read (it sends more; all are signed)."""

    AccountSid = serializers.CharField()  # Twilio's parameter names
    MessageSid = serializers.CharField()
    MessageStatus = serializers.CharField(help_text="queued, sent, delivered, read, undelivered, failed, canceled …")
    ErrorCode = serializers.CharField(required=False)
    ErrorMessage = serializers.CharField(required=False)


class TwilioStatusResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=("delivered", "failed", "sent", "unchanged", "unknown_sid", "ignored"),
        help_text="What the receipt did to its notification (for logs; Twilio ignores the body).",
    )


class TwilioInboundSerializer(serializers.Serializer):
    """The fields of Twilio's incoming-message webhook that we read."""

    AccountSid = serializers.CharField()
    MessageSid = serializers.CharField()
    From = serializers.CharField(help_text="E.164 number, or `whatsapp:+…` for WhatsApp.")
    To = serializers.CharField(help_text="Our number, or `whatsapp:+…`.")
    Body = serializers.CharField(required=False, allow_blank=True)
    MessagingServiceSid = serializers.CharField(required=False)
    OptOutType = serializers.CharField(required=False, help_text="STOP/START/HELP (Advanced Opt-Out).")


FORM = "application/x-www-form-urlencoded"


STATUS_DESCRIPTION = (
    "Twilio posts each message's progress here: the `StatusCallback` we send with every SMS/WhatsApp message "
    "when `PUBLIC_BASE_URL` is set (the optional `n` query parameter is our notification id). "
    "`delivered`/`read` → the notification becomes `delivered`; `undelivered`/`failed` → `failed` with the "
    "error code in `last_error`; `queued`/`sent` only settle an `unknown` one as `sent`. A delivered "
    "notification never goes back; a status that does not come after the last one applied for its message "
    "SID (a replay) changes nothing; an unknown message SID is ignored (200, so Twilio stops retrying)."
)
HOOK_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A form field holds a NUL character: nothing was written."),
    403: OpenApiResponse(ErrorSerializer, description="Missing or invalid signature: nothing was written."),
}
HINT = OpenApiParameter("n", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Our notification id.")


def _status(request, scope, params) -> Response:
    result = twilio_hooks.twilio_status_apply(
        scope=scope, params=params, notification_hint=str(request.query_params.get("n", ""))
    )
    return Response({"result": result})


class TwilioChannelStatusHookView(TwilioHookView):
    @extend_schema(
        tags=TAGS,
        summary="Twilio message status callback (one channel)",
        operation_id="hooks_twilio_channel_status",
        description=(
            f"{STATUS_DESCRIPTION} The signature is checked against this channel's auth token only, and the "
            f"receipt can touch only this channel's messages. {PUBLIC}"
        ),
        auth=[],
        parameters=[SIGNATURE_HEADER, HINT],
        request={FORM: TwilioStatusCallbackSerializer},
        responses={200: TwilioStatusResultSerializer, **HOOK_ERRORS},
    )
    def post(self, request, *args, **kwargs):
        scope, params = self.signed(request, channel_id=kwargs["channel_id"])
        return _status(request, scope, params)


class TwilioStatusHookView(TwilioHookView):
    @extend_schema(
        tags=TAGS,
        summary="Twilio message status callback (shared URL of earlier releases)",
        operation_id="hooks_twilio_status",
        description=(
            f"{STATUS_DESCRIPTION} Kept for messages sent before per-channel URLs: the notification named by "
            f"`n` (or, without it, the only notification with the message SID) names the one channel whose "
            f"token is checked. {PUBLIC}"
        ),
        auth=[],
        parameters=[SIGNATURE_HEADER, HINT],
        request={FORM: TwilioStatusCallbackSerializer},
        responses={200: TwilioStatusResultSerializer, **HOOK_ERRORS},
    )
    def post(self, request, *args, **kwargs):
        scope, params = self.signed(request)
        return _status(request, scope, params)


class TwilioChannelInboundHookView(TwilioHookView):
    @extend_schema(
        tags=TAGS,
        summary="Twilio incoming message (one channel)",
        operation_id="hooks_twilio_channel_inbound",
        description=(
            "Set it as the incoming-message webhook of the channel's number (or messaging service): the "
            "channel's `inbound_webhook_url`. A body of STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT adds the "
            "channel (`sms`, or `whatsapp` when `From` starts with `whatsapp:`) to the opt-outs of every person "
            "with that phone in this channel's workspace, when the channel sends from the `To` number (or the "
            "messaging service); START, YES or UNSTOP removes it. Every message opens the sender's WhatsApp "
            "24-hour session window. A message SID seen before (a replay) changes nothing. The signature is "
            "checked against this channel's auth token only. The answer is empty TwiML (`<Response/>`): no "
            f"automatic reply. {PUBLIC}"
        ),
        auth=[],
        parameters=[SIGNATURE_HEADER],
        request={FORM: TwilioInboundSerializer},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="Empty TwiML: `<Response/>`."),
            **HOOK_ERRORS,
        },
    )
    def post(self, request, *args, **kwargs):
        scope, params = self.signed(request, channel_id=kwargs["channel_id"])
        twilio_hooks.twilio_inbound_apply(scope=scope, params=params)
        return HttpResponse(str(MessagingResponse()), content_type="text/xml; charset=utf-8")


class TwilioInboundHookView(TwilioHookView):
    @extend_schema(
        tags=TAGS,
        summary="Twilio incoming message (the platform's own numbers)",
        operation_id="hooks_twilio_inbound",
        description=(
            "For numbers of the platform's own Twilio account (`TWILIO_ACCOUNT_SID`), shared by the channels "
            "that send with it: checked with the platform's token only; STOP/START and the WhatsApp window as "
            "on a channel's own URL, in every workspace whose platform channel sends from the `To` number. For "
            "any other account it answers 410 `hook_moved` and writes nothing: whose number it is cannot be "
            "told without trying every tenant's token, so set the number's incoming-message webhook to its "
            f"channel's `inbound_webhook_url`. {PUBLIC}"
        ),
        auth=[],
        parameters=[SIGNATURE_HEADER],
        request={FORM: TwilioInboundSerializer},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="Empty TwiML: `<Response/>`."),
            **HOOK_ERRORS,
            410: OpenApiResponse(ErrorSerializer, description="Not the platform's account: use the channel's URL."),
        },
    )
    def post(self, request, *args, **kwargs):
        params = self.form(request)
        if str(params.get("AccountSid") or "") != settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_ACCOUNT_SID:
            raise HookMoved
        scope = twilio_signatures.platform_signature_scope(
            url=public_url(request), params=params, signature=request.headers["X-Twilio-Signature"]
        )
        if scope is None:
            raise InvalidSignature
        twilio_hooks.twilio_inbound_apply(scope=scope, params=params)
        return HttpResponse(str(MessagingResponse()), content_type="text/xml; charset=utf-8")

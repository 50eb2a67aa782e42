"""The channel test's answer in words a support person understands."""

from __future__ import annotations

from notifications.channel_test import ChannelTestResult

PROVIDERS = {
    "slack_webhook": "Slack",
    "slack_bot": "Slack",
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
    "webhook_url_not_allowed": "the webhook URL is not a Slack address",
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

"""Is this request from Slack? The signing secret and the 5-minute timestamp window (slack-sdk's
``SignatureVerifier``, the algorithm Slack documents)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from slack_sdk.signature import SignatureVerifier


def is_from_slack(request: HttpRequest) -> bool:
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return False  # not configured: nothing from "Slack" is trusted
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return SignatureVerifier(secret).is_valid(body=request.body, timestamp=timestamp, signature=signature)

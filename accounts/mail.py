"""Account emails (verification, password reset, invitations): plain text and HTML, in one language."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def account_mail_send(
    *, subject: str, template: str, context: dict, to: str, language: str | None = None, headers=None
) -> None:
    """Sends ``template``.txt with ``template``.html as its HTML alternative, rendered in ``language``."""
    with translation.override(language or settings.LANGUAGE_CODE):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=" ".join(str(subject).split()), body=text, to=[to], headers=headers or None
    )
    message.attach_alternative(html, "text/html")
    message.send()


def account_mail_send_logged(*, subject: str, template: str, context: dict[str, Any], to: str) -> None:
    """Sends one email (``template``.txt and .html); a mail server failure is logged, never raised."""
    try:
        account_mail_send(subject=subject, template=template, context=context, to=to)
    except Exception:
        logger.exception("Could not send %s to a user", template)

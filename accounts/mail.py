"""Account emails (verification, password reset, invitations): plain text and HTML, in one language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


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

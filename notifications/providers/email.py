"""Email through Django's mail framework: the platform's SMTP settings, the workspace's sender name.

The sender is always the platform's address, and the workspace's name can only precede the
platform's, as ``"Lima & Co via BirthdayBuddy" <no-reply@…>``: a workspace cannot make its
mail look like it comes from a bank or from the platform itself (:func:`sender_display_name`).

The connection is opened first, on its own: a failure there means nothing was handed
over (transient). A failure after the message data went out (timeout, dropped
connection) leaves the outcome unknown. SMTP reply codes decide the rest: 5xx is
permanent, 4xx is "try again later".
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from email import encoders
from email.mime.base import MIMEBase
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from notifications import person_links
from notifications.providers.base import (
    Message,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    TransientError,
    truncate,
)

SENDER_NAME_MAX_CHARS = 60
_NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f<>\"@\\]")


def platform_name() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "BirthdayBuddy"


def sender_display_name(name: str) -> str:
    """``"<name> via <platform>"``: no address-like characters, one line, at most 60 characters of ``name``."""
    platform = platform_name()
    cleaned = " ".join(_NOT_IN_A_NAME.sub(" ", name or "").split())[:SENDER_NAME_MAX_CHARS].strip()
    if not cleaned or cleaned.casefold() == platform.casefold():
        return platform
    return f"{cleaned} via {platform}"


def calendar_attachment(text: str, *, method: str) -> MIMEBase:
    """An ``invite.ics`` part, ``text/calendar; method=…`` (RFC 6047), so mail clients offer to
    add, move or remove the entry, and calendars that read the attachment do it themselves."""
    part = MIMEBase("text", "calendar", method=method or "PUBLISH", charset="utf-8")
    part.set_payload(text.encode("utf-8"))
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    return part


class EmailProvider:
    name = "email"

    def __init__(
        self,
        *,
        from_name: str,
        reply_to: str,
        rate_key: str | None,
        rate_per_second: float | None,
        html_template: str = "notifications/email/message.html",
    ):
        self.from_name = from_name
        self.reply_to = reply_to
        self.rate_key = rate_key
        self.rate_per_second = rate_per_second
        self.html_template = html_template

    def from_address(self) -> str:
        _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        return formataddr((sender_display_name(self.from_name), address))

    def build(self, message: Message) -> EmailMultiAlternatives:
        _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        domain = address.rpartition("@")[2] or "birthdaybuddy.local"
        message_id = make_msgid(idstring=message.notification_id.replace("-", "")[:12], domain=domain)
        subject = message.subject or f"A message from {message.workspace_name or 'BirthdayBuddy'}"
        email = EmailMultiAlternatives(
            subject=" ".join(subject.split()),  # one line: a newline would be a header injection
            body=message.body,
            from_email=self.from_address(),
            to=[message.recipient],
            reply_to=[self.reply_to] if self.reply_to else None,
            headers={
                "Message-ID": message_id,
                "X-BirthdayBuddy-Notification": message.notification_id,
                **person_links.unsubscribe_headers(message.preferences_url),
            },
        )
        html = render_to_string(
            self.html_template,
            {
                "subject": subject,
                "body": message.body,
                "workspace_name": message.workspace_name,
                "rsvp_url": message.rsvp_url,
                "image_url": message.image_url,
                "image_alt": message.image_alt or subject,
            },
        )
        email.attach_alternative(html, "text/html")
        if message.calendar:
            email.attach(calendar_attachment(message.calendar, method=message.calendar_method))
        return email

    def send(self, message: Message) -> SendResult:
        email = self.build(message)
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
        except smtplib.SMTPResponseException as exc:
            raise _classify_reply(exc.smtp_code, exc.smtp_error, what="connect") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"email: could not connect to the mail server ({type(exc).__name__}: {exc})") from exc
        try:
            connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            raise _classify_reply(code, reply, what="recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify_reply(exc.smtp_code, exc.smtp_error, what="refused") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise OutcomeUnknown(f"email: connection lost while sending ({type(exc).__name__})") from exc
        finally:
            # The message is already sent (or not); a failure to close cannot change that.
            with contextlib.suppress(Exception):
                connection.close()
        return SendResult(provider_message_id=email.extra_headers["Message-ID"], status_code=250, detail="accepted")


def _classify_reply(code: int, reply, *, what: str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = truncate(f"email {what}: {code} {text}", 300)
    if 400 <= code < 500:
        return TransientError(reason, status_code=code)
    return PermanentError(reason, status_code=code)

"""Message text from templates, rendered in a Jinja sandbox.

Templates written by workspace admins run in a jinja2 sandbox with bounded
CPU, memory and output (``notifications.sandbox``): no attribute starting with ``_``, no
method that changes data, no globals beyond a short ``range``, sizes and loop steps capped
and a time budget per render. The context is converted to plain dicts, lists, strings and
numbers first, so no model object (and nothing reachable from one, such as settings) is ever
within reach. Unknown names render as empty text instead of failing at send time, and the
output is cut to the channel's maximum length. The shipped templates are the project's own
code, reviewed like the rest: they render in an environment with the same settings and no
sandbox (``trusted``), which costs half as much per message — a day's greetings render
thousands of them (bench/RESULTS.md). Their data is the same plain, escaped data.

**Data is escaped for the channel it goes to** before the template sees it
(:func:`escape_for_channel`): in Slack ``&``, ``<`` and ``>`` become entities, so a name
such as ``<!channel>`` is shown, never acted on; a mention is only ever built from a stored
Slack user id (:func:`slack_mention`) and is passed through as :class:`ChannelText`. Email
text stays plain (its HTML part escapes it, ``templates/notifications/email/message.html``),
and so do SMS and WhatsApp.

Shipped defaults live in ``templates/messages/<reminder_kind>/<channel>.txt`` (the first
variant) and ``templates/messages/<reminder_kind>/<n>/<channel>.txt`` (variants 2, 3, …); a
first line ``Subject: …`` gives the email subject. The variant a message uses is chosen from
its idempotency key (``notifications.variants``). Their words are marked with Django's ``translate`` and
``blocktranslate`` tags (``notifications.translation``) and come from the catalogues in
``locale/``, in the person's language, else the workspace's locale (``birthdaybuddy.i18n``).
A workspace's :class:`~notifications.models.Template` rows for a kind and channel (its
variants) replace the shipped set.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from jinja2 import ChainableUndefined, Environment, TemplateError, TemplateSyntaxError

from birthdaybuddy.i18n import language_of
from birthdaybuddy.validators import SLACK_USER_ID_RE
from notifications import conf, sandbox
from notifications.models import MessageKind, Template
from notifications.translation import DjangoTranslationExtension
from notifications.variants import choose
from workspaces.models import Channel

logger = logging.getLogger(__name__)

SUBJECT_MAX_CHARS = 200
SHIPPED_KINDS = frozenset(MessageKind.values)
SHIPPED_CHANNELS = frozenset(Channel.values)
SUBJECT_PREFIX = "Subject:"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    # Set when the template broke a limit of the sandbox with this data: the message is not
    # sent; it is recorded as failed with this reason.
    failure: str = ""
    # The chosen variant's picture (https), kept as data for the channels that show one.
    image_url: str = ""
    image_alt: str = ""

    @classmethod
    def limit_exceeded(cls, exc: TemplateLimitExceeded) -> Rendered:
        return cls(subject="", body="", failure=f"template_limit_exceeded: {exc.field}: {exc.message}")


class TemplateRenderError(Exception):
    """A template that fails to compile or render; ``field`` and ``message`` say where and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class TemplateLimitExceeded(TemplateRenderError):
    """A template over a limit of the sandbox (size, loop steps, render time or output length).

    Never replaced by the shipped default: the text is refused on save, and a message whose
    template breaks a limit with real data fails with this reason.
    """


class ChannelText(str):
    """Text already in its channel's markup (a Slack mention, rendered template text): not escaped again."""


def slack_mention(user_id: str | None) -> ChannelText | None:
    """``<@U…>`` for a stored Slack user id, ``None`` for anything that is not one."""
    if user_id and SLACK_USER_ID_RE.fullmatch(user_id):
        return ChannelText(f"<@{user_id}>")
    return None


def slack_escape(text: str) -> str:
    """Slack's rule for text from data: ``&``, ``<`` and ``>`` as entities (nothing else is markup-bearing)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_for_channel(value, channel: str):
    """``value`` (plain data) with every string escaped for ``channel``, except :class:`ChannelText`."""
    if channel != Channel.SLACK:
        return value
    if isinstance(value, ChannelText):
        return value
    if isinstance(value, str):
        return slack_escape(value)
    if isinstance(value, dict):
        return {key: escape_for_channel(item, channel) for key, item in value.items()}
    if isinstance(value, list):
        return [escape_for_channel(item, channel) for item in value]
    return value


ENVIRONMENT_OPTIONS: dict[str, Any] = {
    "extensions": [DjangoTranslationExtension],
    "autoescape": False,
    "undefined": ChainableUndefined,
    "keep_trailing_newline": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@lru_cache(maxsize=1)
def environment() -> sandbox.BoundedSandboxedEnvironment:
    """Where workspaces' templates render: the bounded sandbox."""
    return sandbox.BoundedSandboxedEnvironment(**ENVIRONMENT_OPTIONS)


@lru_cache(maxsize=1)
def trusted_environment() -> Environment:
    """Where the shipped templates render: the same settings, no sandbox (they are our code)."""
    return Environment(**ENVIRONMENT_OPTIONS)  # noqa: S701 - plain text per channel, escaped by escape_for_channel


def messages_dir() -> Path:
    return Path(settings.BASE_DIR) / "templates" / "messages"


def plain(value, _depth: int = 0):
    """``value`` as plain data (dict/list/str/int/float/bool/None); anything else becomes text."""
    if _depth > 8:
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item, _depth + 1) for item in value]
    return str(value)


@lru_cache(maxsize=64)
def _default_variants(reminder_kind: str, channel: str) -> tuple[tuple[str, str], ...]:
    folder = messages_dir() / reminder_kind
    variants = [split_subject((folder / f"{channel}.txt").read_text(encoding="utf-8"))]
    number = 2
    while (path := folder / str(number) / f"{channel}.txt").is_file():
        variants.append(split_subject(path.read_text(encoding="utf-8")))
        number += 1
    return tuple(variants)


def split_subject(text: str) -> tuple[str, str]:
    """``("subject template", "body template")`` of a file whose first line may be ``Subject: …``."""
    first, _, rest = text.partition("\n")
    if first.startswith(SUBJECT_PREFIX):
        return first[len(SUBJECT_PREFIX) :].strip(), rest.lstrip("\n")
    return "", text


def default_variants(*, reminder_kind: str, channel: str) -> tuple[tuple[str, str], ...]:
    """The shipped ``(subject, body)`` template sources for a kind and channel, first variant first."""
    if reminder_kind not in SHIPPED_KINDS or channel not in SHIPPED_CHANNELS:
        raise ValueError(f"No shipped template for {reminder_kind}/{channel}.")
    return _default_variants(reminder_kind, channel)


def default_source(*, reminder_kind: str, channel: str, variant_key: str = "") -> tuple[str, str]:
    """The shipped ``(subject, body)`` template source for a kind and channel: the variant
    ``variant_key`` (a message's idempotency key) chooses, the first without one."""
    return choose(default_variants(reminder_kind=reminder_kind, channel=channel), variant_key)


@lru_cache(maxsize=512)
def _compile(source: str, trusted: bool = False):
    return (trusted_environment() if trusted else environment()).from_string(source)


def compile_template(source: str, *, field: str, trusted: bool = False):
    try:
        return _compile(source, trusted)
    except RecursionError as exc:
        raise TemplateLimitExceeded(field, "The template is nested too deeply.") from exc
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(field, f"Line {exc.lineno}: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(field, str(exc)) from exc


def render_source(
    *, subject: str, body: str, channel: str, context: dict, language: str | None = None, trusted: bool = False
) -> Rendered:
    """Renders template source with ``context``; raises :class:`TemplateRenderError`.

    The context's strings are escaped for ``channel`` first (see :func:`escape_for_channel`).
    ``language`` (one of ``LANGUAGES``) is the language of the template's translated strings;
    without it, the active one. ``trusted``: the source is a shipped template (no sandbox).
    """
    if language is not None and language != translation.get_language():
        with translation.override(language):
            return render_source(subject=subject, body=body, channel=channel, context=context, trusted=trusted)
    data = escape_for_channel(plain(context), channel)
    limit = conf.max_body_chars(channel)
    body_template = compile_template(body, field="body", trusted=trusted)
    rendered_body = _render(body_template, data, limit, field="body", trusted=trusted).strip()
    rendered_subject = ""
    if subject:
        subject_template = compile_template(subject, field="subject", trusted=trusted)
        rendered_subject = _render(subject_template, data, SUBJECT_MAX_CHARS, field="subject", trusted=trusted)
        rendered_subject = " ".join(rendered_subject.split())  # one line: it becomes a mail header
    return Rendered(subject=rendered_subject, body=rendered_body)


def _render(template, data: dict, limit: int, *, field: str, strict: bool = False, trusted: bool = False) -> str:
    """The template's text with ``data``, in the sandbox's budget (``trusted``: none); cut at
    ``limit`` characters (``strict``: refused instead, for templates being saved or previewed)."""
    try:
        text = template.render(data) if trusted else _generate_bounded(template, data, limit)
    except sandbox.TemplateLimitError as exc:
        raise TemplateLimitExceeded(field, str(exc)) from exc
    except RecursionError as exc:
        raise TemplateLimitExceeded(field, "The template calls itself too deeply.") from exc
    except TemplateError as exc:  # includes SecurityError and UndefinedError
        raise TemplateRenderError(field, f"{type(exc).__name__}: {exc}") from exc
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateRenderError(field, f"{type(exc).__name__}: {exc}") from exc
    if len(text) > limit:
        if strict:
            raise TemplateLimitExceeded(
                field, f"The template renders more than {limit:,} characters, the most this channel takes."
            )
        text = text[: limit - 1] + "…"
    return text


def _generate_bounded(template, data: dict, limit: int) -> str:
    """The sandbox's render: chunk by chunk, within the budget, stopping past ``limit``."""
    parts: list[str] = []
    size = 0
    with sandbox.budget(conf.template_render_seconds()) as budget:
        for chunk in template.generate(data):
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                break
            budget.step(0)
    return "".join(parts)


VARIANT_FIELDS = ("workspace_id", "reminder_kind", "channel", "subject", "body", "image_url", "image_alt")


def variants_in_order(*, workspace, reminder_kind: str, channel: str):
    """A workspace's variants for a kind and channel in the order messages choose among them (creation)."""
    return Template.objects.filter(workspace=workspace, reminder_kind=reminder_kind, channel=channel).order_by(
        "created_at", "id"
    )


def workspace_variants(*, workspace, reminder_kind: str, channel: str) -> list[Template]:
    """A workspace's own variants for a kind and channel, in their stable order (empty: the shipped set)."""
    return list(
        variants_in_order(workspace=workspace, reminder_kind=reminder_kind, channel=channel).only(*VARIANT_FIELDS)
    )


def render_message(
    *,
    workspace,
    reminder_kind: str,
    channel: str,
    context: dict,
    language: str | None = None,
    variant_key: str = "",
) -> Rendered:
    """The message for ``reminder_kind`` on ``channel``: the workspace's variants, else the shipped
    ones, in ``language`` (default: the workspace's locale); ``variant_key`` (the message's
    idempotency key) chooses the variant, the first without one."""
    return render_with_override(
        override=workspace_variants(workspace=workspace, reminder_kind=reminder_kind, channel=channel),
        workspace=workspace,
        reminder_kind=reminder_kind,
        channel=channel,
        context=context,
        language=language,
        variant_key=variant_key,
    )


def render_with_override(
    *,
    override: Template | Sequence[Template] | None,
    workspace,
    reminder_kind: str,
    channel: str,
    context: dict,
    language: str | None = None,
    variant_key: str = "",
) -> Rendered:
    """Like :func:`render_message` with the workspace's variants already looked up (a template,
    a list in their stable order, or None/empty: the shipped set).

    ``variant_key`` chooses among the workspace's variants when it has any, else among the
    shipped ones. An override that fails at render time (it passed validation on save, so this
    means unexpected data) falls back to the shipped default, logged, rather than losing the
    message; one that breaks a limit of the sandbox gives a ``Rendered`` with ``failure`` set
    (the message is recorded as failed with that reason, not sent).
    """
    context = {"workspace": {"name": workspace.name}, **context}
    language = language or language_of(workspace=workspace)
    variants = [override] if isinstance(override, Template) else list(override or ())
    default_subject, default_body = default_source(
        reminder_kind=reminder_kind, channel=channel, variant_key="" if variants else variant_key
    )
    if variants:
        chosen = choose(variants, variant_key)
        try:
            rendered = render_source(
                subject=chosen.subject or default_subject,
                body=chosen.body,
                channel=channel,
                context=context,
                language=language,
            )
            return with_image(rendered, chosen)
        except TemplateLimitExceeded as exc:
            logger.warning("template override %s breaks a limit: %s", chosen.pk, exc.message)
            return Rendered.limit_exceeded(exc)
        except TemplateRenderError:
            logger.warning("template override %s failed to render; using the shipped default", chosen.pk, exc_info=True)
    return render_source(
        subject=default_subject, body=default_body, channel=channel, context=context, language=language, trusted=True
    )


def with_image(rendered: Rendered, template: Template) -> Rendered:
    """``rendered`` carrying ``template``'s picture (email uses the subject as its alt text when none is given)."""
    if not template.image_url:
        return rendered
    alt = template.image_alt or rendered.subject
    return dataclasses.replace(rendered, image_url=template.image_url, image_alt=alt)


def sample_context(*, workspace_name: str, reminder_kind: str) -> dict:
    """Data shaped like the real context, for previews and for validating templates on save."""
    return {
        "workspace": {"name": workspace_name},
        "date": "2026-11-22",
        "date_display": "Sunday 22 November",
        "birthdays": [
            {"name": "Ana Lima", "mention": slack_mention("U012AB3CD"), "age": 30},
            {"name": "Bo Chen", "mention": "Bo Chen", "age": None},
        ],
        "anniversaries": [{"name": "Cy Diaz", "mention": "Cy Diaz", "years": 5, "milestone": True, "when": None}],
        "person": (
            {"name": "Cy Diaz", "mention": "Cy Diaz", "years": 5, "milestone": True}
            if reminder_kind == "milestone"
            else {"name": "Ana Lima", "mention": slack_mention("U012AB3CD"), "age": 30}
        ),
        "event": {
            "title": "Quarterly tax filing",
            "when": "Monday 30 November, 10:00",
            "kind": "deadline",
            "location": "Main office",
            "notes": "Bring the signed forms.",
        },
        "appointment": {
            "title": "Annual review",
            "when": "Monday 30 November, 10:00 to 11:00 (Europe/Berlin)",
            "location": "Main office",
        },
        "rsvp_url": "https://birthdaybuddy.example/rsvp/sample-token",
        "change": "updated",
        "changes": ["time", "location"],
        "answer": "yes",
        "message": "This is a sample message.",
        "reminder": {"name": f"Sample {reminder_kind.replace('_', ' ')}"},
    }


def template_errors(*, reminder_kind: str, channel: str, subject: str, body: str) -> dict[str, list[str]]:
    """Field errors of a template override: unknown kind/channel, syntax or render errors."""
    errors: dict[str, list[str]] = {}
    if reminder_kind not in MessageKind.values:
        errors["reminder_kind"] = [f"Choose one of {', '.join(MessageKind.values)}."]
    if channel not in Channel.values:
        errors["channel"] = [f"Choose one of {', '.join(Channel.values)}."]
    if not body or not body.strip():
        errors["body"] = ["The template body may not be empty."]
    if errors:
        return errors
    context = sample_context(workspace_name="Sample workspace", reminder_kind=reminder_kind)
    data = escape_for_channel(plain(context), channel)
    for field, source, limit in (("body", body, conf.max_body_chars(channel)), ("subject", subject, SUBJECT_MAX_CHARS)):
        if not source:
            continue
        try:
            _render(compile_template(source, field=field), data, limit, field=field, strict=True)
        except TemplateRenderError as exc:
            errors[field] = [exc.message]
    return errors

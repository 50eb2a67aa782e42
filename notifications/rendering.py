"""Message text from templates, rendered in a Jinja sandbox.

Templates are written by workspace admins, so they run in jinja2's
``ImmutableSandboxedEnvironment``: no attribute starting with ``_``, no method that changes
data, no globals beyond a short ``range``. The context is converted to plain dicts, lists,
strings and numbers first, so no model object (and nothing reachable from one, such as
settings) is ever within reach. Unknown names render as empty text instead of failing at
send time, and the output is cut to the channel's maximum length.

Shipped defaults live in ``templates/messages/<reminder_kind>/<channel>.txt``; a first line
``Subject: …`` gives the email subject. A workspace's :class:`~notifications.models.Template`
overrides one of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifications import conf
from notifications.models import MessageKind, Template
from workspaces.models import Channel

logger = logging.getLogger(__name__)

MAX_RANGE = 1_000
SUBJECT_MAX_CHARS = 200
SUBJECT_PREFIX = "Subject:"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class TemplateRenderError(Exception):
    """A template that fails to compile or render; ``field`` and ``message`` say where and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _short_range(*args):
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise OverflowError(f"range() is limited to {MAX_RANGE} items in templates.")
    return values


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=False,
        undefined=ChainableUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()
    env.globals["range"] = _short_range
    return env


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
def _default_source(reminder_kind: str, channel: str) -> tuple[str, str]:
    path = messages_dir() / reminder_kind / f"{channel}.txt"
    text = path.read_text(encoding="utf-8")
    return split_subject(text)


def split_subject(text: str) -> tuple[str, str]:
    """``("subject template", "body template")`` of a file whose first line may be ``Subject: …``."""
    first, _, rest = text.partition("\n")
    if first.startswith(SUBJECT_PREFIX):
        return first[len(SUBJECT_PREFIX) :].strip(), rest.lstrip("\n")
    return "", text


def default_source(*, reminder_kind: str, channel: str) -> tuple[str, str]:
    """The shipped ``(subject, body)`` template source for a kind and channel."""
    if reminder_kind not in MessageKind.values or channel not in Channel.values:
        raise ValueError(f"No shipped template for {reminder_kind}/{channel}.")
    return _default_source(reminder_kind, channel)


@lru_cache(maxsize=512)
def _compile(source: str):
    return environment().from_string(source)


def compile_template(source: str, *, field: str):
    try:
        return _compile(source)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(field, f"Line {exc.lineno}: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(field, str(exc)) from exc


def render_source(*, subject: str, body: str, channel: str, context: dict) -> Rendered:
    """Renders template source with ``context``; raises :class:`TemplateRenderError`."""
    data = plain(context)
    limit = conf.max_body_chars(channel)
    rendered_body = _render(compile_template(body, field="body"), data, limit, field="body").strip()
    rendered_subject = ""
    if subject:
        rendered_subject = _render(compile_template(subject, field="subject"), data, SUBJECT_MAX_CHARS, field="subject")
        rendered_subject = " ".join(rendered_subject.split())  # one line: it becomes a mail header
    return Rendered(subject=rendered_subject, body=rendered_body)


def _render(template, data: dict, limit: int, *, field: str) -> str:
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(data):
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    except TemplateError as exc:  # includes SecurityError and UndefinedError
        raise TemplateRenderError(field, f"{type(exc).__name__}: {exc}") from exc
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateRenderError(field, f"{type(exc).__name__}: {exc}") from exc
    text = "".join(parts)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def render_message(*, workspace, reminder_kind: str, channel: str, context: dict) -> Rendered:
    """The message for ``reminder_kind`` on ``channel``: the workspace's override, else the default."""
    override = (
        Template.objects.filter(workspace=workspace, reminder_kind=reminder_kind, channel=channel)
        .only("subject", "body")
        .first()
    )
    return render_with_override(
        override=override, workspace=workspace, reminder_kind=reminder_kind, channel=channel, context=context
    )


def render_with_override(
    *, override: Template | None, workspace, reminder_kind: str, channel: str, context: dict
) -> Rendered:
    """Like :func:`render_message` with the override already looked up (None: the shipped default).

    An override that fails at render time (it passed validation on save, so this means
    unexpected data) falls back to the shipped default, logged, rather than losing the
    message.
    """
    context = {"workspace": {"name": workspace.name}, **context}
    default_subject, default_body = default_source(reminder_kind=reminder_kind, channel=channel)
    if override is not None:
        try:
            return render_source(
                subject=override.subject or default_subject, body=override.body, channel=channel, context=context
            )
        except TemplateRenderError:
            logger.warning(
                "template override %s failed to render; using the shipped default", override.pk, exc_info=True
            )
    return render_source(subject=default_subject, body=default_body, channel=channel, context=context)


def sample_context(*, workspace_name: str, reminder_kind: str) -> dict:
    """Data shaped like the real context, for previews and for validating templates on save."""
    return {
        "workspace": {"name": workspace_name},
        "date": "2026-11-22",
        "date_display": "Sunday 22 November",
        "birthdays": [
            {"name": "Ana Lima", "mention": "<@U012AB3CD>", "age": 30},
            {"name": "Bo Chen", "mention": "Bo Chen", "age": None},
        ],
        "anniversaries": [{"name": "Cy Diaz", "mention": "Cy Diaz", "years": 5}],
        "person": {"name": "Ana Lima", "mention": "<@U012AB3CD>", "age": 30},
        "event": {
            "title": "Quarterly tax filing",
            "when": "Monday 30 November, 10:00",
            "kind": "deadline",
            "location": "Main office",
            "notes": "Bring the signed forms.",
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
    for field, source in (("body", body), ("subject", subject)):
        if not source:
            continue
        try:
            _render(compile_template(source, field=field), plain(context), conf.max_body_chars(channel), field=field)
        except TemplateRenderError as exc:
            errors[field] = [exc.message]
    return errors

"""Pieces every app's admin shares: confirmation pages for actions, per-object reports, local
times with their zone named, and service errors put on the form's own fields.

Admin writes go through the apps' services (the same rules as the API); these helpers only
present what the services decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.forms import Form
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from birthdaybuddy.errors import ApplicationError

# Per-object lines shown after an action; the rest are summed up in one line.
MAX_REPORTED = 25


class WorkspaceColumns:
    """The workspace of a workspace-scoped object, by name (a list column) and as a link (a detail field)."""

    @admin.display(description="Workspace", ordering="workspace__name")
    def workspace_name(self, obj):
        return obj.workspace.name

    @admin.display(description="Workspace")
    def workspace_link(self, obj):
        url = reverse("admin:workspaces_workspace_change", args=[obj.workspace_id])
        return format_html('<a href="{}">{}</a> ({})', url, obj.workspace.name, obj.workspace.timezone)


def confirm_action(
    model_admin: admin.ModelAdmin,
    request,
    queryset,
    *,
    action: str,
    title: str,
    explanation: str,
    describe: Callable[[object], str] = str,
    always: bool = False,
) -> TemplateResponse | None:
    """The confirmation page of ``action`` (None when confirmed, or for a single object unless ``always``).

    Lists every selected object with what will happen to it (``describe``); the page posts the
    selection back with ``confirmed=yes``.
    """
    if request.POST.get("confirmed") == "yes":
        return None
    objects = list(queryset)
    if len(objects) <= 1 and not always:
        return None
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "explanation": explanation,
        "objects": [(obj, describe(obj)) for obj in objects],
        "action": action,
        "opts": opts,
        "app_label": opts.app_label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/bb/action_confirmation.html", context)


def choose_workspace_page(
    model_admin: admin.ModelAdmin, request, form: Form, *, title: str, subtitle: str, help_text: str = ""
) -> TemplateResponse:
    """The first step of a two-step add page: choose the workspace (and what else ``form`` asks)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": subtitle,
        "help": help_text,
        "form": form,
        "media": model_admin.media + form.media,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/bb/choose_workspace.html", context)


def report(model_admin: admin.ModelAdmin, request, lines: Iterable[tuple[int, str]]) -> None:
    """Shows one message per object (level, text), the first ``MAX_REPORTED`` of them."""
    lines = list(lines)
    for level, text in lines[:MAX_REPORTED]:
        model_admin.message_user(request, text, level)
    if len(lines) > MAX_REPORTED:
        model_admin.message_user(request, f"… and {len(lines) - MAX_REPORTED} more.", messages.INFO)


def error_text(exc: Exception) -> str:
    """A refusal in words: the service's message, without field names or reprs."""
    if isinstance(exc, ApplicationError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(plain(message) for message in exc.messages)
    return str(exc)


_BACKTICKED = re.compile(r"`([^`]*)`")


def plain(message: str, labels: dict[str, str] | None = None) -> str:
    """An API message for people: `at` becomes the form's label for it ("Send at"), backticks go."""
    labels = labels or {}
    return _BACKTICKED.sub(lambda match: f"“{labels.get(match.group(1), match.group(1))}”", message)


def add_service_errors(form: Form, exc: ValidationError, *, fields: dict[str, str], labels: dict[str, str]) -> None:
    """Puts a service's ``ValidationError`` on the form: each error on its field (``fields`` maps the
    service's names to the form's), worded with the form's labels; the others above the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, plain(message, labels))
        return
    for name, errors in exc.error_dict.items():
        field = fields.get(name, name)
        for error in errors:
            for message in error.messages:
                text = plain(message, labels)
                for raw, label in labels.items():
                    text = re.sub(rf"\b{re.escape(raw)}\b", label, text) if "_" in raw else text
                if field in form.fields and field not in form.errors:
                    form.add_error(field, text)
                elif field in form.fields:
                    form.errors[field].append(text)
                else:
                    form.add_error(None, f"{labels.get(name, name.replace('_', ' ').capitalize())}: {text}")


def local_time(instant: datetime | None, zone: str | None, *, with_utc: bool = True) -> str:
    """``2026-12-31 16:00 Europe/Berlin (15:00 UTC)``; "—" for no time."""
    if instant is None:
        return "—"
    tz = ZoneInfo(zone or "UTC")
    local = instant.astimezone(tz)
    text = f"{local:%Y-%m-%d %H:%M} {tz.key}"
    if with_utc and tz.key != "UTC":
        utc = instant.astimezone(ZoneInfo("UTC"))
        same_day = utc.date() == local.date()
        text += f" ({utc:%H:%M} UTC)" if same_day else f" ({utc:%Y-%m-%d %H:%M} UTC)"
    return text


def now_in(zone: str) -> datetime:
    return timezone.now().astimezone(ZoneInfo(zone))

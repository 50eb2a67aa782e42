"""Reminders in the admin: the same rules as the API (every save runs ``reminders.services``),
times in the workspace's zone, and actions that say what they do and never skip a date.

Adding is two steps: the workspace and the kind first, then that kind's form, whose people and
events come from that workspace only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from birthdaybuddy.admin_tools import (
    WorkspaceColumns,
    choose_workspace_page,
    confirm_action,
    local_time,
    report,
)
from events.models import Event, EventStatus
from reminders import schedule, services
from reminders.admin_forms import FIELDS_BY_KIND, ChooseWorkspaceForm, LocalDateTimeField, ReminderAdminForm
from reminders.admin_rrule import describe, rule_preview
from reminders.models import Reminder, ReminderKind
from workspaces.models import Person, Workspace

AUTOCOMPLETE_PAGE = 20


def _workspace_from(value) -> Workspace | None:
    try:
        return Workspace.objects.filter(pk=uuid.UUID(str(value))).first()
    except (TypeError, ValueError):
        return None


@admin.register(Reminder)
class ReminderAdmin(WorkspaceColumns, admin.ModelAdmin):
    form = ReminderAdminForm
    list_display = ("name", "workspace_name", "kind", "audience", "active", "next_run_local", "last_run_local")
    list_filter = ("kind", "active", "urgent", "audience", "message_type")
    search_fields = ("name", "workspace__name", "workspace__slug", "event__title")
    list_select_related = ("workspace", "event")
    # "Send now" and "Run today's digest" are the engine's: scheduling/admin_reminders.py adds them.
    actions: Sequence[Any] = ("reschedule",)
    save_as = False

    class Media:
        js = ("reminders/admin_reminder.js",)

    # --- pages ----------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("autocomplete/<str:what>/", view(self.autocomplete_view), name="reminders_reminder_autocomplete"),
            path("rrule-preview/", view(self.rrule_preview_view), name="reminders_reminder_rrule_preview"),
            *super().get_urls(),
        ]

    def _context(self, request, obj=None) -> tuple[Workspace | None, str | None]:
        if obj is not None:
            return obj.workspace, obj.kind
        source = request.POST if request.method == "POST" and "workspace" in request.POST else request.GET
        workspace = _workspace_from(source.get("workspace"))
        kind = source.get("kind")
        if kind not in services.CREATABLE_KINDS:
            kind = None
        return workspace, kind

    def add_view(self, request, form_url="", extra_context=None):
        workspace, kind = self._context(request)
        if workspace is None or kind is None:
            return self._choose_view(request)
        extra_context = {**(extra_context or {}), "subtitle": f"{ReminderKind(kind).label} for {workspace.name}"}
        return super().add_view(request, form_url, extra_context)

    def _choose_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ChooseWorkspaceForm(request.GET or None, admin_site=self.admin_site)
        if request.GET and form.is_valid():
            query = f"?workspace={form.cleaned_data['workspace'].pk}&kind={form.cleaned_data['kind']}"
            return HttpResponseRedirect(reverse("admin:reminders_reminder_add") + query)
        return choose_workspace_page(
            self,
            request,
            form,
            title="Add reminder",
            subtitle="Whose reminder, and what kind",
            help_text="The birthday digest comes with each workspace: edit that one from the list.",
        )

    def get_fieldsets(self, request, obj=None):
        _, kind = self._context(request, obj)
        kind = kind or ReminderKind.ONE_TIME
        timing = FIELDS_BY_KIND[kind]
        if kind == ReminderKind.BIRTHDAY_DIGEST:
            main = ("name", "active", "channels", "personal_greetings")
            who = ()
        else:
            main = ("name", "active", "urgent", "message", "message_type")
            who = ("audience", "recipients", "channels")
        fieldsets = [
            (None, {"fields": main}),
            ("When", {"fields": timing}),
        ]
        if who:
            fieldsets.append(("Who and how", {"fields": who}))
        if obj is not None:
            fieldsets.append(
                (
                    "Schedule",
                    {
                        "fields": (
                            "workspace_link",
                            "kind_label",
                            "schedule_reading",
                            "next_run_local",
                            "last_run_local",
                        )
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ("workspace_link", "kind_label", "schedule_reading", "next_run_local", "last_run_local")

    def get_form(self, request, obj=None, change=False, **kwargs):
        workspace, kind = self._context(request, obj)
        attrs = {"workspace": workspace, "kind": kind, "user": request.user, "admin_site": self.admin_site}
        base = type("ReminderForm", (ReminderAdminForm,), attrs)
        kwargs["form"] = base
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        """Nothing left to do: the form's validation ran the service, which saved."""

    def save_related(self, request, form, formsets, change):
        """The service set the recipients too."""

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.kind == ReminderKind.BIRTHDAY_DIGEST:
            return False  # paused, never deleted (as in the API)
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.reminder_delete(reminder=obj)

    def delete_queryset(self, request, queryset):
        for reminder in queryset.exclude(kind=ReminderKind.BIRTHDAY_DIGEST):
            services.reminder_delete(reminder=reminder)

    # --- columns --------------------------------------------------------------------------

    @admin.display(description="Kind")
    def kind_label(self, obj):
        return obj.get_kind_display()

    @admin.display(description="Next run (workspace time)", ordering="next_run_at")
    def next_run_local(self, obj):
        if obj.next_run_at is None:
            return "— (paused, or nothing left to send)" if obj.pk else "—"
        return local_time(obj.next_run_at, obj.workspace.timezone)

    @admin.display(description="Last run (workspace time)", ordering="last_run_at")
    def last_run_local(self, obj):
        return local_time(obj.last_run_at, obj.workspace.timezone)

    @admin.display(description="Repeats")
    def schedule_reading(self, obj):
        if obj.kind != ReminderKind.RECURRING or not obj.rrule or obj.run_at is None:
            return "—"
        start = obj.wall_run_at or obj.run_at.astimezone(ZoneInfo(obj.workspace.timezone)).replace(tzinfo=None)
        preview = rule_preview(workspace=obj.workspace, rrule=obj.rrule, start=start, now=timezone.now())
        if not preview["ok"]:
            return preview["error"]
        items = format_html_join(
            "", "<li>{} {} ({})</li>", ((o["local"], preview["timezone"], o["utc"]) for o in preview["occurrences"])
        )
        return format_html(
            "{} <code>{}</code><br>Next: <ul class='bb-occurrences'>{}</ul>",
            describe(obj.rrule, start=start),
            obj.rrule,
            items,
        )

    # --- endpoints for the form's scripts ---------------------------------------------------

    def autocomplete_view(self, request, what: str):
        """People or live events of one workspace, in the shape the admin's select2 expects."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        workspace = _workspace_from(request.GET.get("workspace"))
        if workspace is None or what not in ("people", "events"):
            return JsonResponse({"error": "Choose a workspace first."}, status=400)
        term = (request.GET.get("term") or "").strip()[:100]
        try:
            page = max(1, int(request.GET.get("page") or 1))
        except ValueError:
            page = 1
        start = (page - 1) * AUTOCOMPLETE_PAGE
        if what == "people":
            rows = Person.objects.filter(workspace=workspace).order_by("name", "pk")
            if term:
                rows = rows.filter(name__icontains=term) | rows.filter(email__icontains=term)
            found = list(rows[start : start + AUTOCOMPLETE_PAGE + 1])
            results = [{"id": str(p.pk), "text": f"{p.name} <{p.email}>" if p.email else p.name} for p in found]
        else:
            rows = Event.objects.filter(workspace=workspace, status=EventStatus.ACTIVE).order_by("-created_at")
            if term:
                rows = rows.filter(title__icontains=term)
            found = list(rows[start : start + AUTOCOMPLETE_PAGE + 1])
            results = [
                {
                    "id": str(e.pk),
                    "text": f"{e.title} ({local_time(e.starts_at, workspace.timezone, with_utc=False)})"
                    if e.starts_at
                    else f"{e.title} ({e.date})",
                }
                for e in found
            ]
        return JsonResponse(
            {"results": results[:AUTOCOMPLETE_PAGE], "pagination": {"more": len(results) > AUTOCOMPLETE_PAGE}}
        )

    def rrule_preview_view(self, request):
        """The picker's preview: the rule in words and its next five times in the workspace's zone."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        workspace = _workspace_from(request.GET.get("workspace"))
        if workspace is None:
            return JsonResponse({"ok": False, "error": "Choose a workspace first."}, status=400)
        rrule = (request.GET.get("rrule") or "")[:600]
        try:
            start = LocalDateTimeField().to_python(request.GET.get("start") or "")
        except ValidationError:
            start = None
        if start is None:
            start = (
                timezone.now().astimezone(ZoneInfo(workspace.timezone)).replace(tzinfo=None, second=0, microsecond=0)
            )
        if not rrule.strip():
            return JsonResponse(
                {"ok": False, "error": "Build a rule with the picker or type one.", "timezone": workspace.timezone}
            )
        return JsonResponse(rule_preview(workspace=workspace, rrule=rrule, start=start, now=timezone.now()))

    # --- actions --------------------------------------------------------------------------

    @admin.action(description="Recompute the next run")
    def reschedule(self, request, queryset: QuerySet[Reminder]):
        page = confirm_action(
            self,
            request,
            queryset.select_related("workspace"),
            action="reschedule",
            title="Recompute the next run",
            explanation="The next run of each reminder below is worked out again from its rule; nothing is sent now.",
            describe=lambda r: f"next run now {local_time(r.next_run_at, r.workspace.timezone)}",
        )
        if page is not None:
            return page
        lines = []
        for reminder in queryset.select_related("workspace", "event"):
            schedule.reminder_reschedule(reminder=reminder)
            lines.append(
                (
                    messages.SUCCESS,
                    f"{reminder.name}: next run {local_time(reminder.next_run_at, reminder.workspace.timezone)}.",
                )
            )
        report(self, request, lines)
        return None

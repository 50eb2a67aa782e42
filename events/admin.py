"""Admin for events, attendees and calendar feeds, across every tenant.

Events are created, edited and cancelled here through ``events.services`` (the API's rules,
conflict checks, invitations and notices): the form hands its values to ``event_create`` /
``event_update`` and shows their refusals on its fields; cancelling sends the notices. A hard
delete (no notice, history gone) is for superusers only and warns first. Feeds are revoked
with an action. RSVP and feed tokens exist only as hashes and are never shown.
"""

import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join

from birthdaybuddy.admin_tools import (
    WorkspaceColumns,
    add_service_errors,
    choose_workspace_page,
    confirm_action,
    error_text,
    local_time,
    report,
)
from birthdaybuddy.errors import ApplicationError
from events import feeds, polls, services
from events.models import Attendee, CalendarFeed, Event, EventStatus, PollOption, Vote
from reminders.admin_forms import LocalDateTimeField, PeopleAutocomplete, _autocomplete_url
from workspaces.models import Membership, Person, Role, Workspace

VOTE_LABELS = dict(Vote.choices)


def _option_label(option: PollOption, zone: str) -> str:
    if option.date is not None:
        return f"{option.date:%Y-%m-%d} (all day)"
    return local_time(option.starts_at, zone, with_utc=False)


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    fields = ("person", "answer", "plus_ones", "seat", "note", "invited_at", "responded_at", "checked_in_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


EVENT_SERVICE_FIELDS = {"host": "host", "attendees": "attendees"}
EVENT_LABELS = {"starts_at": "Starts", "ends_at": "Ends", "all_day": "All day", "rrule": "Repeats (RRULE)"}


class EventAdminForm(forms.ModelForm):
    """Built per workspace by ``EventAdmin.get_form``; saving runs the event services."""

    workspace = None
    user = None
    admin_site = None

    starts_at = LocalDateTimeField(label="Starts", required=False)
    ends_at = LocalDateTimeField(label="Ends", required=False)
    host = forms.ChoiceField(label="Host", required=False)
    attendees = forms.ModelMultipleChoiceField(queryset=Person.objects.none(), required=False, label="Attendees")

    class Meta:
        model = Event
        fields = ("title", "kind", "all_day", "date", "starts_at", "ends_at", "rrule", "location", "notes", "host")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace = self.workspace
        zone = ZoneInfo(workspace.timezone)
        for name in ("starts_at", "ends_at"):
            self.fields[name].label = f"{self.fields[name].label} ({zone.key})"
            self.fields[name].help_text = f"Local time in the workspace's zone, {zone.key}."
            value = getattr(self.instance, name, None)
            if value is not None:
                self.initial[name] = value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        self.fields["date"].widget = forms.DateInput(attrs={"type": "date"})
        members = Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email")
        self.fields["host"].choices = [("", "—")] + [(str(m.user_id), m.user.email) for m in members]
        self.initial["host"] = str(self.instance.host_id or "")
        self.fields["attendees"].widget = PeopleAutocomplete(
            Event._meta.get_field("attendees"), self.admin_site, url=_autocomplete_url("people", workspace)
        )
        self.fields["attendees"].queryset = Person.objects.filter(workspace=workspace).order_by("name")
        self.fields["attendees"].help_text = f"People of {workspace.name} only."
        if not self.instance._state.adding:
            self.initial["attendees"] = list(self.instance.attendances.values_list("person_id", flat=True))

    def _post_clean(self):
        if self.errors:
            return
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name) for name in ("title", "kind", "all_day", "date", "location", "notes")}
        data["rrule"] = cleaned.get("rrule") or ""
        data["all_day"] = bool(cleaned.get("all_day"))
        if not data["all_day"]:
            data["starts_at"] = cleaned.get("starts_at")
            data["ends_at"] = cleaned.get("ends_at")
            data.pop("date")
        data["host"] = uuid.UUID(cleaned["host"]) if cleaned.get("host") else None
        data["attendees"] = [person.pk for person in cleaned.get("attendees") or []]
        try:
            if self.instance._state.adding:
                self.instance = services.event_create(workspace=self.workspace, created_by=self.user, data=data)
            else:
                self.instance = services.event_update(event=self.instance, data=data)
        except ValidationError as exc:
            add_service_errors(self, exc, fields=EVENT_SERVICE_FIELDS, labels=EVENT_LABELS)
        except ApplicationError as exc:
            self.add_error(None, exc.message)


class ChooseEventWorkspaceForm(forms.Form):
    workspace = forms.ModelChoiceField(queryset=None, label="Workspace")

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.admin.widgets import AutocompleteSelect

        self.fields["workspace"].widget = AutocompleteSelect(Event._meta.get_field("workspace"), admin_site)
        self.fields["workspace"].queryset = Workspace.objects.order_by("name")


GUEST_SETTINGS = ("plus_ones_allowed", "capacity", "rsvp_deadline", "rsvp_reminder_hours", "offer_hours", "guest_list")


@admin.register(Event)
class EventAdmin(WorkspaceColumns, admin.ModelAdmin):
    form = EventAdminForm
    list_display = ("title", "kind", "workspace_name", "when", "rrule", "host", "status")
    list_filter = ("kind", "status", "all_day", "created_at")
    search_fields = ("title", "location", "workspace__name", "workspace__slug", "host__email")
    date_hierarchy = "created_at"
    list_select_related = ("workspace", "host")
    inlines = (AttendeeInline,)
    actions = ("cancel_events",)
    readonly_fields = (
        "workspace_link",
        "status",
        "sequence",
        "cancelled_at",
        "created_by",
        "created_at",
        *GUEST_SETTINGS,
        "cohost_emails",
        "poll",
        "poll_votes",
    )
    delete_confirmation_template = "admin/events/event/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/events/event/delete_selected_confirmation.html"

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else ()

    @admin.display(description="Co-hosts")
    def cohost_emails(self, obj: Event) -> str:
        return ", ".join(obj.cohosts.order_by("email").values_list("email", flat=True)) or "—"

    @admin.display(description="Options and votes")
    def poll_votes(self, obj: Event) -> str:
        """The date poll's table: each option (in the workspace's zone), its tallies and every voter's choices."""
        table = polls.poll_table(obj)
        if not table.options:
            return "—"
        labels = [_option_label(option, table.zone) for option in table.options]
        head = format_html_join("", "<th scope='col'>{}</th>", ((label,) for label in labels))
        tallies = format_html_join(
            "",
            "<td>{} yes · {} if need be · {} no</td>",
            (
                (tally[Vote.YES], tally[Vote.IF_NEED_BE], tally[Vote.NO])
                for tally in (table.tallies[str(option.pk)] for option in table.options)
            ),
        )
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{} ({}, {})</th>{}</tr>",
            (
                (
                    row.name,
                    row.kind,
                    row.time_zone,
                    format_html_join(
                        "",
                        "<td>{}</td>",
                        ((VOTE_LABELS.get(row.choices.get(str(option.pk), ""), "—"),) for option in table.options),
                    ),
                )
                for row in table.rows
            ),
        )
        return format_html(
            "<table class='bb-poll'><thead><tr><th scope='col'>Voter</th>{}</tr></thead>"
            "<tbody><tr><th scope='row'>Tally</th>{}</tr>{}</tbody></table>",
            head,
            tallies,
            rows,
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("title", "kind", "location", "notes")}),
            ("When", {"fields": ("all_day", "date", "starts_at", "ends_at", "rrule")}),
            ("Who", {"fields": ("host", "attendees")}),
        ]
        if obj is not None:
            # Guest settings are set through the API by the organisers; shown here for staff.
            fieldsets.append(("Guests", {"fields": (*GUEST_SETTINGS, "cohost_emails")}))
            if obj.poll:
                fieldsets.append(("Date poll", {"fields": ("poll", "poll_votes")}))
            fieldsets.append(
                (
                    "Record",
                    {"fields": ("workspace_link", "status", "sequence", "cancelled_at", "created_by", "created_at")},
                )
            )
        return fieldsets

    def _workspace(self, request, obj=None):
        if obj is not None:
            return obj.workspace
        from reminders.admin import _workspace_from

        return _workspace_from(request.GET.get("workspace"))

    def add_view(self, request, form_url="", extra_context=None):
        workspace = self._workspace(request)
        if workspace is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            form = ChooseEventWorkspaceForm(request.GET or None, admin_site=self.admin_site)
            return choose_workspace_page(self, request, form, title="Add event", subtitle="Whose event")
        extra_context = {**(extra_context or {}), "subtitle": f"For {workspace.name} ({workspace.timezone})"}
        return super().add_view(request, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        attrs = {"workspace": self._workspace(request, obj), "user": request.user, "admin_site": self.admin_site}
        kwargs["form"] = type("EventForm", (EventAdminForm,), attrs)
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        """The form's validation ran the service, which saved."""

    def save_related(self, request, form, formsets, change):
        """The service set the attendees; the read-only inline changes nothing."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status == EventStatus.CANCELLED:
            return False  # kept for history; the API refuses changes too
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A hard delete sends no notice and removes the history: superusers only (cancel instead).
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def has_cancel_events_permission(self, request) -> bool:
        return request.user.has_perm("events.change_event")

    @admin.display(description="When (workspace time)", ordering="starts_at")
    def when(self, obj):
        if obj.all_day:
            return f"{obj.date} (all day)"
        return local_time(obj.starts_at, obj.workspace.timezone)

    @admin.action(description="Cancel selected events (attendees are told)", permissions=("cancel_events",))
    def cancel_events(self, request, queryset: QuerySet[Event]):
        page = confirm_action(
            self,
            request,
            queryset.select_related("workspace"),
            action="cancel_events",
            title="Cancel events",
            explanation=(
                "Each event below is cancelled and kept for history; its attendees get a cancellation notice "
                "and its reminders stop."
            ),
            describe=lambda e: "already cancelled: left alone" if e.status == EventStatus.CANCELLED else "cancelled",
        )
        if page is not None:
            return page
        lines = []
        for event in queryset.select_related("workspace"):
            if event.status == EventStatus.CANCELLED:
                lines.append((messages.WARNING, f"{event.title}: already cancelled."))
                continue
            try:
                services.event_cancel(event=event)
            except (ApplicationError, ValidationError) as exc:
                lines.append((messages.WARNING, f"{event.title}: not cancelled. {error_text(exc)}"))
                continue
            lines.append((messages.SUCCESS, f"{event.title}: cancelled; attendees are told."))
        report(self, request, lines)
        return None


@admin.register(Attendee)
class AttendeeAdmin(admin.ModelAdmin):
    list_display = ("person", "event", "answer", "invited_at", "responded_at")
    list_filter = ("answer",)
    search_fields = ("person__name", "person__email", "event__title")
    list_select_related = ("person", "event")
    fields = (
        "id",
        "event",
        "person",
        "answer",
        "note",
        "plus_ones",
        "plus_one_names",
        "seat",
        "waitlisted_at",
        "offer_expires_at",
        "checked_in_at",
        "invited_at",
        "responded_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("__str__", "workspace", "user", "token_hint", "created_at", "revoked_at")
    list_filter = ("created_at", "revoked_at")
    search_fields = ("workspace__name", "workspace__slug", "user__email", "token_hint")
    list_select_related = ("workspace", "user")
    fields = ("id", "workspace", "user", "token_hint", "created_by", "created_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke_feeds",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_feeds_permission(self, request) -> bool:
        return request.user.has_perm("events.change_calendarfeed")

    @admin.action(description="Revoke selected feeds", permissions=("revoke_feeds",))
    def revoke_feeds(self, request, queryset: QuerySet[CalendarFeed]) -> None:
        count = 0
        for feed in queryset.filter(revoked_at__isnull=True):
            feeds.calendar_feed_revoke(feed=feed, actor=request.user, role=Role.ADMIN)  # staff act as admins
            count += 1
        self.message_user(request, f"Revoked {count} feed(s).", messages.SUCCESS)

"""Admin for workspaces, memberships, invitations and people, across every tenant.

Platform staff use it to inspect and fix. Invitation tokens exist only as hashes and are
never shown; invitations are created through the API (which mails the token) and can be
revoked here.
"""

import calendar
from collections.abc import Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone as dj_timezone
from django.utils.html import format_html, format_html_join

from accounts.admin import TimezoneChoiceAdminMixin
from audit.names import ADMIN_ORIGIN
from birthdaybuddy.admin_tools import confirm_action, report
from birthdaybuddy.errors import ApplicationError
from workspaces import invitations, preferences, services
from workspaces.lifecycle import workspace_created_steps_run
from workspaces.models import Invitation, InvitationStatus, Membership, Person, Workspace
from workspaces.sync import person_sync_from_members

# Facts about a workspace that apps above this one know (its last digest, today's failures): each
# app registers a function giving ``(label, html)`` rows for the workspace page; this app imports none of them.
WorkspacePanel = Callable[[Workspace], list[tuple[str, str]]]
workspace_panels: list[WorkspacePanel] = []


def register_workspace_panel(panel: WorkspacePanel) -> WorkspacePanel:
    if panel not in workspace_panels:
        workspace_panels.append(panel)
    return panel


# The workspace's rows elsewhere in the admin: (label, changelist URL name, filter parameter).
WORKSPACE_LINKS = (
    ("People", "admin:workspaces_person_changelist", "workspace__id__exact"),
    ("Members", "admin:workspaces_membership_changelist", "workspace"),
    ("Channels", "admin:notifications_channelconfig_changelist", "workspace"),
    ("Reminders", "admin:reminders_reminder_changelist", "workspace"),
    ("Events", "admin:events_event_changelist", "workspace"),
    ("Notifications", "admin:notifications_notification_changelist", "workspace__id__exact"),
    ("Calendar feeds", "admin:events_calendarfeed_changelist", "workspace"),
)
TIME_FIELDS = ("notify_at", "quiet_hours_start", "quiet_hours_end")


class WorkspaceAdminForm(forms.ModelForm):
    """Times as HH:MM in the workspace's zone; the model's rules (quiet hours need both ends) apply."""

    class Meta:
        model = Workspace
        fields = (
            "name",
            "slug",
            "timezone",
            "notify_at",
            "quiet_hours_start",
            "quiet_hours_end",
            "greet_in_own_zone",
            "leap_day_policy",
            "celebration_shift",
            "holiday_country",
            "holiday_region",
            "locale",
            "sender_name",
            "sender_email",
            "sms_sender",
        )
        widgets = {name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M") for name in TIME_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = self.instance.timezone if self.instance.pk else "the workspace's zone"
        for name in TIME_FIELDS:
            if name in self.fields:
                self.fields[name].label = f"{self.fields[name].label} ({zone})"
        if "quiet_hours_start" in self.fields:
            self.fields["quiet_hours_start"].help_text = (
                "Reminders due between the start and the end wait for the end (it may wrap past midnight), "
                "unless urgent. Leave both empty for none."
            )

    def clean(self):
        cleaned = super().clean()
        for name in TIME_FIELDS:
            # As the API takes them (HH:MM): seconds would shift a schedule by less than a minute.
            if cleaned.get(name) is not None:
                cleaned[name] = cleaned[name].replace(second=0, microsecond=0)
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    show_change_link = True


@admin.register(Workspace)
class WorkspaceAdmin(TimezoneChoiceAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "notify_at", "leap_day_policy", "locale", "member_count", "created_at")
    list_filter = ("leap_day_policy", "locale", "timezone", "created_at")
    search_fields = ("name", "slug", "sender_email")
    date_hierarchy = "created_at"
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("id", "created_by", "created_at", "updated_at", "local_now", "overview", "related_links")
    inlines = (MembershipInline,)
    actions = ("sync_birthdays",)
    form = WorkspaceAdminForm
    fieldsets = (
        (None, {"fields": ("id", "name", "slug")}),
        (
            "Schedule",
            {
                "fields": (
                    "timezone",
                    "local_now",
                    "notify_at",
                    ("quiet_hours_start", "quiet_hours_end"),
                    "greet_in_own_zone",
                    "leap_day_policy",
                    "celebration_shift",
                    ("holiday_country", "holiday_region"),
                    "locale",
                )
            },
        ),
        ("Sender identity", {"fields": ("sender_name", "sender_email", "sms_sender")}),
        ("At a glance", {"fields": ("overview", "related_links")}),
        ("Audit", {"fields": ("created_by", "created_at", "updated_at")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # nothing to glance at yet
            return [(name, opts) for name, opts in self.fieldsets if name != "At a glance"]
        return self.fieldsets

    @admin.display(description="Local time now")
    def local_now(self, workspace: Workspace) -> str:
        if not workspace.pk:
            return "—"
        now = dj_timezone.now().astimezone(ZoneInfo(workspace.timezone))
        return f"{now:%Y-%m-%d %H:%M} {workspace.timezone}"

    @admin.display(description="Deliveries")
    def overview(self, workspace: Workspace) -> str:
        rows = [row for panel in workspace_panels for row in panel(workspace)]
        if not rows:
            return "—"
        return format_html('<dl class="bb-overview">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description="Its data")
    def related_links(self, workspace: Workspace) -> str:
        links = []
        for label, url_name, parameter in WORKSPACE_LINKS:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            links.append((f"{url}?{urlencode({parameter: str(workspace.pk)})}", label))
        return format_html('<ul class="bb-links">{}</ul>', format_html_join("", '<li><a href="{}">{}</a></li>', links))

    def save_model(self, request, obj: Workspace, form, change: bool) -> None:
        if not change:
            if obj.created_by_id is None:
                obj.created_by = request.user
            super().save_model(request, obj, form, change)
            workspace_created_steps_run(obj)  # what workspace_create runs: the new workspace's digest
            return
        # The API's service: the same validation, and the reminders follow a new zone or schedule.
        editable = services.WORKSPACE_EDITABLE_FIELDS
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
        services.workspace_update(workspace=obj, data=data)

    def get_queryset(self, request) -> QuerySet[Workspace]:
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, workspace: Workspace) -> int:
        return workspace.member_count

    def has_sync_birthdays_permission(self, request) -> bool:
        return request.user.has_perm("workspaces.change_person") and request.user.has_perm("workspaces.add_person")

    @admin.action(description="Sync members' birthdays", permissions=("sync_birthdays",))
    def sync_birthdays(self, request, queryset: QuerySet[Workspace]) -> None:
        """Creates or updates each member's Person from their profile (like ``manage.py sync_birthdays``)."""
        for workspace in queryset.order_by("slug"):
            report = person_sync_from_members(workspace=workspace)
            ws = report.workspaces[0]
            level = messages.WARNING if ws.errors else messages.SUCCESS
            self.message_user(
                request,
                f"{workspace.name}: created {len(ws.created)}, updated {len(ws.updated)}, "
                f"unchanged {ws.unchanged}" + (f", errors {len(ws.errors)}" if ws.errors else "") + ".",
                level,
            )
            for error in ws.errors:
                self.message_user(request, f"{workspace.name}: {error['email']}: {error['error']}", messages.WARNING)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "created_at")
    search_fields = ("user__email", "user__first_name", "user__last_name", "workspace__name", "workspace__slug")
    list_select_related = ("user", "workspace")
    autocomplete_fields = ("workspace", "user")
    readonly_fields = ("id", "created_at")
    fields = ("id", "workspace", "user", "role", "created_at")


class InvitationStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return InvitationStatus.choices

    def queryset(self, request, queryset):
        if self.value() in InvitationStatus.values:
            return queryset.with_status(self.value())
        return queryset


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only apart from revoking; the token hash is never displayed."""

    list_display = ("email", "workspace", "role", "invitation_status", "invited_by", "created_at", "expires_at")
    list_filter = (InvitationStatusFilter, "role", "created_at")
    search_fields = ("email", "workspace__name", "workspace__slug", "invited_by__email")
    list_select_related = ("workspace", "invited_by")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "workspace",
        "email",
        "role",
        "invitation_status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ("revoke",)

    @admin.display(description="Status")
    def invitation_status(self, invitation: Invitation) -> str:
        return InvitationStatus(invitation.status_at(dj_timezone.now())).label

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("workspaces.change_invitation")

    @admin.action(description="Revoke selected invitations", permissions=("revoke",))
    def revoke(self, request, queryset: QuerySet[Invitation]) -> None:
        revoked, refused = 0, []
        for invitation in queryset:
            try:
                invitations.invitation_revoke(invitation=invitation)
            except ApplicationError as exc:
                refused.append(f"{invitation.email}: {exc.message}")
            else:
                revoked += 1
        if revoked:
            self.message_user(request, f"Revoked {revoked} invitation(s).", messages.SUCCESS)
        for problem in refused:
            self.message_user(request, problem, messages.WARNING)


class BirthMonthFilter(admin.SimpleListFilter):
    title = "birth month"
    parameter_name = "birth_month"

    def lookups(self, request, model_admin):
        return [(str(month), calendar.month_name[month]) for month in range(1, 13)]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(birth_month=int(self.value()))
        return queryset


def _revoke_plan(person) -> str:
    return f"{person.name} ({person.workspace.name}): links sent so far stop working"


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "birthday", "joined_on", "email", "user", "show_age")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), BirthMonthFilter, "show_age", "joined_on")
    search_fields = ("name", "email", "phone", "slack_user_id", "workspace__name", "workspace__slug", "user__email")
    list_select_related = ("workspace", "user")
    autocomplete_fields = ("workspace", "user")
    readonly_fields = ("id", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "workspace", "user", "name")}),
        ("Contact", {"fields": ("email", "phone", "slack_user_id", "preferred_channels", "opted_out_channels")}),
        ("Dates", {"fields": ("birth_month", "birth_day", "birth_year", "show_age", "joined_on")}),
        ("Celebrations", {"fields": ("celebrate_birthday", "celebrate_anniversary")}),
        ("Audit", {"fields": ("created_at", "updated_at")}),
    )
    actions = ("revoke_preferences_links",)

    def has_revoke_preferences_links_permission(self, request) -> bool:
        return request.user.has_perm("workspaces.change_person")

    @admin.action(description="Revoke their preferences links", permissions=("revoke_preferences_links",))
    def revoke_preferences_links(self, request, queryset: QuerySet[Person]):
        """Every preferences and unsubscribe link sent to each person stops working; new messages carry a new one."""
        queryset = queryset.select_related("workspace").order_by("workspace__name", "name")
        page = confirm_action(
            self,
            request,
            queryset,
            action="revoke_preferences_links",
            title="Revoke preferences links",
            explanation=(
                "Every preferences and unsubscribe link sent so far to each person below stops working: it opens "
                "a page saying the link is no longer valid. Their next messages carry a new link. Their channel "
                "choices and opt-outs do not change."
            ),
            describe=_revoke_plan,
        )
        if page is not None:
            return page
        lines = []
        for person in queryset:
            preferences.preferences_links_revoke(person=person, actor=request.user, origin=ADMIN_ORIGIN)
            lines.append(
                (messages.SUCCESS, f"{person.name} ({person.workspace.name}): earlier preferences links revoked.")
            )
        report(self, request, lines)
        return None

    @admin.display(description="Birthday", ordering="birth_month")
    def birthday(self, person: Person) -> str:
        if person.birth_month is None or person.birth_day is None:
            return "-"
        text = f"{calendar.month_abbr[person.birth_month]} {person.birth_day}"
        return f"{text}, {person.birth_year}" if person.birth_year else text

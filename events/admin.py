"""Admin for events, attendees and calendar feeds, across every tenant.

Staff inspect here and act through the services: events are created and edited through
the API (where their rules and conflict checks live), cancelled here with an action;
feeds are revoked with an action. RSVP and feed tokens exist only as hashes and are never
shown.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet

from events import services
from events.models import Attendee, CalendarFeed, Event, EventStatus
from workspaces.models import Role


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    fields = ("person", "answer", "note", "invited_at", "responded_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "workspace", "starts_at", "date", "rrule", "host", "status", "created_at")
    list_filter = ("kind", "status", "all_day", "created_at")
    search_fields = ("title", "location", "workspace__name", "workspace__slug", "host__email")
    date_hierarchy = "created_at"
    list_select_related = ("workspace", "host")
    inlines = (AttendeeInline,)
    actions = ("cancel_events",)
    fields = (
        "id",
        "workspace",
        "title",
        "kind",
        "status",
        "all_day",
        "date",
        "starts_at",
        "ends_at",
        "rrule",
        "location",
        "notes",
        "host",
        "sequence",
        "cancelled_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only pages (inspection); the list and its actions stay available.
        return False

    def has_cancel_events_permission(self, request) -> bool:
        return request.user.has_perm("events.change_event")

    @admin.action(description="Cancel selected events", permissions=("cancel_events",))
    def cancel_events(self, request, queryset: QuerySet[Event]) -> None:
        cancelled = 0
        for event in queryset.filter(status=EventStatus.ACTIVE):
            services.event_cancel(event=event)
            cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} event(s).", messages.SUCCESS)


@admin.register(Attendee)
class AttendeeAdmin(admin.ModelAdmin):
    list_display = ("person", "event", "answer", "invited_at", "responded_at")
    list_filter = ("answer",)
    search_fields = ("person__name", "person__email", "event__title")
    list_select_related = ("person", "event")
    fields = ("id", "event", "person", "answer", "note", "invited_at", "responded_at", "created_at")
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
            services.calendar_feed_revoke(feed=feed, actor=request.user, role=Role.ADMIN)  # staff act as admins
            count += 1
        self.message_user(request, f"Revoked {count} feed(s).", messages.SUCCESS)

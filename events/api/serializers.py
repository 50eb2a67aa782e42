"""Event JSON (one shape in and out), attendees, invitations resent, calendar feeds, messages to guests.

Guest-facing shapes are in `rsvp_serializers.py`, the date poll's in `poll_serializers.py`.

Input is checked for shape and type here (strictly: a number where text belongs is a 400);
the business rules (end after start, RRULE, host, attendees, conflicts) live in
``events.services``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from birthdaybuddy.api.fields import StrictBooleanField, StrictCharField
from birthdaybuddy.links import webcal_url
from events import selectors, services
from events.calendar_links import google_subscribe_url
from events.models import Attendee, CalendarFeed, Event, EventKind, EventStatus, GuestList

DATETIME_INPUT_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StrictUUIDField(serializers.UUIDField):
    """A UUID as text only (DRF would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number only: ``"3"``, ``true`` and ``2.5`` are refused (400), not coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDateField(serializers.DateField):
    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD."}

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or len(value) != len("YYYY-MM-DD"):
            self.fail("invalid")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "example": "2026-11-30T09:00:00Z",
        "description": "ISO 8601. Input with an offset (`Z`, `+01:00`) or without one, meaning the "
        "workspace's time zone. Output in UTC.",
    }
)
class EventDateTimeField(serializers.Field):
    """An instant: with an offset as given, or naive (wall-clock time in the workspace's zone; the service converts)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date-time such as 2026-11-30T09:00:00+01:00 "
        "(without an offset it is read in the workspace's time zone)."
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 40 or not DATETIME_INPUT_RE.match(data.strip()):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except (ValueError, OverflowError):
            value = None
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return iso_utc(value)


@extend_schema_field(
    {
        "type": "array",
        "maxItems": 200,
        "items": {"type": "string", "example": "2026-12-25T09:00:00"},
    }
)
class WallTimeListField(serializers.ListField):
    """EXDATE/RDATE values: text only here; ``events.services`` reads them in the workspace's zone."""

    child = StrictCharField(max_length=40)

    def __init__(self, **kwargs):
        super().__init__(max_length=200, **kwargs)


class RsvpCountsSerializer(serializers.Serializer):
    yes = serializers.IntegerField()
    no = serializers.IntegerField()
    maybe = serializers.IntegerField()
    pending = serializers.IntegerField()


class OccurrenceSerializer(serializers.Serializer):
    """One occurrence inside the requested window."""

    starts_at = EventDateTimeField(allow_null=True, help_text="Timed events: the start (UTC).")
    ends_at = EventDateTimeField(allow_null=True, help_text="Timed events: the end (UTC), or null.")
    date = StrictDateField(allow_null=True, help_text="All-day events: the local date.")


class EventSerializer(serializers.Serializer):
    """An event. ``host`` is a member's user id; ``attendees`` are person ids of this workspace."""

    id = serializers.UUIDField(read_only=True)
    title = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False, help_text="Default `custom`.")
    starts_at = EventDateTimeField(required=False, allow_null=True, help_text="Timed events: the start.")
    ends_at = EventDateTimeField(
        required=False, allow_null=True, help_text="Timed events: the end (after the start); required for appointments."
    )
    all_day = StrictBooleanField(
        required=False,
        help_text="All-day events have a `date` and no start/end. Inferred from which of `date`/`starts_at` is given.",
    )
    date = StrictDateField(required=False, allow_null=True, help_text="All-day events: the local date.")
    rrule = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=500,
        help_text="RFC 5545 RRULE repeating the event from its start (which must be the rule's first "
        "occurrence), e.g. `FREQ=WEEKLY;BYDAY=MO`; at most daily; unbounded rules are allowed. Null: once. "
        "`UNTIL` is a date (`20261231`) for all-day events and a UTC instant (`20261231T235959Z`) for timed ones, "
        "inclusive; rules RFC 5545 forbids (UNTIL with COUNT, `BYDAY=1MO` with DAILY/WEEKLY, BYSETPOS alone) "
        "are refused.",
    )
    exdates = WallTimeListField(
        required=False,
        help_text="RFC 5545 EXDATE: occurrences the rule skips. All-day events: dates (`2026-12-25`). Timed: "
        "wall times in the workspace's zone (`2026-12-25T09:00:00`), an instant with an offset, or a date (that "
        "day's occurrence). Returned as local dates or wall times. Needs an rrule.",
    )
    rdates = WallTimeListField(
        required=False,
        help_text="RFC 5545 RDATE: extra occurrences, written like `exdates` (each lasts as long as the event). "
        "Needs an rrule.",
    )
    location = StrictCharField(required=False, allow_blank=True, max_length=300)
    notes = StrictCharField(required=False, allow_blank=True, max_length=5000)
    host = StrictUUIDField(
        source="host_id",
        required=False,
        allow_null=True,
        help_text="The hosting member's user id; required for appointments.",
    )
    attendees = serializers.ListField(
        source="attendee_ids",
        child=StrictUUIDField(),
        required=False,
        max_length=1000,
        help_text="Person ids of this workspace; appointments need at least one.",
    )
    plus_ones_allowed = StrictIntegerField(
        required=False, min_value=0, max_value=10, help_text="Gatherings: +1s each guest may bring (default 0)."
    )
    capacity = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=100_000,
        help_text="Gatherings: places, +1s included; a yes beyond it joins the waitlist. Null: no limit.",
    )
    rsvp_deadline = EventDateTimeField(
        required=False,
        allow_null=True,
        help_text="Gatherings: answers are taken until then (not after the start); naive = the workspace's zone.",
    )
    rsvp_reminder_hours = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=720,
        help_text="Gatherings: remind the guests who have not answered this many hours before `rsvp_deadline` "
        "(who that is is worked out when the reminder goes out). Null: no reminder.",
    )
    offer_hours = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=720,
        help_text="Hours a guest promoted from the waitlist has to confirm (default 48; at most until the start).",
    )
    guest_list = serializers.ChoiceField(
        choices=GuestList.choices,
        required=False,
        help_text="What guests see of each other on their page: `hidden` (default), `counts`, or `names` of those "
        "going.",
    )
    cohosts = serializers.ListField(
        source="cohost_ids",
        child=StrictUUIDField(),
        required=False,
        max_length=20,
        help_text="User ids of members who co-organise the event: they manage it like its host. Set by owners/admins "
        "and the host.",
    )
    status = serializers.ChoiceField(choices=EventStatus.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    rsvp_counts = serializers.SerializerMethodField(
        help_text="Answers so far; shown to workspace owners/admins and the host, null for others."
    )
    occurrences = serializers.SerializerMethodField(
        help_text="With `from`/`to`: this event's occurrences inside that window (recurring events expanded); "
        "otherwise null."
    )

    def to_representation(self, instance: Event) -> dict:
        instance.attendee_ids = [attendance.person_id for attendance in instance.attendances.all()]
        instance.cohost_ids = sorted((cohost.pk for cohost in instance.cohosts.all()), key=str)  # type: ignore[attr-defined]
        data = super().to_representation(instance)
        data["rrule"] = instance.rrule or None
        return data

    @extend_schema_field(RsvpCountsSerializer(allow_null=True))
    def get_rsvp_counts(self, instance: Event) -> dict | None:
        user = getattr(self.context.get("request"), "user", None)
        role = self.context.get("workspace_role")
        if services.event_may_edit(event=instance, user=user, role=role):
            return selectors.rsvp_counts(instance)
        return None

    @extend_schema_field(OccurrenceSerializer(many=True, allow_null=True))
    def get_occurrences(self, instance: Event) -> list | None:
        spans = getattr(instance, "window_occurrences", None)
        if spans is None:
            return None
        return OccurrenceSerializer([span.as_dict() for span in spans], many=True).data

    def service_data(self) -> dict:
        """The validated fields, named as ``events.services`` takes them."""
        data = dict(self.validated_data)
        if "host_id" in data:
            data["host"] = data.pop("host_id")
        if "attendee_ids" in data:
            data["attendees"] = data.pop("attendee_ids")
        if "cohost_ids" in data:
            data["cohosts"] = data.pop("cohost_ids")
        if "rrule" in data and data["rrule"] is None:
            data["rrule"] = ""
        return data


class AttendeeSerializer(serializers.ModelSerializer):
    """An invited person and their answer."""

    person = serializers.UUIDField(source="person_id", read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)
    # Plain text in the schema: the enum is documented once, on the RSVP link's answer.
    answer = serializers.CharField(read_only=True, help_text="`pending`, `yes`, `no` or `maybe`.")

    class Meta:
        model = Attendee
        fields = (
            "id",
            "person",
            "name",
            "answer",
            "note",
            "invited_at",
            "responded_at",
            "plus_ones",
            "plus_one_names",
            "seat",
            "waitlisted_at",
            "offer_expires_at",
            "checked_in_at",
        )
        read_only_fields = fields


class InvitationResentSerializer(serializers.Serializer):
    """The invitation sent again: the new notification, where it goes, and the attendee now."""

    notification = serializers.UUIDField(help_text="The new notification (queued); earlier ones stay in the history.")
    channel = serializers.CharField(help_text="`email`, `sms`, `whatsapp` or `slack`.")
    recipient = serializers.CharField(help_text="The address, number or Slack id it goes to.")
    attendee = AttendeeSerializer(help_text="The attendee, with the new `invited_at`; the answer is kept.")


# Shown once, when the feed is created (the secret URL is never stored in clear).
NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}


class CalendarFeedSerializer(serializers.ModelSerializer):
    """A calendar feed. ``url`` (with the secret token) is returned once, when the feed is created."""

    scope = serializers.ChoiceField(choices=[("member", "member"), ("workspace", "workspace")], read_only=True)
    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField(help_text="The subscription URL: only in the response that creates it.")
    webcal_url = serializers.SerializerMethodField(
        help_text="The same URL as `webcal://`: opens the subscribe dialog of Apple Calendar, Outlook and others. "
        "Only in the response that creates the feed."
    )
    google_calendar_url = serializers.SerializerMethodField(
        help_text="Google Calendar's page to subscribe to the feed. Only in the response that creates it."
    )
    url_hint = serializers.SerializerMethodField(help_text="The URL with the token masked, to tell feeds apart.")

    class Meta:
        model = CalendarFeed
        fields = (
            "id",
            "scope",
            "user",
            "url",
            "webcal_url",
            "google_calendar_url",
            "url_hint",
            "created_at",
            "revoked_at",
        )
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URI)
    def get_url(self, feed: CalendarFeed) -> str | None:
        return self.context.get("feed_urls", {}).get(feed.pk)

    @extend_schema_field(NULLABLE_URI)
    def get_webcal_url(self, feed: CalendarFeed) -> str | None:
        url = self.get_url(feed)
        return webcal_url(url) if url else None

    @extend_schema_field(NULLABLE_URI)
    def get_google_calendar_url(self, feed: CalendarFeed) -> str | None:
        url = self.get_url(feed)
        return google_subscribe_url(url) if url else None

    def get_url_hint(self, feed: CalendarFeed) -> str:
        return f"…/calendar/{feed.token_hint}….ics"


class CalendarFeedCreateSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=[("member", "member"), ("workspace", "workspace")],
        default="member",
        help_text="`member`: your own feed (events you host or attend); `workspace`: every event (owners/admins).",
    )


GUEST_GROUPS = ("pending", "yes", "maybe", "no", "going", "waitlisted")


class GuestMessageSerializer(serializers.Serializer):
    to = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[(g, g) for g in ("pending", "yes", "maybe", "no", "going", "waitlisted")]
        ),
        min_length=1,
        help_text="The guests written to, by answer (`pending`: not answered yet, `yes`, `maybe`, `no`) or place "
        "(`going`, `waitlisted`: waiting or offered a place).",
    )
    message = StrictCharField(max_length=2000, help_text="The text (the reminders' template language).")
    at = EventDateTimeField(
        required=False, allow_null=True, help_text="When to send (naive = the workspace's zone); default now."
    )


class GuestMessageWrittenSerializer(serializers.Serializer):
    reminder = serializers.UUIDField(help_text="The one-time reminder that sends it (its history is the reminder's).")
    recipients = serializers.IntegerField(help_text="How many guests it goes to.")
    at = EventDateTimeField(help_text="When it is due (quiet hours may defer it).")

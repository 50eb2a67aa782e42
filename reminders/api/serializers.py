from datetime import UTC

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from birthdaybuddy.api.fields import HourMinuteField, StrictBooleanField, StrictCharField
from events.api.serializers import WallTimeListField
from reminders.models import Audience, MessageType, Reminder, ReminderKind
from workspaces.api.serializers import ChannelListField


class WorkspaceDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant. With an offset (``Z``, ``+02:00``) it is taken as is (in UTC); without one
    it is a wall-clock time in the workspace's zone, left naive for ``reminders.services`` to convert
    (a time skipped by a DST jump fires at the jump, and a series keeps the wall time)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date-time, e.g. 2026-12-01T09:00 (workspace time) or 2026-12-01T08:00Z.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
            if parsed is None:
                self.fail("invalid")
            if parsed.tzinfo is None:
                return parsed
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            self.fail("invalid")


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 1000})
class PersonIdsField(serializers.ListField):
    child = serializers.UUIDField()

    def get_attribute(self, instance):
        return [person.pk for person in instance.recipients.all()]


class AppointmentSerializer(serializers.Serializer):
    """The appointment a one-time reminder is about; its recipients get a confirmation with an .ics."""

    starts_at = WorkspaceDateTimeField(
        help_text="When the appointment starts: ISO 8601 with an offset, or local time in the workspace's zone."
    )
    duration_minutes = serializers.IntegerField(
        required=False, min_value=1, max_value=24 * 60, help_text="Its length in minutes (default 60)."
    )
    location = StrictCharField(required=False, allow_blank=True, max_length=300, help_text="Where it is.")
    sequence = serializers.IntegerField(
        read_only=True,
        help_text="The calendar entry's RFC 5545 SEQUENCE: raised by every change sent to the recipients.",
    )


class ReminderSerializer(serializers.ModelSerializer):
    """A reminder: what is sent, to whom, when and through which channels.

    ``at`` is a one-time reminder's instant, or a recurring reminder's first occurrence which
    anchors its ``rrule`` (expanded in the workspace's zone at ``at``'s local time).
    """

    kind = serializers.ChoiceField(
        choices=ReminderKind.choices,
        help_text="event, one_time or recurring (birthday_digest is the workspace's own, one per workspace). "
        "Cannot change after creation.",
    )
    name = StrictCharField(max_length=200, required=False, allow_blank=True, help_text="Defaults from the kind/event.")
    event = serializers.UUIDField(
        source="event_id", required=False, allow_null=True, help_text="Event reminders: the event (of this workspace)."
    )
    offset_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-(10**9),
        max_value=10**9,
        help_text="Event reminders: minutes before the event's start (0 = at the start; at most 366 days). "
        "All-day events, or with at_time: counted back to a local day, sent at at_time (or notify_at).",
    )
    at = WorkspaceDateTimeField(
        source="run_at",
        required=False,
        allow_null=True,
        help_text="One-time: when to send. Recurring: the first occurrence, which anchors the rrule. "
        "ISO 8601 with an offset, or local time in the workspace's zone. Whole minutes.",
    )
    at_time = HourMinuteField(
        required=False,
        allow_null=True,
        help_text="Digest and event reminders: local HH:MM to send at (default: the workspace's notify_at).",
    )
    rrule = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Recurring: RFC 5545 RRULE, e.g. FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15 (at most hourly). "
        "`UNTIL` is a UTC instant (`20261231T235959Z`), inclusive; rules RFC 5545 forbids are refused.",
    )
    exdates = WallTimeListField(
        required=False,
        help_text="Recurring: RFC 5545 EXDATE, occurrences the rule skips: wall times in the workspace's zone "
        "(`2026-12-25T09:00:00`), instants with an offset, or dates (that day's occurrence at `at`'s time). "
        "Returned as local wall times.",
    )
    rdates = WallTimeListField(
        required=False, help_text="Recurring: RFC 5545 RDATE, extra occurrences, written like `exdates`."
    )
    recipients = PersonIdsField(required=False, max_length=1000, help_text="Audience 'people': person ids.")
    audience = serializers.ChoiceField(
        choices=Audience.choices,
        required=False,
        help_text="Who is told. Default: people when recipients are given, else attendees for event reminders, "
        "else the workspace's Slack channel.",
    )
    channels = ChannelListField(
        help_text="Channels in order of preference: each recipient gets the first they have not opted out of "
        "and can be reached on. Empty: each person's own preferred channels."
    )
    template = StrictCharField(
        source="message",
        required=False,
        allow_blank=True,
        max_length=10_000,
        help_text="The message text; a sandboxed Jinja template with {{ person.name }}, {{ event.title }}, "
        "{{ event.when }}, {{ date }}, {{ workspace.name }}. Required for one-time and recurring reminders.",
    )
    message_type = serializers.ChoiceField(
        choices=MessageType.choices,
        required=False,
        allow_blank=True,
        help_text="deadline, notice, appointment or custom (default from the event's kind, else custom).",
    )
    urgent = StrictBooleanField(required=False, help_text="Sent even during the workspace's quiet hours.")
    active = StrictBooleanField(required=False, help_text="false pauses the reminder.")
    personal_greetings = StrictBooleanField(
        required=False, help_text="Digest only: also greet each celebrated person on their own channel."
    )
    appointment = AppointmentSerializer(
        required=False,
        allow_null=True,
        help_text="One-time reminders for chosen people: the appointment the reminder is about. Its recipients "
        "get a confirmation (email: with an .ics, METHOD:REQUEST) when it is set, an update with a higher "
        "SEQUENCE when it moves or changes, and a cancellation (METHOD:CANCEL) when it is set to null or the "
        "reminder is deleted. `at` (when the reminder itself goes out) must not be after its start.",
    )
    next_run_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it is sent next (UTC, after quiet hours); null: never."
    )
    last_run_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Reminder
        fields = (
            "id",
            "kind",
            "name",
            "event",
            "offset_minutes",
            "at",
            "at_time",
            "rrule",
            "exdates",
            "rdates",
            "recipients",
            "audience",
            "channels",
            "template",
            "message_type",
            "urgent",
            "active",
            "personal_greetings",
            "appointment",
            "next_run_at",
            "last_run_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "next_run_at", "last_run_at", "created_at", "updated_at")

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.timerules.rrules import parse_wall
from reminders.querysets import ReminderQuerySet


class ReminderKind(models.TextChoices):
    BIRTHDAY_DIGEST = "birthday_digest", "Birthday and anniversary digest"
    EVENT = "event", "Event reminder"
    ONE_TIME = "one_time", "One-time message"
    RECURRING = "recurring", "Recurring message"


class Audience(models.TextChoices):
    WORKSPACE_CHANNEL = "workspace_channel", "The workspace's channels"
    MEMBERS = "members", "Every member"
    PEOPLE = "people", "Chosen people"
    ATTENDEES = "attendees", "Event attendees"
    HOST = "host", "The event's host"
    EVENT_PEOPLE = "event_people", "The event's host and attendees"
    UNANSWERED_GUESTS = "unanswered_guests", "The event's guests who have not answered yet"


# Audiences that only make sense with an event.
EVENT_AUDIENCES = frozenset({Audience.ATTENDEES, Audience.HOST, Audience.EVENT_PEOPLE})


class MessageType(models.TextChoices):
    DEADLINE = "deadline", "Deadline"
    NOTICE = "notice", "Notice"
    APPOINTMENT = "appointment", "Appointment"
    CUSTOM = "custom", "Custom"


class Reminder(models.Model):
    """A rule saying who is told what, when and through which channels.

    ``next_run_at`` (UTC) is the schedule: the tick claims reminders whose ``next_run_at``
    has come and advances it in the same transaction that writes their notifications.
    ``next_occurrence_at`` is the occurrence it stands for; the two differ only while a
    workspace's quiet hours hold an occurrence back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    name = models.CharField(max_length=200)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.WORKSPACE_CHANNEL)
    channels = models.JSONField(default=list, blank=True, help_text="Channels, in order of preference.")
    message = models.TextField(blank=True, help_text="Custom text; empty uses the template for the kind.")
    at_time = models.TimeField(null=True, blank=True, help_text="Local time; empty means the workspace's notify_at.")
    rrule = models.TextField(blank=True, help_text="RFC 5545 RRULE for recurring reminders.")
    run_at = models.DateTimeField(
        null=True, blank=True, help_text="One-time: the instant. Recurring: the first occurrence (anchors the RRULE)."
    )
    run_at_local = models.CharField(
        max_length=19,
        blank=True,
        help_text="Recurring: `at` as written, local wall time (ISO 8601, no offset). It anchors the RRULE, and "
        "differs from run_at's own local time only in a spring-forward gap.",
    )
    exdates = models.JSONField(default=list, blank=True, help_text="Recurring: RFC 5545 EXDATE, local wall times.")
    rdates = models.JSONField(default=list, blank=True, help_text="Recurring: RFC 5545 RDATE, local wall times.")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    offset_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Event reminders: minutes before the event's start."
    )
    recipients = models.ManyToManyField("workspaces.Person", blank=True, related_name="+")
    message_type = models.CharField(max_length=20, choices=MessageType.choices, blank=True)
    personal_greetings = models.BooleanField(
        default=False, help_text="Digest only: also greet each person on their own preferred channel."
    )
    urgent = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    appointment_starts_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="One-time: the appointment this reminder is about (UTC). Its recipients get a confirmation "
        "with an .ics, an update when it moves, a cancellation when it is dropped.",
    )
    appointment_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="The appointment's length.")
    appointment_location = models.CharField(max_length=300, blank=True, help_text="Where the appointment is.")
    appointment_sequence = models.PositiveIntegerField(
        default=0, help_text="RFC 5545 SEQUENCE of the appointment's calendar entry; every change raises it."
    )
    next_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When the tick takes the next occurrence (UTC; after quiet hours if deferred)."
    )
    next_occurrence_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The instant of the occurrence next_run_at stands for (earlier while quiet hours defer it).",
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ("next_run_at",)
        indexes = [
            models.Index(fields=("next_run_at",), condition=Q(active=True), name="reminder_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("workspace",),
                condition=Q(kind="birthday_digest"),
                name="reminder_one_digest_per_workspace",
                violation_error_message="A workspace has one birthday digest.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="event") | Q(event__isnull=False),
                name="reminder_event_kind_has_event",
                violation_error_message="An event reminder needs an event.",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=("one_time", "recurring")) | Q(run_at__isnull=False),
                name="reminder_standalone_has_run_at",
                violation_error_message="One-time and recurring reminders need `at`.",
            ),
            models.CheckConstraint(
                condition=Q(appointment_starts_at__isnull=True) | Q(kind="one_time", appointment_minutes__gt=0),
                name="reminder_appointment_one_time",
                violation_error_message="Only one-time reminders carry an appointment, with a length.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="recurring") | ~Q(rrule=""),
                name="reminder_recurring_has_rrule",
                violation_error_message="A recurring reminder needs an RRULE.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def appointment(self) -> dict | None:
        """The appointment as the API shows it, or None."""
        if self.appointment_starts_at is None:
            return None
        return {
            "starts_at": self.appointment_starts_at,
            "duration_minutes": self.appointment_minutes,
            "location": self.appointment_location,
            "sequence": self.appointment_sequence,
        }

    @property
    def wall_run_at(self) -> datetime | None:
        """``run_at_local`` as a naive datetime (None when unknown)."""
        return parse_wall(self.run_at_local)

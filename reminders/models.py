import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone

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


class Reminder(models.Model):
    """A rule saying who is told what, when and through which channels.

    ``next_run_at`` (UTC) is the schedule: the tick claims reminders whose ``next_run_at``
    has come and advances it in the same transaction that writes their notifications.
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
    run_at = models.DateTimeField(null=True, blank=True, help_text="The instant of a one-time reminder.")
    personal_greetings = models.BooleanField(
        default=False, help_text="Digest only: also greet each person on their own preferred channel."
    )
    urgent = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
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
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

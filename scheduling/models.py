import uuid

from django.db import models
from django.utils import timezone as dj_timezone

from scheduling.querysets import JobRunQuerySet


class JobRun(models.Model):
    """One run of the tick, the sweeper or a manual run: what was due and what came of it."""

    class Kind(models.TextChoices):
        TICK = "tick", "Tick"
        MANUAL = "manual", "Manual run"
        SWEEP = "sweep", "Sweeper"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    workspace = models.ForeignKey(
        "workspaces.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="job_runs"
    )
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    due = models.PositiveIntegerField(default=0, help_text="Reminder occurrences taken.")
    created = models.PositiveIntegerField(default=0, help_text="Notifications written.")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0, help_text="Occurrences older than the grace period.")
    error = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = JobRunQuerySet.as_manager()

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class Occurrence(models.Model):
    """A reminder's occurrence that came due: fired, missed (after downtime) or empty.

    Unique per reminder and local date/time, so a second run of the same occurrence is
    visible as such and recorded once.
    """

    class Outcome(models.TextChoices):
        FIRED = "fired", "Fired"
        EMPTY = "empty", "Nothing to send"
        MISSED = "missed", "Missed (older than the grace period)"

    id = models.BigAutoField(primary_key=True)
    reminder = models.ForeignKey("reminders.Reminder", on_delete=models.CASCADE, related_name="occurrences")
    local_date = models.DateField(help_text="The local date it stands for, in the workspace's zone.")
    local_time = models.TimeField(help_text="The local wall-clock time it stands for.")
    scheduled_at = models.DateTimeField(help_text="The UTC instant it was due.")
    processed_at = models.DateTimeField(default=dj_timezone.now)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    notifications = models.PositiveIntegerField(default=0)
    job_run = models.ForeignKey(JobRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences")

    class Meta:
        ordering = ("-scheduled_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("reminder", "local_date", "local_time"), name="occurrence_unique_per_reminder"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reminder_id} @ {self.local_date} {self.local_time:%H:%M} ({self.outcome})"

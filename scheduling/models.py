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
    covered_through = models.DateField(
        null=True,
        blank=True,
        help_text="Digests: the last celebration date this occurrence stands for; the next digest "
        "announces only later ones (a weekend policy changed in between never doubles or drops one).",
    )
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


class GreetingSchedule(models.Model):
    """When a person of a workspace greeting in each person's own zone is greeted next.

    One row per person with a birthday or work anniversary, while their workspace has
    ``greet_in_own_zone`` on: ``next_run_at`` is the UTC instant at which the digest's time
    (its ``at_time`` or the workspace's ``notify_at``) comes in the person's zone on
    ``local_date``, the next day their celebration is announced there. The tick claims due
    rows like reminders (``SKIP LOCKED``), so most minutes it reads only the head of
    ``greeting_due_idx``. Derived data: ``scheduling.own_time`` rebuilds and updates it.
    """

    person = models.OneToOneField("workspaces.Person", primary_key=True, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    zone = models.CharField(max_length=64, help_text="The zone it is computed in: the person's, else the workspace's.")
    local_date = models.DateField(help_text="The local date in that zone the next greeting stands for.")
    next_run_at = models.DateTimeField(help_text="When the tick takes it (UTC).")

    class Meta:
        indexes = [models.Index(fields=("next_run_at",), name="greeting_due_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.local_date} {self.zone}"

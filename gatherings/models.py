"""What people plan together for a gathering: its shared costs (one currency, expenses, settlements).

Every row carries its ``workspace`` (the event's) so that the one tenancy rule — scope by
workspace — applies to it directly, as to every other workspace-owned model.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as dj_timezone

from workspaces.querysets import WorkspaceOwnedQuerySet


class CostLedger(models.Model):
    """An event's shared costs: the one currency its expenses and settlements are in.

    Created with the event's first expense (or a currency chosen before). The currency can
    change only while nothing is recorded in it; the services lock this row, so a currency
    change and a first expense never pass each other.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.OneToOneField("events.Event", on_delete=models.CASCADE, related_name="cost_ledger")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"costs of {self.event_id} in {self.currency}"


class SplitMethod(models.TextChoices):
    EQUAL = "equal", "Equally"
    SHARES = "shares", "By shares"
    EXACT = "exact", "By exact amounts"


class Expense(models.Model):
    """Something one participant paid for a gathering, split among chosen participants.

    ``amount_minor`` is in minor units of the ledger's currency (cents); the shares
    (:class:`ExpenseShare`) always add up to it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="expenses")
    description = models.CharField(max_length=200)
    amount_minor = models.BigIntegerField(help_text="In minor units of the event's currency (e.g. cents).")
    paid_by = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=6, choices=SplitMethod.choices, default=SplitMethod.EQUAL)
    spent_on = models.DateField(null=True, blank=True)
    receipt = models.ForeignKey(
        "gatherings.EventFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A photo or PDF of the receipt, uploaded to the same event.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=("event", "created_at"), name="expense_event_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0),
                name="expense_amount_positive",
                violation_error_message="The amount must be more than zero.",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class ExpenseShare(models.Model):
    """One participant's part of an expense (``position``: their place in the split's order)."""

    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="shares")
    person = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    weight = models.PositiveIntegerField(null=True, blank=True, help_text="Split by shares: this person's shares.")
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ("expense", "position")
        constraints = [
            models.UniqueConstraint(fields=("expense", "person"), name="expense_share_unique_person"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="expense_share_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.amount_minor}"


class Settlement(models.Model):
    """A payment between two participants recorded as made ("mark as settled")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="settlements")
    payer = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    payee = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    amount_minor = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(condition=~Q(payer=F("payee")), name="settlement_between_two_people"),
        ]

    def __str__(self) -> str:
        return f"{self.payer_id} → {self.payee_id}: {self.amount_minor}"


class TaskKind(models.TextChoices):
    TASK = "task", "Task"
    BRING = "bring", "Something to bring"


class Task(models.Model):
    """A checklist item of a gathering: a task, or something to bring (potluck).

    ``assignee`` is a participant (an attendee or the host's person); a guest signs up for an
    open item, or adds what they bring, from their page. While the task has an assignee and a
    due date and is not done, ``reminder`` (a one-time reminder of the reminders pipeline) tells
    the assignee the day before (at the workspace's ``notify_at``), with its quiet hours,
    opt-outs and exactly-once delivery.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=5, choices=TaskKind.choices, default=TaskKind.TASK)
    title = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        "workspaces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True, help_text="Local date in the workspace's zone.")
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    reminder = models.OneToOneField(
        "reminders.Reminder", null=True, blank=True, on_delete=models.SET_NULL, related_name="gathering_task"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_guest = models.ForeignKey(
        "workspaces.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The guest who added it from their page.",
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("done", "due_on", "created_at", "id")
        indexes = [models.Index(fields=("event", "done"), name="task_event_done_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False, done_at__isnull=True) | Q(done=True, done_at__isnull=False),
                name="task_done_at_with_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """A message in a gathering's thread, by a member (``author_user``) or a guest (``author_person``,
    writing from their page). Authors edit and delete their own; organisers hide or delete any.
    ``digested_at``: when the comment digest took it (empty: not yet; see ``gatherings.digest``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="comments")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    author_person = models.ForeignKey(
        "workspaces.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    body = models.TextField(max_length=2000)
    hidden = models.BooleanField(default=False, help_text="Hidden by an organiser: shown to nobody but organisers.")
    edited_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=("event", "created_at"), name="comment_event_created_idx"),
            models.Index(fields=("created_at",), condition=Q(digested_at__isnull=True), name="comment_undigested_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_user__isnull=False, author_person__isnull=True)
                | Q(author_user__isnull=True, author_person__isnull=False),
                name="comment_has_one_author",
            ),
        ]

    def __str__(self) -> str:
        return self.body[:50]


class FileKind(models.TextChoices):
    IMAGE = "image", "Image"
    PDF = "pdf", "PDF"


class EventFile(models.Model):
    """A photo or a PDF shared on a gathering, kept through Django's storage API.

    Images are stored re-encoded (no metadata, so no EXIF location) with a thumbnail; PDFs as
    uploaded. Both are served only through signed, expiring URLs (:mod:`gatherings.files`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=5, choices=FileKind.choices)
    content_type = models.CharField(max_length=50)
    name = models.CharField(max_length=200, help_text="The uploader's file name, for display only.")
    file = models.FileField(upload_to="gatherings/files/", max_length=300)
    thumbnail = models.FileField(upload_to="gatherings/thumbnails/", max_length=300, blank=True)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_person = models.ForeignKey(
        "workspaces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=("event", "created_at"), name="eventfile_event_created_idx")]

    def __str__(self) -> str:
        return self.name

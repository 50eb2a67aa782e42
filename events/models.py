import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.timerules.rrules import parse_wall
from events.querysets import AttendeeQuerySet, CalendarFeedQuerySet, EventQuerySet

# The name of the PostgreSQL exclusion constraint (created by migration 0001 on PostgreSQL
# only): no two active appointments of one host in one workspace overlap in time.
HOST_OVERLAP_CONSTRAINT = "event_host_no_overlap"


class EventKind(models.TextChoices):
    DEADLINE = "deadline", "Deadline"
    APPOINTMENT = "appointment", "Appointment"
    GATHERING = "gathering", "Gathering"
    CUSTOM = "custom", "Custom"


class EventStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


class GuestList(models.TextChoices):
    """What a gathering's guests see of each other on their page."""

    HIDDEN = "hidden", "Hidden"
    COUNTS = "counts", "Counts only"
    NAMES = "names", "Names of those going"


class Event(models.Model):
    """A dated happening: a deadline, an appointment, a gathering.

    All-day (``date``, a local date in the workspace's zone) or timed (``starts_at`` and
    optional ``ends_at``, stored in UTC). An optional RFC 5545 RRULE repeats it, expanded in
    the workspace's wall-clock time from its start (which must be the rule's first
    occurrence). Cancelling keeps the row (``status``) for history, reminders and RSVP links.
    ``sequence`` counts the changes that move or relocate it (iCalendar SEQUENCE; also the
    version in the idempotency keys of "event changed" messages).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="events")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=EventKind.choices, default=EventKind.CUSTOM)
    all_day = models.BooleanField(default=False)
    date = models.DateField(null=True, blank=True, help_text="All-day events: the local date.")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Timed events: the start (UTC).")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Timed events: the end (UTC), optional.")
    rrule = models.CharField(max_length=500, blank=True, help_text="RFC 5545 RRULE (without 'RRULE:'), or empty.")
    starts_local = models.CharField(
        max_length=19,
        blank=True,
        help_text="Timed events: the start as written, local wall time (ISO 8601, no offset). It anchors the "
        "RRULE, and differs from starts_at's own local time only in a spring-forward gap.",
    )
    exdates = models.JSONField(
        default=list, blank=True, help_text="RFC 5545 EXDATE: local dates (all-day) or wall times the RRULE skips."
    )
    rdates = models.JSONField(
        default=list, blank=True, help_text="RFC 5545 RDATE: local dates (all-day) or wall times added to the RRULE."
    )
    location = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="hosted_events"
    )
    attendees = models.ManyToManyField("workspaces.Person", through="Attendee", related_name="events", blank=True)
    cohosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="cohosted_events", blank=True, help_text="Members who co-organise it."
    )
    plus_ones_allowed = models.PositiveSmallIntegerField(
        default=0, help_text="How many +1s each guest may bring (0: none)."
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Places, +1s included; answers beyond it go to the waitlist. Empty: no limit."
    )
    rsvp_deadline = models.DateTimeField(null=True, blank=True, help_text="Answers are taken until then (UTC).")
    rsvp_reminder_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Hours before the RSVP deadline when the guests who have not answered yet are reminded. "
        "Empty: no reminder.",
    )
    offer_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Hours a guest promoted from the waitlist has to confirm their place."
    )
    guest_list = models.CharField(max_length=8, choices=GuestList.choices, default=GuestList.HIDDEN)
    poll = models.CharField(
        max_length=6, blank=True, default="", help_text="The date poll: empty (none), open, or closed (fixed)."
    )
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.ACTIVE)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=0, help_text="Bumped by every change of time or place.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ("starts_at", "date", "id")
        indexes = [
            models.Index(fields=("workspace", "starts_at"), name="event_ws_starts_idx"),
            models.Index(fields=("workspace", "date"), name="event_ws_date_idx"),
            models.Index(fields=("host", "starts_at"), name="event_host_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="event_ends_after_start",
                violation_error_message="The end must be after the start.",
            ),
            models.CheckConstraint(
                condition=Q(all_day=True, date__isnull=False, starts_at__isnull=True, ends_at__isnull=True)
                | Q(all_day=False, starts_at__isnull=False, date__isnull=True),
                name="event_has_a_time",
                violation_error_message="An all-day event has a date; a timed event has a start (and no date).",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.APPOINTMENT) | Q(all_day=False, ends_at__isnull=False),
                name="event_appointment_has_an_end",
                violation_error_message="An appointment has a start and an end.",
            ),
            models.CheckConstraint(
                condition=Q(status=EventStatus.ACTIVE, cancelled_at__isnull=True)
                | Q(status=EventStatus.CANCELLED, cancelled_at__isnull=False),
                name="event_cancelled_at_with_status",
                violation_error_message="A cancelled event records when it was cancelled.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def wall_start(self) -> datetime | None:
        """``starts_local`` as a naive datetime (None when unknown)."""
        return parse_wall(self.starts_local)


class Rsvp(models.TextChoices):
    PENDING = "pending", "No answer yet"
    YES = "yes", "Yes"
    NO = "no", "No"
    MAYBE = "maybe", "Maybe"


class Seat(models.TextChoices):
    """Where a guest who said yes stands when the event has a capacity."""

    NONE = "", "No place (not going)"
    GOING = "going", "Going"
    WAITLISTED = "waitlisted", "On the waitlist"
    OFFERED = "offered", "Offered a place, to confirm"


class Attendee(models.Model):
    """A person invited to an event, with their answer.

    The personal RSVP link's token is stored only as its SHA-256 (``rsvp_token_hash``); it
    is issued when the invitation message is written (``invited_at``) and dies with the
    attendee row or the event's cancellation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="attendances")
    answer = models.CharField(max_length=8, choices=Rsvp.choices, default=Rsvp.PENDING)
    note = models.CharField(max_length=500, blank=True)
    rsvp_token_hash = models.CharField(max_length=64, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    plus_ones = models.PositiveSmallIntegerField(default=0)
    plus_one_names = models.JSONField(default=list, blank=True)
    seat = models.CharField(max_length=10, choices=Seat.choices, default=Seat.NONE, blank=True)
    waitlisted_at = models.DateTimeField(null=True, blank=True, help_text="When they joined the waitlist (its order).")
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = AttendeeQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("event", "person"),
                name="attendee_unique_person_per_event",
                violation_error_message="This person is already invited.",
            ),
            models.CheckConstraint(
                condition=Q(seat="") | Q(answer="yes"),
                name="attendee_seat_only_when_going",
                violation_error_message="Only a guest who said yes has a place or waits for one.",
            ),
            models.UniqueConstraint(
                fields=("rsvp_token_hash",),
                condition=~Q(rsvp_token_hash=""),
                name="attendee_unique_rsvp_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} at {self.event_id} ({self.answer})"

    @property
    def places(self) -> int:
        return 1 + self.plus_ones


class CalendarFeed(models.Model):
    """A secret-token iCalendar (.ics) subscription URL.

    ``user`` empty: the workspace feed (every active event). ``user`` set: that member's
    feed (events they host or attend). Both carry the workspace's birthdays and work
    anniversaries. Only the token's SHA-256 is stored; ``token_hint`` (its first characters)
    lets people tell feeds apart. Revoking keeps the row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="calendar_feeds")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")

    def __str__(self) -> str:
        scope = f"member {self.user_id}" if self.user_id else "workspace"
        return f"{scope} feed {self.token_hint}… of {self.workspace_id}"

    @property
    def scope(self) -> str:
        return "member" if self.user_id else "workspace"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class PollStatus(models.TextChoices):
    NONE = "", "No poll"
    OPEN = "open", "Open for votes"
    CLOSED = "closed", "Closed (a date was fixed)"


class Vote(models.TextChoices):
    YES = "yes", "Yes"
    IF_NEED_BE = "ifneedbe", "If need be"
    NO = "no", "No"


class PollOption(models.Model):
    """A proposed date (all-day) or time slot of a gathering's date poll."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="poll_options")
    position = models.PositiveSmallIntegerField()
    date = models.DateField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("event", "position")
        constraints = [
            models.UniqueConstraint(fields=("event", "position"), name="poll_option_unique_position"),
            models.CheckConstraint(
                condition=Q(date__isnull=False, starts_at__isnull=True, ends_at__isnull=True)
                | Q(date__isnull=True, starts_at__isnull=False),
                name="poll_option_date_or_time",
            ),
        ]

    def __str__(self) -> str:
        return f"option {self.position} of {self.event_id}"


class PollVote(models.Model):
    """One voter's answer to one option: a guest (by their attendee row) or a member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    attendee = models.ForeignKey(Attendee, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    choice = models.CharField(max_length=8, choices=Vote.choices)
    time_zone = models.CharField(max_length=64, help_text="The voter's time zone when they voted.")
    voted_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ("option", "voted_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(attendee__isnull=False, user__isnull=True) | Q(attendee__isnull=True, user__isnull=False),
                name="poll_vote_one_voter",
            ),
            models.UniqueConstraint(
                fields=("option", "attendee"), condition=Q(attendee__isnull=False), name="poll_vote_once_per_guest"
            ),
            models.UniqueConstraint(
                fields=("option", "user"), condition=Q(user__isnull=False), name="poll_vote_once_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.choice} on {self.option_id}"

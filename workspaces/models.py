import calendar
import re
import uuid
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.timerules import workdays
from birthdaybuddy.validators import validate_phone, validate_timezone
from workspaces.querysets import InvitationQuerySet, MembershipQuerySet, PersonQuerySet, WorkspaceQuerySet


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class LeapDayPolicy(models.TextChoices):
    FEB28 = "feb28", "Celebrate Feb 29 on Feb 28 in common years"
    MAR1 = "mar1", "Celebrate Feb 29 on Mar 1 in common years"


class CelebrationShift(models.TextChoices):
    """When a celebration falling on a weekend or public holiday is announced."""

    ON_DAY = "on_day", "Post on the day"
    WORKING_DAY_BEFORE = "working_day_before", "The working day before"
    NEXT_WORKING_DAY = "next_working_day", "The next working day"


class Channel(models.TextChoices):
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    # Team chats reached through an incoming webhook (a fixed channel or space, never a person).
    # Stored as "gchat": the channel columns are ten characters wide.
    TEAMS = "teams", "Microsoft Teams"
    GCHAT = "gchat", "Google Chat"


#: Channels that post to a team's shared channel or space (the digest's team post goes there).
TEAM_CHAT_CHANNELS: tuple[str, ...] = (Channel.SLACK, Channel.TEAMS, Channel.GCHAT)
#: Team chats reached only through an incoming webhook URL.
CHAT_WEBHOOK_CHANNELS: tuple[str, ...] = (Channel.TEAMS, Channel.GCHAT)
#: Channels that reach one person: what a person may prefer or opt out of. A webhook posts to
#: its channel or space only, so Teams and Google Chat are no person's channel.
PERSONAL_CHANNELS: tuple[str, ...] = (Channel.SLACK, Channel.EMAIL, Channel.SMS, Channel.WHATSAPP)


class Consent(models.TextChoices):
    """Whether a person wants to be celebrated: asked and not yet answered, yes, or no."""

    ACTIVE = "active", "Active"
    PENDING = "pending", "Pending"
    DECLINED = "declined", "Declined"


class Celebrate(models.TextChoices):
    """How a person's birthday (or work anniversary) is celebrated."""

    PUBLIC = "public", "Publicly: the team's digest and a personal greeting"
    PRIVATE = "private", "Privately: a personal greeting only"
    OFF = "off", "Not at all"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


# A BCP 47-ish language tag: "en", "de-AT", "pt-BR", "zh-Hant".
LOCALE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")
LOCALE_MESSAGE = "Enter a language tag such as 'en', 'de-AT' or 'pt-BR'."


class Workspace(models.Model):
    """A team, company or firm: the tenant that owns people, events and reminders."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    notify_at = models.TimeField(default=time(9, 0), help_text="Local time of the daily announcements.")
    leap_day_policy = models.CharField(max_length=8, choices=LeapDayPolicy.choices, default=LeapDayPolicy.FEB28)
    celebration_shift = models.CharField(
        max_length=20,
        choices=CelebrationShift.choices,
        default=CelebrationShift.ON_DAY,
        help_text="Celebrations on a weekend or public holiday: on the day, the working day before, or after.",
    )
    holiday_country = models.CharField(
        max_length=3, blank=True, help_text="Public holidays of this country (ISO 3166-1 alpha-2, e.g. DE)."
    )
    holiday_region = models.CharField(
        max_length=10, blank=True, help_text="And of this region of the country (e.g. BY for Bavaria)."
    )
    locale = models.CharField(max_length=16, default="en")
    sender_name = models.CharField(max_length=120, blank=True, help_text="From-name of emails.")
    sender_email = models.EmailField(blank=True, help_text="Reply-to address of emails.")
    sms_sender = models.CharField(max_length=32, blank=True, help_text="SMS/WhatsApp sender id or number.")
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="Local start of quiet hours: reminders due then wait, unless urgent."
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="Local end of quiet hours.")
    greet_in_own_zone = models.BooleanField(
        default=False,
        help_text="Send each person's greeting at notify_at in their own time zone (the team's post stays at the "
        "workspace's); people without a zone are greeted at the workspace's time.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self._clean_holidays()
        if self.locale and not LOCALE_RE.fullmatch(self.locale):
            raise ValidationError({"locale": ValidationError(LOCALE_MESSAGE, code="invalid_locale")})
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            missing = "quiet_hours_end" if self.quiet_hours_end is None else "quiet_hours_start"
            raise ValidationError(
                {missing: ValidationError("Quiet hours need both a start and an end.", code="quiet_hours_incomplete")}
            )
        if self.quiet_hours_start is not None and self.quiet_hours_start == self.quiet_hours_end:
            raise ValidationError(
                {
                    "quiet_hours_end": ValidationError(
                        "Quiet hours must not start and end at the same time.", code="quiet_hours_empty"
                    )
                }
            )

    def _clean_holidays(self) -> None:
        if self.holiday_region and not self.holiday_country:
            raise ValidationError(
                {"holiday_region": ValidationError("A region needs a holiday_country.", code="region_without_country")}
            )
        if not self.holiday_country:
            return
        try:
            self.holiday_country, self.holiday_region = workdays.check_country(
                self.holiday_country, self.holiday_region
            )
        except workdays.UnknownCountry:
            raise ValidationError(
                {
                    "holiday_country": ValidationError(
                        "No holiday calendar for this country code (ISO 3166-1 alpha-2, e.g. DE).",
                        code="unknown_country",
                    )
                }
            ) from None
        except workdays.UnknownRegion:
            raise ValidationError(
                {
                    "holiday_region": ValidationError(
                        "No holiday calendar for this region of the country.", code="unknown_region"
                    )
                }
            ) from None


class Membership(models.Model):
    """A user's role in a workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (workspace, user) constraint's index leads with it.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ("created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "user"),
                name="membership_unique_user_per_workspace",
                violation_error_message="This user is already a member of the workspace.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class Invitation(models.Model):
    """An emailed invitation to join a workspace. Only the token's SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.workspace}"

    @property
    def status(self) -> str:
        return self.status_at(dj_timezone.now())

    def status_at(self, now) -> str:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class Person(models.Model):
    """Anyone the workspace remembers: a member (linked ``user``) or an external client."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, validators=[validate_phone])
    slack_user_id = models.CharField(max_length=32, blank=True)
    birth_month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    birth_day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1900)])
    joined_on = models.DateField(null=True, blank=True, help_text="Start date, for work anniversaries.")
    preferred_channels = models.JSONField(default=list, blank=True, help_text="Channels in order of preference.")
    opted_out_channels = models.JSONField(default=list, blank=True)
    show_age = models.BooleanField(default=False, help_text="Whether other members may see the birth year and age.")
    consent = models.CharField(
        max_length=8,
        choices=Consent.choices,
        default=Consent.ACTIVE,
        help_text="Declined: never celebrated, and never asked again unless the person starts it.",
    )
    celebrate_birthday = models.CharField(
        max_length=8,
        choices=Celebrate.choices,
        default=Celebrate.PUBLIC,
        help_text="Birthday: in the team's digest and greeted (public), greeted only (private), or not at all.",
    )
    celebrate_anniversary = models.CharField(
        max_length=8,
        choices=Celebrate.choices,
        default=Celebrate.PUBLIC,
        help_text="Work anniversary: public, private (greeted only) or not at all.",
    )
    consent_asked_at = models.DateTimeField(null=True, blank=True, help_text="When the person was last asked.")
    slack_display_name = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="The person's own zone (IANA); empty: the workspace's.",
    )
    slack_deactivated_at = models.DateTimeField(
        null=True, blank=True, help_text="Deactivated in Slack: no longer celebrated while set."
    )
    language = models.CharField(
        max_length=16, blank=True, help_text="The person's own language for messages and pages; empty: the workspace's."
    )
    preferences_key = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="Part of the secret in the person's preferences link; a new value revokes every link sent so far.",
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "people"
        indexes = [
            models.Index(fields=("workspace", "birth_month", "birth_day"), name="person_ws_birthday_idx"),
            models.Index(fields=("workspace", "email"), name="person_ws_email_idx"),
            models.Index(fields=("workspace", "phone"), name="person_ws_phone_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "user"),
                condition=Q(user__isnull=False),
                name="person_unique_user_per_workspace",
                violation_error_message="This member already has a person in the workspace.",
            ),
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True, birth_day__isnull=True, birth_year__isnull=True)
                | Q(birth_month__isnull=False, birth_day__isnull=False),
                name="person_birthday_month_and_day_together",
                violation_error_message="A birthday needs both a month and a day.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = validate_birthday(self.birth_month, self.birth_day, self.birth_year)
        errors.update(validate_channels(self.preferred_channels, self.opted_out_channels))
        if self.language and not LOCALE_RE.fullmatch(self.language):
            errors["language"] = LOCALE_MESSAGE
        if errors:
            raise ValidationError(errors)


def validate_birthday(month: int | None, day: int | None, year: int | None, *, today=None) -> dict[str, str]:
    """Field errors for a birthday given as month/day/optional year (empty dict if valid).

    Feb 29 is accepted without a year (or with a leap year); Feb 30, Apr 31 are not, and
    neither is a year in the future.
    """
    errors: dict[str, str] = {}
    if month is None and day is None:
        if year is not None:
            errors["birth_year"] = "A birth year needs a month and a day."
        return errors
    if month is None or day is None:
        errors["birth_month" if month is None else "birth_day"] = "A birthday needs both a month and a day."
        return errors
    if not 1 <= month <= 12:
        errors["birth_month"] = "Month must be between 1 and 12."
        return errors
    days_in_month = calendar.monthrange(year if year else 2000, month)[1]
    if not 1 <= day <= days_in_month:
        errors["birth_day"] = f"Day {day} does not exist in {calendar.month_name[month]}" + (
            f" {year}." if year else "."
        )
    if year is not None:
        today = today or dj_timezone.localdate()
        if year < 1900:
            errors["birth_year"] = "Birth year must be 1900 or later."
        elif year > today.year or (year == today.year and (month, day) > (today.month, today.day)):
            errors["birth_year"] = "A birthday cannot be in the future."
    return errors


def validate_channels(preferred, opted_out) -> dict[str, str]:
    """Field errors for the two channel lists: known channels, no repeats, no channel in both."""
    errors: dict[str, str] = {}
    lists = {"preferred_channels": preferred, "opted_out_channels": opted_out}
    for field, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            errors[field] = "Must be a list of channel names."
            continue
        unknown = [item for item in value if item not in PERSONAL_CHANNELS]
        if unknown:
            errors[field] = f"Unknown channel {unknown[0]!r}; choose from {', '.join(PERSONAL_CHANNELS)}."
        elif len(set(value)) != len(value):
            errors[field] = "A channel may appear only once."
    if not errors and set(preferred) & set(opted_out):
        both = sorted(set(preferred) & set(opted_out))
        errors["opted_out_channels"] = f"{', '.join(both)} cannot be both preferred and opted out."
    return errors

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from birthdaybuddy.api.fields import HourMinuteField, StrictCharField, StrictEmailField, StrictModelSerializer
from birthdaybuddy.validators import SLACK_USER_ID_RE, normalize_phone
from workspaces.models import (
    LOCALE_MESSAGE,
    LOCALE_RE,
    PERSONAL_CHANNELS,
    Channel,
    Invitation,
    InvitationStatus,
    Membership,
    Person,
    Role,
    Workspace,
    validate_birthday,
    validate_channels,
)
from workspaces.selectors import person_birth_year_visible

# Slack member ids: U… (or W… on Enterprise Grid), upper-case letters and digits.

# --- Workspaces ---------------------------------------------------------------------------


class WorkspaceSerializer(StrictModelSerializer):
    """A workspace's settings and the caller's role in it."""

    slug = serializers.SlugField(
        read_only=True,
        help_text=(
            "URL-safe name, assigned on create: the name's slug and a random suffix (e.g. `acme-3f9a2c`). "
            "It cannot be chosen, so it says nothing about other workspaces."
        ),
    )
    notify_at = HourMinuteField(required=False, help_text="Local time of the daily announcements (HH:MM).")
    quiet_hours_start = HourMinuteField(
        required=False,
        allow_null=True,
        help_text="Local start of quiet hours (HH:MM; may wrap past midnight): reminders due then wait, unless urgent.",
    )
    quiet_hours_end = HourMinuteField(required=False, allow_null=True, help_text="Local end of quiet hours (HH:MM).")
    role = serializers.ChoiceField(
        choices=Role.choices,
        source="caller_role",
        read_only=True,
        allow_null=True,
        help_text="Your role in this workspace; null for platform staff who are not members.",
    )

    class Meta:
        model = Workspace
        fields = (
            "id",
            "name",
            "slug",
            "timezone",
            "notify_at",
            "leap_day_policy",
            "celebration_shift",
            "holiday_country",
            "holiday_region",
            "locale",
            "quiet_hours_start",
            "quiet_hours_end",
            "greet_in_own_zone",
            "role",
            "created_at",
        )
        read_only_fields = ("id", "created_at")
        extra_kwargs = {"timezone": {"help_text": "IANA time zone, e.g. Europe/Berlin (see GET /api/v1/timezones)."}}

    def validate_locale(self, value: str) -> str:
        if not LOCALE_RE.fullmatch(value):
            raise serializers.ValidationError(LOCALE_MESSAGE, code="invalid_locale")
        return value

    def to_representation(self, instance):
        if not hasattr(instance, "caller_role"):
            instance.caller_role = None
        return super().to_representation(instance)


# --- Members ------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    """A member of the workspace: who, and with which role."""

    user = serializers.UUIDField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "user", "email", "name", "role", "joined_at")
        read_only_fields = ("id", "role")


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- Invitations --------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation. The token itself is only ever emailed, never returned."""

    status = serializers.ChoiceField(choices=InvitationStatus.choices, read_only=True)
    invited_by = serializers.UUIDField(source="invited_by_id", read_only=True, allow_null=True)
    accepted_by = serializers.UUIDField(source="accepted_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = (
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "accepted_by",
            "revoked_at",
        )
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class InvitationAcceptSerializer(serializers.Serializer):
    token = StrictCharField(max_length=200, trim_whitespace=True)


# --- People -------------------------------------------------------------------------------


# Described here rather than by a ChoiceField child: the two channel lists would otherwise
# yield two differently named enum components for one choice set (a drf-spectacular
# warning). The settings entry ENUM_NAME_OVERRIDES["ChannelEnum"] would make this unneeded.
CHANNEL_LIST_SCHEMA = {
    "type": "array",
    "items": {"allOf": [{"type": "string", "enum": Channel.values}]},
    "maxItems": len(Channel.values),
    "uniqueItems": True,
}
PERSONAL_CHANNEL_LIST_SCHEMA = {
    **CHANNEL_LIST_SCHEMA,
    "items": {"allOf": [{"type": "string", "enum": list(PERSONAL_CHANNELS)}]},
    "maxItems": len(PERSONAL_CHANNELS),
}


@extend_schema_field(CHANNEL_LIST_SCHEMA)
class ChannelListField(serializers.ListField):
    """A list of channels (a reminder's, in order of preference)."""

    channels: tuple[str, ...] = tuple(Channel.values)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", len(self.channels))
        kwargs.setdefault("child", serializers.ChoiceField(choices=[(c, Channel(c).label) for c in self.channels]))
        super().__init__(**kwargs)


@extend_schema_field(PERSONAL_CHANNEL_LIST_SCHEMA)
class PersonalChannelListField(ChannelListField):
    """A person's channels: those that reach one person (no team chat)."""

    channels = PERSONAL_CHANNELS


class PersonSerializer(StrictModelSerializer):
    """Someone the workspace remembers. ``birth_year`` is null for viewers the person hides it from."""

    phone = StrictCharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="International (E.164) phone number, e.g. +14155550100; stored normalised.",
    )
    user = serializers.UUIDField(
        source="user_id",
        read_only=True,
        allow_null=True,
        help_text="The member's user account, when this person is a member.",
    )
    preferred_channels = PersonalChannelListField(help_text="Channels in order of preference.")
    opted_out_channels = PersonalChannelListField(help_text="Channels this person must not be contacted on.")

    class Meta:
        model = Person
        fields = (
            "id",
            "name",
            "email",
            "phone",
            "slack_user_id",
            "birth_month",
            "birth_day",
            "birth_year",
            "joined_on",
            "show_age",
            "celebrate_birthday",
            "celebrate_anniversary",
            "language",
            "user",
            "preferred_channels",
            "opted_out_channels",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "user", "created_at", "updated_at")
        extra_kwargs = {
            "birth_year": {"max_value": 9999, "help_text": "Null when hidden from you (show_age is false)."},
            "language": {
                "help_text": "The person's own language for messages and pages (e.g. 'de'); empty: the workspace's."
            },
        }

    def validate_phone(self, value: str) -> str:
        return normalize_phone(value)

    def validate_slack_user_id(self, value: str) -> str:
        value = value.strip()
        if value and not SLACK_USER_ID_RE.fullmatch(value):
            raise serializers.ValidationError(
                "Enter a Slack member ID such as U012ABCDEF (not a @name).", code="invalid_slack_user_id"
            )
        return value

    def validate(self, attrs):
        instance = self.instance

        def current(field):
            if field in attrs:
                return attrs[field]
            return getattr(instance, field) if instance is not None else None

        errors = validate_birthday(current("birth_month"), current("birth_day"), current("birth_year"))
        channels = {f: current(f) or [] for f in ("preferred_channels", "opted_out_channels")}
        errors.update(validate_channels(channels["preferred_channels"], channels["opted_out_channels"]))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if not person_birth_year_visible(
            person=instance, viewer=viewer, viewer_role=self.context.get("workspace_role")
        ):
            data["birth_year"] = None
        return data

"""Input and output shapes of the accounts API. Business rules live in ``accounts.services``."""

from django.contrib.auth.models import update_last_login
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenObtainSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import tokens
from accounts.models import User
from birthdaybuddy.api.fields import StrictBooleanField


class StrictStringMixin:
    """Refuses numbers and booleans instead of quietly turning them into text (DRF's default)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"not_a_string": "Not a valid string."}


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    default_error_messages = {"not_a_string": "Not a valid string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    default_error_messages = {"not_a_string": "Enter a valid email address."}

    def to_internal_value(self, data):
        return super().to_internal_value(data).strip().lower()


def password_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        write_only=True, trim_whitespace=False, max_length=256, style={"input_type": "password"}, **kwargs
    )


class AccountMessageSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True, help_text="What happened, for a person.")


# --- Profile ------------------------------------------------------------------------------


class ProfileSerializer(serializers.ModelSerializer):
    """The signed-in user's own account."""

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "date_of_birth",
            "timezone",
            "phone",
            "slack_user_id",
            "status",
            "created_at",
        )
        read_only_fields = fields


class ProfileUpdateSerializer(serializers.Serializer):
    """The fields a user may change about themselves; ``email`` and ``status`` are not among them."""

    first_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    last_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    date_of_birth = serializers.DateField(allow_null=True, required=False)
    timezone = StrictCharField(max_length=64, required=False, help_text="IANA time zone, e.g. Europe/Berlin.")
    phone = StrictCharField(max_length=32, allow_blank=True, required=False, help_text="E.164, e.g. +14155550100.")
    slack_user_id = StrictCharField(max_length=32, allow_blank=True, required=False)


class AccountDeleteSerializer(serializers.Serializer):
    password = password_field(help_text="The current password, to confirm the deletion.")


# --- Sign-up, verification, password reset ------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = password_field(help_text="Checked against the password rules (length, common, similarity).")
    first_name = StrictCharField(max_length=150)
    last_name = StrictCharField(max_length=150, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True, help_text="YYYY-MM-DD, not in the future.")
    timezone = StrictCharField(max_length=64, required=False, default="UTC", help_text="IANA time zone name.")


class VerifySerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    code = StrictRegexField(
        r"^\d{6}$",
        max_length=6,
        help_text="The 6-digit code from the email.",
        error_messages={"invalid": "Enter the 6 digits of the code."},
    )


class EmailSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)


class PasswordResetSerializer(serializers.Serializer):
    uid = StrictCharField(max_length=128, help_text="The `uid` parameter of the emailed link.")
    token = StrictCharField(max_length=128, help_text="The `token` parameter of the emailed link.")
    new_password = password_field()


# --- Tokens -------------------------------------------------------------------------------


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="Short-lived JWT for `Authorization: Bearer …`.")
    refresh = serializers.CharField(read_only=True, help_text="Single-use JWT for `POST /api/v1/auth/refresh`.")


class LoginSerializer(TokenObtainPairSerializer):
    """Email and password in, a token pair out; unverified accounts are refused with 403."""

    token_class = tokens.RefreshToken

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = StrictEmailField(write_only=True, max_length=254)
        self.fields["password"] = password_field()

    def validate(self, attrs):
        try:
            TokenObtainSerializer.validate(self, attrs)
        except exceptions.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(
                "Email or password is incorrect.", code="invalid_credentials"
            ) from exc
        if not self.user.is_verified:
            raise exceptions.PermissionDenied(
                "Verify your email address first: enter the code we emailed you.", code="email_not_verified"
            )
        pair = tokens.token_pair_issue(user=self.user)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return pair.as_dict()


class RefreshSerializer(TokenRefreshSerializer):
    """Rotates the refresh token: one winner; a token already rotated revokes its whole sign-in."""

    refresh = StrictCharField()
    token_class = tokens.RefreshToken

    def validate(self, attrs):
        try:
            return tokens.token_refresh(raw=attrs["refresh"]).as_dict()
        except tokens.TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc


class LogoutSerializer(TokenBlacklistSerializer):
    token_class = tokens.RefreshToken
    refresh = StrictCharField(write_only=True, help_text="The refresh token to revoke.")

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])
        request = self.context["request"]
        if str(token.payload.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
            raise exceptions.PermissionDenied("This refresh token belongs to another account.", code="token_not_yours")
        return {"token": token}


# --- Staff --------------------------------------------------------------------------------


class StaffUserSerializer(serializers.ModelSerializer):
    """A user as staff see it."""

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "date_of_birth",
            "timezone",
            "phone",
            "slack_user_id",
            "status",
            "is_active",
            "is_staff",
            "is_superuser",
            "last_login",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class StaffUserUpdateSerializer(serializers.Serializer):
    first_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    last_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=User.Status.choices, required=False)
    is_active = StrictBooleanField(required=False, help_text="False deactivates the account.")
    is_staff = StrictBooleanField(required=False, help_text="Only superusers may change this.")


# --- Personal-data export -----------------------------------------------------------------


class ExportProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = (*ProfileSerializer.Meta.fields, "is_staff", "last_login", "updated_at")
        read_only_fields = fields

"""HTTP endpoints of the accounts app. Thin: parse with a serializer, call a service, render."""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import registration, services, tokens
from accounts.api import serializers as s
from accounts.api.filters import StaffUserFilterSet
from accounts.api.throttles import AuthThrottleMixin
from accounts.models import User

AUTH_TAG = "auth"
PROFILE_TAG = "profile"
STAFF_TAG = "staff: users"

UUID_RE = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
# The shared error component (added by birthdaybuddy.api.schema's post-processing hook).
ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/Error"}
_THROTTLED = "Rate-limited per client IP and per submitted email address (429 with `Retry-After`)."


class PublicAuthView(AuthThrottleMixin, generics.GenericAPIView):
    """Base of the credential endpoints: no bearer token needed, strict throttles."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def validated(self, request) -> dict:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- Sign-up and verification -------------------------------------------------------------


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class RegisterView(PublicAuthView):
    serializer_class = s.RegisterSerializer
    auth_throttle_bucket = "register"

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Sign up",
        description=(
            "Public. Creates a `pending` account and emails a 6-digit verification code (valid 15 "
            "minutes, 5 tries), then answers 202. An address that already has an account gets the same "
            "202 (nobody can learn which addresses have accounts); its owner is emailed instead (a new code "
            "if it is still pending). Weak passwords, unknown time zones and future dates of birth are "
            f"refused with 400 naming the field. {_THROTTLED}"
        ),
        request=s.RegisterSerializer,
        responses={202: s.AccountMessageSerializer},
    )
    def post(self, request):
        registration.user_register(**self.validated(request))
        return Response(
            {"detail": "Check your email: we sent a 6-digit code to verify the address."},
            status=status.HTTP_202_ACCEPTED,
        )


class VerifyView(PublicAuthView):
    serializer_class = s.VerifySerializer
    auth_throttle_bucket = "verify"

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Verify the email address",
        description=(
            "Public. Confirms the address with the emailed code; the account becomes `verified`. "
            "Errors (400): `invalid_code` (wrong, reused or unknown; `attempts_remaining` when "
            "known), `code_expired`, `too_many_attempts` (5 wrong tries: ask for a new code). "
            f"{_THROTTLED}"
        ),
        request=s.VerifySerializer,
        responses={200: s.ProfileSerializer},
    )
    def post(self, request):
        user = registration.user_verify(**self.validated(request))
        return Response(s.ProfileSerializer(user).data)


class VerifyResendView(PublicAuthView):
    serializer_class = s.EmailSerializer
    auth_throttle_bucket = "verify_resend"

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Send a new verification code",
        description=(
            "Public. Always 202, whether or not the address has an account. If it belongs to an "
            f"account still pending verification, a new code is emailed and older codes stop working. {_THROTTLED}"
        ),
        request=s.EmailSerializer,
        responses={202: s.AccountMessageSerializer},
    )
    def post(self, request):
        registration.verification_resend(**self.validated(request))
        return Response(
            {"detail": "If that address has an account waiting for verification, a new code is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


# --- Tokens -------------------------------------------------------------------------------


@extend_schema_view(
    post=extend_schema(
        tags=[AUTH_TAG],
        summary="Log in",
        description=(
            "Public. Exchanges email and password for an access token (5 minutes) and a refresh "
            "token. Wrong credentials: 401 `invalid_credentials`; correct password but unverified "
            f"email: 403 `email_not_verified`. {_THROTTLED}"
        ),
        request=s.LoginSerializer,
        responses={
            200: s.TokenPairSerializer,
            403: OpenApiResponse(ERROR_SCHEMA_REF, description="Correct password, email not verified yet."),
        },
    )
)
@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(AuthThrottleMixin, TokenObtainPairView):
    serializer_class = s.LoginSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    auth_throttle_bucket = "login"


@extend_schema_view(
    post=extend_schema(
        tags=[AUTH_TAG],
        summary="Refresh the tokens",
        description=(
            "Public (the refresh token is the credential). Returns a new access token and a new "
            "refresh token; the one sent stops working. Of concurrent refreshes with one token only one "
            "succeeds. Sending a token that was already rotated gives 401 `token_reused` and ends the "
            "whole sign-in it belongs to: its newest refresh token and the account's access tokens stop "
            "working (log in again)."
        ),
        request=s.RefreshSerializer,
        responses={200: s.TokenPairSerializer},
    )
)
class RefreshView(TokenRefreshView):
    serializer_class = s.RefreshSerializer
    permission_classes = [AllowAny]
    authentication_classes = []


class LogoutView(generics.GenericAPIView):
    serializer_class = s.LogoutSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Log out",
        description=(
            "Authenticated user. Ends the sign-in the given refresh token (which must be the caller's) "
            "belongs to: it and every token rotated from it give 401. That sign-in's access token stays "
            "valid until it expires (5 minutes); `POST /auth/logout/everywhere` ends every sign-in and "
            "every access token at once."
        ),
        request=s.LogoutSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
            tokens.token_logout(token=serializer.validated_data["token"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhereView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Log out everywhere",
        description=(
            "Authenticated user. Ends every sign-in of the account: all refresh tokens and all access "
            "tokens (this one included) give 401 from now on."
        ),
        request=None,
        responses={204: None},
    )
    def post(self, request):
        tokens.user_tokens_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Password reset -----------------------------------------------------------------------


class PasswordForgotView(PublicAuthView):
    serializer_class = s.EmailSerializer
    auth_throttle_bucket = "password_forgot"

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Ask for a password reset link",
        description=(
            "Public. Always 202, whether or not the address has an account. If it does, a link "
            f"with `uid` and `token` (single use, valid 1 hour by default) is emailed. {_THROTTLED}"
        ),
        request=s.EmailSerializer,
        responses={202: s.AccountMessageSerializer},
    )
    def post(self, request):
        services.password_reset_request(**self.validated(request))
        return Response(
            {"detail": "If that address has an account, a password reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


@method_decorator(sensitive_post_parameters("new_password"), name="dispatch")
class PasswordResetView(PublicAuthView):
    serializer_class = s.PasswordResetSerializer
    auth_throttle_bucket = "password_reset"

    @extend_schema(
        tags=[AUTH_TAG],
        summary="Set a new password",
        description=(
            "Public (the emailed token is the credential). Sets `new_password` (password rules "
            "apply) and logs the account out everywhere by blacklisting its refresh tokens. A bad, "
            f"expired or used link gives 400 `invalid_token`. {_THROTTLED}"
        ),
        request=s.PasswordResetSerializer,
        responses={204: None},
    )
    def post(self, request):
        services.password_reset_confirm(**self.validated(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The caller's own account -------------------------------------------------------------


class MeView(generics.GenericAPIView):
    """The caller's profile. ``DELETE`` (the account with what workspaces keep) is composed by
    ``workspaces.api.account.AccountView``, which serves ``users/me``."""

    serializer_class = s.ProfileSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[PROFILE_TAG],
        summary="Get my profile",
        description="Authenticated user. The caller's own account.",
        responses={200: s.ProfileSerializer},
    )
    def get(self, request):
        return Response(s.ProfileSerializer(request.user).data)

    @extend_schema(
        tags=[PROFILE_TAG],
        summary="Update my profile",
        description=(
            "Authenticated user. Changes names, date of birth, time zone (IANA name), phone "
            "(E.164, e.g. +14155550100) and Slack user id. `email` and `status` cannot be changed here."
        ),
        request=s.ProfileUpdateSerializer,
        responses={200: s.ProfileSerializer},
    )
    def patch(self, request):
        serializer = s.ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, data=serializer.validated_data)
        return Response(s.ProfileSerializer(user).data)


# --- Staff administration -----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=[STAFF_TAG],
        summary="List users",
        description="Staff only. Filter by `status`, `is_active`, `is_staff`; `search` email and names; `ordering`.",
    ),
    retrieve=extend_schema(tags=[STAFF_TAG], summary="Get a user", description="Staff only."),
    partial_update=extend_schema(
        tags=[STAFF_TAG],
        summary="Update a user",
        description=(
            "Staff only. Changes names, `status`, `is_active` and `is_staff` (the last only for "
            "superusers). Nobody deactivates or demotes themselves."
        ),
        request=s.StaffUserUpdateSerializer,
        responses={200: s.StaffUserSerializer},
    ),
    destroy=extend_schema(
        tags=[STAFF_TAG],
        summary="Deactivate a user",
        description=(
            "Staff only. Deactivates the account (`is_active=false`) and revokes its refresh "
            "tokens; nothing is deleted."
        ),
        responses={204: None},
    ),
)
class StaffUserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = User.objects.all()
    serializer_class = s.StaffUserSerializer
    permission_classes = [IsAdminUser]
    # ``search`` is a FilterSet field (validated: NUL bytes are a 400, not a database error).
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = StaffUserFilterSet
    ordering_fields = ("email", "first_name", "last_name", "status", "created_at", "last_login")
    ordering = ("email",)
    lookup_value_regex = UUID_RE

    def partial_update(self, request, pk=None):
        serializer = s.StaffUserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_admin_update(actor=request.user, user=self.get_object(), data=serializer.validated_data)
        return Response(s.StaffUserSerializer(user).data)

    def destroy(self, request, pk=None):
        services.user_deactivate(actor=request.user, user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

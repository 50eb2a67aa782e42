"""``users/me`` and ``users/me/export``: the caller's account with what the workspaces keep about it.

The profile is the accounts' (``accounts.api``); deleting the account and exporting its data are
composed here (``workspaces.account``), so identity knows no tenants.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api import serializers as account_serializers
from accounts.api.views import PROFILE_TAG, MeView
from birthdaybuddy.api.schema import BodyOnDeleteSchema, with_schema_class
from workspaces import account
from workspaces.models import Invitation, Membership, Person

# --- serializers ----------------------------------------------------------------------------


class AccountWorkspaceRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class LastOwnerErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True, help_text="`last_owner`")
    workspaces = AccountWorkspaceRefSerializer(many=True, read_only=True, help_text="Workspaces with no other owner.")


class ExportMembershipSerializer(serializers.ModelSerializer):
    workspace = AccountWorkspaceRefSerializer(read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ("workspace", "role", "joined_at")
        read_only_fields = fields


class ExportPersonSerializer(serializers.ModelSerializer):
    workspace = AccountWorkspaceRefSerializer(read_only=True)
    preferred_channels = serializers.ListField(child=serializers.CharField(), read_only=True)
    opted_out_channels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Person
        fields = (
            "id",
            "workspace",
            "name",
            "email",
            "phone",
            "slack_user_id",
            "birth_month",
            "birth_day",
            "birth_year",
            "joined_on",
            "preferred_channels",
            "opted_out_channels",
            "show_age",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ExportInvitationSerializer(serializers.ModelSerializer):
    workspace = AccountWorkspaceRefSerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text="pending, accepted, revoked or expired.")

    class Meta:
        model = Invitation
        fields = ("workspace", "email", "role", "status", "created_at", "expires_at", "accepted_at")
        read_only_fields = fields


class UserExportSerializer(serializers.Serializer):
    """Everything BirthdayBuddy keeps about the caller."""

    exported_at = serializers.DateTimeField(read_only=True)
    profile = account_serializers.ExportProfileSerializer(read_only=True)
    memberships = ExportMembershipSerializer(many=True, read_only=True)
    people = ExportPersonSerializer(many=True, read_only=True, help_text="Person records linked to the account.")
    invitations = ExportInvitationSerializer(many=True, read_only=True, help_text="Invitations sent to the address.")


# --- views ----------------------------------------------------------------------------------


class AccountView(MeView):
    """The caller's profile (the accounts' ``MeView``) and the deletion of the account."""

    @extend_schema(
        tags=[PROFILE_TAG],
        summary="Delete my account",
        description=(
            "Authenticated user. Deletes the account and its workspace memberships after checking "
            "`password` (403 `invalid_password` if wrong). Refused with 409 `last_owner`, listing "
            "the workspaces, while the caller is the only owner of a workspace. People records "
            "that workspaces keep about the caller stay, unlinked from the account."
        ),
        request=account_serializers.AccountDeleteSerializer,
        responses={
            204: None,
            409: OpenApiResponse(LastOwnerErrorSerializer, description="The caller is the last owner."),
        },
    )
    @with_schema_class(BodyOnDeleteSchema)
    def delete(self, request):
        serializer = account_serializers.AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account.account_delete(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountExportView(generics.GenericAPIView):
    serializer_class = UserExportSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[PROFILE_TAG],
        summary="Export my data",
        description=(
            "Authenticated user. All personal data BirthdayBuddy keeps about the caller: profile, "
            "workspace memberships with roles, people records linked to the account, and "
            "invitations sent to the address."
        ),
        responses={200: UserExportSerializer},
    )
    def get(self, request):
        return Response(UserExportSerializer(account.account_export_data(user=request.user)).data)

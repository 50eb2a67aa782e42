"""Workspace API. Every view inside a workspace inherits ``WorkspaceScopedMixin``; writes call services."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from birthdaybuddy.api.schema import CONFLICT, NO_CONTENT
from birthdaybuddy.errors import PermissionDeniedError
from birthdaybuddy.validators import available_timezones
from workspaces import invitations, preferences, selectors, services
from workspaces.api.filters import InvitationFilterSet, MembershipFilterSet, PersonFilterSet
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import ANY_MEMBER, OWNER_ONLY, OWNER_OR_ADMIN, WORKSPACE_ID
from workspaces.api.serializers import (
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    PersonSerializer,
    WorkspaceSerializer,
)
from workspaces.models import ADMIN_ROLES, Invitation, Membership, Person, Role, Workspace

ALL_ROLES = frozenset(Role.values)
NO_PUT = ("get", "post", "patch", "delete", "head", "options")


# --- Workspaces ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List workspaces",
        description="The workspaces you belong to, with your role in each. Platform staff see every workspace. "
        "Any authenticated user.",
    ),
    create=extend_schema(
        summary="Create a workspace",
        description="Creates a workspace; you become its owner and get a Person in it from your profile "
        "(birth year hidden). Any verified user; unverified users get 403 `email_not_verified`.",
    ),
    retrieve=extend_schema(summary="Get a workspace", description=ANY_MEMBER, parameters=[WORKSPACE_ID]),
    partial_update=extend_schema(
        summary="Update a workspace's settings", description=OWNER_OR_ADMIN, parameters=[WORKSPACE_ID]
    ),
    destroy=extend_schema(
        summary="Delete a workspace",
        description=f"Deletes the workspace with its members, invitations and people. {OWNER_ONLY}",
        parameters=[WORKSPACE_ID],
        responses={204: NO_CONTENT},
    ),
)
@extend_schema(tags=["workspaces"])
class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = Workspace.objects.all()
    serializer_class = WorkspaceSerializer
    lookup_url_kwarg = "workspace_id"
    lookup_value_converter = "uuid"
    http_method_names = NO_PUT
    search_fields = ("name", "slug")
    ordering_fields = ("name", "created_at")
    action_roles = {"destroy": frozenset({Role.OWNER})}

    def resolves_workspace(self) -> bool:
        # The collection (list, create) is outside any workspace; every detail route is inside one.
        return bool(self.detail)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Workspace.objects.none()
        return selectors.workspace_list_visible(user=self.request.user).order_by("name", "id")

    def get_object(self):
        workspace = self.workspace
        workspace.caller_role = self.membership.role if self.membership is not None else None
        return workspace

    def perform_create(self, serializer):
        workspace = services.workspace_create(creator=self.request.user, **serializer.validated_data)
        workspace.caller_role = Role.OWNER
        serializer.instance = workspace

    def perform_update(self, serializer):
        serializer.instance = services.workspace_update(workspace=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        services.workspace_delete(workspace=instance)


# --- Members ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List members", description=ANY_MEMBER),
    retrieve=extend_schema(summary="Get a member", description=ANY_MEMBER),
    partial_update=extend_schema(
        summary="Change a member's role",
        description=f"{OWNER_OR_ADMIN} Only an owner may grant or take away the owner role; the last owner "
        "cannot be demoted (409 `last_owner`).",
        request=MembershipRoleSerializer,
        responses={200: MembershipSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(
        summary="Remove a member (or leave)",
        description="Workspace owner or admin; any member may remove themself (leave). Only an owner may "
        "remove an owner; the last owner cannot be removed (409 `last_owner`). The member's Person stays, "
        "unlinked from the account.",
        responses={204: NO_CONTENT, 409: CONFLICT},
    ),
)
@extend_schema(tags=["members"], parameters=[WORKSPACE_ID])
class MemberViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    lookup_value_converter = "uuid"
    http_method_names = ("get", "patch", "delete", "head", "options")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    ordering_fields = ("created_at", "role")
    # Leaving is open to every member; the service decides who may remove whom.
    action_roles = {"destroy": ALL_ROLES}

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        payload = MembershipRoleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            membership=membership, role=payload.validated_data["role"], actor=request.user
        )
        return Response(self.get_serializer(membership).data)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, actor=self.request.user)


# --- Invitations --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List invitations", description=f"All statuses; filter with `status`. {OWNER_OR_ADMIN}"),
    retrieve=extend_schema(summary="Get an invitation", description=OWNER_OR_ADMIN),
    create=extend_schema(
        summary="Invite someone by email",
        description=f"{OWNER_OR_ADMIN} Mails a token (valid 7 days) and a link to accept it. A pending "
        "invitation to the same address is revoked and replaced (this is how to resend). Inviting a "
        "member is 400 `already_member`; only owners may invite owners (403 `owner_required`).",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke an invitation",
        description=f"{OWNER_OR_ADMIN} Revoking twice is harmless; an accepted invitation cannot be revoked "
        "(409 `invitation_used`).",
        responses={204: NO_CONTENT, 409: CONFLICT},
    ),
)
@extend_schema(tags=["invitations"], parameters=[WORKSPACE_ID])
class InvitationViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilterSet
    lookup_value_converter = "uuid"
    search_fields = ("email",)
    ordering_fields = ("created_at", "expires_at", "email")
    read_roles = ADMIN_ROLES

    def create(self, request, *args, **kwargs):
        payload = InvitationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(
            workspace=self.workspace, invited_by=request.user, **payload.validated_data
        )
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        invitations.invitation_revoke(invitation=instance)


@extend_schema(
    tags=["invitations"],
    summary="Accept an invitation",
    description="Joins the workspace the token was mailed for and returns it. Any authenticated, verified user "
    "whose email is the invitation's (else 403 `invitation_email_mismatch`). A bad token is 400 `invalid_token`; "
    "an expired, used or revoked one is 400 `invitation_expired` / `invitation_used` / `invitation_revoked`. "
    "Someone who is already a member keeps their role.",
    request=InvitationAcceptSerializer,
    responses={200: WorkspaceSerializer},
)
class InvitationAcceptView(APIView):
    def post(self, request):
        payload = InvitationAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = invitations.invitation_accept(token=payload.validated_data["token"], user=request.user)
        workspace = membership.workspace
        workspace.caller_role = membership.role
        return Response(WorkspaceSerializer(workspace, context={"request": request}).data)


# --- People -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List people",
        description=f"{ANY_MEMBER} Search by name or email; order by name, birth_month, birth_day, joined_on or "
        "created_at. `birth_year` is null unless the person shows their age, or you are an owner/admin, "
        "staff or the person themself.",
    ),
    retrieve=extend_schema(summary="Get a person", description=ANY_MEMBER),
    create=extend_schema(summary="Add a person", description=OWNER_OR_ADMIN),
    partial_update=extend_schema(
        summary="Update a person",
        description=f"{OWNER_OR_ADMIN} A member may also update their own Person (birthday, privacy, "
        "contact details, channels), except `joined_on`.",
    ),
    destroy=extend_schema(summary="Delete a person", description=OWNER_OR_ADMIN, responses={204: NO_CONTENT}),
)
@extend_schema(tags=["people"], parameters=[WORKSPACE_ID])
class PersonViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    lookup_value_converter = "uuid"
    http_method_names = NO_PUT
    search_fields = ("name", "email")
    ordering_fields = ("name", "birth_month", "birth_day", "joined_on", "created_at")
    ordering = ("name", "id")
    # Members may edit their own Person; perform_update narrows this to "own".
    action_roles = {"partial_update": ALL_ROLES}

    def perform_create(self, serializer):
        serializer.instance = services.person_create(workspace=self.workspace, **serializer.validated_data)

    def perform_update(self, serializer):
        person = serializer.instance
        if not self.is_workspace_admin:
            if person.user_id != self.request.user.pk:
                raise PermissionDeniedError(
                    "Only a workspace owner or admin can change other people.", code="role_required"
                )
            if "joined_on" in serializer.validated_data:
                raise PermissionDeniedError(
                    "Only a workspace owner or admin can change joined_on.", code="role_required"
                )
        serializer.instance = services.person_update(person=person, data=serializer.validated_data)

    def perform_destroy(self, instance):
        services.person_delete(person=instance)

    @extend_schema(
        summary="Revoke a person's preferences links",
        description=f"{OWNER_OR_ADMIN}\n\nEvery preferences and unsubscribe link sent to this person so far "
        'stops working (it then opens a "link no longer valid" page); the person\'s next messages carry a new '
        "link. For a link that reached the wrong hands (a forwarded email, a shared phone). Their channel "
        "choices and opt-outs stay as they are. Recorded in the audit log as `person.preferences_links_revoke`.",
        request=None,
        responses={204: NO_CONTENT},
    )
    @action(detail=True, methods=["post"], url_path="revoke-preferences-links", filter_backends=[])
    def revoke_preferences_links(self, request, *args, **kwargs):
        preferences.preferences_links_revoke(person=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Time zones ---------------------------------------------------------------------------


@extend_schema(
    tags=["reference"],
    summary="List accepted time zones",
    description="The IANA time zone names accepted for workspaces and users, sorted. Public: no authentication.",
    responses={
        200: inline_serializer(
            name="TimezoneList",
            fields={"timezones": serializers.ListField(child=serializers.CharField())},
        )
    },
)
class TimezoneListView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get(self, request):
        response = Response({"timezones": list(available_timezones())})
        response["Cache-Control"] = "public, max-age=86400"
        return response

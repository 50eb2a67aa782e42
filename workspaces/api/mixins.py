"""Tenancy, in one place.

Every workspace-scoped view inherits :class:`WorkspaceScopedMixin`. It resolves
``{workspace_id}`` from the URL before anything else runs, answers 404 to anyone who is
not a member (the workspace's existence is not revealed), enforces the role the action
needs, and scopes querysets and creates to the workspace. Views never filter by
workspace themselves: they declare ``queryset = Model.objects...`` (or override
``get_scoped_queryset``) and the mixin narrows it.

``tests/test_tenancy.py`` walks every URL with ``workspace_id`` in it and fails if a view
serves another workspace's data, so a view that forgets this mixin is caught.
"""

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions

from workspaces.api.memberships import caller_membership
from workspaces.models import ADMIN_ROLES, Membership, Role, Workspace
from workspaces.selectors import effective_role

READ_ACTIONS = frozenset({"list", "retrieve", "metadata"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WorkspaceScopedMixin:
    """Resolves ``self.workspace`` and ``self.membership``; scopes every queryset and create.

    ``read_roles``: roles that may use safe actions (default: every member).
    ``write_roles``: roles that may change things (default: owner and admin).
    ``action_roles``: per-action overrides, e.g. ``{"destroy": {Role.OWNER}}``.
    ``workspace_field``: the lookup from this view's model to its workspace.
    Staff act as (at least) admins in every workspace.
    """

    workspace_url_kwarg = "workspace_id"
    workspace_field = "workspace"
    read_roles: frozenset[str] = frozenset(Role.values)
    write_roles: frozenset[str] = ADMIN_ROLES
    action_roles: dict[str, frozenset[str]] = {}

    workspace: Workspace
    membership: Membership | None
    # Set by the DRF view this mixes into.
    kwargs: dict[str, Any]
    request: Any

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.resolves_workspace():
            self.workspace, self.membership = self._resolve_workspace(request)
            self._check_role(request)

    def resolves_workspace(self) -> bool:
        """Whether this request is inside a workspace. Only the workspace collection says no."""
        return True

    def _workspace_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(self.kwargs.get(self.workspace_url_kwarg)))
        except ValueError:
            return None

    def _resolve_workspace(self, request) -> tuple[Workspace, Membership | None]:
        workspace_id = self._workspace_id()
        if workspace_id is None:
            raise Http404
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated
        found = getattr(request, "caller_membership", None)  # read by WorkspaceJWTAuthentication
        if found is not None and found.user_id == str(user.pk) and found.workspace_id == workspace_id:
            membership = found.membership
        else:
            membership = caller_membership(workspace_id=workspace_id, user_id=user.pk)
        if membership is not None:
            return membership.workspace, membership
        if user.is_staff:
            workspace = Workspace.objects.filter(pk=workspace_id).first()
            if workspace is not None:
                return workspace, None
        raise Http404

    @property
    def role(self) -> str | None:
        """The role the caller acts with here (staff: at least admin)."""
        return effective_role(membership=self.membership, user=self.request.user)

    @property
    def is_workspace_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    def required_roles(self) -> frozenset[str]:
        action = getattr(self, "action", None)
        if action in self.action_roles:
            return self.action_roles[action]
        if action in READ_ACTIONS or (action is None and self.request.method in SAFE_METHODS):
            return self.read_roles
        return self.write_roles

    def _check_role(self, request) -> None:
        if self.role not in self.required_roles():
            raise exceptions.PermissionDenied(
                f"Your role in this workspace ({self.role}) does not allow this.", code="role_required"
            )

    def get_scoped_queryset(self):
        """The unscoped queryset of this view's model; override instead of ``get_queryset``."""
        return super().get_queryset()

    def get_queryset(self):
        queryset = self.get_scoped_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        if self.workspace_field == "workspace" and hasattr(queryset, "for_workspace"):
            # The model's own vocabulary, for models tied to a workspace in a less direct way.
            return queryset.for_workspace(self.workspace)
        return queryset.filter(**{self.workspace_field: self.workspace})

    def get_object(self):
        # A malformed id (when a route does not use the uuid converter) is "not found", not a 400/500.
        try:
            return super().get_object()
        except (DjangoValidationError, ValueError, TypeError) as exc:
            raise Http404 from exc

    def perform_create(self, serializer):
        serializer.save(workspace=self.workspace)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "workspace"):
            context["workspace"] = self.workspace
            context["membership"] = self.membership
            context["workspace_role"] = self.role
        return context

"""The API's authentication: accounts' JWT checks, reading a workspace's caller with their membership.

Inside a workspace (a URL with ``{workspace_id}``: every such view is workspace-scoped, see
``tests/test_tenancy.py``) the authentication reads the user together with their membership
there and its workspace, in one query (``caller_membership``), instead of simplejwt's user
query followed by the scoping mixin's membership query. It keeps what it found on the request
(``request.caller_membership``); ``WorkspaceScopedMixin`` takes it from there. Outside a
workspace, and for a caller who is no member there, the user is read as simplejwt does. The
checks on the user (active, password unchanged, token version) are accounts' own either way.

Buys: the warm birthdays read's one SQL query instead of two (bench/RESULTS.md, round 2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.authentication import JWTAuthentication
from workspaces.api.memberships import caller_membership
from workspaces.models import Membership


@dataclass(frozen=True)
class CallerMembership:
    """What the authentication read: the caller's membership (or none) in one workspace."""

    user_id: str
    workspace_id: uuid.UUID
    membership: Membership | None


def workspace_in_url(request) -> uuid.UUID | None:
    """The ``{workspace_id}`` of the request's URL, if it has a well-formed one."""
    kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
    try:
        return uuid.UUID(str(kwargs["workspace_id"]))
    except (KeyError, ValueError):
        return None


class WorkspaceJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        workspace_id = workspace_in_url(request)
        if workspace_id is None:
            return super().authenticate(request)
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        try:
            membership = caller_membership(workspace_id=workspace_id, user_id=user_id)
        except (DjangoValidationError, ValueError):  # a user id that is no UUID: simplejwt says so below
            return self.get_user(validated_token), validated_token
        request.caller_membership = CallerMembership(str(user_id), workspace_id, membership)
        if membership is None:
            return self.get_user(validated_token), validated_token
        self.check_user(membership.user, validated_token)
        return membership.user, validated_token

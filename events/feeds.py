"""Calendar feeds: creating one (its secret URL is shown once) and revoking it."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone as dj_timezone

from birthdaybuddy.errors import Conflict, PermissionDeniedError
from birthdaybuddy.tokens import hash_token
from events.models import CalendarFeed
from events.validation import field_error
from workspaces.models import ADMIN_ROLES, Membership, Workspace
from workspaces.selectors import effective_role

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

MAX_LIVE_FEEDS_PER_USER = 20


@transaction.atomic
def calendar_feed_create(*, workspace: Workspace, scope: str, actor: User) -> tuple[CalendarFeed, str]:
    """A new feed and its token (returned once). ``scope``: ``member`` (the actor's own) or ``workspace`` (admins)."""
    membership = Membership.objects.filter(workspace=workspace, user=actor).first()
    role = effective_role(membership=membership, user=actor)
    if scope == "workspace":
        if role not in ADMIN_ROLES:
            raise PermissionDeniedError(
                "Only a workspace owner or admin can create the workspace feed.", code="role_required"
            )
        user = None
    elif scope == "member":
        if membership is None:
            raise PermissionDeniedError("Only members have a member feed.", code="member_required")
        user = actor
    else:
        raise field_error("scope", "Choose member or workspace.", "invalid_choice")
    live = CalendarFeed.objects.for_workspace(workspace).live().filter(user=user)
    if live.count() >= MAX_LIVE_FEEDS_PER_USER:
        raise Conflict(
            f"At most {MAX_LIVE_FEEDS_PER_USER} live feeds of this kind; revoke one first.", code="too_many_feeds"
        )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        id=uuid.uuid4(),
        workspace=workspace,
        user=user,
        token_hash=hash_token(token),
        token_hint=token[:4],
        created_by=actor,
    )
    logger.info("calendar feed %s (%s) created in workspace %s", feed.pk, scope, workspace.pk)
    return feed, token


def calendar_feed_revoke(*, feed: CalendarFeed, actor: User, role: str | None, now: datetime | None = None) -> None:
    """Revokes a feed: its URL answers 404 from now on. Its owner or a workspace admin; twice is harmless."""
    if role not in ADMIN_ROLES and feed.user_id != getattr(actor, "pk", None):
        raise PermissionDeniedError("Only the feed's owner or a workspace admin can revoke it.", code="role_required")
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=now or dj_timezone.now())

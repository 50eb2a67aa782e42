"""Every write to a gathering's comment thread: post, edit, delete, hide (moderation).

Authors are members (``user``) or guests (``person``, from their page); only the author edits
their comment; the author or an organiser (owners/admins, the host) deletes it; organisers hide
and show it again. Each change is audited in the change's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone

from audit.entries import audit_manual_send
from birthdaybuddy.errors import PermissionDeniedError
from events.models import Event
from gatherings.models import Comment
from gatherings.services import require_gathering

MAX_BODY = 2000


def author_name(comment: Comment) -> str:
    """The name shown with a comment: the guest's name, or the member's (never their email)."""
    if comment.author_person is not None:
        return comment.author_person.name
    user = comment.author_user
    full = f"{user.first_name} {user.last_name}".strip() if user is not None else ""
    return full or "Organiser"


def _clean_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": [ValidationError("Write something.", code="required")]})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": [ValidationError(f"At most {MAX_BODY} characters.", code="max_length")]})
    return body.strip()


def _audit(comment: Comment, *, actor, action: str, details: Mapping[str, Any]) -> None:
    audit_manual_send(workspace=comment.event.workspace, actor=actor, action=action, target=comment, details=details)


def is_author(comment: Comment, *, user=None, person=None) -> bool:
    if user is not None and comment.author_user_id is not None:
        return comment.author_user_id == getattr(user, "pk", None)
    if person is not None and comment.author_person_id is not None:
        return comment.author_person_id == person.pk
    return False


@transaction.atomic
def comment_post(*, event: Event, body: Any, user=None, person=None, now: datetime | None = None) -> Comment:
    """Adds a comment by a member (``user``) or a guest (``person``)."""
    require_gathering(event)
    if (user is None) == (person is None):
        raise ValueError("a comment has exactly one author: a user or a person")
    comment = Comment.objects.create(
        workspace_id=event.workspace_id,
        event=event,
        author_user=user,
        author_person=person,
        body=_clean_body(body),
        created_at=now or dj_timezone.now(),
    )
    _audit(comment, actor=user, action="comment.post", details={"event": str(event.pk), "body": comment.body})
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, body: Any, user=None, person=None, now: datetime | None = None) -> Comment:
    """The author changes their comment (403 ``not_the_author`` for anyone else)."""
    comment = Comment.objects.select_for_update().select_related("event__workspace").get(pk=comment.pk)
    require_gathering(comment.event)
    if not is_author(comment, user=user, person=person):
        raise PermissionDeniedError("Only its author can edit a comment.", code="not_the_author")
    before = comment.body
    comment.body = _clean_body(body)
    comment.edited_at = now or dj_timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    _audit(comment, actor=user, action="comment.edit", details={"before": before, "after": comment.body})
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, user=None, person=None, moderator: bool = False) -> None:
    """The author, or an organiser (``moderator``), deletes a comment."""
    if not moderator and not is_author(comment, user=user, person=person):
        raise PermissionDeniedError("Only its author or an organiser can delete a comment.", code="not_the_author")
    _audit(comment, actor=user, action="comment.delete", details={"body": comment.body, "by_moderator": moderator})
    comment.delete()


@transaction.atomic
def comment_hide(*, comment: Comment, hidden: bool, actor) -> Comment:
    """An organiser hides a comment from the thread (or shows it again)."""
    comment = Comment.objects.select_for_update().select_related("event__workspace").get(pk=comment.pk)
    if comment.hidden != hidden:
        comment.hidden = hidden
        comment.save(update_fields=["hidden"])
        _audit(comment, actor=actor, action="comment.hide" if hidden else "comment.show", details={})
    return comment

"""New comments of a gathering go out as a digest: one message per person per run, never one per comment.

``comment_digest_write`` (the beat job ``gatherings.comment_digest``, every 15 minutes) claims the
comments not yet digested (``FOR UPDATE SKIP LOCKED``: two runs never take the same one), and for
each gathering writes one message to each participant who said yes or maybe, and to the host's
person, listing the new comments others wrote (their own are left out; hidden ones too). The
comments are marked digested in the same transaction, and each message has a unique key
(event, person, the comments it lists), so a repeated run writes nothing twice. Messages go
through the one outbox (``notifications_write``): the person's channels, their opt-outs (a
person no channel reaches gets a ``skipped`` message with the reason), exactly-once delivery.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext, ngettext

from birthdaybuddy.i18n import language_of
from events.models import Attendee, Rsvp
from gatherings.models import Comment
from gatherings.thread import author_name
from notifications.models import ChannelConfig, Notification, NotificationStatus
from notifications.person_links import preferences_url, with_preferences_link
from notifications.routing import route_person
from notifications.services import notifications_enqueue, notifications_write
from workspaces.models import Channel, Person

logger = logging.getLogger(__name__)

BATCH = 2000
EXCERPT = 280


def _recipients(event) -> list[Person]:
    going = Q(pk__in=Attendee.objects.filter(event=event, answer__in=(Rsvp.YES, Rsvp.MAYBE)).values("person_id"))
    if event.host_id is not None:
        going |= Q(user_id=event.host_id)
    return list(Person.objects.filter(going, workspace_id=event.workspace_id).order_by("id"))


def _author_person_id(comment: Comment, people_by_user: dict) -> object:
    return comment.author_person_id or people_by_user.get(comment.author_user_id)


def _text(event, comments: list[Comment], language: str) -> tuple[str, str]:
    with translation.override(language):
        subject = ngettext(
            "%(count)d new comment on %(event)s", "%(count)d new comments on %(event)s", len(comments)
        ) % {"count": len(comments), "event": event.title}
        lines = [subject, ""]
        for comment in comments:
            body = comment.body if len(comment.body) <= EXCERPT else comment.body[: EXCERPT - 1] + "…"
            lines.append(f"{author_name(comment)}: {body}")
        lines += ["", gettext("Open your invitation link to read and answer on the gathering's page.")]
    return subject[:200], "\n".join(lines)


def comment_digest_write(*, now: datetime | None = None) -> int:
    """Writes the digests of the comments not yet digested; returns the number of messages written."""
    now = now or dj_timezone.now()
    written: list = []
    with transaction.atomic():
        claimed = list(
            Comment.objects.filter(digested_at__isnull=True, created_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("event__workspace", "author_user", "author_person")
            .order_by("created_at", "id")[:BATCH]
        )
        if not claimed:
            return 0
        Comment.objects.filter(pk__in=[comment.pk for comment in claimed]).update(digested_at=now)
        by_event: dict = defaultdict(list)
        for comment in claimed:
            if not comment.hidden and not comment.event.is_cancelled:
                by_event[comment.event_id].append(comment)
        rows: list[Notification] = []
        for comments in by_event.values():
            rows += _event_digests(comments, now=now)
        written = notifications_write(notifications=rows)
        inserted = set(written)
        pending = [row.id for row in rows if row.id in inserted and row.status == NotificationStatus.PENDING]
        if pending:
            notifications_enqueue(notification_ids=pending)
    logger.info("comment digest: %d comments, %d messages", len(claimed), len(written))
    return len(written)


def _event_digests(comments: list[Comment], *, now: datetime) -> list[Notification]:
    event = comments[0].event
    recipients = _recipients(event)
    people_by_user = {person.user_id: person.pk for person in recipients if person.user_id}
    configs = {config.kind: config for config in ChannelConfig.objects.filter(workspace=event.workspace, active=True)}
    rows = []
    for person in recipients:
        theirs = [comment for comment in comments if _author_person_id(comment, people_by_user) != person.pk]
        if not theirs:
            continue
        digest = hashlib.sha256(",".join(sorted(str(comment.pk) for comment in theirs)).encode()).hexdigest()[:20]
        key = f"gathering:{event.pk}:comments:{person.pk}:{digest}"
        route = route_person(person, person.preferred_channels or [Channel.EMAIL], configs)
        subject, body = _text(event, theirs, language_of(person=person, workspace=event.workspace))
        notification = Notification(
            workspace=event.workspace,
            person=person,
            channel=route.channel,
            recipient=route.address or "",
            subject=subject,
            idempotency_key=key,
            body=body,
        )
        if route.address:
            url = preferences_url(person)
            notification.body = with_preferences_link(
                body=body, person=person, channel=route.channel, workspace=event.workspace, url=url
            )
            notification.preferences_url = url
        else:
            notification.status = NotificationStatus.SKIPPED
            notification.last_error = route.reason or "unreachable"
        rows.append(notification)
    return rows

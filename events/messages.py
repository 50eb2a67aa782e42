"""Event messages through the one delivery pipeline: gathering invitations (with a personal RSVP
link), change notices and cancellation notices.

The event services call these writers inside the event's own transaction: the messages are
written with the change or not at all (never only after commit, where a failure could only be
logged). They write ``Notification`` rows with ``notifications_write`` (unique idempotency
keys, so a repeated call sends nothing twice); ``notifications_enqueue`` queues delivery after
commit, and the sweeper re-queues any row a lost queue message left pending. Keys:

- ``event:<event>:invite:<attendee>:<channel>``: one invitation per attendee, ever;
- ``event:<event>:invite:<attendee>:<channel>:resend:<n>``: an invitation sent again by an
  admin (``events.rsvp.attendee_invitation_resend``), ``n`` counting the attendee's earlier
  invitations, so each re-send is one new message and a retried write still only one;
- ``event:<event>:update:<sequence>:<attendee>:<channel>``: one notice per change, to attendees
  who answered yes or maybe;
- ``event:<event>:cancel:<attendee>:<channel>``: one notice, to invited attendees who had
  not declined;
- ``event:<event>:fixed:<sequence>:<attendee>:<channel>``: the date fixed from the poll, to
  invited guests who had not declined;
- ``event:<event>:offer:<attendee>:<waitlisted at>:<channel>``: a place offered to a guest
  from the waitlist (once per time they joined it), with the deadline to confirm.

Each key also chooses the message's variant of its template (``variant_key``,
``notifications.variants``), so a retried write renders the same text.

An email also carries the event as an ``.ics`` attachment (``Notification.calendar``, built
when the message is written): ``METHOD:REQUEST`` for an invitation and for each change (the
same ``UID``, the event's ``SEQUENCE`` bumped by every move), ``METHOD:CANCEL`` for a
cancellation, so the person's calendar adds, moves and removes the entry by itself.

Each attendee is reached on the first channel of their ``preferred_channels`` (default
email) that they have not opted out of and that can reach them (an address, and for
SMS/WhatsApp/Slack a configured channel). Appointments and deadlines send nothing here:
their reminders do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from birthdaybuddy.errors import Conflict
from birthdaybuddy.i18n import day_text, language_of
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.timerules.recurrence import utc_to_local
from events.ical import event_ics
from events.models import Attendee, Event, EventKind, EventStatus, Rsvp
from events.tokens import attendee_rsvp_token_issue
from notifications.models import ChannelConfig, Notification, NotificationStatus
from notifications.person_links import preferences_url, with_preferences_link
from notifications.rendering import Rendered, render_message
from notifications.routing import person_destination
from notifications.services import notifications_enqueue, notifications_write
from workspaces.models import Channel, Person

logger = logging.getLogger(__name__)

INVITATION = "event_invitation"
UPDATE = "event_update"
# Words for the reader's language: lazy, so they are translated when the message is rendered.
CHANGE_NAMES = {
    "starts_at": pgettext_lazy("what changed", "time"),
    "ends_at": pgettext_lazy("what changed", "time"),
    "all_day": pgettext_lazy("what changed", "time"),
    "date": pgettext_lazy("what changed", "date"),
    "rrule": pgettext_lazy("what changed", "repetition"),
    "location": pgettext_lazy("what changed", "place"),
}
ANSWERS = {
    Rsvp.YES: pgettext_lazy("an RSVP answer", "yes"),
    Rsvp.NO: pgettext_lazy("an RSVP answer", "no"),
    Rsvp.MAYBE: pgettext_lazy("an RSVP answer", "maybe"),
}


@dataclass(frozen=True)
class InvitationSent:
    """The invitation a re-send wrote: its notification and where it goes."""

    notification_id: uuid.UUID
    channel: str
    recipient: str


# --- writers ----------------------------------------------------------------------------------


def event_invitations_write(*, event_id, attendee_ids: list, now: datetime | None = None) -> list[uuid.UUID]:
    """Invites the given attendees of an active gathering who were not invited yet; returns the notification ids.

    The RSVP token is issued here, with the message that carries it (only its hash is
    stored). Attendee rows are locked, so a repeated or concurrent call issues no second
    token and writes no second invitation.
    """
    now = now or dj_timezone.now()
    with transaction.atomic():
        event = Event.objects.select_related("workspace").filter(pk=event_id).first()
        if event is None or event.kind != EventKind.GATHERING or event.status != EventStatus.ACTIVE:
            return []
        attendees = list(
            Attendee.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(event=event, pk__in=attendee_ids)
            .order_by("created_at", "id")
        )
        prefix = f"event:{event.pk}:invite:"
        # Exact keys (on any channel), so the unique index answers: a LIKE prefix would not use it.
        possible = [f"{prefix}{attendee.pk}:{channel}" for attendee in attendees for channel in Channel.values]
        existing = Notification.objects.filter(idempotency_key__in=possible).values_list("idempotency_key", flat=True)
        invited = {key.removeprefix(prefix).split(":", 1)[0] for key in existing}
        configs = _configs(event.workspace)
        base = _event_context(event)
        rows = []
        for attendee in attendees:
            if str(attendee.pk) in invited:
                continue
            destination = person_destination(attendee.person, configs)
            if destination is None:
                logger.info("attendee %s of event %s has no reachable channel; not invited", attendee.pk, event.pk)
                continue
            channel, recipient = destination
            token = attendee_rsvp_token_issue(attendee=attendee, now=now)
            link = rsvp_url(token)
            context = {**base, "person": {"name": attendee.person.name}, "rsvp_url": link}
            key = f"{prefix}{attendee.pk}:{channel}"
            rows.append(
                _notification(
                    event=event,
                    person=attendee.person,
                    channel=channel,
                    recipient=recipient,
                    rendered=_render(event.workspace, INVITATION, channel, context, person=attendee.person, key=key),
                    key=key,
                    rsvp=link,
                    method="REQUEST",
                    now=now,
                )
            )
        ids = notifications_write(notifications=rows)
        notifications_enqueue(notification_ids=ids)
    if ids:
        logger.info("event %s: %d invitation(s) written", event_id, len(ids))
    return ids


def event_invitation_resend_write(*, event: Event, attendee: Attendee, now: datetime | None = None) -> InvitationSent:
    """Writes ``attendee``'s invitation again with a new RSVP token (the earlier link stops working).

    For the re-send service, which has checked the event (an active gathering, not over) and
    holds the locks of the event and the attendee row. The channel is chosen as for a first
    invitation, from the person's current preferences and addresses. Raises ``Conflict``
    (``attendee_unreachable``) when no channel reaches them; nothing is written then.
    """
    now = now or dj_timezone.now()
    destination = person_destination(attendee.person, _configs(event.workspace))
    if destination is None:
        raise Conflict(
            f"No channel reaches {attendee.person.name}: add an email address or phone, or change their "
            "preferred or opted-out channels.",
            code="attendee_unreachable",
        )
    channel, recipient = destination
    prefix = f"event:{event.pk}:invite:{attendee.pk}:"
    # The person's own notifications (an indexed column), then the invitations among them.
    earlier = set(
        Notification.objects.filter(person_id=attendee.person_id, idempotency_key__startswith=prefix).values_list(
            "idempotency_key", flat=True
        )
    )
    count = len(earlier)
    key = f"{prefix}{channel}" if count == 0 else f"{prefix}{channel}:resend:{count}"
    while key in earlier:
        count += 1
        key = f"{prefix}{channel}:resend:{count}"
    token = attendee_rsvp_token_issue(attendee=attendee, now=now)
    link = rsvp_url(token)
    context = {**_event_context(event), "person": {"name": attendee.person.name}, "rsvp_url": link}
    row = _notification(
        event=event,
        person=attendee.person,
        channel=channel,
        recipient=recipient,
        rendered=_render(event.workspace, INVITATION, channel, context, person=attendee.person, key=key),
        key=key,
        rsvp=link,
        method="REQUEST",
        now=now,
    )
    ids = notifications_write(notifications=[row])
    if not ids:
        # Another writer took the key between our read and our write (the attendee lock makes this rare).
        raise Conflict("The invitation is being sent by another request; try again.", code="resend_in_progress")
    notifications_enqueue(notification_ids=ids)
    logger.info("event %s: invitation of attendee %s sent again (%s)", event.pk, attendee.pk, key)
    return InvitationSent(notification_id=ids[0], channel=channel, recipient=recipient)


def event_update_notices_write(*, event_id, changed_fields: Iterable[str]) -> list[uuid.UUID]:
    """Tells attendees of an active gathering who answered yes or maybe that its time or place changed."""
    changes = sorted({CHANGE_NAMES[name] for name in changed_fields if name in CHANGE_NAMES}, key=str)
    with transaction.atomic():
        event = Event.objects.select_related("workspace").filter(pk=event_id).first()
        if event is None or event.kind != EventKind.GATHERING or event.status != EventStatus.ACTIVE:
            return []
        attendees = Attendee.objects.select_related("person").filter(event=event, answer__in=(Rsvp.YES, Rsvp.MAYBE))
        ids = _write_notices(
            event=event,
            attendees=attendees,
            context={"change": "updated", "changes": changes},
            key=lambda attendee, channel: f"event:{event.pk}:update:{event.sequence}:{attendee.pk}:{channel}",
            method="REQUEST",
        )
    return ids


def event_cancel_notices_write(*, event_id) -> list[uuid.UUID]:
    """Tells invited attendees of a cancelled gathering who had not declined that it is off."""
    with transaction.atomic():
        event = Event.objects.select_related("workspace").filter(pk=event_id).first()
        if event is None or event.kind != EventKind.GATHERING or event.status != EventStatus.CANCELLED:
            return []
        attendees = (
            Attendee.objects.select_related("person")
            .filter(event=event, invited_at__isnull=False)
            .exclude(answer=Rsvp.NO)
        )
        ids = _write_notices(
            event=event,
            attendees=attendees,
            context={"change": "cancelled", "changes": []},
            key=lambda attendee, channel: f"event:{event.pk}:cancel:{attendee.pk}:{channel}",
            method="CANCEL",
        )
    return ids


def event_date_fixed_write(*, event_id) -> list[uuid.UUID]:
    """Tells every invited guest of a gathering who has not declined the date fixed from its poll,
    with the calendar entry (``event:<event>:fixed:<sequence>:<attendee>:<channel>``)."""
    with transaction.atomic():
        event = Event.objects.select_related("workspace").filter(pk=event_id).first()
        if event is None or event.kind != EventKind.GATHERING or event.status != EventStatus.ACTIVE:
            return []
        attendees = (
            Attendee.objects.select_related("person")
            .filter(event=event, invited_at__isnull=False)
            .exclude(answer=Rsvp.NO)
        )
        return _write_notices(
            event=event,
            attendees=attendees,
            context={"change": "date_fixed", "changes": []},
            key=lambda attendee, channel: f"event:{event.pk}:fixed:{event.sequence}:{attendee.pk}:{channel}",
            method="REQUEST",
        )


def waitlist_offer_write(*, event: Event, attendee: Attendee, now: datetime) -> list[uuid.UUID]:
    """Tells a guest promoted from the waitlist that a place is theirs if they confirm by ``offer_expires_at``.

    Called by ``events.guests.waitlist_promote`` inside the answer's transaction (the offer and
    its message are written together). A guest no channel reaches is not told (the offer stands).
    """
    stamp = attendee.waitlisted_at.strftime("%Y%m%dT%H%M%S%f") if attendee.waitlisted_at else "0"
    tz = ZoneInfo(event.workspace.timezone)
    until = utc_to_local(attendee.offer_expires_at, tz) if attendee.offer_expires_at else None
    until_text: str | Promise = ""
    if until is not None:
        until_text = format_lazy("{}, {:%H:%M} ({})", day_text(until.date(), with_year=True), until, tz.key)
    return _write_notices(
        event=event,
        attendees=Attendee.objects.select_related("person").filter(pk=attendee.pk),
        context={"change": "place_offered", "changes": [], "offer_until": until_text},
        key=lambda row, channel: f"event:{event.pk}:offer:{row.pk}:{stamp}:{channel}",
        method="REQUEST",
        now=now,
    )


def _write_notices(
    *, event: Event, attendees, context: dict, key, method: str, now: datetime | None = None
) -> list[uuid.UUID]:
    now = now or dj_timezone.now()
    configs = _configs(event.workspace)
    base = {**_event_context(event), **context}
    rows = []
    for attendee in attendees.order_by("created_at", "id"):
        destination = person_destination(attendee.person, configs)
        if destination is None:
            continue
        channel, recipient = destination
        answer = ANSWERS.get(attendee.answer, attendee.answer)
        message_context = {**base, "person": {"name": attendee.person.name}, "answer": answer}
        message_key = key(attendee, channel)
        rows.append(
            _notification(
                event=event,
                person=attendee.person,
                channel=channel,
                recipient=recipient,
                rendered=_render(
                    event.workspace, UPDATE, channel, message_context, person=attendee.person, key=message_key
                ),
                key=message_key,
                method=method,
                now=now,
            )
        )
    ids = notifications_write(notifications=rows)
    notifications_enqueue(notification_ids=ids)
    if ids:
        logger.info("event %s: %d %s notice(s) written", event.pk, len(ids), context["change"])
    return ids


# --- helpers ----------------------------------------------------------------------------------


def rsvp_url(token: str) -> str:
    return absolute_reverse("rsvp", kwargs={"token": token})


def _configs(workspace) -> dict[str, ChannelConfig]:
    return {config.kind: config for config in ChannelConfig.objects.filter(workspace=workspace, active=True)}


def _when(event: Event, tz: ZoneInfo):
    """ "Wednesday 3 July 2030, 18:00 to 23:00 (Europe/Berlin)", in the language the message is rendered in."""
    if event.all_day:
        text = format_lazy(_("{day} (all day)"), day=day_text(event.date, with_year=True))
    else:
        start = utc_to_local(event.starts_at, tz)
        text = format_lazy("{}, {:%H:%M}", day_text(start.date(), with_year=True), start)
        if event.ends_at:
            end = utc_to_local(event.ends_at, tz)
            until = f"{end:%H:%M}"
            if end.date() != start.date():
                until = format_lazy("{}, {:%H:%M}", day_text(end.date()), end)
            text = format_lazy(_("{start} to {end}"), start=text, end=until)
        text = format_lazy("{} ({})", text, tz.key)
    if event.rrule:
        text = format_lazy(_("{when}, repeating ({rule})"), when=text, rule=event.rrule)
    return text


def _event_context(event: Event) -> dict:
    tz = ZoneInfo(event.workspace.timezone)
    return {
        "event": {
            "title": event.title,
            "kind": event.kind,
            "when": _when(event, tz),
            "location": event.location,
            "notes": event.notes,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "date": event.date,
            "rrule": event.rrule,
            "timezone": tz.key,
        },
    }


def _render(workspace, kind: str, channel: str, context: dict, *, person: Person, key: str) -> Rendered:
    """The message in ``person``'s language; ``key`` (its idempotency key) chooses the variant, so a
    retried or repeated write renders the same text."""
    return render_message(
        workspace=workspace,
        reminder_kind=kind,
        channel=channel,
        context=context,
        language=language_of(person=person, workspace=workspace),
        variant_key=key,
    )


def _occurrence_date(event: Event):
    if event.all_day:
        return event.date
    return utc_to_local(event.starts_at, ZoneInfo(event.workspace.timezone)).date()


def _notification(
    *,
    event: Event,
    person: Person,
    channel: str,
    recipient: str,
    rendered: Rendered,
    key: str,
    method: str,
    now: datetime,
    rsvp: str = "",
) -> Notification:
    """The unsaved message; an email also carries the event as an iCalendar ``method`` (REQUEST: add
    or move it, the same UID with the event's current SEQUENCE; CANCEL: remove it)."""
    preferences = preferences_url(person)
    notification = Notification(
        workspace=event.workspace,
        person=person,
        channel=channel,
        recipient=recipient,
        subject=rendered.subject,
        body=with_preferences_link(
            body=rendered.body, person=person, channel=channel, workspace=event.workspace, url=preferences
        ),
        preferences_url=preferences,
        rsvp_url=rsvp,
        occurrence_date=_occurrence_date(event),
        idempotency_key=key,
    )
    if channel == Channel.EMAIL:
        notification.calendar = event_ics(event=event, now=now, method=method, attendee_email=recipient).decode()
    if rendered.failure:
        notification.status = NotificationStatus.FAILED
        notification.last_error = rendered.failure
    return notification

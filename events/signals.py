"""What the events app announces. It sends these after commit and never imports who listens.

Receivers (``scheduling.event_messages`` for invitations and change messages; the reminders
engine to move or cancel an event's pending reminders) are connected by their own apps.
Every signal is sent with ``sender=Event`` and keyword arguments only:

- ``invitations_requested(event, attendee_ids)``: these attendees (``Attendee`` ids) of a
  gathering should get their invitation with a personal RSVP link. Sent on create and when
  attendees are added (or an event becomes a gathering). Receivers must be idempotent: an
  attendee already invited is not invited twice.
- ``event_changed(event, changed_fields)``: a saved change; ``changed_fields`` is a frozenset
  of Event JSON field names (``starts_at``, ``location``, ``attendees`` …). ``event.sequence``
  was bumped when a field in ``SCHEDULE_FIELDS`` changed.
- ``event_cancelled(event)``: the event was cancelled (it is kept, with ``status="cancelled"``).

One is sent synchronously, inside the sender's transaction:

- ``invitation_resend_requested(event, attendee, now)``: an admin re-sends one attendee's
  invitation (``events.services.attendee_invitation_resend``, holding the locks of both
  rows). The receiver that writes event messages issues a new RSVP token, writes the
  invitation and returns an ``InvitationSent``; it raises an ``ApplicationError`` when it
  cannot (no channel reaches the attendee), which rolls the whole re-send back.
"""

from django.dispatch import Signal

invitations_requested = Signal()
event_changed = Signal()
event_cancelled = Signal()
invitation_resend_requested = Signal()

# Changes that move or relocate an event: they bump ``Event.sequence`` and re-notify
# attendees of a gathering who said yes or maybe.
SCHEDULE_FIELDS = frozenset({"starts_at", "ends_at", "all_day", "date", "rrule", "exdates", "rdates", "location"})

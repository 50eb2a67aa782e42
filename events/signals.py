"""What the events app announces, after commit. It never imports who listens.

Announcements only: the work an event change requires — its reminders rescheduled
(``reminders.schedule``), invitations and notices written (``events.messages``) — is done by
the event services themselves, inside the event's transaction. Every signal is sent with
``sender=Event`` and keyword arguments only:

- ``event_changed(event, changed_fields)``: a saved change; ``changed_fields`` is a frozenset
  of Event JSON field names (``starts_at``, ``location``, ``attendees`` …). ``event.sequence``
  was bumped when a field in ``SCHEDULE_FIELDS`` changed.
- ``event_cancelled(event)``: the event was cancelled (it is kept, with ``status="cancelled"``).
"""

from django.dispatch import Signal

event_changed = Signal()
event_cancelled = Signal()

# Changes that move or relocate an event: they bump ``Event.sequence`` and re-notify
# attendees of a gathering who said yes or maybe.
SCHEDULE_FIELDS = frozenset({"starts_at", "ends_at", "all_day", "date", "rrule", "exdates", "rdates", "location"})

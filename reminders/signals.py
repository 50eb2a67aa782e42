"""What the reminders app announces. The scheduler listens (domain apps never import it)."""

from django.dispatch import Signal

# Sent by the reminder services after a reminder was created or its schedule changed (when,
# what it is attached to, active/paused, urgent), inside the same transaction. Arguments:
# ``reminder``, ``resumed`` (it was just un-paused) and ``now`` (the service's clock). The scheduler recomputes
# ``next_run_at`` on the same instance before the service returns.
reminder_schedule_changed = Signal()

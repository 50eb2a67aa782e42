"""What the reminders app announces. Receivers are connected by their own apps.

- ``reminders_due`` (``sender=Reminder``, no arguments): sent after commit when a change left
  a reminder due already (a one-time "now", a rule whose first occurrence has come). Only a
  hint: the tick takes due reminders every minute whether or not anyone listens.
"""

from django.dispatch import Signal

reminders_due = Signal()

"""Time rules every app may use: pure functions of a rule, a time zone and an instant.

No Django here — no models, settings or clock (``lint-imports`` keeps it so): callers pass
the instant in.

- ``recurrence``: the occurrence engine — local ↔ UTC (DST gaps and folds), daily and yearly
  occurrences, Feb 29, RRULE series with RDATE/EXDATE and ``UNTIL``;
- ``rrules``: RRULE text held to RFC 5545, and wall-time lists (RDATE/EXDATE) as stored;
- ``workdays``: weekends and public holidays — the day a celebration is announced on;
- ``occurrences``: the one expander of event occurrences (calendar windows, conflicts, event
  reminders) and an event's RRULE policy.
"""

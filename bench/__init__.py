"""BirthdayBuddy's benchmark: ``python -m bench`` (``make bench``).

Seeds a data set of configurable size into its own PostgreSQL database (default
``birthdaybuddy_bench``; Redis db 13 for the cache and db 12 for the broker, both flushed),
runs the scenarios and prints one JSON summary on stdout; progress goes to stderr.

Scenarios (``--only`` picks some):

- ``idle_tick``: ``scheduling.tick.tick`` when nothing is due, at full and 1/100 size;
- ``simulated_day``: every workspace's digest created by ticks over 24 simulated hours;
- ``delivery_per_message`` / ``delivery_batched``: pending Slack notifications delivered by a
  real Celery worker through slack-sdk to a local fake Slack (``bench.fake_slack``);
- ``birthdays_api``: ``GET …/birthdays/`` under gunicorn with 16 concurrent clients
  (``bench.loadgen``);
- ``reminders_idle_tick`` / ``reminders_burst`` / ``csv_import``: see ``bench/scenarios/reminders.py``;
- ``reminder_lateness``: from a reminder's due instant to the provider call, at idle and in a
  burst, through beat, the tick and a worker (``bench/scenarios/lateness.py``).

See ``bench/RESULTS.md`` for figures and how they were taken.
"""

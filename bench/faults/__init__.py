"""Faults under load: a private PostgreSQL and Redis, the real worker and beat, counted at fake providers.

Used by ``tests/faults`` (small sizes, short intervals) and by ``python -m bench --faults`` (the
issue's size). Everything is real and private; nothing shared is touched:

- :class:`PrivatePostgres`: a cluster made by ``initdb`` in a temporary directory, run as the
  ``postgres`` OS user on 127.0.0.1:<port> (tests 25432, bench 25433), its socket in the same
  directory. The schema is migrated once into a template database (``manage.py migrate``, as
  compose's ``migrate`` step does), with the load's workspaces and Slack channels; each
  scenario gets a copy (``CREATE DATABASE … TEMPLATE``). It can be stopped (``fast`` or
  ``immediate``) and started again: a database restart.
- :class:`PrivateRedis`: ``redis-server --save "" --appendonly no`` on its own port (tests
  26379, bench 26380): the cache on db 0 and the broker on db 1, as in docker-compose.yml.
  Stopping it (``SHUTDOWN NOSAVE``) and starting it again loses every queued message.
- The processes of production: ``celery -A birthdaybuddy worker --pool=prefork --concurrency=4
  --without-gossip --without-mingle`` and ``celery -A birthdaybuddy beat
  --scheduler=django_celery_beat.schedulers:DatabaseScheduler``, each in its own process group,
  configured only through the environment (:meth:`Harness.env`).
- Providers: ``bench.fake_slack`` in its own process (a delay per answer, ``/hang/`` webhooks,
  every request logged with when it was answered or abandoned) and :class:`CountingSmtp`
  (aiosmtpd), which logs each message by recipient.

The load is written as production writes it (``notifications_write`` + ``notifications_enqueue``
in one transaction, so the batching is the real one), by ``python -m bench.faults load`` run
against the private servers. The idle database-restart fault instead seeds real workspaces with
a birthday and a digest reminder falling due after the restart (``python -m bench.faults
digests``): the beat tick itself must create and deliver them.

:func:`run_fault` runs one fault and returns its figures; :func:`problems` says which of the
issue's promises they break. How a message is counted:

- its key at the provider is the Slack text (unique per row) or the email's recipient;
- **delivered**: received at least once; **lost**: never received and no longer ``pending`` or
  ``sending`` (rows that should exist and do not, for the digests, count as lost too);
  **stuck**: ``pending``/``sending`` when the scenario ends;
- **duplicates**: posts beyond the first; each must have been *in flight at the fault* — its
  first post received by the provider before the fault was over and not answered more than
  ``IN_FLIGHT_WINDOW`` seconds before it began (an answer that recent may not be recorded yet) —
  and be marked on its row (``retried_after_unknown``, or ``last_error`` saying it may arrive
  twice). ``in_flight_at_fault`` gives that provider-side count and the rows in ``sending`` at
  the fault; only the first bounds duplicates, since a batch claimed whole has rows in
  ``sending`` that were never posted. After a kill the rows in ``sending`` are read once the
  worker is dead: a duplicate must also be one of those (the only claims nobody will record);
- **recovery_seconds**: from the end of the fault (the service back, the new worker ready) to
  the first post after it; **drain_seconds**: to the first post of the last message delivered.

The package: ``common.py`` (constants, timing, workload), ``servers.py`` (the private servers and
processes), ``harness.py``, ``inflict.py`` (one fault), ``counting.py`` (figures and promises),
``commands.py`` (the Django side), ``__main__.py`` (the command line).
"""

from __future__ import annotations

from bench.faults.common import FAULTS, PG_BIN, SHORT, TIMINGS, Timing, Workload
from bench.faults.counting import problems, report
from bench.faults.harness import Harness
from bench.faults.inflict import run_fault

__all__ = ["FAULTS", "PG_BIN", "SHORT", "TIMINGS", "Harness", "Timing", "Workload", "problems", "report", "run_fault"]

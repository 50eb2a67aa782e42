"""One fault: the load queued, the fault inflicted, the rows left to settle, the figures taken."""

from __future__ import annotations

import time

from bench.environment import log
from bench.faults.common import FAULTS, Fault, Workload, _wait
from bench.faults.counting import report
from bench.faults.harness import Harness
from bench.faults.servers import CeleryProcess


def run_fault(harness: Harness, kind: str, workload: Workload, *, label: str | None = None) -> dict:
    """Runs the workload through a fresh database, a new worker and beat, with ``kind`` of fault;
    returns the figures (see :func:`report`). Processes are stopped whatever happens."""
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULTS)}")
    harness.scenarios += 1
    label = label or f"s{harness.scenarios:02d}-{kind}"
    database = harness.new_database(label.replace("-", "_"))
    harness.flush_redis()
    harness.slack.reset()
    harness.slack.configure(delay=workload.slack_delay, hang_seconds=workload.hang_seconds, hang_times=1)
    harness.smtp.reset(delay=workload.smtp_delay)
    fault = Fault(kind)
    loaded: dict = {}
    began = time.time()
    try:
        worker = harness.start_worker(database, workload, f"{label}-worker1")
        beat = harness.start_beat(database, workload, f"{label}-beat")
        first_worker = worker
        worker.wait_for_log(" ready.", timeout=90)
        beat.wait_for_log("beat: Starting", timeout=90)
        if harness.timing.tick_seconds or kind == "db_restart_idle":
            # Beat has sent its first entries (with the migrated intervals, up to a minute away).
            beat.wait_for_log("Sending due task", timeout=90)
        if kind == "db_restart_idle":
            loaded = _db_restart_idle(harness, database, workload, fault, worker)
        else:
            loaded = harness.command(
                "load",
                "--slack",
                str(workload.slack),
                "--emails",
                str(workload.emails),
                "--tag",
                label,
                *(["--hang"] if kind == "hung_webhook" else []),
                database=database,
                workload=workload,
            )
            fault.started = fault.done = fault.ended = loaded["queued_at"]
            if kind not in ("none", "hung_webhook"):
                _trigger(harness, workload)
            worker = _inflict(harness, database, workload, fault, worker, label)
        deadline = max(fault.ended or time.time(), time.time()) + workload.wait_seconds
        expected = loaded.get("expected", workload.total)
        settled = _wait_settled(harness, database, expected, deadline)
        time.sleep(workload.settle_seconds)
        processes = {
            "worker_alive": worker.alive,
            "worker_replaced": worker is not first_worker,
            "beat_alive": beat.alive,
            "worker_log_errors": _error_lines(worker.log_text()),
            "beat_log_errors": _error_lines(beat.log_text()),
        }
        result = report(harness, database, fault, loaded, workload, settled=settled, processes=processes)
        result["scenario_seconds"] = round(time.time() - began, 1)
        result["logs"] = str(harness.root)
        return result
    finally:
        harness.stop_processes()


def _trigger(harness: Harness, workload: Workload) -> None:
    """Waits until the share ``workload.trigger`` of the Slack messages reached the fake."""
    target = max(1, int(workload.slack * workload.trigger))
    _wait(lambda: harness.slack.count()["total"] >= target, timeout=120, interval=0.005, what="fault trigger")


def _sending(harness: Harness, database: str) -> set[str]:
    """The rows in ``sending`` now (the claims of a worker just killed, if taken after the kill)."""
    with harness.pg.connect(database) as conn:
        rows = conn.execute("SELECT id::text FROM notifications_notification WHERE status = 'sending'").fetchall()
    return {row[0] for row in rows}


def _inflict(
    harness: Harness, database: str, workload: Workload, fault: Fault, worker: CeleryProcess, label: str
) -> CeleryProcess:
    """Does the fault; returns the worker that runs afterwards (a new one after a kill or a stop)."""
    kind = fault.kind
    if kind in ("none", "hung_webhook"):
        return worker
    if kind == "db_restart_mid":
        fault.rows_sending = len(_sending(harness, database))
        fault.started, fault.done, fault.ended = harness.pg.restart(down_seconds=workload.db_down_seconds)
        return worker
    if kind == "broker_restart":
        fault.rows_sending = len(_sending(harness, database))
        fault.started, fault.done, fault.ended = harness.redis.restart(down_seconds=workload.broker_down_seconds)
        return worker
    if kind == "kill_children":
        fault.started = time.time()
        fault.notes["killed_pids"] = worker.kill_pool()
        fault.done = fault.ended = time.time()
        fault.sending_after_kill = _sending(harness, database)
        fault.rows_sending = len(fault.sending_after_kill)
        return worker
    if kind == "kill_main":
        fault.started = time.time()
        worker.kill()
        fault.done = time.time()
        fault.sending_after_kill = _sending(harness, database)
        fault.rows_sending = len(fault.sending_after_kill)
    elif kind == "sigterm":
        fault.rows_sending = len(_sending(harness, database))
        fault.started = time.time()
        fault.notes.update(worker.terminate(grace=workload.sigterm_grace_seconds))
        fault.done = time.time()
    # As compose's restart policy (kill) or the deploy (stop) would: a new worker.
    replacement = harness.start_worker(database, workload, f"{label}-worker2")
    fault.ended = replacement.wait_for_log(" ready.", timeout=90)
    return replacement


def _db_restart_idle(harness: Harness, database: str, workload: Workload, fault: Fault, worker) -> dict:
    """Digests due ``digest_lead_seconds`` after the database is back; the database stops while
    the worker and beat are idle (ticks and sweeps running), for ``db_down_seconds``."""

    def ticks() -> int:
        with harness.pg.connect(database) as conn:
            return conn.execute("SELECT count(*) FROM scheduling_jobrun").fetchone()[0]

    # The worker has run a tick (and holds its database connection) before the fault.
    _wait(lambda: ticks() > 0, timeout=90, interval=0.2, what="a first tick on the worker")
    lead = workload.digest_lead_seconds
    seed_allowance = 10.0
    due = int(time.time() + seed_allowance + workload.db_down_seconds + 2 + lead) + 1
    loaded = harness.command(
        "digests",
        "--workspaces",
        str(workload.slack),
        "--emails",
        str(workload.emails),
        "--due",
        str(due),
        "--slack-prefix",
        harness.slack.services_prefix,
        database=database,
        workload=workload,
    )
    stop_at = due - lead - workload.db_down_seconds - 2
    if time.time() > stop_at - 1:
        raise RuntimeError(f"setup too slow: the digests would fall due before the restart (due {due})")
    while time.time() < stop_at:
        time.sleep(0.05)
    with harness.pg.connect(database) as conn:
        early = conn.execute("SELECT count(*) FROM notifications_notification").fetchone()[0]
    if early:
        raise RuntimeError(f"{early} notifications exist before the restart: the digests fell due too early")
    fault.notes.update({"ticks_before_fault": ticks(), "digests_due_at": due})
    fault.rows_sending = 0
    fault.started, fault.done, fault.ended = harness.pg.restart(down_seconds=workload.db_down_seconds)
    fault.notes["due_after_restart_seconds"] = round(due - fault.ended, 2)
    if fault.ended >= due:
        raise RuntimeError("the database came back after the digests fell due: the scenario proves nothing")
    return loaded


def _wait_settled(harness: Harness, database: str, expected: int, deadline: float) -> bool:
    """Until every expected row exists and none is pending or sending (True), or ``deadline`` (False)."""
    while True:
        try:
            with harness.pg.connect(database) as conn:
                total, open_rows = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status IN ('pending', 'sending'))"
                    " FROM notifications_notification"
                ).fetchone()
            if total >= expected and open_rows == 0:
                return True
        except Exception as exc:  # the database may be restarting
            log(f"faults: waiting for the rows to settle: {type(exc).__name__}")
        if time.time() > deadline:
            return False
        time.sleep(0.25)


def _error_lines(text: str) -> dict:
    lines = [line for line in text.splitlines() if " ERROR " in line or "CRITICAL" in line or "Traceback" in line]
    return {"count": len(lines), "last": lines[-1][:300] if lines else None}

"""Counting: what the providers received against what the rows say; the promises each result breaks."""

from __future__ import annotations

from collections import Counter

from bench.faults.common import IN_FLIGHT_WINDOW, MARKED_TWICE, RECEIVE_MARGIN, Fault, Workload, _pctl, _r
from bench.faults.harness import Harness

# --- counting -------------------------------------------------------------------------------


def report(
    harness: Harness,
    database: str,
    fault: Fault,
    loaded: dict,
    workload: Workload,
    *,
    settled: bool,
    processes: dict,
) -> dict:
    """What reached the providers against what the database says, for one fault."""
    with harness.pg.connect(database) as conn:
        rows = conn.execute(
            "SELECT id::text, channel, recipient, body, status, attempts, retried_after_unknown, last_error,"
            " extract(epoch FROM sent_at)::float8 FROM notifications_notification"
        ).fetchall()
    posts: dict[tuple, list[tuple]] = {}
    for text, _path, _status, received, answered, abandoned in harness.slack.requests():
        posts.setdefault(("slack", text), []).append((received, answered, abandoned))
    for recipient, received, answered in harness.smtp.messages():
        posts.setdefault(("email", recipient), []).append((received, answered, None))
    for entries in posts.values():
        entries.sort()

    def key(row) -> tuple:
        return ("slack", row[3]) if row[1] == "slack" else (row[1], row[2].lower())

    by_key = {key(row): row for row in rows}
    expected = loaded.get("expected", workload.total)
    statuses = Counter(row[4] for row in rows)
    delivered = [k for k in by_key if k in posts]
    never = [row for row in rows if key(row) not in posts]
    lost_rows = [row for row in never if row[4] not in ("pending", "sending")]
    missing_rows = max(0, expected - len(rows))
    stuck = [row for row in rows if row[4] in ("pending", "sending")]
    duplicated = {k: len(posts[k]) for k in by_key if len(posts.get(k, ())) > 1}
    stray = [k for k in posts if k not in by_key]

    # In flight at the fault, at the provider: first post received before the fault was done,
    # and not answered (or abandoned) more than IN_FLIGHT_WINDOW before it began.
    in_flight: set = set()
    if fault.kind == "hung_webhook":
        hung = [k for k, entries in posts.items() if entries[0][2] is not None and entries[0][1] is None]
        in_flight = set(hung)
        if hung:
            first = min(posts[k][0][0] for k in hung)
            fault.started = fault.done = first
            fault.ended = first + workload.slack_timeout
    elif fault.started is not None and fault.kind not in ("none", "db_restart_idle"):
        for k, entries in posts.items():
            received, answered, abandoned = entries[0]
            finished = answered or abandoned or float("inf")
            if received <= fault.done + RECEIVE_MARGIN and finished >= fault.started - IN_FLIGHT_WINDOW:
                in_flight.add(k)

    def marked(row) -> bool:
        return bool(row[6]) or MARKED_TWICE in (row[7] or "")

    unmarked = [k for k in duplicated if not marked(by_key[k])]
    outside = [k for k in duplicated if k not in in_flight]
    held = fault.sending_after_kill
    not_held = [k for k in duplicated if by_key[k][0] not in held] if held is not None else []

    firsts = [entries[0][0] for k, entries in posts.items() if k in by_key]
    every_post = sorted(received for entries in posts.values() for received, _, _ in entries)
    end = fault.ended
    drain = recovery = None
    if end is not None and firsts:
        drain = max(firsts) - end
        after = [t for t in every_post if t >= end]
        recovery = (after[0] - end) if after else None
    # The idle restart's digests cannot go out before they fall due: the promise counts from then.
    due = fault.notes.get("digests_due_at")
    late = None
    if due is not None and firsts:
        late = {"first": min(firsts) - due, "last": max(firsts) - due}

    # When each sent row was recorded, against when the provider answered its first post.
    lags = []
    for k, row in by_key.items():
        entries = posts.get(k)
        if row[4] == "sent" and row[8] is not None and entries and entries[0][1] is not None and len(entries) == 1:
            lags.append(row[8] - entries[0][1])

    result = {
        "fault": fault.kind,
        "messages": expected,
        "rows": len(rows),
        "statuses": dict(statuses),
        "delivered": len(delivered),
        "lost": len(lost_rows) + missing_rows,
        "missing_rows": missing_rows,
        "stuck": len(stuck),
        "stuck_by_status": dict(Counter(row[4] for row in stuck)),
        "duplicates": sum(times - 1 for times in duplicated.values()),
        "duplicated_messages": len(duplicated),
        "duplicated_by_channel": dict(Counter(k[0] for k in duplicated)),
        "max_posts_per_message": max((len(entries) for entries in posts.values()), default=0),
        "in_flight_at_fault": {"provider_open": len(in_flight), "rows_sending": fault.rows_sending},
        "duplicates_outside_in_flight": len(outside),
        "duplicates_not_held_by_the_killed_worker": len(not_held) if held is not None else None,
        "duplicates_unmarked": len(unmarked),
        "rows_retried_after_unknown": sum(1 for row in rows if row[6]),
        "stray_posts": len(stray),
        "settled": settled,
        "fault_seconds": _r(fault.done - fault.started) if fault.started and fault.done else None,
        "outage_seconds": _r(fault.ended - fault.started) if fault.started and fault.ended else None,
        "recovery_seconds": _r(recovery),
        "drain_seconds": _r(drain),
        "digests_late_seconds": {key: _r(value) for key, value in late.items()} if late else None,
        "record_lag_seconds": {"p50": _r(_pctl(lags, 50), 3), "max": _r(max(lags) if lags else None, 3)},
        "errors": dict(Counter((row[7] or "")[:120] for row in rows if row[7]).most_common(5)),
        "notes": fault.notes,
        "processes": processes,
        "examples": {
            "lost": [k[1][:80] for k in [key(row) for row in lost_rows[:3]]],
            "duplicated_outside_in_flight": [k[1][:80] for k in outside[:3]],
            "duplicated_unmarked": [k[1][:80] for k in unmarked[:3]],
        },
    }
    if fault.kind == "hung_webhook":
        result["hung"] = _hung_figures(by_key, posts, loaded, in_flight, key)
    return result


def _hung_figures(by_key: dict, posts: dict, loaded: dict, hung: set, key) -> dict:
    """The hung webhook's batch-mates: each recorded ``sent`` when its own answer came, or late?"""
    batch = next((ids for ids in loaded.get("batches", []) if loaded.get("hang_id") in ids), [])
    members = set(batch) - {loaded.get("hang_id")}
    lateness = []
    for k, row in by_key.items():
        entries = posts.get(k)
        if row[0] in members and row[4] == "sent" and row[8] is not None and entries and entries[0][1] is not None:
            lateness.append(row[8] - entries[0][1])
    hung_key = next(iter(hung), None)
    retry = None
    if hung_key is not None and len(posts.get(hung_key, ())) > 1:
        retry = posts[hung_key][1][0] - posts[hung_key][0][0]
    return {
        "batch_size": len(batch),
        "batch_mates_sent": len(lateness),
        "batch_mates_recorded_late_max_seconds": _r(max(lateness) if lateness else None, 3),
        "batch_mates_recorded_late_p50_seconds": _r(_pctl(lateness, 50), 3),
        "hung_message_retried_after_seconds": _r(retry),
        "hung_message_status": by_key[hung_key][4] if hung_key in by_key else None,
    }


# Batch-mates of a hung webhook must be recorded at their own time: within this of their answer.
HUNG_BATCH_MATE_LATENESS = 0.75


def problems(result: dict, *, bound_seconds: float) -> list[str]:
    """The issue's promises this fault's figures break (empty: all kept)."""
    found = []
    kind = result["fault"]
    if result["lost"]:
        found.append(f"{result['lost']} message(s) lost ({result['missing_rows']} never created)")
    if result["stuck"]:
        found.append(f"{result['stuck']} row(s) left {result['stuck_by_status']}")
    if result["delivered"] < result["rows"] - result["stuck"]:
        found.append(f"only {result['delivered']} of {result['rows']} rows reached a provider")
    open_calls = result["in_flight_at_fault"]["provider_open"]
    if kind == "sigterm" and result["duplicates"]:
        found.append(f"{result['duplicates']} duplicate(s) across a warm shutdown (expected none)")
    if result["duplicates"] > open_calls:
        found.append(f"{result['duplicates']} duplicate(s) > {open_calls} provider call(s) in flight at the fault")
    if result["duplicates_outside_in_flight"]:
        found.append(f"{result['duplicates_outside_in_flight']} message(s) re-sent that were not in flight")
    if result["duplicates_not_held_by_the_killed_worker"]:
        found.append(
            f"{result['duplicates_not_held_by_the_killed_worker']} message(s) re-sent that the killed worker "
            "did not hold in sending"
        )
    if result["duplicates_unmarked"]:
        found.append(f"{result['duplicates_unmarked']} duplicate(s) not marked on their row")
    if result["max_posts_per_message"] > 2:
        found.append(f"a message was posted {result['max_posts_per_message']} times")
    if result["stray_posts"]:
        found.append(f"{result['stray_posts']} post(s) match no notification row")
    if kind == "db_restart_idle" and result["digests_late_seconds"]:
        # Due a few seconds after the restart: the first and last digest, counted from when they fell due.
        late = result["digests_late_seconds"]
        if late["last"] > bound_seconds:
            found.append(f"last digest delivered {late['last']:.1f}s after it fell due (bound {bound_seconds:g}s)")
    elif kind != "none":
        recovery, drain = result["recovery_seconds"], result["drain_seconds"]
        if drain is not None and drain > bound_seconds:
            found.append(f"last message delivered {drain:.1f}s after the fault ended (bound {bound_seconds:g}s)")
        if drain is not None and drain > 0 and (recovery is None or recovery > bound_seconds):
            found.append(f"delivery resumed {recovery}s after the fault ended (bound {bound_seconds:g}s)")
    processes = result["processes"]
    if not processes["beat_alive"]:
        found.append("beat exited")
    if not processes["worker_alive"]:
        found.append("the worker exited")
    if processes["worker_replaced"] and kind not in ("kill_main", "sigterm"):
        found.append("the worker had to be replaced")
    if kind == "hung_webhook":
        late = result["hung"]["batch_mates_recorded_late_max_seconds"]
        if late is None or late > HUNG_BATCH_MATE_LATENESS:
            found.append(
                f"batch-mates of the hung webhook recorded up to {late}s after their answer "
                f"(bound {HUNG_BATCH_MATE_LATENESS}s)"
            )
    return found

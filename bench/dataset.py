"""The data set's size and its marker: a row in ``bench_dataset`` (outside Django's models) records
what was seeded, so ``--reuse`` can skip seeding a data set of the same size and seed format.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

SEED_VERSION = 1


@dataclass(frozen=True)
class Size:
    workspaces: int
    people: int
    members: int  # members per workspace (each a user with a linked person who wants the email digest)
    seed: int

    def check(self) -> None:
        if self.workspaces < 1:
            raise SystemExit("--workspaces must be at least 1")
        if self.people < self.workspaces * self.members:
            raise SystemExit(
                f"--people ({self.people}) must be at least --workspaces * --members-per-workspace "
                f"({self.workspaces * self.members}): every member has a person"
            )


def marker_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset ("
            " id integer PRIMARY KEY, size jsonb NOT NULL, slack_port integer NOT NULL,"
            " seeded_at timestamptz NOT NULL, seconds double precision NOT NULL, shape jsonb NOT NULL)"
        )


def existing(size: Size) -> dict | None:
    """The recorded data set if one of exactly this size (and seed format) is there."""
    from django.db import connection

    marker_table()
    with connection.cursor() as cursor:
        cursor.execute("SELECT size, slack_port, seeded_at, seconds, shape FROM bench_dataset WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    recorded, slack_port, seeded_at, seconds, shape = row
    recorded = json.loads(recorded) if isinstance(recorded, str) else recorded
    if recorded != {**asdict(size), "version": SEED_VERSION}:
        return None
    shape = json.loads(shape) if isinstance(shape, str) else shape
    return {"slack_port": slack_port, "seeded_at": seeded_at.isoformat(), "seed_seconds": seconds, "shape": shape}


def record(size: Size, *, slack_port: int, seeded_at: datetime, seconds: float, shape: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute(
            "INSERT INTO bench_dataset (id, size, slack_port, seeded_at, seconds, shape)"
            " VALUES (1, %s, %s, %s, %s, %s)",
            [json.dumps({**asdict(size), "version": SEED_VERSION}), slack_port, seeded_at, seconds, json.dumps(shape)],
        )

"""A gathering's balances at 10, 100 and 1,000 participants: queries and time of ``event_costs``.

Builds its own workspace (removed afterwards): one gathering with ``n`` attendees, ``n``
expenses (each paid by someone and split equally among up to 50 people, one in ten among
everyone) and ``n / 10`` settlements, then reads the balances and the transfers that settle
them (``gatherings.selectors.event_costs`` and the API's serializer) 20 times.
The number of queries must not grow with ``n``.
"""

from __future__ import annotations

import random
import time

from bench.context import Context, ms_summary
from bench.environment import log

SIZES = (10, 100, 1_000)


def _build(n: int, rng: random.Random):
    from events.models import Attendee, Event, EventKind
    from gatherings import ledger
    from gatherings.models import CostLedger, Expense, ExpenseShare, Settlement
    from workspaces.models import Person, Workspace

    workspace = Workspace.objects.create(name=f"bench costs {n}", slug=f"bench-costs-{n}-{rng.randrange(10**9)}")
    event = Event.objects.create(
        workspace=workspace,
        title="Bench gathering",
        kind=EventKind.GATHERING,
        date=None,
        starts_at=_now(),
        all_day=False,
    )
    people = Person.objects.bulk_create(
        Person(workspace=workspace, name=f"Guest {index:04d}", email=f"guest{index}@bench.example")
        for index in range(n)
    )
    Attendee.objects.bulk_create(Attendee(event=event, person=person) for person in people)
    CostLedger.objects.create(workspace=workspace, event=event, currency="EUR")
    expenses, shares = [], []
    for index in range(n):
        payer = rng.choice(people)
        sharers = people if index % 10 == 0 else rng.sample(people, min(len(people), rng.randint(2, 50)))
        amount = rng.randint(100, 50_000)
        expense = Expense(
            workspace=workspace, event=event, description=f"Item {index}", amount_minor=amount, paid_by=payer
        )
        expenses.append(expense)
        parts = ledger.split_equal(amount, [person.pk for person in sharers])
        shares += [
            ExpenseShare(expense=expense, person_id=pk, position=position, amount_minor=part)
            for position, (pk, part) in enumerate(parts.items())
        ]
    Expense.objects.bulk_create(expenses)
    ExpenseShare.objects.bulk_create(shares, batch_size=5_000)
    Settlement.objects.bulk_create(
        Settlement(workspace=workspace, event=event, payer=a, payee=b, amount_minor=rng.randint(1, 5_000))
        for a, b in (rng.sample(people, 2) for _ in range(max(1, n // 10)))
    )
    return workspace, event, len(shares)


def _now():
    from django.utils import timezone

    return timezone.now()


def gathering_costs(ctx: Context) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gatherings.api.serializers import CostSummarySerializer
    from gatherings.selectors import event_costs

    runs = 20
    rng = random.Random(ctx.args.seed)
    result: dict = {"runs": runs, "sizes": {}}
    for n in SIZES:
        workspace, event, share_rows = _build(n, rng)
        try:
            with CaptureQueriesContext(connection) as captured:
                body = CostSummarySerializer(event_costs(event=event)).data
            assert sum(row["balance_minor"] for row in body["participants"]) == 0
            assert len(body["transfers"]) <= n - 1
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                CostSummarySerializer(event_costs(event=event)).data  # noqa: B018
                seconds.append(time.perf_counter() - started)
            figures = {
                "participants": n,
                "expenses": n,
                "share_rows": share_rows,
                "queries": len(captured.captured_queries),
                "transfers": len(body["transfers"]),
                **ms_summary(seconds),
            }
            log(f"gathering_costs n={n}: {figures['queries']} queries, median {figures.get('median_ms')} ms")
            result["sizes"][str(n)] = figures
        finally:
            workspace.delete()
    counts = {figures["queries"] for figures in result["sizes"].values()}
    result["constant_queries"] = len(counts) == 1
    return result

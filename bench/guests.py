"""python -m bench.guests: a gathering with 1,000 guests (and a date poll they all voted in).

Builds a throwaway test database (``TEST_DATABASE_NAME``), fills one event with ``--guests``
guests (answers, +1s, a waitlist, check-ins) and a poll of ``--options`` options with every
guest's votes, then times what the organisers and guests read — the guest counts, what a
guest sees of the list, the CSV, the poll table, the RSVP JSON and the API's attendee page —
printing each one's SQL query count and time as JSON. Run it at two sizes to see the counts
stay flat: ``python -m bench.guests --guests 10`` and ``--guests 1000``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.guests", description=__doc__)
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--options", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each read (the median is reported)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")
    os.environ.setdefault("BB_TESTING", "1")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(results, indent=2))
    return 0


def _run(args, connection) -> dict:
    from rest_framework.test import APIClient

    from events import guests, polls
    from events.models import Attendee, Event, EventKind, GuestList, PollOption, PollVote, Rsvp, Seat
    from events.tokens import attendee_rsvp_token_issue
    from tests.conftest import client_for
    from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
    from workspaces.models import Person, Role

    workspace = WorkspaceFactory(name="Bench", timezone="Europe/Berlin")
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    start = datetime(2030, 7, 3, 16, 0, tzinfo=UTC)
    event = Event.objects.create(
        workspace=workspace,
        title="Summer party",
        kind=EventKind.GATHERING,
        starts_at=start,
        ends_at=start + timedelta(hours=5),
        capacity=args.guests,
        plus_ones_allowed=2,
        guest_list=GuestList.NAMES,
        poll="open",
    )
    people = Person.objects.bulk_create(
        [PersonFactory.build(workspace=workspace, name=f"Guest {n:05d}") for n in range(args.guests)]
    )
    answers = [Rsvp.YES, Rsvp.YES, Rsvp.MAYBE, Rsvp.NO, Rsvp.PENDING]
    rows = []
    for n, person in enumerate(people):
        answer = answers[n % len(answers)]
        seat = (Seat.GOING if n % 10 else Seat.WAITLISTED) if answer == Rsvp.YES else Seat.NONE
        rows.append(
            Attendee(
                event=event,
                person=person,
                answer=answer,
                seat=seat,
                plus_ones=n % 3 if answer == Rsvp.YES else 0,
                waitlisted_at=start - timedelta(days=30, minutes=n) if seat == Seat.WAITLISTED else None,
                checked_in_at=start if n % 7 == 0 else None,
            )
        )
    Attendee.objects.bulk_create(rows)
    options = PollOption.objects.bulk_create(
        [PollOption(event=event, position=i, starts_at=start + timedelta(days=7 * i)) for i in range(args.options)]
    )
    PollVote.objects.bulk_create(
        [
            PollVote(option=option, attendee=row, choice=("yes", "ifneedbe", "no")[(i + j) % 3], time_zone="UTC")
            for i, row in enumerate(rows)
            for j, option in enumerate(options)
        ]
    )
    token = attendee_rsvp_token_issue(attendee=rows[1])
    event = Event.objects.select_related("workspace").get(pk=event.pk)
    owner_client = client_for(owner)
    base = f"/api/v1/workspaces/{workspace.pk}/events/{event.pk}"

    def api(path: str):
        def call():
            response = owner_client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    def guest_json():
        response = APIClient().get(f"/rsvp/{token}")
        assert response.status_code == 200
        return response

    reads = {
        "guest_counts": lambda: guests.guest_counts(event),
        "guest_list_for_a_guest": lambda: guests.guest_list_for_guest(event),
        "guest_list_csv": lambda: guests.guest_list_csv(event),
        "poll_table": lambda: polls.poll_table(event),
        "api_guests_csv": api(f"{base}/guests.csv"),
        "api_poll_table": api(f"{base}/poll"),
        "api_attendees_page": api(f"{base}/attendees/"),
        "rsvp_json": guest_json,
    }
    # Requests must not close the connection between the calls that are counted.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    measured = {}
    for name, read in reads.items():
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            read()
        timings = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            read()
            timings.append((time.perf_counter() - began) * 1000)
        measured[name] = {"queries": len(queries), "median_ms": round(statistics.median(timings), 2)}
    return {"guests": args.guests, "poll_options": args.options, "votes": len(rows) * len(options), "reads": measured}


if __name__ == "__main__":
    sys.exit(main())

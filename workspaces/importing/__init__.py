"""CSV import of people: ``POST …/people/import`` and ``manage.py import_people``.

The file is UTF-8 (a BOM is fine), comma-separated (a header with semicolons and no
commas switches to semicolons), with a header row. Columns, case-insensitive, in any
order (spaces and hyphens count as underscores):

    name (required), email, phone, slack_user_id,
    birthday (YYYY-MM-DD, or --MM-DD / MM-DD without a year)
        — or birth_month, birth_day, birth_year,
    joined_on (YYYY-MM-DD), show_age (true/false, yes/no, 1/0),
    preferred_channels, opted_out_channels ("sms;email": slack, email, sms, whatsapp)

The rules are the People API's: a name, a valid email, an E.164 phone, a Slack member id,
a birthday that exists and is not in the future, known channels, none both preferred and
opted out.

How an import goes:

1. Every row is checked before anything is written; errors name the row (the header is
   row 1, as in a spreadsheet), the column and what is wrong.
2. Each row is matched to an existing person of the workspace by email (case-insensitive),
   else by phone: a match is updated, otherwise a person is created — importing the same
   file twice changes nothing the second time. Two rows for the same person (same email,
   same phone, or both matching one person) are an error on the later row. Rows with
   neither email nor phone always create a person.
3. On an update, empty cells keep the current value (an import never erases); a birthday
   given in a row replaces the whole birthday (month, day and year).
4. Any bad row: nothing is imported (``ImportRejected``), unless ``partial``: then the
   good rows are imported and the bad ones reported as skipped. ``dry_run`` does all the
   checking and counting and writes nothing.
5. The writes are ``bulk_create``/``bulk_update`` in chunks inside one transaction, with the
   workspace row locked (two imports into one workspace run one after the other); the
   existing people are read with one query. Each created or changed person gets an audit
   entry, the import one more; the cached birthdays are invalidated once; the people steps
   (``workspaces.lifecycle``: each person's greeting schedule) run once with everyone written.

The steps: ``parse.py`` (read the file, check each row), ``plan.py`` (match against the
workspace), ``write.py`` (the writes), ``results.py`` (what is reported).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone as dj_timezone

from audit import entries as audit
from workspaces import cache as bb_cache
from workspaces.importing.parse import COLUMNS, check_row, decode, expected_columns, max_rows, read_rows
from workspaces.importing.plan import plan_import
from workspaces.importing.results import ImportRejected, ImportResult, RowError
from workspaces.importing.write import write
from workspaces.lifecycle import people_written_steps_run
from workspaces.models import Workspace

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "COLUMNS",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "expected_columns",
    "max_rows",
    "people_import",
]


def people_import(
    *,
    workspace: Workspace,
    data: bytes,
    partial: bool = False,
    dry_run: bool = False,
    actor: User | None = None,
    source: str = "api",
    filename: str | None = None,
    today: date | None = None,
) -> ImportResult:
    """Imports people from CSV ``data`` into ``workspace`` (see the module docstring).

    Raises :class:`ImportRejected` for a file that cannot be read, or for bad rows unless
    ``partial``; nothing is written then.
    """
    today = today or dj_timezone.localdate()
    _, rows = read_rows(decode(data))
    candidates = [check_row(row, today=today) for row in rows]
    with transaction.atomic():
        if not dry_run:
            # One import per workspace at a time: both would otherwise create the same new people.
            workspace = Workspace.objects.select_for_update().filter(pk=workspace.pk).first() or workspace
        plan = plan_import(workspace=workspace, candidates=candidates)
        plan.errors.sort(key=lambda error: error.row)
        if plan.errors and not partial:
            bad = len(plan.bad_rows)
            raise ImportRejected(
                f"{bad} row{'s' if bad != 1 else ''} of {len(rows)} {'have' if bad != 1 else 'has'} errors; "
                "nothing was imported. Fix them, or import only the good rows with partial=1.",
                code="invalid_rows",
                errors=plan.errors,
            )
        result = ImportResult(
            rows=len(rows),
            created=len(plan.create),
            updated=len(plan.update),
            unchanged=plan.unchanged,
            skipped=len(plan.bad_rows),
            dry_run=dry_run,
            partial=partial,
            errors=plan.errors,
        )
        if dry_run:
            return result
        write(plan)
        # Bulk writes send no post_save: what the apps above derive from people follows here.
        written = [person.pk for person in plan.create] + [after.pk for _, after in plan.update]
        people_written_steps_run(workspace, written)
        audit.audit_bulk_changes(
            workspace=workspace,
            actor=actor,
            created=plan.create,
            updated=plan.update,
            extra={"via": "people.import"},
        )
        details = {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "source": source,
        }
        if filename:
            details["filename"] = filename[:200]
        audit.audit_manual_send(
            workspace=workspace, actor=actor, action="people.import", target=workspace, details=details
        )
        if plan.create or plan.update:
            bb_cache.birthdays_bump(workspace.pk)
    return result

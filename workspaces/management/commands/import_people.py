"""``manage.py import_people --workspace ID|slug FILE``: people from a CSV file (see ``workspaces/importing/``)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workspaces.importing import COLUMNS, ImportRejected, ImportResult, people_import
from workspaces.management.commands.sync_birthdays import find_workspace


class Command(BaseCommand):
    help = (
        "Imports people from a UTF-8 CSV file into a workspace, with the People API's rules. Every row is "
        "checked first; if any is bad nothing is imported (exit status 1) unless --partial. A row updates "
        "the person with the same email, else the same phone, so importing twice changes nothing. "
        f"Columns: {', '.join(COLUMNS)} (name required; birthday as YYYY-MM-DD or --MM-DD)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file ('-' reads standard input).")
        parser.add_argument("--workspace", required=True, help="Workspace id or slug.")
        parser.add_argument("--partial", action="store_true", help="Import the good rows; report and skip bad ones.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count everything; write nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the report as JSON.")

    def handle(self, *args, file, workspace, partial=False, dry_run=False, as_json=False, **options):
        target = find_workspace(workspace)
        data, filename = self._read(file)
        try:
            result = people_import(
                workspace=target,
                data=data,
                partial=partial,
                dry_run=dry_run,
                actor=None,
                source="command",
                filename=filename,
            )
        except ImportRejected as exc:
            if as_json:
                self.stdout.write(_dumps({"detail": exc.message, "code": exc.code, **exc.extra}))
            else:
                for error in exc.row_errors:
                    self.stderr.write(_error_line(error.row, error.field, error.message))
            raise CommandError(exc.message) from None
        if as_json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        for error in result.errors:
            self.stderr.write(_error_line(error.row, error.field, error.message) + " (skipped)")
        self.stdout.write(_summary(result, workspace=target.slug, filename=filename))

    def _read(self, file: str) -> tuple[bytes, str | None]:
        if file == "-":
            return sys.stdin.buffer.read(), None
        path = Path(file)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None


def _dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _error_line(row: int, field: str | None, message: str) -> str:
    return f"row {row}" + (f", {field}" if field else "") + f": {message}"


def _summary(result: ImportResult, *, workspace: str, filename: str | None) -> str:
    verb = "Would import" if result.dry_run else "Imported"
    source = f" {filename}" if filename else ""
    created, updated = ("would create", "would update") if result.dry_run else ("created", "updated")
    text = (
        f"{verb}{source} into {workspace}: {result.rows} rows, {created} {result.created}, "
        f"{updated} {result.updated}, unchanged {result.unchanged}"
    )
    if result.skipped:
        text += f", skipped {result.skipped} bad row{'s' if result.skipped != 1 else ''}"
    return text + "."

"""``manage.py sync_birthdays``: every member's workspace Person created or updated from their profile."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from workspaces.models import Workspace
from workspaces.sync import SyncReport, person_sync_from_members


def find_workspace(value: str) -> Workspace:
    """A workspace by id or slug; ``CommandError`` if there is none."""
    try:
        lookup = {"pk": uuid.UUID(value)}
    except ValueError:
        lookup = {"slug": value}
    workspace = Workspace.objects.filter(**lookup).first()
    if workspace is None:
        raise CommandError(f"No workspace with id or slug {value!r}.")
    return workspace


class Command(BaseCommand):
    help = (
        "Creates or updates each member's Person from their user profile (name, email, date of birth, "
        "Slack id, phone) and prints, per workspace, what it created, updated and left unchanged. A "
        "non-empty profile value wins; an empty one never clears a Person's field."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Workspace id or slug (default: every workspace).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; write nothing.")
        parser.add_argument(
            "--backfill-only",
            action="store_true",
            help="Only create missing Persons; leave the data of existing ones untouched.",
        )

    def handle(self, *args, workspace=None, dry_run=False, backfill_only=False, **options):
        target = find_workspace(workspace) if workspace else None
        report = person_sync_from_members(workspace=target, dry_run=dry_run, backfill_only=backfill_only)
        self.print_report(report, verbosity=options.get("verbosity", 1))

    def print_report(self, report: SyncReport, *, verbosity: int) -> None:
        created, updated = ("would create", "would update") if report.dry_run else ("created", "updated")
        for ws in report.workspaces:
            self.stdout.write(
                f"{ws.name} ({ws.slug}): {created} {len(ws.created)}, {updated} {len(ws.updated)}, "
                f"unchanged {ws.unchanged}" + (f", errors {len(ws.errors)}" if ws.errors else "") + "."
            )
            if verbosity < 1:
                continue
            for change in ws.created:
                self.stdout.write(f"  + {created} {change.name} <{change.email}>")
            for change in ws.updated:
                self.stdout.write(f"  ~ {updated} {change.name} <{change.email}>: {', '.join(change.fields)}")
            if verbosity >= 2:
                for name in ws.unchanged_names:
                    self.stdout.write(f"  = unchanged {name}")
            for error in ws.errors:
                self.stdout.write(self.style.WARNING(f"  ! {error['email']}: {error['error']}"))
        totals = report.totals
        prefix = "Dry run, nothing written" if report.dry_run else "Done"
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}: {totals['workspaces']} workspace(s), {created} {totals['created']}, "
                f"{updated} {totals['updated']}, unchanged {totals['unchanged']}, errors {totals['errors']}."
            )
        )

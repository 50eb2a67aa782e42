from datetime import date

from django.core.management.base import BaseCommand, CommandError

from audit.names import command_origin
from scheduling import selectors, services
from workspaces.models import Workspace

ORIGIN = command_origin("run_birthday_job")


class Command(BaseCommand):
    help = (
        "Runs the birthday and anniversary digest now for a local date (default: each workspace's "
        "today). Idempotent: a date already sent sends nothing. --dry-run prints what would be sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Workspace id or slug (default: every workspace).")
        parser.add_argument("--date", help="Local date YYYY-MM-DD (default: the workspace's today).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")

    def handle(self, *args, workspace=None, date=None, dry_run=False, **options):
        day = self._parse_date(date)
        workspaces = Workspace.objects.order_by("name")
        if workspace:
            lookup = {"slug": workspace}
            if len(workspace) == 36:
                lookup = {"pk": workspace}
            workspaces = workspaces.filter(**lookup)
            if not workspaces.exists():
                raise CommandError(f"No workspace with id or slug {workspace!r}.")
        totals = {"created": 0, "existing": 0}
        for ws in workspaces:
            run = services.digest_run_now(workspace=ws, day=day, dry_run=dry_run, origin=ORIGIN)
            planned = run.result.planned
            counts = services.run_counts(run.result)
            created = 0 if dry_run else counts.created
            totals["created"] += created
            totals["existing"] += counts.existing
            if not planned:
                reason = selectors.digest_empty_reason(workspace=ws, day=run.day)
                self.stdout.write(f"{ws.name} [{run.day}]: {reason}")
                continue
            if dry_run:
                self.stdout.write(f"{ws.name} [{run.day}]: would send {len(planned) - counts.existing}.")
            else:
                self.stdout.write(f"{ws.name} [{run.day}]: {counts.sentence()}.")
            statuses = services.existing_statuses(run.result)
            for message in planned:
                n = message.notification
                if message.exists:
                    state = f"already {statuses.get(n.idempotency_key, 'written')}"
                else:
                    state = "would send" if dry_run else "queued"
                self.stdout.write(f"  - {n.channel} → {n.recipient} ({state})")
                if dry_run:
                    for line in n.body.splitlines():
                        self.stdout.write(f"      {line}")
        if not dry_run and totals["created"] == 0 and totals["existing"]:
            self.stdout.write(self.style.WARNING("Nothing new: every message for this date already exists."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Done: {totals['created']} created, {totals['existing']} already existed.")
            )

    @staticmethod
    def _parse_date(value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}.") from exc

"""``manage.py prune_history [--dry-run] [--chunk-size N]``: the daily retention job, by hand."""

from django.core.management.base import BaseCommand, CommandError

from notifications import retention


class Command(BaseCommand):
    help = (
        "Deletes audit log entries older than AUDIT_RETENTION_DAYS (default 365) and inbound-contact "
        "rows (WhatsApp session bookkeeping) older than INBOUND_CONTACT_RETENTION_DAYS (default 7), in "
        "chunks, and prints how many. The beat job 'Prune old history' does the same every day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=retention.CHUNK_SIZE,
            help=f"Rows per delete statement and transaction (default {retention.CHUNK_SIZE}).",
        )

    def handle(self, *args, dry_run=False, chunk_size=retention.CHUNK_SIZE, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        results = retention.history_prune(dry_run=dry_run, chunk_size=chunk_size)
        verb = "would delete" if dry_run else "deleted"
        for result in results:
            if result.cutoff is None:
                self.stdout.write(f"{result.name}: kept forever (retention off); nothing {verb}.")
                continue
            self.stdout.write(f"{result.name} older than {result.cutoff:%Y-%m-%d %H:%M} UTC: {verb} {result.deleted}.")
        total = sum(result.deleted for result in results)
        self.stdout.write(self.style.SUCCESS(f"Done: {verb} {total} row(s)."))

from django.core.management.base import BaseCommand

from accounts import selectors, services


class Command(BaseCommand):
    help = "Deletes users still pending verification UNVERIFIED_USER_TTL (2 days) after sign-up."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the users that would be deleted.")

    def handle(self, *args, dry_run: bool = False, **options):
        if dry_run:
            emails = list(selectors.users_unverified_expired().values_list("email", flat=True))
            verb = "Would delete"
        else:
            emails = services.unverified_users_cleanup()
            verb = "Deleted"
        self.stdout.write(f"{verb} {len(emails)} unverified user(s).")
        for email in emails:
            self.stdout.write(f"  {email}")

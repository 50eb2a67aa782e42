import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_dob(raw: str) -> date:
    try:
        if not _DATE_RE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"ADMIN_DOB must be a date in YYYY-MM-DD form, got {raw!r}.") from exc


class Command(BaseCommand):
    help = (
        "Creates or updates a verified superuser from ADMIN_EMAIL / ADMIN_PASSWORD / ADMIN_DOB "
        "(or --email / --password / --dob). Running it again updates the password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", help="Overrides ADMIN_EMAIL.")
        parser.add_argument("--password", help="Overrides ADMIN_PASSWORD (prefer the environment variable).")
        parser.add_argument("--dob", help="Date of birth, YYYY-MM-DD. Overrides ADMIN_DOB.")

    def handle(self, *args, **options):
        email = (options.get("email") or settings.ADMIN_EMAIL or "").strip()
        password = options.get("password") or settings.ADMIN_PASSWORD or ""
        raw_dob = (options.get("dob") or settings.ADMIN_DOB or "").strip()
        missing = [name for name, value in (("ADMIN_EMAIL", email), ("ADMIN_PASSWORD", password)) if not value]
        if missing:
            raise CommandError(f"{' and '.join(missing)} must be set (or passed as --email / --password).")
        date_of_birth = None
        if raw_dob:
            date_of_birth = _parse_dob(raw_dob)
        try:
            user, created = services.admin_bootstrap(email=email, password=password, date_of_birth=date_of_birth)
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
            raise CommandError(f"Cannot bootstrap the admin: {problems}") from exc
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created superuser {user.email}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Superuser {user.email} updated (password reset, verified, active)."))

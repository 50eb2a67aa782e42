"""``manage.py seed_demo``: a demo workspace to look at right after ``make run``.

Idempotent: the workspace is found by its slug and each person by email, so running it
again adds only what is missing and changes nothing that exists.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from workspaces import services
from workspaces.models import Person, Workspace

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Team"
DEMO_TIMEZONE = "Europe/Berlin"


def demo_people(today: date) -> list[dict]:
    """Birthdays spread over the year; one today (in the workspace's zone), one on Feb 29."""
    return [
        {
            "name": "Lena Fischer",
            "email": "lena.fischer@example.com",
            "birth_month": today.month,
            "birth_day": today.day,
            "birth_year": 1992,
            "show_age": True,
            "joined_on": date(2020, 3, 2),
        },
        {
            "name": "Jonas Weber",
            "email": "jonas.weber@example.com",
            "birth_month": 2,
            "birth_day": 29,
            "birth_year": 1996,
            "show_age": True,
        },
        {
            "name": "Sofia Rossi",
            "email": "sofia.rossi@example.com",
            "birth_month": 1,
            "birth_day": 15,
            "joined_on": date(2018, 1, 8),
        },
        {
            "name": "Omar Haddad",
            "email": "omar.haddad@example.com",
            "birth_month": 4,
            "birth_day": 3,
            "birth_year": 1985,
            "joined_on": date(2019, 4, 1),
            "slack_user_id": "U0DEMO0OMAR",
        },
        {
            "name": "Priya Natarajan",
            "email": "priya.natarajan@example.com",
            "birth_month": 6,
            "birth_day": 21,
            "joined_on": date(2021, 9, 1),
        },
        {
            "name": "Tomás García",
            "email": "tomas.garcia@example.com",
            "birth_month": 8,
            "birth_day": 30,
            "birth_year": 1979,
            "show_age": True,
        },
        {
            "name": "Hana Sato",
            "email": "hana.sato@example.com",
            "birth_month": 10,
            "birth_day": 12,
            "joined_on": date(2023, 10, 16),
        },
        {
            "name": "Noah Becker",
            "email": "noah.becker@example.com",
            "birth_month": 12,
            "birth_day": 24,
            "birth_year": 1990,
            "joined_on": date(2016, 12, 1),
        },
    ]


class Command(BaseCommand):
    help = (
        f"Creates the demo workspace '{DEMO_NAME}' (slug '{DEMO_SLUG}', {DEMO_TIMEZONE}) owned by the admin, "
        "with people whose birthdays are spread over the year. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--owner",
            help="Email of the owner (default: ADMIN_EMAIL, else the oldest superuser).",
        )

    def handle(self, *args, **options):
        owner = self._owner(options.get("owner"))
        with transaction.atomic():
            workspace, created = self._workspace(owner)
            added = self._people(workspace)
        state = "created" if created else "already there"
        self.stdout.write(
            f"Demo workspace '{workspace.name}' (slug '{workspace.slug}', id {workspace.id}) {state}; "
            f"{added} demo {'person' if added == 1 else 'people'} added, owner {owner.email}."
        )

    def _owner(self, email: str | None) -> User:
        email = email or settings.ADMIN_EMAIL
        if email:
            owner = User.objects.filter(email__iexact=email).first()
            if owner is None:
                raise CommandError(f"No user with email {email}; create it first (manage.py bootstrap_admin).")
            return owner
        owner = User.objects.filter(is_superuser=True, is_active=True).order_by("created_at").first()
        if owner is None:
            raise CommandError("No superuser to own the demo workspace; run `manage.py bootstrap_admin` first.")
        return owner

    def _workspace(self, owner: User) -> tuple[Workspace, bool]:
        workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
        if workspace is not None:
            return workspace, False
        if not owner.is_verified:
            raise CommandError(f"{owner.email} has not verified their email; only verified users own workspaces.")
        return services.workspace_create(creator=owner, name=DEMO_NAME, slug=DEMO_SLUG, timezone=DEMO_TIMEZONE), True

    def _people(self, workspace: Workspace) -> int:
        today = datetime.now(tz=ZoneInfo(workspace.timezone)).date()
        existing = set(Person.objects.for_workspace(workspace).values_list("email", flat=True))
        added = 0
        for data in demo_people(today):
            if data["email"] in existing:
                continue
            services.person_create(workspace=workspace, **data)
            added += 1
        return added

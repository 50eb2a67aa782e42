"""The tz database in use is the pinned ``tzdata`` package in every kind of process, and staff can see which."""

import os
import subprocess
import sys
import zoneinfo
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from birthdaybuddy import tzdb

ROOT = Path(__file__).resolve().parents[2]
# Morocco's offset differs between the 2025b and 2026 releases from 2026-09-20 on; any zone
# whose host file differs from the package shows the same thing.
PROBE_ZONE = "Africa/Casablanca"
PROBE_INSTANT = datetime(2026, 10, 1, 12, tzinfo=UTC)


def package_offset(name: str, instant: datetime):
    """The zone's offset computed straight from the tzdata package's file (no search path involved)."""
    with resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).open("rb") as handle:
        return instant.astimezone(zoneinfo.ZoneInfo.from_file(handle, key=name)).utcoffset()


def test_this_process_reads_zones_from_the_package():
    assert zoneinfo.TZPATH == ()
    for name in (PROBE_ZONE, "America/New_York", "Asia/Tehran", "Pacific/Kiritimati"):
        assert PROBE_INSTANT.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() == package_offset(name, PROBE_INSTANT)


def test_status_reports_the_iana_release_of_the_package():
    status = tzdb.status()
    header = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="ascii").splitlines()[0]
    assert header == f"# version {status['version']}"
    assert status["package"] == metadata.version("tzdata")
    assert status["ok"] is True
    assert status["source"] == "tzdata"


@pytest.mark.parametrize(
    "code",
    [
        # A management command (Django set up through manage.py's path) …
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'birthdaybuddy.settings'); django.setup()",
        # … the Celery app as `celery -A birthdaybuddy` loads it (worker and beat) …
        "from birthdaybuddy.celery import app",
        # … and the WSGI entry point gunicorn imports.
        "import birthdaybuddy.wsgi",
    ],
    ids=["manage", "celery", "wsgi"],
)
def test_every_entry_point_uses_the_package_even_with_host_zone_files(code):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONTZPATH"}
    env["PYTHONTZPATH"] = "/usr/share/zoneinfo"  # the host's files first, as Python does by default
    script = (
        f"{code}\nimport zoneinfo, datetime\n"
        f"at = datetime.datetime({PROBE_INSTANT.year}, {PROBE_INSTANT.month}, {PROBE_INSTANT.day}, 12, "
        "tzinfo=datetime.UTC)\n"
        f"print(zoneinfo.TZPATH, at.astimezone(zoneinfo.ZoneInfo({PROBE_ZONE!r})).utcoffset().total_seconds())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    path, offset = result.stdout.strip().rsplit(" ", 1)
    assert path == "()"
    assert float(offset) == package_offset(PROBE_ZONE, PROBE_INSTANT).total_seconds()


@pytest.mark.django_db
def test_ready_shows_the_tz_database_to_staff_only(staff_user):
    anonymous = Client().get("/health/ready").json()
    assert "tzdata" not in anonymous
    staff = Client()
    staff.force_login(staff_user)
    body = staff.get("/health/ready").json()
    assert body["tzdata"] == {
        "ok": True,
        "version": tzdb.iana_version(),
        "package": metadata.version("tzdata"),
        "source": "tzdata",
    }
    assert "worker" in body


@pytest.mark.django_db
def test_the_admin_dashboard_names_the_tz_database(staff_user):
    client = Client()
    client.force_login(staff_user)
    page = client.get(reverse("admin:notifications_dashboard")).content.decode()
    assert f"Time zone database: <strong>{tzdb.iana_version()}</strong>" in page
    assert f"tzdata</code> {metadata.version('tzdata')}" in page

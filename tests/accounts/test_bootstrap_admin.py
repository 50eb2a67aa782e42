"""``manage.py bootstrap_admin``: creates or updates the superuser, idempotently."""

import datetime
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap_admin", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def admin_env(settings):
    settings.ADMIN_EMAIL = "Root@Example.com"
    settings.ADMIN_PASSWORD = "first-Secret-123"
    settings.ADMIN_DOB = ""
    return settings


def test_creates_a_verified_superuser_from_settings(admin_env):
    output = run()
    assert "Created superuser root@example.com." in output
    admin = User.objects.get(email="root@example.com")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.is_active
    assert admin.status == User.Status.VERIFIED
    assert admin.check_password("first-Secret-123")
    assert admin.date_of_birth is None


def test_second_run_updates_the_password_and_says_updated(admin_env):
    run()
    admin_env.ADMIN_PASSWORD = "second-Secret-456"
    output = run()
    assert "updated" in output
    assert User.objects.filter(email__iexact="root@example.com").count() == 1
    admin = User.objects.get(email="root@example.com")
    assert admin.check_password("second-Secret-456")
    assert not admin.check_password("first-Secret-123")


def test_options_override_settings_and_dob_is_stored(admin_env):
    output = run("--email", "ops@example.com", "--password", "opt-Secret-789", "--dob", "1980-02-29")
    assert "Created superuser ops@example.com." in output
    admin = User.objects.get(email="ops@example.com")
    assert admin.check_password("opt-Secret-789")
    assert admin.date_of_birth == datetime.date(1980, 2, 29)
    assert not User.objects.filter(email="root@example.com").exists()


def test_promotes_and_repairs_an_existing_account(admin_env):
    existing = UserFactory(email="root@example.com", status=User.Status.PENDING, is_active=False)
    run("--dob", "1975-06-01")
    existing.refresh_from_db()
    assert existing.is_superuser
    assert existing.is_staff
    assert existing.is_active
    assert existing.status == User.Status.VERIFIED
    assert existing.date_of_birth == datetime.date(1975, 6, 1)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", "pw-Secret-1", "ADMIN_EMAIL must be set"),
        ("root@example.com", "", "ADMIN_PASSWORD must be set"),
        ("", "", "ADMIN_EMAIL and ADMIN_PASSWORD must be set"),
        ("not-an-email", "pw-Secret-1", "Enter a valid email address"),
    ],
)
def test_missing_or_bad_credentials_fail_clearly(settings, email, password, message):
    settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD, settings.ADMIN_DOB = email, password, ""
    with pytest.raises(CommandError, match=message):
        run()
    assert not User.objects.exists()


@pytest.mark.parametrize("dob", ["1980-13-01", "1980-02-30", "01/02/1980", "19800101", "yesterday"])
def test_malformed_dob_fails_clearly(admin_env, dob):
    admin_env.ADMIN_DOB = dob
    with pytest.raises(CommandError, match="ADMIN_DOB must be a date in YYYY-MM-DD form"):
        run()
    assert not User.objects.exists()


def test_exit_status_is_non_zero_when_misconfigured(tmp_path):
    """Through manage.py, as an operator runs it: a clear message and exit status 1."""
    env = {
        "PATH": "/usr/bin:/bin",
        "BB_TESTING": "1",
        "BB_TEST_EMBEDDED": "1",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "FILE_CACHE_DIR": str(tmp_path / "cache"),
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        "LOG_LEVEL": "ERROR",
    }
    manage = django_settings.BASE_DIR / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "bootstrap_admin"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "ADMIN_EMAIL and ADMIN_PASSWORD must be set" in result.stderr

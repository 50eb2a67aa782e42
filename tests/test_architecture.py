"""The shape of the house: the import contracts hold and every app says what it is."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PACKAGES = ("accounts", "birthdaybuddy", "events", "notifications", "pages", "reminders", "scheduling", "workspaces")


def test_the_import_contracts_of_docs_architecture_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    completed = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_every_app_has_a_readme_saying_what_it_owns_offers_and_may_import(package):
    readme = (BASE_DIR / package / "README.md").read_text()
    for heading in ("**Owns**", "**Public", "**May import**"):
        assert heading in readme, f"{package}/README.md lacks {heading}"

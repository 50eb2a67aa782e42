"""The dependency audit `make test` runs (scripts/audit_requirements.py, pip-audit)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
SCRIPT = BASE_DIR / "scripts" / "audit_requirements.py"

spec = importlib.util.spec_from_file_location("audit_requirements", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

# The shape of pip-audit's JSON report (pip-audit 2.10, --format json).
REPORT = {
    "dependencies": [
        {
            "name": "django",
            "version": "4.2.0",
            "vulns": [
                {"id": "PYSEC-2023-100", "fix_versions": ["4.2.2"], "aliases": ["CVE-2023-36053"], "description": "…"},
            ],
        },
        {
            "name": "ecdsa",
            "version": "0.19.1",
            "vulns": [
                {"id": "GHSA-wj6h-64fc-37mp", "fix_versions": [], "aliases": ["CVE-2024-23342"], "description": "…"},
            ],
        },
        {"name": "idna", "version": "3.20", "vulns": []},
    ],
    "fixes": [],
}


def test_make_test_runs_the_audit_against_requirements():
    recipe = (BASE_DIR / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"scripts/audit_requirements\.py requirements\.txt", recipe), recipe


def test_a_vulnerability_with_a_fix_fails_and_is_named(capsys):
    assert audit.verdict(REPORT, requirements=Path("requirements.txt"), script="audit") == 1
    err = capsys.readouterr().err
    assert "django==4.2.0: PYSEC-2023-100 (CVE-2023-36053) — fixed in 4.2.2" in err
    assert "ecdsa" not in err


def test_a_vulnerability_without_any_fix_is_listed_but_does_not_fail(capsys):
    report = {"dependencies": [REPORT["dependencies"][1], REPORT["dependencies"][2]]}
    assert audit.verdict(report, requirements=Path("requirements.txt"), script="audit") == 0
    assert "ecdsa==0.19.1: GHSA-wj6h-64fc-37mp (CVE-2024-23342) — no fixed release yet" in capsys.readouterr().out


def test_packages_that_could_not_be_looked_up_are_never_a_clean_audit(capsys, monkeypatch):
    report = {
        "dependencies": [{"name": "idna", "skip_reason": "Dependency not found on PyPI and could not be audited"}]
    }
    monkeypatch.delenv("PIP_AUDIT_REQUIRED", raising=False)
    assert audit.verdict(report, requirements=Path("requirements.txt"), script="audit") == 0
    captured = capsys.readouterr()
    assert "Dependency audit NOT done: 1 of 1 packages could not be looked up" in captured.err
    assert "no known vulnerability" not in captured.out
    monkeypatch.setenv("PIP_AUDIT_REQUIRED", "1")
    assert audit.verdict(report, requirements=Path("requirements.txt"), script="audit") == 1


def test_an_unreachable_database_degrades_with_a_clear_message(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Django==4.2.0\n")
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    env.pop("PIP_AUDIT_REQUIRED", None)
    env["PIP_AUDIT_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(requirements)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert "Dependency audit NOT done" in result.stderr
    env["PIP_AUDIT_REQUIRED"] = "1"
    strict = subprocess.run(
        [sys.executable, str(SCRIPT), str(requirements)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=BASE_DIR,
    )
    assert strict.returncode == 1

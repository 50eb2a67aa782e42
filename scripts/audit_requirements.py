"""Checks the pinned requirements against known vulnerabilities (pip-audit, PyPI's advisory data).

Usage: ``python scripts/audit_requirements.py [requirements.txt]`` (``make test`` runs it).

Exit status:
- 1 when a pinned package has a known vulnerability that a newer release fixes (upgrade it);
  vulnerabilities without any fixed release are listed but do not fail the run;
- 0 otherwise — including when the vulnerability database cannot be reached (no network in
  CI, or a package index mirror that does not serve PyPI's JSON API, where pip-audit skips
  every package and would report "no known vulnerabilities"): then it says plainly that the
  audit was not done or is incomplete. ``PIP_AUDIT_REQUIRED=1`` turns that case into a
  failure (for a pipeline that must audit);
- 2 when pip-audit fails for any other reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Signs, in pip-audit's error output, that the advisory service could not be reached.
UNREACHABLE_MARKERS = (
    "connectionerror",
    "connection refused",
    "max retries exceeded",
    "name or service not known",
    "temporary failure in name resolution",
    "failed to establish a new connection",
    "proxyerror",
    "timed out",
    "network is unreachable",
    "sslerror",
)


def findings(report: dict) -> tuple[list[str], list[str], list[str]]:
    """``(fixable, unfixable, skipped)`` of a pip-audit JSON report, one line each: known
    vulnerabilities with a fixed release, those without one, and packages not looked up."""
    fixable: list[str] = []
    unfixable: list[str] = []
    skipped: list[str] = []
    for dependency in report.get("dependencies", []):
        if dependency.get("skip_reason"):
            skipped.append(f"{dependency.get('name')}: {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns", []):
            aliases = ", ".join(vuln.get("aliases") or [])
            name = f"{dependency.get('name')}=={dependency.get('version')}: {vuln.get('id')}"
            if aliases:
                name += f" ({aliases})"
            fixes = vuln.get("fix_versions") or []
            if fixes:
                fixable.append(f"{name} — fixed in {', '.join(fixes)}")
            else:
                unfixable.append(f"{name} — no fixed release yet")
    return fixable, unfixable, skipped


def _not_done(reason: str, script: str) -> int:
    print(
        f"Dependency audit NOT done: {reason} Run `python {script}` where PyPI's JSON API is reachable.",
        file=sys.stderr,
    )
    return 1 if os.environ.get("PIP_AUDIT_REQUIRED") == "1" else 0


def unreachable(output: str) -> bool:
    lowered = output.lower()
    return any(marker in lowered for marker in UNREACHABLE_MARKERS)


def verdict(report: dict, *, requirements: Path, script: str) -> int:
    """The exit status for a pip-audit JSON report (see the module's docstring), said aloud."""
    fixable, unfixable, skipped = findings(report)
    for line in unfixable:
        print(f"known vulnerability without a fix (not failing): {line}")
    if fixable:
        print(f"{len(fixable)} known vulnerabilities with a fixed release in {requirements}:", file=sys.stderr)
        for line in fixable:
            print(f"  {line}", file=sys.stderr)
        return 1
    total = len(report.get("dependencies", []))
    if skipped:
        return _not_done(f"{len(skipped)} of {total} packages could not be looked up (e.g. {skipped[0]}).", script)
    print(f"Dependency audit: {total} pinned packages, no known vulnerability with a fix available.")
    return 0


def main(argv: list[str]) -> int:
    requirements = Path(argv[1] if len(argv) > 1 else "requirements.txt")
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            # Every dependency is pinned in the file: audit exactly those versions, without pip
            # resolving (or installing) anything.
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--timeout",
            "15",
            "--format",
            "json",
            "--output",
            str(output),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        report = json.loads(output.read_text()) if output.exists() and output.stat().st_size else None

    if report is None:
        message = (result.stderr or result.stdout).strip()
        if unreachable(message):
            return _not_done("the vulnerability database (PyPI) could not be reached.", argv[0])
        print(f"pip-audit failed (exit {result.returncode}):\n{message}", file=sys.stderr)
        return 2

    return verdict(report, requirements=requirements, script=argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

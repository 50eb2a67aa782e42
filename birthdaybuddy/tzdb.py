"""The tz database every process uses: the pinned ``tzdata`` package, never the host's files.

Python's ``zoneinfo`` looks in the operating system's zone directories (``zoneinfo.TZPATH``)
before it falls back to the ``tzdata`` package, so a pinned ``tzdata`` in requirements.txt
is ignored wherever the host has zone files — and a host's database may be years older
(seen: Africa/Casablanca an hour off from 2026-09-20 with the 2025b files). :func:`use_pinned`
empties the search path, so every zone comes from the package. It runs when the
``birthdaybuddy`` package is imported, i.e. before settings, the Celery app, WSGI/ASGI and
every management command load a zone; the Dockerfile and the Makefile also set
``PYTHONTZPATH=`` (empty), which does the same for any Python started there.

To move to a newer tz database: bump ``tzdata`` in requirements.txt (IANA releases a few
times a year; the package follows within days) and deploy. ``/health/ready`` (for staff)
and the admin index show which version is running.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import metadata, resources

PACKAGE = "tzdata"


def use_pinned() -> None:
    """Make ``zoneinfo`` read zones only from the ``tzdata`` package (idempotent)."""
    if zoneinfo.TZPATH:
        zoneinfo.reset_tzpath([])
        # Zones loaded before this point (none, normally) came from the host's files.
        zoneinfo.ZoneInfo.clear_cache()


@cache
def iana_version() -> str:
    """The IANA release of the package's data, e.g. ``2026f`` (from its ``tzdata.zi`` header)."""
    try:
        with resources.files(PACKAGE).joinpath("zoneinfo", "tzdata.zi").open(encoding="ascii") as handle:
            first = handle.readline()
    except (OSError, ModuleNotFoundError):
        return ""
    return first.removeprefix("# version").strip()


def status() -> dict:
    """What the process uses: the IANA version, the package version, and whether host files are ignored."""
    try:
        package = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        package = ""
    pinned = not zoneinfo.TZPATH and bool(package)
    return {"ok": pinned, "version": iana_version(), "package": package, "source": PACKAGE if pinned else "host"}

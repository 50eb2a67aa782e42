"""Real-browser tests: Playwright driving Debian's Chromium against a live server.

Run alone with ``pytest -m browser``. Chromium comes from the system (``apt-get install
chromium``; ``.ci/run`` installs it): Playwright cannot download its own browser here. Every
request to a host other than the live server is refused and recorded, so a page that needs
the internet fails. ``BB_SCREENSHOT_DIR`` keeps the screenshots (the README's come from
``BB_SCREENSHOT_DIR=docs/screenshots``); otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("BB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def chromium():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium fonts-dejavu-core)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # synchronous. Only while the browser runs: later tests start subprocesses from this environment.
    was_set = "DJANGO_ALLOW_ASYNC_UNSAFE" in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if not was_set:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Offline:
    """Requests the page tried to send anywhere but the live server (each was refused)."""

    def __init__(self):
        self.refused: list[str] = []


@pytest.fixture
def offline() -> Offline:
    return Offline()


@pytest.fixture
def open_page(chromium, live_server, offline):
    """``open_page(viewport=PHONE)``: a fresh browser context, cut off from everything but the live server."""
    contexts = []
    allowed = urlsplit(live_server.url).netloc

    def _open(viewport=DESKTOP, **options):
        context = chromium.new_context(viewport=viewport, locale=options.pop("locale", "en-GB"), **options)
        contexts.append(context)

        def guard(route):
            if urlsplit(route.request.url).netloc == allowed:
                route.continue_()
            else:
                offline.refused.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Script errors and CSP refusals; a 4xx page itself is logged as "Failed to load resource".
        page.on(
            "console",
            lambda message: (
                errors.append(message.text)
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.js_errors = errors
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(page, "rsvp-desktop")``: a full-page PNG in BB_SCREENSHOT_DIR (or the test's tmp folder)."""
    folder = Path(os.environ.get("BB_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def _take(page, name: str, *, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return _take


@pytest.fixture
def public_base(settings, live_server):
    """Links in emails point at the live server, as runstack makes them point at its own port."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url

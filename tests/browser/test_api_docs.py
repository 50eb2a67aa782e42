"""Swagger UI in Chromium with no network beyond this service: it loads, keeps a pasted JWT across a
reload, and "Try it out" with the JWT answers 200."""

import pytest

from accounts.tokens import RefreshToken
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_works_offline_with_a_jwt(open_page, live_server, offline, screenshot):
    user = UserFactory(email="ana@example.com")
    token = str(RefreshToken.for_user(user).access_token)
    page = open_page()
    page.goto(f"{live_server.url}/api/docs/")

    page.locator(".information-container .title").wait_for()
    assert "BirthdayBuddy API" in page.locator(".information-container .title").inner_text()
    # A schema this size is drawn as a virtual list: only the tags in view are in the page.
    page.locator("h3.opblock-tag").first.wait_for()
    tags = page.locator("h3.opblock-tag").evaluate_all("headings => headings.map(h => h.dataset.tag)")
    assert tags[:2] == ["auth", "profile"]
    screenshot(page, "swagger-desktop", full_page=False)

    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".modal-ux").get_by_role("button", name="Apply credentials").click()
    page.locator(".modal-ux").get_by_role("button", name="Close", exact=True).click()

    page.reload()
    page.locator("#operations-profile-users_me_retrieve").wait_for()
    assert page.locator(".auth-wrapper .authorize.locked").count() == 1, "the token survived the reload"

    page.locator("#operations-profile-users_me_retrieve .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(
        "#operations-profile-users_me_retrieve .live-responses-table tbody .response-col_status"
    ).first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert "ana@example.com" in page.locator("#operations-profile-users_me_retrieve .highlight-code").first.inner_text()
    assert offline.refused == [], "nothing was fetched from elsewhere"
    assert page.js_errors == []


def test_redoc_loads_offline(open_page, live_server, offline):
    page = open_page()
    page.goto(f"{live_server.url}/api/redoc/")
    # ReDoc lays out the whole schema in the browser before it shows anything: on a busy
    # machine that takes longer than a page's usual wait.
    page.get_by_role("heading", name="BirthdayBuddy API").first.wait_for(timeout=60_000)
    page.get_by_text("/api/v1/auth/login").first.wait_for(state="attached")
    # ReDoc's bundle asks for its makers' logo from their CDN and hides the image when it fails;
    # nothing else leaves the machine.
    assert [url for url in offline.refused if url != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []

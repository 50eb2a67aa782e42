"""Unsubscribing on the preferences page in Chromium, and the one-click POST a mail client sends."""

import pytest

from tests.browser.conftest import PHONE
from tests.factories import PersonFactory, WorkspaceFactory
from workspaces.preferences import preferences_url, unsubscribe_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def carla(public_base):
    return PersonFactory(
        workspace=WorkspaceFactory(name="Tax & Co"),
        name="Carla Client",
        email="carla@example.com",
        phone="+4915112345678",
        preferred_channels=["email"],
    )


def test_unsubscribing_on_the_preferences_page(open_page, carla, screenshot):
    page = open_page(viewport=PHONE)
    page.goto(preferences_url(carla))
    assert page.get_by_label("Email (carla@example.com)").is_checked()
    screenshot(page, "preferences-phone")

    page.get_by_label("WhatsApp (+4915112345678)").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    assert "Saved" in page.locator("[role=status]").inner_text()
    carla.refresh_from_db()
    assert carla.opted_out_channels == ["whatsapp"]

    page.get_by_role("button", name="Unsubscribe from everything").click()
    assert "You receive no messages from Tax & Co" in page.locator("main").inner_text()
    carla.refresh_from_db()
    assert carla.opted_out_channels == ["slack", "email", "sms", "whatsapp"]
    assert page.js_errors == []


def test_the_one_click_post(open_page, carla):
    page = open_page()
    response = page.request.post(unsubscribe_url(carla), form={"List-Unsubscribe": "One-Click"})

    assert response.status == 200
    carla.refresh_from_db()
    assert carla.opted_out_channels == ["email"]

"""The emailed advance alert's link on a phone: Chromium at 390 px adds a wish to the group card."""

from datetime import timedelta

import pytest

from cards.models import PrepSettings, Wish
from notifications.models import Notification
from scheduling import services
from tests.browser.conftest import PHONE
from tests.cards.conftest import member_person
from tests.factories import WorkspaceFactory
from workspaces.birthdays import workspace_today
from workspaces.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_teammate_adds_a_wish_from_the_alert_on_a_phone(open_page, public_base, screenshot):
    workspace = WorkspaceFactory(name="Acme", timezone="Europe/Berlin")
    PrepSettings.objects.create(workspace=workspace, alert_days=2, group_card=True)
    day = workspace_today(workspace) + timedelta(days=2)
    cleo = member_person(workspace, name="Cleo Celebrated", birth_month=day.month, birth_day=day.day)
    olga = member_person(workspace, name="Olga Owner", role=Role.OWNER)
    services.digest_run_now(workspace=workspace, day=workspace_today(workspace))
    alert = Notification.objects.get(person=olga, idempotency_key__contains=":alert:")
    link = alert.body.split("Add your wishes to the group card: ")[1].split()[0]
    assert link.startswith(public_base + "/cards/")

    page = open_page(viewport=PHONE)
    page.goto(link)
    assert "Cleo Celebrated's birthday" in page.locator("main").inner_text()
    page.get_by_label("Your wish").fill("Happy birthday, Cleo! 🎂")
    screenshot(page, "card-wish-phone")
    page.get_by_role("button", name="Add my wish").click()

    assert "Your wish is on the card" in page.locator("[role=status]").inner_text()
    assert page.get_by_label("Your wish").input_value() == "Happy birthday, Cleo! 🎂"
    assert page.get_by_role("button", name="Change my wish").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wish = Wish.objects.get()
    assert (wish.author, wish.card.person, wish.card.day) == (olga, cleo, day)
    assert page.js_errors == []

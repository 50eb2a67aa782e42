"""The staff admin in Chromium: the reminder form's RRULE picker and preview, Resend on a
notification, and the delivery dashboard on a desktop and a 390 px phone."""

from datetime import UTC, datetime

import pytest

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sturdy-Passw0rd-42"


@pytest.fixture
def staff(db):
    user = UserFactory(email="support@example.com", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def signed_in(open_page, live_server, staff):
    def _open(viewport=DESKTOP):
        page = open_page(viewport=viewport)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", staff.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        return page

    return _open


def test_the_rrule_picker_builds_the_rule_and_previews_it(signed_in, live_server, screenshot):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    ana = PersonFactory(workspace=workspace, name="Ana Lima", email="ana@example.com")
    PersonFactory(workspace=WorkspaceFactory(name="Elsewhere"), name="Ana Other", email="other@example.com")
    page = signed_in()

    page.goto(f"{live_server.url}/admin/reminders/reminder/add/?workspace={workspace.pk}&kind=recurring")
    page.fill("#id_name", "Month-end close")
    page.fill("#id_message", "Close the books, {{ person.name }}")
    page.fill("#id_send_at", "2030-01-31T16:00")
    page.select_option(".bb-rrule-freq", "MONTHLY")
    page.select_option(".bb-rrule-monthday select", "-1")

    assert page.input_value("#id_rrule") == "FREQ=MONTHLY;BYMONTHDAY=-1"
    reading = page.locator(".bb-rrule-reading")
    reading.wait_for()
    assert reading.inner_text() == "On the last day of every month at 16:00 (Europe/Berlin)"
    times = page.locator(".bb-rrule-preview li")
    assert times.count() == 5
    assert times.nth(1).inner_text() == "Thu 2030-02-28 16:00 Europe/Berlin (2030-02-28 15:00 UTC)"

    # People come from this workspace only.
    page.click(".field-recipients .select2-selection")
    page.fill(".select2-search__field", "Ana")
    options = page.locator(".select2-results__option:not(.loading-results)")
    options.filter(has_text="Ana Lima").wait_for()
    page.locator(".select2-results__option.loading-results").wait_for(state="detached")
    assert options.all_inner_texts() == ["Ana Lima <ana@example.com>"]
    options.first.click()
    page.check("input[name=channels][value=email]")
    screenshot(page, "admin-reminder-form-desktop")

    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    reminder = Reminder.objects.get(kind=ReminderKind.RECURRING)
    assert (reminder.rrule, reminder.run_at) == ("FREQ=MONTHLY;BYMONTHDAY=-1", datetime(2030, 1, 31, 15, tzinfo=UTC))
    assert list(reminder.recipients.all()) == [ana]
    assert page.js_errors == []


def test_resend_from_the_notification_page(signed_in, live_server, screenshot):
    failed = NotificationFactory(
        workspace=WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin"),
        status="failed",
        channel="email",
        recipient="ana@example.com",
        last_error="gave up after 5 attempts: HTTP 503: upstream unavailable",
    )
    page = signed_in()

    page.goto(f"{live_server.url}/admin/notifications/notification/{failed.pk}/change/")
    assert page.locator("#send-test-button").is_visible()
    assert page.input_value("#test-recipient") == "ana@example.com"
    screenshot(page, "admin-notification-desktop")
    page.click("#resend-button")

    page.wait_for_selector(".messagelist")
    assert "Resent as a new notification" in page.locator(".messagelist").inner_text()
    copy = Notification.objects.get(resent_from=failed)
    assert page.url.endswith(f"/{copy.pk}/change/")
    assert page.js_errors == []


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_dashboard_on_a_desktop_and_a_phone(signed_in, live_server, screenshot, viewport, name):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    for status in ("sent", "sent", "delivered", "failed"):
        NotificationFactory(workspace=workspace, status=status, last_error="channel_not_found" * (status == "failed"))
    page = signed_in(viewport)

    page.goto(f"{live_server.url}/admin/notifications/notification/dashboard/?tz=Europe/Berlin")

    assert page.locator("#dashboard-week svg").is_visible()
    assert page.locator("#dashboard-failing").get_by_role("button", name="Resend failed").is_visible()
    assert "channel_not_found" in page.locator("#dashboard-failing").inner_text()
    # Usable at this width: the page itself does not scroll sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1, width
    screenshot(page, f"admin-dashboard-{name}")
    assert page.js_errors == []

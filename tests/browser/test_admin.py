"""The staff admin in Chromium: the reminder form's RRULE picker and preview, Resend on a
notification, the delivery dashboard and the notification list on a desktop and a 390 px phone
(wide tables scroll inside their own box, never the page; the week's chart stays legible), the
index grouped by task and a workspace's page."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from birthdaybuddy import worker_health
from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sturdy-Passw0rd-42"
BERLIN = ZoneInfo("Europe/Berlin")


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


# Reaching a table's last column: where it is, and whether scrolling its own box (not the page) brings it in.
LAST_COLUMN = """(selector) => {
    const table = document.querySelector(selector);
    const box = table.closest('.bb-scroll, .results');
    const cell = table.querySelector('thead tr th:last-child');
    const before = cell.getBoundingClientRect().right;
    box.scrollLeft = box.scrollWidth;
    const after = cell.getBoundingClientRect();
    return {
        before: before,
        after: after.right,
        afterLeft: after.left,
        boxRight: box.getBoundingClientRect().right,
        overflows: box.scrollWidth > box.clientWidth,
        pageWidth: document.documentElement.scrollWidth,
        pageScrolled: window.scrollX,
    };
}"""


def _reachable(page, selector: str, viewport: dict) -> dict:
    found = page.evaluate(LAST_COLUMN, selector)
    assert found["pageWidth"] <= viewport["width"] + 1, (selector, found)
    assert found["pageScrolled"] == 0, (selector, found)
    # After scrolling its box, the last column is inside both the box and the screen.
    assert found["after"] <= found["boxRight"] + 1, (selector, found)
    assert 0 <= found["afterLeft"] < viewport["width"], (selector, found)
    return found


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_dashboard_on_a_desktop_and_a_phone(signed_in, live_server, screenshot, viewport, name):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    for status in ("sent", "sent", "delivered", "failed"):
        NotificationFactory(workspace=workspace, status=status, last_error="channel_not_found" * (status == "failed"))
    with time_machine.travel(timezone.now() - timedelta(minutes=90), tick=False), worker_health.job_monitored("tick"):
        ran = timezone.now()
    page = signed_in(viewport)

    page.goto(f"{live_server.url}/admin/notifications/notification/dashboard/?tz=Europe/Berlin")

    assert page.locator("#dashboard-week svg").is_visible()
    assert page.locator("#dashboard-failing").get_by_role("button", name="Resend failed").is_visible()
    assert "channel_not_found" in page.locator("#dashboard-failing").inner_text()
    # Usable at this width: the page itself does not scroll sideways; every table's last column is
    # on screen (desktop) or reached by scrolling inside the table's own box (phone).
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1, width
    screenshot(page, f"admin-dashboard-{name}")
    for table in ("#dashboard-worker table", "#dashboard-channels table", "#dashboard-failing table"):
        found = _reachable(page, table, viewport)
        if viewport is DESKTOP:
            assert not found["overflows"], (table, found)
        elif table != "#dashboard-worker table":
            assert found["overflows"], (table, found)
            assert found["before"] > viewport["width"], "at 390 px the last column starts off screen"
    # The worker block follows the chosen zone like the rest of the page.
    worker = page.locator("#dashboard-worker").text_content()
    assert "Last success (Europe/Berlin)" in worker
    assert "(UTC)" not in worker
    assert f"{ran.astimezone(BERLIN):%Y-%m-%d %H:%M:%S}" in worker, worker
    assert "Last failure (Europe/Berlin)" in page.locator("#dashboard-failing").text_content()
    assert page.js_errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_weeks_chart_labels_are_legible_and_apart(signed_in, live_server, viewport):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    NotificationFactory(workspace=workspace, status="sent")
    page = signed_in(viewport)
    page.goto(f"{live_server.url}/admin/notifications/notification/dashboard/?tz=Europe/Berlin")

    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#dashboard-week .bb-chart-label')]
            .filter(t => t.textContent.trim())
            .map(t => { const r = t.getBoundingClientRect();
                        return {text: t.textContent.trim(), left: r.left, right: r.right, top: r.top,
                                bottom: r.bottom, height: r.height}; })"""
    )
    chart = page.locator("#dashboard-week svg").bounding_box()
    assert len(boxes) >= 7 * 5, boxes  # 7 day headings and 4 channels a day
    assert min(box["height"] for box in boxes) >= 10, "labels at a readable size"
    assert chart["x"] + chart["width"] <= viewport["width"], chart
    for index, box in enumerate(boxes):
        assert box["right"] <= viewport["width"], box
        for other in boxes[index + 1 :]:
            apart = (
                box["right"] <= other["left"]
                or other["right"] <= box["left"]
                or box["bottom"] <= other["top"] + 1
                or other["bottom"] <= box["top"] + 1
            )
            assert apart, (box, other)


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_notification_list_on_a_desktop_and_a_phone(signed_in, live_server, screenshot, viewport, name):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    for status in ("sent", "failed", "pending"):
        NotificationFactory(
            workspace=workspace,
            status=status,
            recipient="a-rather-long-address@clients.example.com",
            last_error="channel_not_found: the channel was archived" * (status == "failed"),
        )
    page = signed_in(viewport)

    page.goto(f"{live_server.url}/admin/notifications/notification/")

    assert page.locator("#result_list").is_visible()
    screenshot(page, f"admin-notifications-{name}")
    found = _reachable(page, "#result_list", viewport)
    if viewport is PHONE:
        assert found["overflows"], found
        assert found["before"] > viewport["width"], "at 390 px the last column starts off screen"
    assert page.js_errors == []


def test_the_admin_index_and_a_workspace_page(signed_in, live_server, screenshot):
    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    PersonFactory(workspace=workspace, name="Ana Lima")
    page = signed_in(DESKTOP)

    page.goto(f"{live_server.url}/admin/")
    captions = page.locator("#content-main caption").all_text_contents()
    assert [c.strip() for c in captions][:5] == [
        "Deliveries",
        "Tenants and people",
        "Events and reminders",
        "Schedules",
        "Accounts",
    ]
    assert not page.get_by_role("link", name="Groups").is_visible(), "the plumbing is folded away"
    screenshot(page, "admin-index-desktop")
    page.locator("#app-group-plumbing summary").click()
    assert page.locator("#app-group-plumbing").get_by_role("link", name="Groups").is_visible()

    page.goto(f"{live_server.url}/admin/workspaces/workspace/{workspace.pk}/change/")
    assert page.get_by_label("Quiet hours start (Europe/Berlin)").is_visible()
    assert "Nothing sent yet." in page.locator(".bb-overview").inner_text()
    page.locator(".bb-links").get_by_role("link", name="People", exact=True).click()
    assert "Ana Lima" in page.locator("#result_list").inner_text()
    page.go_back()
    screenshot(page, "admin-workspace-desktop")
    assert page.js_errors == []

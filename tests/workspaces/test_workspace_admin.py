"""The workspace admin page: every schedule setting (quiet hours too) edited through the API's service and
rules, in the workspace's zone; links to the workspace's data; its last digest and today's failures."""

import re
from datetime import UTC, date, datetime, time
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from events.models import Event
from notifications.models import ChannelConfig, NotificationStatus
from reminders.models import Reminder, ReminderKind
from tests.events.factories import EventFactory
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="support@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def berlin(db):
    return WorkspaceFactory(name="Lima & Co", slug="lima-co", timezone="Europe/Berlin", notify_at=time(9))


def _url(workspace) -> str:
    return f"/admin/workspaces/workspace/{workspace.pk}/change/"


def _form(workspace, **changes) -> dict:
    data = {
        "name": workspace.name,
        "slug": workspace.slug,
        "timezone": workspace.timezone,
        "notify_at": f"{workspace.notify_at:%H:%M}",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "leap_day_policy": workspace.leap_day_policy,
        "celebration_shift": workspace.celebration_shift,
        "holiday_country": workspace.holiday_country,
        "holiday_region": workspace.holiday_region,
        "locale": workspace.locale,
        "sender_name": "",
        "sender_email": "",
        "sms_sender": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def _errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def test_the_schedule_settings_are_shown_in_the_workspaces_zone(staff_browser, berlin):
    page = staff_browser.get(_url(berlin)).content.decode()
    for label in ("Notify at (Europe/Berlin)", "Quiet hours start (Europe/Berlin)", "Quiet hours end (Europe/Berlin)"):
        assert label in unescape(page), label
    assert "Local time now" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d Europe/Berlin", page)


def test_quiet_hours_are_saved_and_the_reminders_follow(staff_browser, berlin):
    response = staff_browser.post(
        _url(berlin), _form(berlin, quiet_hours_start="22:00", quiet_hours_end="07:00", notify_at="08:30")
    )

    assert response.status_code == 302, _errors(response)
    berlin.refresh_from_db()
    assert (berlin.quiet_hours_start, berlin.quiet_hours_end, berlin.notify_at) == (time(22), time(7), time(8, 30))
    digest = Reminder.objects.get(workspace=berlin, kind=ReminderKind.BIRTHDAY_DIGEST)
    local = digest.next_run_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (8, 30), "the digest follows the new notify_at, in Berlin time"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end", "need both a start and an end"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "quiet_hours_end", "same time"),
        ({"locale": "not a locale!"}, "locale", ""),
        ({"timezone": "Mars/Olympus"}, "timezone", ""),
        ({"holiday_country": "XX"}, "holiday_country", "No holiday calendar"),
        ({"holiday_country": "DE", "holiday_region": "ZZ"}, "holiday_region", "No holiday calendar"),
    ],
)
def test_what_the_api_refuses_is_refused_on_its_field_and_nothing_is_saved(
    staff_browser, berlin, changes, field, words
):
    response = staff_browser.post(_url(berlin), _form(berlin, **changes))

    assert response.status_code == 200
    errors = _errors(response)
    assert field in errors, errors
    assert words in " ".join(errors[field])
    fresh = type(berlin).objects.get(pk=berlin.pk)
    assert (fresh.quiet_hours_start, fresh.locale, fresh.timezone) == (None, berlin.locale, "Europe/Berlin")
    assert (fresh.holiday_country, fresh.holiday_region) == ("", "")


def test_weekend_and_holiday_settings_are_saved(staff_browser, berlin):
    changes = {"celebration_shift": "next_working_day", "holiday_country": "DE", "holiday_region": "BE"}
    response = staff_browser.post(_url(berlin), _form(berlin, **changes))
    assert response.status_code == 302, _errors(response)
    berlin.refresh_from_db()
    assert (berlin.celebration_shift, berlin.holiday_country, berlin.holiday_region) == ("next_working_day", "DE", "BE")


def test_the_links_open_the_workspaces_own_rows(staff_browser, berlin):
    other = WorkspaceFactory(name="Other Ltd")
    for workspace, name in ((berlin, "Ana Lima"), (other, "Zed Other")):
        PersonFactory(workspace=workspace, name=name)
        EventFactory(workspace=workspace, title=f"Meeting of {name}")
        ChannelConfig.objects.create(
            workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T/B/x"
        )
        NotificationFactory(workspace=workspace, recipient=f"to-{name}")
    page = staff_browser.get(_url(berlin)).content.decode()
    links = dict((label, unescape(href)) for href, label in re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', page))
    assert set(links) >= {"People", "Channels", "Reminders", "Events", "Notifications", "Calendar feeds"}
    expectations = {
        "People": ("Ana Lima", "Zed Other"),
        "Events": ("Meeting of Ana Lima", "Meeting of Zed Other"),
        "Notifications": ("to-Ana Lima", "to-Zed Other"),
        "Channels": ("Lima &amp; Co", "Other Ltd"),
    }
    for label, href in links.items():
        response = staff_browser.get(href)
        assert response.status_code == 200, (label, href)
        assert "?e=1" not in response.get("Location", ""), label
        if label in expectations:
            mine, theirs = expectations[label]
            body = response.content.decode()
            assert mine in body, label
            assert theirs not in body, label
    assert Event.objects.count() == 2


def test_the_last_digest_and_todays_failures_are_shown_with_links(staff_browser, berlin):
    digest = Reminder.objects.get(workspace=berlin, kind=ReminderKind.BIRTHDAY_DIGEST)
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
    digest.last_run_at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    digest.save(update_fields=["last_run_at"])
    for status in (NotificationStatus.SENT, NotificationStatus.SENT, NotificationStatus.FAILED):
        NotificationFactory(
            workspace=berlin, reminder=digest, occurrence_date=date(2026, 12, 7), status=status, created_at=now
        )
    NotificationFactory(workspace=berlin, reminder=digest, occurrence_date=date(2026, 12, 6), status="sent")
    # Failed yesterday evening in Berlin (23:30 local): not today's.
    NotificationFactory(workspace=berlin, status="failed", created_at=datetime(2026, 12, 6, 22, 30, tzinfo=UTC))
    NotificationFactory(workspace=WorkspaceFactory(), status="failed", created_at=now)

    with time_machine.travel(now, tick=False):
        page = unescape(staff_browser.get(_url(berlin)).content.decode())
        overview = page.split("bb-overview", 1)[1].split("</dl>", 1)[0]
        assert 'Mon 7 Dec 2026</a>: <span class="bb-alert">failures</span> (2 sent, 1 failed). ' in overview, overview
        assert "Ran 2026-12-07 09:00 Europe/Berlin (08:00 UTC)" in page
        failures = re.search(
            r'<a href="([^"]+)" class="bb-alert">(\d+) failed</a> today \(Mon 7 Dec, Europe/Berlin\)', page
        )
        assert failures, page
        assert failures.group(2) == "1"
        listed = staff_browser.get(failures.group(1))
        assert listed.status_code == 200
        assert "1 notification" in listed.content.decode()

        digest_link = re.search(r'<a href="([^"]+)">Mon 7 Dec 2026</a>', page).group(1)
        rows = staff_browser.get(digest_link)
        assert rows.status_code == 200
        assert "3 notifications" in rows.content.decode()


def test_a_workspace_with_no_digest_run_says_so(staff_browser, berlin):
    page = staff_browser.get(_url(berlin)).content.decode()
    assert "Nothing sent yet." in page
    assert "0 failed</a> today" in page


def test_adding_a_workspace_still_works(staff_browser):
    data = _form(WorkspaceFactory.build(name="New Firm", slug="new-firm", timezone="Europe/Vienna", notify_at=time(9)))
    response = staff_browser.post("/admin/workspaces/workspace/add/", data)
    assert response.status_code == 302, _errors(response)
    assert Workspace.objects.get(slug="new-firm").timezone == "Europe/Vienna"

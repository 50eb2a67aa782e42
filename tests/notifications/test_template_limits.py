"""Message templates render with bounded CPU, memory and output: refused on save and preview, failed at send."""

import time
from zoneinfo import ZoneInfo

import pytest

from notifications.models import ChannelConfig, Notification, NotificationStatus, Template
from notifications.rendering import render_source, template_errors
from reminders.models import Reminder, ReminderKind
from scheduling.tick import tick
from tests.factories import PersonFactory
from tests.notifications.factories import TemplateFactory

ABUSIVE = {
    "power folded at compile time": ("{{ 9**(9**8) }}", "too large"),
    "string multiplication": ("{{ 'x' * 10**8 }}", "too many times"),
    "literal repetition": ("{{ 'x' * 100000000 }}", "too many times"),
    "list repetition": ("{{ [1, 2] * 99999999 }}", "too many times"),
    "integer product": ("{% set a = 7**4000 %}{{ a * a }}", "too large"),
    "percent width": ("{{ '%0999999999d' % 1 }}", "formatting"),
    "format filter": ("{{ '%999999999s' | format(1) }}", "format"),
    "str.format width": ("{{ '{:999999999}'.format(1) }}", "unsafe"),
    "str.ljust": ("{{ 'x'.ljust(999999999) }}", "unsafe"),
    "center filter": ("{{ 'x' | center(999999999) }}", "width"),
    "indent filter": ("{{ 'x' | indent(999999999) }}", "indent"),
    "batch filter": ("{{ [1] | batch(999999999, 'x') | list }}", "batch"),
    "join separator": ("{{ range(1000) | join('x' * 99999) }}", "longer than"),
    "replace growth": ("{{ ('x' * 1000) | replace('x', 'y' * 1000) }}", "longer than"),
    "concatenation doubling": ("{% set a = 'x' * 90000 %}{% set b = a ~ a %}{{ b }}", "longer than"),
    "nested loops": ("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", "loop steps"),
    "exponential macro": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        "longer than",
    ),
    "endless recursion": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "too deeply"),
    "deep nesting": ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "too deeply"),
    "output longer than the channel takes": ("{% for i in range(1000) %}{{ person.name }}{% endfor %}", "characters"),
}


@pytest.fixture(autouse=True)
def _short_budget(settings):
    settings.NOTIFICATIONS_TEMPLATE_RENDER_SECONDS = 0.3


@pytest.mark.parametrize("name", list(ABUSIVE))
def test_a_template_over_a_limit_is_refused_quickly_with_a_reason(name):
    source, reason = ABUSIVE[name]
    started = time.monotonic()

    errors = template_errors(reminder_kind="birthday_digest", channel="sms", subject="", body=source)

    assert time.monotonic() - started < 3
    assert reason in errors["body"][0], errors


def test_ordinary_arithmetic_and_text_still_work():
    body = "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 7 % 3 }} {{ 'a' ~ 'b' }} {{ names | join(', ') }} {{ 'x' | center(5) }}|"

    rendered = render_source(subject="", body=body, channel="sms", context={"names": ["Ana", "Bo"]})

    assert rendered.body == "1024 ababab 1 ab Ana, Bo   x  |"


@pytest.mark.django_db
def test_save_and_preview_refuse_a_template_that_burns_a_worker(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/templates/"
    for source in ("{{ 9**(9**8) }}", "{{ 'x' * 10**8 }}"):
        payload = {"reminder_kind": "birthday_digest", "channel": "slack", "body": source}
        started = time.monotonic()

        saved = auth_client.post(url, payload, format="json")
        preview = auth_client.post(f"{url}preview", payload, format="json")

        assert time.monotonic() - started < 3
        assert saved.status_code == 400, saved.content
        assert preview.status_code == 400, preview.content
        assert "body" in saved.json()["errors"]
        assert "body" in preview.json()["errors"]
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_template_breaking_a_limit_with_real_data_fails_its_message_with_the_reason(workspace):
    """GIVEN an override (saved before these limits) that loops over every person a million times
    WHEN the digest is due THEN its message is recorded failed with the reason, and the tick returns."""
    TemplateFactory(
        workspace=workspace,
        reminder_kind="birthday_digest",
        channel="slack",
        body="{% for p in birthdays %}{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}"
        "{% endfor %}{% endfor %}done",
    )
    ChannelConfig.objects.create(
        workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secret"
    )
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    day = reminder.next_run_at.astimezone(ZoneInfo(workspace.timezone)).date()
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day)
    started = time.monotonic()

    tick(now=reminder.next_run_at)

    assert time.monotonic() - started < 10
    notification = Notification.objects.get(channel="slack")
    assert notification.status == NotificationStatus.FAILED
    assert notification.last_error.startswith("template_limit_exceeded: body: ")
    assert "loop steps" in notification.last_error

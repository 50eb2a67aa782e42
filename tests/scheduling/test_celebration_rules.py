"""Celebration rules: consent, weekends and holidays, applied by the daily digest."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from scheduling.tick import tick
from tests.factories import PersonFactory
from workspaces.models import Consent


def digest_of(workspace) -> Reminder:
    return Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)


@pytest.mark.django_db
def test_declined_and_slack_deactivated_people_are_neither_in_the_digest_nor_greeted(make_workspace):
    workspace = make_workspace(tz="Europe/Berlin")
    reminder = digest_of(workspace)
    Reminder.objects.filter(pk=reminder.pk).update(personal_greetings=True)
    day = reminder.next_run_at.astimezone(ZoneInfo(workspace.timezone)).date()
    same_day = {"birth_month": day.month, "birth_day": day.day}
    PersonFactory(workspace=workspace, name="Ana Active", email="ana@example.com", **same_day)
    PersonFactory(workspace=workspace, name="Pia Pending", consent=Consent.PENDING, **same_day)
    PersonFactory(workspace=workspace, name="Dee Declined", consent=Consent.DECLINED, **same_day)
    PersonFactory(workspace=workspace, name="Gus Gone", slack_deactivated_at=timezone.now(), **same_day)
    joined = day.replace(year=day.year - 3)
    PersonFactory(
        workspace=workspace,
        name="Jo Declined",
        consent=Consent.DECLINED,
        birth_month=None,
        birth_day=None,
        joined_on=joined,
    )

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    post = Notification.objects.get(channel="slack", person=None)
    assert "Ana Active" in post.body
    assert "Pia Pending" in post.body
    for absent in ("Dee Declined", "Gus Gone", "Jo Declined"):
        assert absent not in post.body
    greeted = set(
        Notification.objects.filter(idempotency_key__contains=":greeting-").values_list("person__name", flat=True)
    )
    assert greeted == {"Ana Active", "Pia Pending"}

"""Changing the weekend policy between two digests announces each celebration once: never twice,
never dropped (each digest occurrence records the last celebration date it covered)."""

from datetime import date

import pytest

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.models import Occurrence
from tests.factories import PersonFactory
from workspaces.models import Workspace

FRIDAY, SATURDAY, SUNDAY, MONDAY = date(2026, 7, 10), date(2026, 7, 11), date(2026, 7, 12), date(2026, 7, 13)


@pytest.fixture
def team(make_workspace):
    def make(policy: str) -> Workspace:
        workspace = make_workspace(celebration_shift=policy)
        Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(personal_greetings=True)
        same = {"preferred_channels": ["email"]}
        PersonFactory(
            workspace=workspace, name="Sam Saturday", email="sam@example.com", birth_month=7, birth_day=11, **same
        )
        PersonFactory(
            workspace=workspace, name="Mo Monday", email="mo@example.com", birth_month=7, birth_day=13, **same
        )
        return workspace

    return make


def switch(workspace: Workspace, policy: str) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(celebration_shift=policy)
    workspace.refresh_from_db()


def post_on(workspace: Workspace, day: date) -> str:
    services.digest_run_now(workspace=workspace, day=day)
    posts = Notification.objects.filter(workspace=workspace, channel="slack", occurrence_date=day)
    return "\n".join(posts.values_list("body", flat=True))


def greetings_of(name: str) -> int:
    return Notification.objects.filter(person__name=name, idempotency_key__contains=":greeting-").count()


@pytest.mark.django_db
def test_announced_friday_then_switched_to_the_next_working_day_is_not_announced_again_on_monday(team):
    workspace = team("working_day_before")
    assert "Sam Saturday" in post_on(workspace, FRIDAY)

    switch(workspace, "next_working_day")
    for day in (SATURDAY, SUNDAY):
        assert post_on(workspace, day) == ""
    monday = post_on(workspace, MONDAY)

    assert "Mo Monday" in monday
    assert "Sam Saturday" not in monday
    assert greetings_of("Sam Saturday") == 1
    assert greetings_of("Mo Monday") == 1


@pytest.mark.django_db
def test_announced_friday_then_switched_to_on_the_day_is_not_announced_again_on_saturday(team):
    workspace = team("working_day_before")
    assert "Sam Saturday" in post_on(workspace, FRIDAY)

    switch(workspace, "on_day")

    assert post_on(workspace, SATURDAY) == ""
    assert greetings_of("Sam Saturday") == 1


@pytest.mark.django_db
def test_left_for_monday_then_switched_to_the_working_day_before_is_still_announced_on_monday(team):
    """GIVEN "the next working day" on Friday (Saturday's birthday is Monday's) WHEN the policy becomes
    "the working day before" over the weekend THEN Monday's digest still announces it, with its own date."""
    workspace = team("next_working_day")
    assert "Sam Saturday" not in post_on(workspace, FRIDAY)

    switch(workspace, "working_day_before")
    for day in (SATURDAY, SUNDAY):
        assert post_on(workspace, day) == ""
    monday = post_on(workspace, MONDAY)

    assert "Sam Saturday (on Saturday" in monday
    assert "Mo Monday" in monday
    assert greetings_of("Sam Saturday") == 1


@pytest.mark.django_db
def test_left_for_monday_then_switched_to_on_the_day_on_sunday_is_announced_on_sunday(team):
    workspace = team("next_working_day")
    post_on(workspace, FRIDAY)
    post_on(workspace, SATURDAY)  # nothing: Saturday's celebrations wait for Monday

    switch(workspace, "on_day")

    assert "Sam Saturday (on Saturday" in post_on(workspace, SUNDAY)
    assert "Sam Saturday" not in post_on(workspace, MONDAY)
    assert greetings_of("Sam Saturday") == 1


@pytest.mark.django_db
def test_a_rerun_and_a_preview_of_a_day_show_what_it_announced(team):
    workspace = team("working_day_before")
    friday = post_on(workspace, FRIDAY)
    assert Occurrence.objects.get(reminder__workspace=workspace, local_date=FRIDAY).covered_through == SUNDAY

    assert post_on(workspace, FRIDAY) == friday  # nothing written twice, the same text
    preview = services.digest_run_now(workspace=workspace, day=FRIDAY, dry_run=True)
    (post,) = [m for m in preview.result.planned if m.notification.channel == "slack"]
    assert post.exists
    assert "Sam Saturday" in post.notification.body


@pytest.mark.django_db
def test_without_an_earlier_record_the_day_announces_what_the_policy_moves_onto_it(team):
    """The first digest after an upgrade (no covered date recorded yet) behaves as before."""
    workspace = team("next_working_day")
    assert "Sam Saturday (on Saturday" in post_on(workspace, MONDAY)


@pytest.mark.django_db
def test_a_preview_of_monday_before_fridays_digest_ran_leaves_the_weekend_to_friday(team):
    workspace = team("working_day_before")
    post_on(workspace, date(2026, 7, 9))  # Thursday's digest ran; Friday's has not yet

    preview = services.digest_run_now(workspace=workspace, day=MONDAY, dry_run=True)

    (post,) = [m.notification.body for m in preview.result.planned if m.notification.channel == "slack"]
    assert "Mo Monday" in post
    assert "Sam Saturday" not in post
    assert "Sam Saturday" in post_on(workspace, FRIDAY)

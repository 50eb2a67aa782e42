"""The flows that follow a workspace's or a user's change run from the services (so through the
API), never from a plain ``save()``: a new workspace's digest, rescheduling on new settings,
people following their member's profile."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from reminders.models import Reminder, ReminderKind
from tests.factories import PersonFactory
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


def digests(workspace) -> list[Reminder]:
    return list(Reminder.objects.filter(workspace_id=workspace.pk, kind=ReminderKind.BIRTHDAY_DIGEST))


def test_a_workspace_created_through_the_api_gets_its_digest_and_a_plain_create_does_not(auth_client):
    response = auth_client.post(
        reverse("workspace-list"), {"name": "Bakery", "timezone": "Europe/Berlin"}, format="json"
    )

    assert response.status_code == 201, response.json()
    [digest] = digests(Workspace.objects.get(pk=response.json()["id"]))
    assert digest.active

    bare = Workspace.objects.create(name="Bare", slug="bare")
    assert digests(bare) == []


def test_new_settings_through_the_api_reschedule_and_a_plain_save_does_not(auth_client, workspace):
    auth_client.patch(
        reverse("workspace-detail", args=[workspace.pk]),
        {"timezone": "Asia/Kathmandu", "notify_at": "07:15"},
        format="json",
    )

    [digest] = digests(workspace)
    assert digest.next_run_at.astimezone(ZoneInfo("Asia/Kathmandu")).time() == time(7, 15)

    workspace.refresh_from_db()
    workspace.timezone = "America/New_York"
    workspace.notify_at = time(9)
    workspace.save()

    [unchanged] = digests(workspace)
    assert unchanged.next_run_at == digest.next_run_at


def test_a_profile_changed_through_the_api_renames_the_linked_people_and_a_plain_save_does_not(
    auth_client, user, workspace
):
    person = PersonFactory(workspace=workspace, user=user, name="Old Name")

    response = auth_client.patch(reverse("users-me"), {"first_name": "Ada", "last_name": "Lovelace"}, format="json")

    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert person.name == "Ada Lovelace"

    user.refresh_from_db()
    user.first_name = "Grace"
    user.save()

    person.refresh_from_db()
    assert person.name == "Ada Lovelace"


def _form_data(response) -> dict:
    """The change form's current values, as the browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or field.disabled:
            continue
        data[name] = field.widget.format_value(value) if hasattr(field.widget, "format_value") else value
    return {key: value for key, value in data.items() if value is not None}


def test_new_settings_saved_in_the_admin_reschedule(client, staff_user, workspace):
    client.force_login(staff_user)
    url = reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    [digest] = digests(workspace)
    data = _form_data(client.get(url))
    data.update({"timezone": "Asia/Kathmandu", "notify_at": "07:15"})
    for prefix in ("memberships",):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    [moved] = digests(workspace)
    assert moved.next_run_at != digest.next_run_at
    assert moved.next_run_at.astimezone(ZoneInfo("Asia/Kathmandu")).time() == time(7, 15)

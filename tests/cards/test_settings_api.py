"""The workspace's advance alert and group card settings over the API."""

import pytest
from auditlog.models import LogEntry

from cards.models import PrepSettings
from tests.cards.conftest import member_person
from tests.conftest import client_for
from tests.factories import PersonFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/celebration-prep"


def test_defaults_are_off_until_an_admin_sets_them(auth_client, workspace):
    assert auth_client.get(url(workspace)).json() == {
        "alert_days": 0,
        "alert_recipients": "admins",
        "chosen": [],
        "group_card": False,
        "updated_at": None,
    }
    planner = member_person(workspace, name="Pat Planner")

    response = auth_client.patch(
        url(workspace),
        {"alert_days": 3, "alert_recipients": "chosen", "chosen": [str(planner.pk)], "group_card": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["alert_days"], body["alert_recipients"], body["chosen"], body["group_card"]) == (
        3,
        "chosen",
        [str(planner.pk)],
        True,
    )
    assert PrepSettings.objects.get(workspace=workspace).chosen.get() == planner


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"alert_days": 31}, "alert_days"),
        ({"alert_days": -1}, "alert_days"),
        ({"alert_days": "3"}, "alert_days"),
        ({"alert_days": True}, "alert_days"),
        ({"alert_recipients": "everyone"}, "alert_recipients"),
        ({"group_card": True}, "group_card"),
        ({"group_card": "yes"}, "group_card"),
        ({"chosen": ["not-a-uuid"]}, "chosen"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field_and_change_nothing(auth_client, workspace, payload, field):
    response = auth_client.patch(url(workspace), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PrepSettings.objects.filter(workspace=workspace).exists()


def test_chosen_people_must_be_members_of_this_workspace(auth_client, workspace):
    outsider = PersonFactory(workspace=WorkspaceFactory())
    client = PersonFactory(workspace=workspace)

    response = auth_client.patch(url(workspace), {"chosen": [str(outsider.pk), str(client.pk)]}, format="json")

    assert response.status_code == 400
    assert str(outsider.pk) in response.content.decode()
    assert not PrepSettings.objects.filter(workspace=workspace).exists()


def test_members_read_but_only_owners_and_admins_change(member, workspace):
    client = client_for(member)
    assert client.get(url(workspace)).status_code == 200
    assert client.patch(url(workspace), {"alert_days": 2}, format="json").status_code == 403
    assert not PrepSettings.objects.filter(workspace=workspace).exists()


def test_another_workspace_is_not_found(auth_client):
    other = WorkspaceFactory()
    assert auth_client.get(url(other)).status_code == 404
    assert auth_client.patch(url(other), {"alert_days": 2}, format="json").status_code == 404


def test_a_change_is_in_the_workspaces_audit_log(auth_client, workspace):
    auth_client.patch(url(workspace), {"alert_days": 4}, format="json")

    entry = LogEntry.objects.get(content_type__model="prepsettings", object_pk=str(workspace.pk))
    assert entry.additional_data["workspace_id"] == str(workspace.pk)
    assert entry.changes_dict["alert_days"] == [None, 4]

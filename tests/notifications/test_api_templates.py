import pytest

from notifications.models import Template
from tests.conftest import client_for
from tests.factories import UserFactory, WorkspaceFactory
from tests.notifications.factories import TemplateFactory

pytestmark = pytest.mark.django_db


def templates_url(workspace, suffix=""):
    return f"/api/v1/workspaces/{workspace.pk}/templates/{suffix}"


def test_create_and_list_an_override(auth_client, workspace):
    payload = {"reminder_kind": "birthday_digest", "channel": "slack", "body": "🎂 {{ birthdays|length }} today"}

    response = auth_client.post(templates_url(workspace), payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["body"] == payload["body"]
    listing = auth_client.get(templates_url(workspace)).json()
    assert [item["id"] for item in listing["results"]] == [response.json()["id"]]


@pytest.mark.parametrize(
    ("payload", "field", "message_part"),
    [
        ({"reminder_kind": "birthday_digest", "channel": "slack", "body": "Hi\n{% for x in %}"}, "body", "Line 2"),
        ({"reminder_kind": "birthday_digest", "channel": "slack", "body": "{{ x | nosuchfilter }}"}, "body", "Line 1"),
        ({"reminder_kind": "birthday_digest", "channel": "email", "subject": "{% if %}", "body": "ok"}, "subject", ""),
        (
            {"reminder_kind": "birthday_digest", "channel": "slack", "body": "{{ birthdays.append(1) }}"},
            "body",
            "unsafe",
        ),
        ({"reminder_kind": "birthday_digest", "channel": "slack", "body": ""}, "body", ""),
        ({"reminder_kind": "nope", "channel": "slack", "body": "x"}, "reminder_kind", ""),
        ({"reminder_kind": "birthday_digest", "channel": "fax", "body": "x"}, "channel", ""),
        ({"reminder_kind": "birthday_digest", "channel": "slack", "body": 42}, "body", ""),
    ],
)
def test_broken_template_is_rejected_on_save(auth_client, workspace, payload, field, message_part):
    response = auth_client.post(templates_url(workspace), payload, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors
    assert message_part in errors[field][0]
    assert not Template.objects.exists()


def test_second_override_of_the_same_kind_and_channel_is_refused(auth_client, workspace):
    TemplateFactory(workspace=workspace)
    payload = {"reminder_kind": "birthday_digest", "channel": "slack", "body": "again"}
    response = auth_client.post(templates_url(workspace), payload, format="json")
    assert response.status_code == 400
    assert Template.objects.count() == 1


def test_update_is_validated_too(auth_client, workspace):
    template = TemplateFactory(workspace=workspace)
    response = auth_client.patch(templates_url(workspace, f"{template.pk}/"), {"body": "{{ oops"}, format="json")
    assert response.status_code == 400
    template.refresh_from_db()
    assert template.body != "{{ oops"
    response = auth_client.patch(templates_url(workspace, f"{template.pk}/"), {"body": "fine"}, format="json")
    assert response.status_code == 200
    assert response.json()["body"] == "fine"


def test_preview_of_a_draft(auth_client, workspace):
    payload = {
        "reminder_kind": "birthday_digest",
        "channel": "slack",
        "body": "{{ workspace.name }}: {{ birthdays | map(attribute='name') | join(', ') }}{{ settings }}",
    }

    response = auth_client.post(templates_url(workspace, "preview"), payload, format="json")

    assert response.status_code == 200
    body = f"{workspace.name}: Ana Lima, Bo Chen"
    assert response.json() == {
        "subject": "",
        "body": body,
        "variants": [
            {
                "label": "draft",
                "source": "draft",
                "id": None,
                "subject": "",
                "body": body,
                "image_url": "",
                "image_alt": "",
            }
        ],
    }
    assert not Template.objects.exists()


def test_preview_of_the_current_template(auth_client, workspace):
    response = auth_client.post(
        templates_url(workspace, "preview"), {"reminder_kind": "birthday_digest", "channel": "email"}, format="json"
    )
    assert response.json()["subject"] == f"Birthdays and anniversaries today at {workspace.name}"

    TemplateFactory(workspace=workspace, body="Override for {{ workspace.name }}")
    response = auth_client.post(
        templates_url(workspace, "preview"), {"reminder_kind": "birthday_digest", "channel": "slack"}, format="json"
    )
    assert response.json()["body"] == f"Override for {workspace.name}"


def test_preview_of_a_broken_draft_is_a_400(auth_client, workspace):
    payload = {"reminder_kind": "birthday_digest", "channel": "slack", "body": "{{ unclosed"}
    response = auth_client.post(templates_url(workspace, "preview"), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["body"][0].startswith("Line 1")


def test_members_and_outsiders_cannot_see_or_preview(member_client, workspace):
    template = TemplateFactory(workspace=workspace)
    outsider = client_for(UserFactory())
    preview = {"reminder_kind": "birthday_digest", "channel": "slack"}

    assert member_client.get(templates_url(workspace)).status_code == 403
    assert member_client.post(templates_url(workspace, "preview"), preview, format="json").status_code == 403
    assert outsider.get(templates_url(workspace, f"{template.pk}/")).status_code == 404
    assert outsider.post(templates_url(workspace, "preview"), preview, format="json").status_code == 404


def test_other_workspaces_template_is_not_found_here(auth_client, workspace):
    elsewhere = TemplateFactory(workspace=WorkspaceFactory())
    assert auth_client.get(templates_url(workspace, f"{elsewhere.pk}/")).status_code == 404
    assert auth_client.delete(templates_url(workspace, f"{elsewhere.pk}/")).status_code == 404
    assert Template.objects.count() == 1

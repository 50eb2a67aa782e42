"""The template preview shows every variant a message of the kind and channel may use, each with its
label: the workspace's own in the order messages choose among them, else the shipped set. ``subject``
and ``body`` stay the first variant's (the answer's shape before variants)."""

import pytest

from notifications.models import Template
from notifications.rendering import default_variants, render_source, sample_context
from tests.notifications.factories import TemplateFactory

pytestmark = pytest.mark.django_db


def preview(client, workspace, **payload):
    return client.post(f"/api/v1/workspaces/{workspace.pk}/templates/preview", payload, format="json")


def test_the_shipped_variants_each_with_its_label(auth_client, workspace):
    response = preview(auth_client, workspace, reminder_kind="milestone", channel="slack")

    assert response.status_code == 200, response.content
    shipped = default_variants(reminder_kind="milestone", channel="slack")
    assert len(shipped) >= 3
    context = sample_context(workspace_name=workspace.name, reminder_kind="milestone")
    expected = [
        render_source(subject=subject, body=body, channel="slack", context=context).body for subject, body in shipped
    ]
    variants = response.json()["variants"]
    assert [(v["label"], v["source"], v["id"]) for v in variants] == [
        (f"shipped {number}", "shipped", None) for number in range(1, len(shipped) + 1)
    ]
    assert [v["body"] for v in variants] == expected
    assert len(set(expected)) == len(expected)
    assert (response.json()["subject"], response.json()["body"]) == (variants[0]["subject"], variants[0]["body"])


def test_the_workspaces_own_variants_in_the_order_messages_choose_among_them(auth_client, workspace):
    for label in ("warm", "short", "formal"):
        TemplateFactory(
            workspace=workspace,
            reminder_kind="personal_greeting",
            channel="email",
            label=label,
            subject=f"{label}: {{{{ person.name }}}}" if label != "short" else "",
            body=f"{label.title()} wishes to {{{{ person.name }}}} from {{{{ workspace.name }}}}",
            image_url="https://img.example.com/cake.png" if label == "formal" else "",
        )
    TemplateFactory(workspace=workspace, reminder_kind="personal_greeting", channel="slack", label="elsewhere")
    order = Template.objects.filter(workspace=workspace, channel="email").order_by("created_at", "id")

    response = preview(auth_client, workspace, reminder_kind="personal_greeting", channel="email")

    assert response.status_code == 200, response.content
    variants = response.json()["variants"]
    assert [(v["label"], v["source"], v["id"]) for v in variants] == [
        (template.label, "workspace", str(template.pk)) for template in order
    ]
    assert [v["body"] for v in variants] == [
        f"{label.title()} wishes to Ana Lima from {workspace.name}" for label in ("warm", "short", "formal")
    ]
    assert variants[0]["subject"] == "warm: Ana Lima"
    assert variants[1]["subject"] == "Happy birthday, Ana Lima!", "no subject of its own: the shipped one"
    assert [v["image_url"] for v in variants] == ["", "", "https://img.example.com/cake.png"]
    assert (response.json()["subject"], response.json()["body"]) == (variants[0]["subject"], variants[0]["body"])


def test_a_subject_sent_along_is_shown_on_every_variant(auth_client, workspace):
    response = preview(
        auth_client, workspace, reminder_kind="milestone", channel="email", subject="For {{ person.name }}"
    )

    assert response.status_code == 200, response.content
    assert {v["subject"] for v in response.json()["variants"]} == {"For Cy Diaz"}


def test_a_broken_preview_request_is_a_400(auth_client, workspace):
    assert preview(auth_client, workspace, reminder_kind="nope", channel="slack").status_code == 400
    assert preview(auth_client, workspace, reminder_kind="milestone", channel="fax").status_code == 400
    response = preview(auth_client, workspace, reminder_kind="milestone", channel="slack", body="{% if %}")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]

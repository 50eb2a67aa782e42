"""Real responses of every list and detail endpoint validate against the OpenAPI document.

The document is OpenAPI 3.0.3, read here as 3.0.3 says: ``nullable`` adds ``null`` only next to
an explicit ``type`` (so a ``nullable`` beside a bare ``$ref`` allows nothing). Requests are made
as a workspace's owner and as a plain member (who sees ``rsvp_counts: null``) against a workspace
with data of every kind, so each field is seen both filled and empty where it can be.
"""

import copy
import re
from datetime import datetime

import pytest
from django.core.management import call_command
from jsonschema import Draft7Validator

from events import services as event_services
from reminders.services import reminder_create
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"\{([^}]+)\}")


def as_json_schema(node):
    """OpenAPI 3.0.3 Schema Objects as JSON Schema: ``nullable`` honoured only with a ``type``."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and "type" in node:
        converted["type"] = [node["type"], "null"]
    return converted


@pytest.fixture
def world(django_user_model):
    workspace = WorkspaceFactory(timezone="America/New_York")
    owner, member = UserFactory(), UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    MembershipFactory(workspace=workspace, user=member, role=Role.MEMBER)
    ana = PersonFactory(workspace=workspace, phone="+14155550123")
    event = event_services.event_create(
        workspace=workspace,
        created_by=owner,
        data={
            "title": "Review",
            "kind": "appointment",
            "starts_at": datetime(2027, 3, 14, 2, 30),  # in the spring-forward gap: 03:30 EDT
            "ends_at": datetime(2027, 3, 14, 4, 0),
            "rrule": "FREQ=WEEKLY;UNTIL=20270601T000000Z",
            "exdates": ["2027-03-21"],
            "host": owner.pk,
            "attendees": [ana.pk],
        },
    )
    reminder_create(
        workspace=workspace,
        data={"kind": "event", "event_id": event.pk, "offset_minutes": 60, "recipients": [], "channels": ["email"]},
    )
    client_for(owner).post(f"/api/v1/workspaces/{workspace.id}/calendar-feeds/", {"scope": "member"}, format="json")
    call_command("run_birthday_job", "--workspace", str(workspace.id), verbosity=0)
    return workspace, owner, member


def test_every_list_and_detail_response_matches_the_schema(world, client):
    workspace, owner, member = world
    document = client.get("/api/schema/?format=json").json()
    components = as_json_schema(document["components"])
    checked: set[str] = set()
    ids: dict[str, str] = {"workspace_id": str(workspace.id)}

    paths = sorted(
        (path for path, item in document["paths"].items() if "get" in item and path.startswith("/api/v1/")),
        key=lambda path: (path.count("{"), path),
    )
    for user in (owner, member):
        api = client_for(user)
        for path in paths:
            names = PARAMETER.findall(path)
            if any(name not in ids and name not in ("id",) for name in names):
                continue
            url = path
            for name in names:
                value = ids.get(name) or ids.get(f"id:{path.rsplit('{', 1)[0]}")
                if value is None:
                    break
                url = url.replace(f"{{{name}}}", value)
            if "{" in url:
                continue
            response = api.get(url)
            documented = document["paths"][path]["get"]["responses"].get(str(response.status_code))
            assert documented is not None, (url, response.status_code)
            body_schema = documented.get("content", {}).get("application/json", {}).get("schema")
            if body_schema is None or response.status_code >= 300:
                continue
            body = response.json()
            root = {"components": components, **as_json_schema(copy.deepcopy(body_schema))}
            errors = sorted(Draft7Validator(root).iter_errors(body), key=str)
            assert not errors, (url, user == owner, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])
            checked.add(path)
            results = body.get("results") if isinstance(body, dict) else body
            if isinstance(results, list) and results and isinstance(results[0], dict) and "id" in results[0]:
                ids.setdefault(f"id:{path}", str(results[0]["id"]))

    # The events, audit and workspace reads that carried nullable references are among them.
    for expected in (
        "/api/v1/workspaces/{workspace_id}/events/",
        "/api/v1/workspaces/{workspace_id}/events/{id}/",
        "/api/v1/workspaces/{workspace_id}/audit/",
        "/api/v1/workspaces/{workspace_id}/reminders/{id}/",
        "/api/v1/workspaces/{workspace_id}/",
    ):
        assert expected in checked, expected
    assert len(checked) >= 20, sorted(checked)

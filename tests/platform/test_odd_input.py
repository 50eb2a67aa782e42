"""Odd input gets a clear 4xx, never a 500: NUL bytes, deep JSON, lone surrogates, far dates, loose booleans."""

import json

import pytest
from rest_framework.test import APIClient

from scheduling.models import JobRun
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from tests.notifications.twilio_signing import (
    PUBLIC_BASE_URL,
    inbound_params,
    inbound_path,
    post_signed,
    status_params,
    status_path,
)

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
LONE_SURROGATE_EMAIL = '{"email": "\\ud800@example.com", "password": "a-Long-passphrase-42"}'
CREDENTIAL_ENDPOINTS = [
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/verify",
    "/api/v1/auth/verify/resend",
    "/api/v1/auth/password/forgot",
]


def raw_post(client, path, body):
    return client.generic("POST", path, body.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/workspaces/"])
def test_deeply_nested_json_is_a_400(auth_client, path):
    response = raw_post(auth_client, path, DEEP)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize("path", CREDENTIAL_ENDPOINTS)
def test_a_lone_surrogate_in_an_email_is_a_400(path):
    response = raw_post(APIClient(), path, LONE_SURROGATE_EMAIL)

    assert 400 <= response.status_code < 500, response.content
    assert response.status_code != 429
    assert response.json()["detail"]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_far_date_filter_is_a_400_naming_the_field(auth_client, workspace, zone):
    workspace.timezone = zone
    workspace.save()
    url = f"/api/v1/workspaces/{workspace.pk}/notifications/"
    for query in ("date_to=9999-12-31", "date_from=0001-01-01", "date_from=9999-12-31", "date_to=0001-01-01"):
        response = auth_client.get(f"{url}?{query}")
        assert response.status_code == 400, (query, response.content)
        assert query.split("=")[0] in response.json()["errors"]
    assert auth_client.get(f"{url}?date_from=2026-01-01&date_to=2026-12-31").status_code == 200


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_far_dates_on_stats_and_the_calendar_are_4xx(auth_client, workspace, zone):
    workspace.timezone = zone
    workspace.save()
    base = f"/api/v1/workspaces/{workspace.pk}"
    for url in (
        f"{base}/notifications/stats?to=9999-12-31",
        f"{base}/notifications/stats?from=0001-01-01",
        f"{base}/events/?to=9999-12-31",
        f"{base}/events/?from=0001-01-01",
        f"{base}/reminders/?next_run_before=9999-12-31T23:59:59Z",
        f"{base}/reminders/?next_run_after=0001-01-01T00:00:00Z",
        f"{base}/birthdays/?month=12&days=366",
        f"{base}/upcoming/?days=7",
    ):
        response = auth_client.get(url)
        assert response.status_code < 500, (url, response.content)


@pytest.mark.parametrize("value", [0, 1, "0", "false", "no", None, [], {}])
def test_dry_run_takes_only_a_json_boolean(auth_client, workspace, value):
    response = auth_client.post(f"/api/v1/workspaces/{workspace.pk}/run-now", {"dry_run": value}, format="json")

    assert response.status_code == 400, response.content
    assert "dry_run" in response.json()["errors"]
    assert not JobRun.objects.filter(kind="manual").exists()


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("reminders/", {"kind": "one_time", "run_at": "2030-01-01T10:00:00Z", "message": "x", "urgent": 1}),
        ("people/", {"name": "Ana", "show_age": "yes"}),
        ("channels/", {"kind": "email", "active": 0}),
    ],
)
def test_booleans_are_strict_everywhere(auth_client, workspace, path, payload):
    response = auth_client.post(f"/api/v1/workspaces/{workspace.pk}/{path}", payload, format="json")

    assert response.status_code == 400, response.content
    [field] = [name for name, value in payload.items() if not isinstance(value, str) or name == "show_age"][-1:]
    assert field in response.json()["errors"]


def test_import_options_in_the_query_take_true_false_or_1_0(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/people/import"
    csv = b"name,email\nAna,ana@example.com\n"

    loose = auth_client.generic("POST", f"{url}?dry_run=yes", csv, content_type="text/csv")
    strict = auth_client.generic("POST", f"{url}?dry_run=1", csv, content_type="text/csv")

    assert loose.status_code == 400, loose.content
    assert strict.status_code == 200, strict.content
    assert strict.json()["dry_run"] is True


@pytest.mark.parametrize("field", ["Body", "From", "To", "MessageSid", "AccountSid"])
def test_nul_bytes_in_twilio_inbound_fields_are_a_400(client, settings, field):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    config = ChannelConfigFactory(
        workspace=WorkspaceFactory(),
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
    )
    PersonFactory(workspace=config.workspace, phone="+14155550123")
    params = inbound_params(from_="+14155550123", to="+14155550100", body="STOP")
    params[field] = params[field][:3] + "\x00" + params[field][3:]

    response = post_signed(client, inbound_path(config), params)

    assert response.status_code == 400, response.content
    assert "NUL" in json.dumps(response.json())


def test_nul_bytes_in_a_twilio_status_callback_are_a_400(client, settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    params = status_params("SM" + "a1" * 16, "deliv\x00ered")

    response = post_signed(client, status_path(), params)

    assert response.status_code == 400, response.content

"""``POST /api/v1/workspaces/{id}/people/import``: status codes, shapes, roles, body limits."""

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import PersonFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Person

pytestmark = pytest.mark.django_db

GOOD = (
    b"name,email,phone,birthday,preferred_channels\n"
    b"Ada Lovelace,ada@example.com,+14155550100,1985-12-10,email;sms\n"
    b"Bo Berg,bo@example.com,,--02-29,\n"
)
ONE_BAD = GOOD + b"Cy Chen,cy@example.com,0151 1234567,,\n"


def import_url(workspace, **query) -> str:
    url = reverse("workspace-person-import", kwargs={"workspace_id": workspace.id})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def upload(client, workspace, data: bytes, *, name: str = "people.csv", **query):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(import_url(workspace, **query), {"file": file}, format="multipart")


def test_the_route_ends_in_import_so_the_larger_body_limit_applies(workspace):
    assert import_url(workspace).endswith("/people/import")


def test_owner_uploads_a_file(owner_client, owner, workspace):
    response = upload(owner_client, workspace, GOOD)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "dry_run": False,
        "partial": False,
        "error_count": 0,
        "errors_truncated": False,
        "errors": [],
    }
    ada = Person.objects.get(workspace=workspace, email="ada@example.com")
    assert ada.preferred_channels == ["email", "sms"]
    entry = LogEntry.objects.get(object_pk=str(ada.pk))
    assert entry.actor_id == owner.pk
    assert entry.cid == response["X-Request-ID"]
    summary = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert summary.additional_data["details"]["filename"] == "people.csv"


def test_admin_sends_a_text_csv_body_and_reimports_idempotently(admin_client, workspace):
    url = import_url(workspace)
    first = admin_client.generic("POST", url, GOOD, content_type="text/csv")
    second = admin_client.generic("POST", url, GOOD, content_type="text/csv; charset=utf-8")

    assert first.status_code == second.status_code == 200
    assert first.json()["created"] == 2
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 2)
    assert Person.objects.filter(workspace=workspace, email__in=["ada@example.com", "bo@example.com"]).count() == 2


def test_one_bad_row_is_400_with_row_numbered_errors_and_writes_nothing(owner_client, workspace):
    with unchanged():
        entries = LogEntry.objects.count()
        response = upload(owner_client, workspace, ONE_BAD)
        assert LogEntry.objects.count() == entries

    body = assert_error(response, 400, "invalid_rows")
    assert body["errors"] == [
        {
            "row": 4,
            "field": "phone",
            "message": "Enter a phone number in international E.164 form, e.g. +14155550100.",
        }
    ]
    assert body["error_count"] == 1


def test_partial_imports_the_good_rows(owner_client, workspace):
    response = upload(owner_client, workspace, ONE_BAD, partial=1)
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["skipped"], body["partial"]) == (2, 1, True)
    assert body["errors"][0]["row"] == 4
    assert not Person.objects.filter(email="cy@example.com").exists()


def test_dry_run_writes_nothing(owner_client, workspace):
    with unchanged():
        response = upload(owner_client, workspace, GOOD, dry_run="true")
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["dry_run"]) == (2, True)


def test_bad_files_are_clear_400s(owner_client, workspace):
    with unchanged():
        headers = upload(owner_client, workspace, b"full name,mail\nAnn,ann@example.com\n")
        latin1 = upload(owner_client, workspace, "name\nJosé\n".encode("latin-1"))
        empty = upload(owner_client, workspace, b"")
        no_file = owner_client.post(import_url(workspace), {}, format="multipart")
        bad_option = upload(owner_client, workspace, GOOD, partial="perhaps")

    body = assert_error(headers, 400, "invalid_headers")
    assert "Expected columns: name (required), email" in body["detail"]
    assert body["unknown_headers"] == ["full name", "mail"]
    assert "not valid UTF-8" in assert_error(latin1, 400, "invalid_encoding")["detail"]
    assert_error(empty, 400, "empty_file")
    assert_error(no_file, 400, "file_required")
    assert_error(bad_option, 400, field="partial")


def test_a_bom_is_fine(owner_client, workspace):
    response = upload(owner_client, workspace, b"\xef\xbb\xbf" + GOOD)
    assert response.status_code == 200
    assert response.json()["created"] == 2


def test_too_many_rows_is_400(owner_client, workspace, settings):
    settings.PEOPLE_IMPORT_MAX_ROWS = 1
    with unchanged():
        response = upload(owner_client, workspace, GOOD)
    assert assert_error(response, 400, "too_many_rows")["max_rows"] == 1


def test_an_oversized_upload_is_413_from_the_middleware(owner_client, workspace, settings):
    settings.MAX_UPLOAD_BODY_BYTES = 2_000
    big = GOOD + b"".join(f"Person {n},p{n}@example.com,,,\n".encode() for n in range(200))
    assert len(big) > 2_000
    with unchanged():
        response = upload(owner_client, workspace, big)
        raw = owner_client.generic("POST", import_url(workspace), big, content_type="text/csv")
    assert_error(response, 413, "too_large")
    assert_error(raw, 413, "too_large")


def test_uploads_above_the_ordinary_body_limit_are_accepted_here(owner_client, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000  # every other endpoint: 413 above this
    big = b"name,email\n" + b"".join(f"Person {n},p{n}@example.com\n".encode() for n in range(100))
    assert len(big) > 1_000
    response = owner_client.generic("POST", import_url(workspace), big, content_type="text/csv")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 100


def test_json_is_415(owner_client, workspace):
    response = owner_client.post(import_url(workspace), {"name": "x"}, format="json")
    assert_error(response, 415)


def test_members_get_403_and_outsiders_404_and_nothing_is_written(member_client, outsider_client, workspace):
    PersonFactory(workspace=workspace)
    with unchanged():
        entries = LogEntry.objects.count()
        member = upload(member_client, workspace, GOOD)
        outsider = upload(outsider_client, workspace, GOOD)
        assert LogEntry.objects.count() == entries
    assert_error(member, 403, "role_required")
    assert_error(outsider, 404)


def test_staff_may_import_into_any_workspace(staff_client, staff_user, workspace):
    response = upload(staff_client, workspace, GOOD)
    assert response.status_code == 200
    assert LogEntry.objects.filter(content_type__model="person", actor=staff_user).count() == 2

"""CSV import of people: the service (``workspaces.importing``) and ``manage.py import_people``."""

from datetime import date
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command

from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from workspaces import cache as bb_cache
from workspaces.importing import ImportRejected, people_import
from workspaces.models import Person

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
HEADER = "name,email,phone,slack_user_id,birthday,joined_on,show_age,preferred_channels,opted_out_channels"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def run(workspace, data: bytes, **kwargs):
    return people_import(workspace=workspace, data=data, today=TODAY, **kwargs)


def rejected(workspace, data: bytes, **kwargs) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        run(workspace, data, **kwargs)
    return caught.value


def people(workspace) -> dict[str, Person]:
    return {person.name: person for person in Person.objects.filter(workspace=workspace)}


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(timezone="Europe/Berlin")


GOOD = csv_bytes(
    "Ada Lovelace,ADA@example.com,+1 (415) 555-0100,U012ABCDEF,1985-12-10,2020-03-01,yes,email;sms,whatsapp",
    "Bo Berg,bo@example.com,,,--02-29,,no,,",
    "Cy Chen,,+4915112345678,,07-04,,,slack,",
)


# --- happy path ---------------------------------------------------------------------------


def test_all_good_rows_are_imported_with_the_people_api_rules(workspace):
    result = run(workspace, GOOD)

    assert (result.rows, result.created, result.updated, result.unchanged, result.skipped) == (3, 3, 0, 0, 0)
    assert result.errors == []
    found = people(workspace)
    ada = found["Ada Lovelace"]
    assert ada.email == "ADA@example.com"
    assert ada.phone == "+14155550100"  # normalised to E.164, as the API stores it
    assert ada.slack_user_id == "U012ABCDEF"
    assert (ada.birth_month, ada.birth_day, ada.birth_year) == (12, 10, 1985)
    assert ada.joined_on == date(2020, 3, 1)
    assert ada.show_age is True
    assert ada.preferred_channels == ["email", "sms"]
    assert ada.opted_out_channels == ["whatsapp"]
    bo = found["Bo Berg"]
    assert (bo.birth_month, bo.birth_day, bo.birth_year) == (2, 29, None)  # Feb 29 without a year is fine
    assert bo.show_age is False
    assert bo.phone == ""
    cy = found["Cy Chen"]
    assert (cy.birth_month, cy.birth_day, cy.birth_year) == (7, 4, None)
    assert cy.preferred_channels == ["slack"]


def test_headers_are_case_insensitive_in_any_order_and_the_birthday_may_come_in_parts(workspace):
    data = csv_bytes("1990, 4 ,17,Dee Dunn, DEE@example.com ", header="Birth_Year,BIRTH MONTH,birth-day,Name,EMAIL")
    run(workspace, data)
    dee = Person.objects.get(workspace=workspace)
    assert (dee.name, dee.email, dee.birth_month, dee.birth_day, dee.birth_year) == (
        "Dee Dunn",
        "DEE@example.com",
        4,
        17,
        1990,
    )


def test_a_utf8_bom_semicolons_and_crlf_are_fine(workspace):
    data = "\ufeffname;email;birthday\r\nZoë Ørsted;zoe@example.com;--03-01\r\n".encode()
    assert run(workspace, data).created == 1
    assert Person.objects.get(workspace=workspace).name == "Zoë Ørsted"


def test_blank_header_cells_are_ignored_unless_a_row_has_a_value_there(workspace):
    assert run(workspace, b"name,email,,\nAnn,ann@example.com,,\n").created == 1
    error = rejected(workspace, b"name,,email\nBen,oops,ben@example.com\n")
    assert error.extra["errors"] == [
        {"row": 2, "field": None, "message": "This row has a value in a column without a header."}
    ]


def test_blank_lines_are_ignored_and_rows_keep_their_spreadsheet_numbers(workspace):
    data = csv_bytes("Ann,ann@example.com,,,,,,,", ",,,,,,,,", "", "Bad,not-an-email,,,,,,,")
    error = rejected(workspace, data)
    assert error.extra["errors"] == [
        {"row": 5, "field": "email", "message": "'not-an-email' is not a valid email address."}
    ]


def test_the_import_is_audited_and_invalidates_the_cached_birthdays(workspace):
    actor = UserFactory()
    version = bb_cache.birthdays_version(workspace.pk)

    run(workspace, GOOD, actor=actor, filename="clients.csv")

    assert bb_cache.birthdays_version(workspace.pk) != version
    entries = LogEntry.objects.filter(additional_data__workspace_id=str(workspace.pk))
    created = entries.filter(action=LogEntry.Action.CREATE, content_type__model="person")
    assert created.count() == 3
    assert {entry.actor_id for entry in created} == {actor.pk}
    ada = created.get(object_repr="Ada Lovelace")
    assert ada.changes["phone"] == [None, "+14155550100"]
    assert ada.object_pk == str(Person.objects.get(name="Ada Lovelace").pk)
    summary = entries.get(action=LogEntry.Action.ACCESS)
    assert summary.additional_data["operation"] == "people.import"
    assert summary.additional_data["details"] == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "source": "api",
        "filename": "clients.csv",
    }


# --- all or nothing, or partial -----------------------------------------------------------


def test_one_bad_row_imports_nothing_and_names_the_row(workspace):
    PersonFactory(workspace=workspace, name="Already here", email="here@example.com")
    people_before = list(Person.objects.order_by("pk").values())
    entries_before = LogEntry.objects.count()
    data = csv_bytes(
        "Ann,ann@example.com,,,,,,,",
        "Ben,ben@example.com,12345,,,,,,",
        "Here Again,here@example.com,,,1980-01-02,,,,",
    )

    error = rejected(workspace, data)

    assert error.code == "invalid_rows"
    assert error.status_code == 400
    assert error.extra["errors"] == [
        {
            "row": 3,
            "field": "phone",
            "message": "Enter a phone number in international E.164 form, e.g. +14155550100.",
        }
    ]
    assert error.extra["error_count"] == 1
    assert "1 row of 3 has errors; nothing was imported" in error.message
    assert list(Person.objects.order_by("pk").values()) == people_before
    assert LogEntry.objects.count() == entries_before


def test_partial_imports_the_good_rows_and_reports_the_bad_ones(workspace):
    data = csv_bytes(
        "Ann,ann@example.com,,,,,,,",
        "Ben,ben@example.com,12345,,,,,,",
        ",nameless@example.com,,,,,,,",
        "Cid,cid@example.com,,,1990-02-30,,,,",
    )

    result = run(workspace, data, partial=True)

    assert (result.rows, result.created, result.skipped) == (4, 1, 3)
    assert [(e.row, e.field) for e in result.errors] == [(3, "phone"), (4, "name"), (5, "birthday")]
    assert set(people(workspace)) == {"Ann"}
    assert result.as_dict()["error_count"] == 3


def test_dry_run_counts_and_writes_nothing(workspace):
    PersonFactory(workspace=workspace, name="Ann", email="ann@example.com")
    data = csv_bytes("Ann Updated,ann@example.com,,,,,,,", "New,new@example.com,,,,,,,")
    entries_before = LogEntry.objects.count()

    result = run(workspace, data, dry_run=True)

    assert (result.created, result.updated, result.dry_run) == (1, 1, True)
    assert set(people(workspace)) == {"Ann"}
    assert LogEntry.objects.count() == entries_before


# --- idempotency --------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(workspace):
    run(workspace, GOOD)
    snapshot = list(Person.objects.order_by("pk").values())
    entries = LogEntry.objects.filter(content_type__model="person").count()

    result = run(workspace, GOOD)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(Person.objects.order_by("pk").values()) == snapshot
    assert LogEntry.objects.filter(content_type__model="person").count() == entries


def test_rows_update_the_person_with_the_same_email_else_the_same_phone(workspace):
    by_email = PersonFactory(workspace=workspace, name="Old Name", email="Ann@Example.com", phone="")
    by_phone = PersonFactory(workspace=workspace, name="Phone Only", email="", phone="+4915112345678")
    data = csv_bytes(
        "Ann New,ann@example.com,,,1990-05-06,,,,",
        "Phone Person,phone@example.com,+49 151 12345678,,,,,,",
    )

    result = run(workspace, data)

    assert (result.created, result.updated) == (0, 2)
    assert Person.objects.filter(workspace=workspace).count() == 2
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert (by_email.name, by_email.birth_year) == ("Ann New", 1990)
    assert (by_phone.name, by_phone.email) == ("Phone Person", "phone@example.com")
    change = LogEntry.objects.get(object_pk=str(by_email.pk), action=LogEntry.Action.UPDATE)
    assert change.changes["name"] == ["Old Name", "Ann New"]
    assert set(change.changes) == {"name", "birth_day", "birth_year"}  # the email matched: its spelling stays
    assert by_email.email == "Ann@Example.com"


def test_empty_cells_keep_the_current_values_and_a_birthday_replaces_the_whole_birthday(workspace):
    person = PersonFactory(
        workspace=workspace,
        name="Ann",
        email="ann@example.com",
        phone="+14155550100",
        birth_month=1,
        birth_day=2,
        birth_year=1980,
        preferred_channels=["sms"],
    )
    run(workspace, csv_bytes("Ann,ann@example.com,,,--03-04,,,,"))
    person.refresh_from_db()
    assert person.phone == "+14155550100"
    assert person.preferred_channels == ["sms"]
    assert (person.birth_month, person.birth_day, person.birth_year) == (3, 4, None)


def test_people_of_another_workspace_are_never_matched(workspace):
    other = PersonFactory(workspace=WorkspaceFactory(), name="Elsewhere", email="ann@example.com")
    run(workspace, csv_bytes("Ann,ann@example.com,,,,,,,"))
    other.refresh_from_db()
    assert other.name == "Elsewhere"
    assert Person.objects.get(workspace=workspace).name == "Ann"


def test_duplicates_within_the_file_are_row_errors(workspace):
    PersonFactory(workspace=workspace, name="Both", email="both@example.com", phone="+4915112345678")
    data = csv_bytes(
        "Ann,ann@example.com,+14155550100,,,,,,",
        "Ann Again,ANN@example.com,,,,,,,",
        "Same Phone,other@example.com,+1 415 555 0100,,,,,,",
        "Both,both@example.com,,,,,,,",  # matches the stored person by email...
        "Both By Phone,,+4915112345678,,,,,,",  # ...and this row the same person by phone
    )

    error = rejected(workspace, data)

    assert [(e["row"], e["field"], e["message"]) for e in error.extra["errors"]] == [
        (3, "email", "The same email as row 2."),
        (4, "phone", "The same phone as row 2."),
        (6, None, "Row 5 is about the same person."),
    ]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("Ann,,12345,,,,,,", "phone", "Enter a phone number in international E.164 form, e.g. +14155550100."),
        ("Ann,,+1 415 555,,,,,,", "phone", "'+1 415 555' is not a valid phone number."),
        ("Ann,,,,1990-02-30,,,,", "birthday", "Day 30 does not exist in February 1990."),
        ("Ann,,,,1991-02-29,,,,", "birthday", "Day 29 does not exist in February 1991."),
        ("Ann,,,,2999-01-01,,,,", "birthday", "A birthday cannot be in the future."),
        ("Ann,,,,1850-01-01,,,,", "birthday", "Birth year must be 1900 or later."),
        ("Ann,,,,13-01,,,,", "birthday", "Month must be between 1 and 12."),
        (
            "Ann,,,,01/02/1990,,,,",
            "birthday",
            "'01/02/1990' is not a birthday; use YYYY-MM-DD, or --MM-DD (or MM-DD) without a year.",
        ),
        ("Ann,,,,,2020-13-01,,,", "joined_on", "'2020-13-01' is not a date; use YYYY-MM-DD."),
        ("Ann,,,,,,maybe,,", "show_age", "Enter true or false (also yes/no, 1/0)."),
        ("Ann,,,@ann,,,,,", "slack_user_id", "Enter a Slack member ID such as U012ABCDEF (not a @name)."),
        ("Ann,nope,,,,,,,", "email", "'nope' is not a valid email address."),
        ("Ann,,,,,,,fax,", "preferred_channels", "Unknown channel 'fax'; choose from slack, email, sms, whatsapp."),
        (
            "Ann,,,,,,,,pigeon",
            "opted_out_channels",
            "Unknown channel 'pigeon'; choose from slack, email, sms, whatsapp.",
        ),
        ("Ann,,,,,,,sms;sms,", "preferred_channels", "A channel may appear only once."),
        ("Ann,,,,,,,sms;email,sms", "opted_out_channels", "sms cannot be both preferred and opted out."),
        ("Ann,,,,,,,,,extra", None, "This row has 10 values, but the header has 9 columns."),
        (f"{'A' * 201},,,,,,,,", "name", "Ensure this field has no more than 200 characters."),
    ],
)
def test_each_bad_value_is_a_row_error(workspace, line, field, message):
    error = rejected(workspace, csv_bytes(line))
    assert error.extra["errors"] == [{"row": 2, "field": field, "message": message}]
    assert not Person.objects.filter(workspace=workspace).exists()


def test_a_preference_that_clashes_with_the_stored_opt_out_is_refused(workspace):
    PersonFactory(workspace=workspace, email="ann@example.com", opted_out_channels=["sms"])
    error = rejected(workspace, csv_bytes("Ann,ann@example.com,,,,,,sms,"))
    assert error.extra["errors"] == [
        {"row": 2, "field": "opted_out_channels", "message": "sms cannot be both preferred and opted out."}
    ]


@pytest.mark.parametrize(
    ("header", "unknown", "missing"),
    [
        ("email,phone", [], ["name"]),
        ("name,e-mail address,birthdate", ["e-mail address", "birthdate"], []),
        ("name,name", [], []),
        ("name,birthday,birth_month", [], []),
        ("name,birth_month", [], []),
    ],
)
def test_wrong_headers_are_refused_listing_the_expected_ones(workspace, header, unknown, missing):
    error = rejected(workspace, f"{header}\nAnn,x\n".encode())
    assert error.code == "invalid_headers"
    assert "Expected columns: name (required), email, phone" in error.message
    assert error.extra["expected_headers"][:3] == ["name", "email", "phone"]
    assert error.extra["unknown_headers"] == unknown
    assert error.extra["missing_headers"] == missing


def test_latin1_bytes_are_refused_naming_the_encoding_problem(workspace):
    data = "name,email\nJosé,jose@example.com\n".encode("latin-1")
    error = rejected(workspace, data)
    assert error.code == "invalid_encoding"
    assert "not valid UTF-8" in error.message
    assert "byte 0xe9 on line 2" in error.message
    assert error.extra["line"] == 2


def test_utf16_is_refused(workspace):
    error = rejected(workspace, "name\nAnn\n".encode("utf-16"))
    assert error.code == "invalid_encoding"
    assert "UTF-16" in error.message


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf", b"name,email\n", b"name,email\n,\n\n"])
def test_an_empty_file_is_refused(workspace, data):
    assert rejected(workspace, data).code == "empty_file"


def test_nul_characters_and_broken_quoting_are_refused(workspace):
    assert rejected(workspace, b"name\nA\x00nn\n").code == "invalid_csv"
    assert rejected(workspace, b'name,email\n"Ann,ann@example.com\n').code == "invalid_csv"


def test_too_many_rows_are_refused(workspace, settings):
    settings.PEOPLE_IMPORT_MAX_ROWS = 3
    assert run(workspace, csv_bytes(*[f"P{n},,,,,,,," for n in range(3)])).created == 3
    error = rejected(workspace, csv_bytes(*[f"Q{n},,,,,,,," for n in range(4)]))
    assert error.code == "too_many_rows"
    assert error.extra["max_rows"] == 3
    assert not Person.objects.filter(name__startswith="Q").exists()


def test_at_most_a_thousand_errors_are_listed(workspace):
    data = csv_bytes(*[f"P{n},bad-{n},,,,,,," for n in range(1_200)])
    error = rejected(workspace, data)
    assert len(error.extra["errors"]) == 1_000
    assert error.extra["error_count"] == 1_200
    assert error.extra["errors_truncated"] is True


# --- the management command ---------------------------------------------------------------


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(GOOD)
    return path


def test_command_imports_a_file_by_workspace_slug_or_id(workspace, csv_file):
    out = StringIO()
    call_command("import_people", str(csv_file), workspace=workspace.slug, stdout=out)
    assert out.getvalue().strip() == (
        f"Imported people.csv into {workspace.slug}: 3 rows, created 3, updated 0, unchanged 0."
    )
    out = StringIO()
    call_command("import_people", str(csv_file), workspace=str(workspace.pk), stdout=out)
    assert "created 0, updated 0, unchanged 3" in out.getvalue()
    summary = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("timestamp")
    assert summary.actor_id is None
    assert summary.additional_data["details"]["source"] == "command"


def test_command_dry_run_writes_nothing(workspace, csv_file):
    out = StringIO()
    call_command("import_people", str(csv_file), workspace=workspace.slug, dry_run=True, stdout=out)
    assert "Would import people.csv" in out.getvalue()
    assert "would create 3" in out.getvalue()
    assert not Person.objects.filter(workspace=workspace).exists()


def test_command_refuses_a_bad_file_listing_the_rows(workspace, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("Ann,,12345,,,,,,", "Ben,,,,2999-01-01,,,,"))
    err = StringIO()
    with pytest.raises(CommandError, match="2 rows of 2 have errors; nothing was imported"):
        call_command("import_people", str(path), workspace=workspace.slug, stderr=err)
    assert "row 2, phone: Enter a phone number" in err.getvalue()
    assert "row 3, birthday: A birthday cannot be in the future." in err.getvalue()
    assert not Person.objects.filter(workspace=workspace).exists()


def test_command_partial_and_json(workspace, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(csv_bytes("Ann,,12345,,,,,,", "Ben,,,,,,,,"))
    out = StringIO()
    call_command("import_people", str(path), workspace=workspace.slug, partial=True, as_json=True, stdout=out)
    assert '"created": 1' in out.getvalue()
    assert '"skipped": 1' in out.getvalue()
    assert set(people(workspace)) == {"Ben"}


def test_command_errors_for_an_unknown_workspace_or_file(workspace, tmp_path):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("import_people", str(tmp_path / "x.csv"), workspace="nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_people", str(tmp_path / "missing.csv"), workspace=workspace.slug)

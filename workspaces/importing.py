"""CSV import of people: ``POST …/people/import`` and ``manage.py import_people``.

The file is UTF-8 (a BOM is fine), comma-separated (a header with semicolons and no
commas switches to semicolons), with a header row. Columns, case-insensitive, in any
order (spaces and hyphens count as underscores):

    name (required), email, phone, slack_user_id,
    birthday (YYYY-MM-DD, or --MM-DD / MM-DD without a year)
        — or birth_month, birth_day, birth_year,
    joined_on (YYYY-MM-DD), show_age (true/false, yes/no, 1/0),
    preferred_channels, opted_out_channels ("sms;email": slack, email, sms, whatsapp)

The rules are the People API's: a name, a valid email, an E.164 phone, a Slack member id,
a birthday that exists and is not in the future, known channels, none both preferred and
opted out.

How an import goes:

1. Every row is checked before anything is written; errors name the row (the header is
   row 1, as in a spreadsheet), the column and what is wrong.
2. Each row is matched to an existing person of the workspace by email (case-insensitive),
   else by phone: a match is updated, otherwise a person is created — importing the same
   file twice changes nothing the second time. Two rows for the same person (same email,
   same phone, or both matching one person) are an error on the later row. Rows with
   neither email nor phone always create a person.
3. On an update, empty cells keep the current value (an import never erases); a birthday
   given in a row replaces the whole birthday (month, day and year).
4. Any bad row: nothing is imported (``ImportRejected``), unless ``partial``: then the
   good rows are imported and the bad ones reported as skipped. ``dry_run`` does all the
   checking and counting and writes nothing.
5. The writes are ``bulk_create``/``bulk_update`` in chunks inside one transaction, with the
   workspace row locked (two imports into one workspace run one after the other); the
   existing people are read with one query. Each created or changed person gets an audit
   entry, the import one more; the cached birthdays are invalidated once.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, transaction
from django.utils import timezone as dj_timezone

from audit import entries as audit
from birthdaybuddy.errors import ApplicationError
from birthdaybuddy.validators import SLACK_USER_ID_RE, normalize_phone
from workspaces import cache as bb_cache
from workspaces.models import Channel, Person, Workspace, validate_birthday, validate_channels

if TYPE_CHECKING:
    from accounts.models import User


COLUMNS = (
    "name",
    "email",
    "phone",
    "slack_user_id",
    "birthday",
    "birth_month",
    "birth_day",
    "birth_year",
    "joined_on",
    "show_age",
    "preferred_channels",
    "opted_out_channels",
)
REQUIRED_COLUMNS = ("name",)
BIRTHDAY_PARTS = ("birth_month", "birth_day", "birth_year")
CHANNEL_COLUMNS = ("preferred_channels", "opted_out_channels")
# Person fields an import may set.
IMPORTED_FIELDS = (
    "name",
    "email",
    "phone",
    "slack_user_id",
    *BIRTHDAY_PARTS,
    "joined_on",
    "show_age",
    *CHANNEL_COLUMNS,
)
DEFAULT_MAX_ROWS = 100_000
MAX_REPORTED_ERRORS = 1_000
WRITE_CHUNK = 2_000
PHONE_INPUT_MAX = 32

_BIRTHDAY_RE = re.compile(r"(?:(?P<year>\d{4})-|--)?(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHANNEL_SPLIT_RE = re.compile(r"[;,|\s]+")
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})

KNOWN_CHANNELS = frozenset(Channel.values)
NAME_MAX = Person._meta.get_field("name").max_length
EMAIL_MAX = Person._meta.get_field("email").max_length


def max_rows() -> int:
    return getattr(settings, "PEOPLE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def expected_columns() -> list[str]:
    return [f"{name} (required)" if name in REQUIRED_COLUMNS else name for name in COLUMNS]


# --- errors and results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportRejected(ApplicationError):
    """The file cannot be imported (400): a file-level problem, or bad rows without ``partial``."""

    def __init__(self, message: str, *, code: str, errors: list[RowError] | None = None, **extra: Any):
        errors = errors or []
        body: dict[str, Any] = {"errors": [error.as_dict() for error in errors[:MAX_REPORTED_ERRORS]]}
        if errors:
            body["error_count"] = len(errors)
            body["errors_truncated"] = len(errors) > MAX_REPORTED_ERRORS
        body.update(extra)
        super().__init__(message, code=code, extra=body)
        self.row_errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    partial: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
            "partial": self.partial,
            "error_count": len(self.errors),
            "errors_truncated": len(self.errors) > MAX_REPORTED_ERRORS,
            "errors": [error.as_dict() for error in self.errors[:MAX_REPORTED_ERRORS]],
        }


# --- reading the file -----------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a BOM. Anything else is refused with where it broke."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected("The file is UTF-16; save it as 'CSV UTF-8' and upload it again.", code="invalid_encoding")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRejected(
            f"The file is not valid UTF-8: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded "
            "(is it Latin-1 or Windows-1252?). Save it as 'CSV UTF-8' and upload it again.",
            code="invalid_encoding",
            line=line,
        ) from None
    if "\x00" in text:
        raise ImportRejected("The file contains NUL characters; is it really a CSV file?", code="invalid_csv")
    return text


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _header_columns(header: list[str]) -> list[str]:
    columns = [_normalise_header(name) for name in header]
    # A blank header cell (spreadsheets leave trailing empty columns) names no column: ignored.
    unknown = [raw.strip() for raw, name in zip(header, columns, strict=True) if name and name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    repeated = sorted({name for name in columns if name in COLUMNS and columns.count(name) > 1})
    problems = []
    if unknown:
        problems.append("unknown column(s) " + ", ".join(repr(name) for name in unknown))
    if missing:
        problems.append("missing required column(s) " + ", ".join(missing))
    if repeated:
        problems.append("repeated column(s) " + ", ".join(repeated))
    present = set(columns)
    if "birthday" in present and present & set(BIRTHDAY_PARTS):
        problems.append("give the birthday either as 'birthday' or as birth_month/birth_day/birth_year, not both")
    elif present & {"birth_month", "birth_day"} and not {"birth_month", "birth_day"} <= present:
        problems.append("birth_month and birth_day go together")
    if problems:
        raise ImportRejected(
            f"The header row is not right: {'; '.join(problems)}. Expected columns: {', '.join(expected_columns())}.",
            code="invalid_headers",
            expected_headers=list(COLUMNS),
            required_headers=list(REQUIRED_COLUMNS),
            unknown_headers=unknown,
            missing_headers=missing,
        )
    return columns


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    if "," not in first_line and ";" in first_line:
        return ";"
    if "," not in first_line and "\t" in first_line:
        return "\t"
    return ","


@dataclass(slots=True)
class Row:
    number: int
    cells: dict[str, str]
    problem: str | None = None  # the row as a whole does not fit the header


def read_rows(text: str) -> tuple[list[str], list[Row]]:
    """The header's columns and the non-blank rows, numbered as a spreadsheet numbers them."""
    if not text.strip():
        raise ImportRejected("The file is empty.", code="empty_file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    limit = max_rows()
    rows: list[Row] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number == 1:
                columns = _header_columns(record)
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= limit:
                raise ImportRejected(
                    f"The file has more than {limit:,} rows; split it into smaller files.",
                    code="too_many_rows",
                    max_rows=limit,
                )
            if len(record) > len(columns):
                problem = f"This row has {len(record)} values, but the header has {len(columns)} columns."
                rows.append(Row(number, {}, problem))
                continue
            if any(value.strip() for name, value in zip(columns, record, strict=False) if not name):
                rows.append(Row(number, {}, "This row has a value in a column without a header."))
                continue
            rows.append(Row(number, {name: value for name, value in zip(columns, record, strict=False) if name}))
    except csv.Error as exc:
        raise ImportRejected(f"The file is not valid CSV (row {number + 1}): {exc}.", code="invalid_csv") from None
    if number == 0:
        raise ImportRejected("The file is empty.", code="empty_file")
    if not rows:
        raise ImportRejected("The file has a header row but no people in it.", code="empty_file")
    return columns, rows


# --- checking one row (no database) ---------------------------------------------------------


@dataclass(slots=True)
class Candidate:
    """A row's values, checked one by one. ``values`` holds only the columns given non-empty."""

    number: int
    values: dict[str, Any]
    birthday_column: str | None = None  # the column the birthday came from, for error messages
    errors: list[RowError] = field(default_factory=list)

    @property
    def email_key(self) -> str | None:
        email = self.values.get("email")
        return email.lower() if email else None

    @property
    def phone_key(self) -> str | None:
        return self.values.get("phone") or None


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("Enter true or false (also yes/no, 1/0).")


def _parse_channels(text: str) -> list[str]:
    return [part.lower() for part in _CHANNEL_SPLIT_RE.split(text) if part]


def _channel_errors(preferred: list[str], opted_out: list[str]) -> dict[str, str]:
    """``validate_channels``, with a fast answer for the common case of nothing wrong."""
    if (
        isinstance(preferred, list)
        and isinstance(opted_out, list)
        and KNOWN_CHANNELS.issuperset(preferred)
        and KNOWN_CHANNELS.issuperset(opted_out)
        and len(set(preferred)) == len(preferred)
        and len(set(opted_out)) == len(opted_out)
        and not set(preferred) & set(opted_out)
    ):
        return {}
    return validate_channels(preferred, opted_out)


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"\d{1,4}", text):
        raise ValueError("Enter a whole number.")
    return int(text)


def check_row(row: Row, *, today: date) -> Candidate:
    candidate = Candidate(row.number, {})
    values = candidate.values

    def error(column: str | None, message: str) -> None:
        candidate.errors.append(RowError(row.number, column, message))

    if row.problem:
        error(None, row.problem)
        return candidate
    cells = {column: (text or "").strip() for column, text in row.cells.items()}

    name = cells.get("name", "")
    if not name:
        error("name", "A name is required.")
    elif len(name) > NAME_MAX:
        error("name", f"Ensure this field has no more than {NAME_MAX} characters.")
    else:
        values["name"] = name

    if email := cells.get("email"):
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError(f"Ensure this field has no more than {EMAIL_MAX} characters.")
            validate_email(email)
            values["email"] = email
        except ValidationError:
            error("email", f"{email!r} is not a valid email address.")

    if phone := cells.get("phone"):
        try:
            if len(phone) > PHONE_INPUT_MAX:
                raise ValidationError(f"Ensure this field has no more than {PHONE_INPUT_MAX} characters.")
            values["phone"] = normalize_phone(phone)
        except ValidationError as exc:
            error("phone", exc.messages[0])

    if slack_user_id := cells.get("slack_user_id"):
        if SLACK_USER_ID_RE.fullmatch(slack_user_id):
            values["slack_user_id"] = slack_user_id
        else:
            error("slack_user_id", "Enter a Slack member ID such as U012ABCDEF (not a @name).")

    _check_birthday(cells, candidate, error, today=today)

    if joined_on := cells.get("joined_on"):
        try:
            if not _DATE_RE.fullmatch(joined_on):
                raise ValueError
            values["joined_on"] = date.fromisoformat(joined_on)
        except ValueError:
            error("joined_on", f"{joined_on!r} is not a date; use YYYY-MM-DD.")

    if show_age := cells.get("show_age"):
        try:
            values["show_age"] = _parse_bool(show_age)
        except ValueError as exc:
            error("show_age", str(exc))

    for column in CHANNEL_COLUMNS:
        if text := cells.get(column):
            channels = _parse_channels(text)
            problem = _channel_errors(channels, []).get("preferred_channels")
            if problem:
                error(column, problem)
            else:
                values[column] = channels
    return candidate


def _check_birthday(cells: dict[str, str], candidate: Candidate, error, *, today: date) -> None:
    if text := cells.get("birthday"):
        candidate.birthday_column = "birthday"
        match = _BIRTHDAY_RE.fullmatch(text)
        if match is None:
            error("birthday", f"{text!r} is not a birthday; use YYYY-MM-DD, or --MM-DD (or MM-DD) without a year.")
            return
        year = int(match["year"]) if match["year"] else None
        month, day = int(match["month"]), int(match["day"])
    elif any(cells.get(part) for part in BIRTHDAY_PARTS):
        parsed: dict[str, int | None] = {}
        for part in BIRTHDAY_PARTS:
            raw = cells.get(part)
            try:
                parsed[part] = _parse_int(raw) if raw else None
            except ValueError as exc:
                error(part, str(exc))
                return
        month, day, year = parsed["birth_month"], parsed["birth_day"], parsed["birth_year"]
    else:
        return
    problems = validate_birthday(month, day, year, today=today)
    if problems:
        for part, message in problems.items():
            error(candidate.birthday_column or part, message)
        return
    candidate.values.update({"birth_month": month, "birth_day": day, "birth_year": year})


# --- planning against the workspace ---------------------------------------------------------


@dataclass
class Plan:
    create: list[Person] = field(default_factory=list)
    update: list[tuple[Person, Person]] = field(default_factory=list)  # (before, after)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)


def _existing_people(workspace: Workspace) -> tuple[dict[str, Person], dict[str, Person]]:
    """The workspace's people by lower-cased email and by phone (the oldest wins a tie): one query."""
    by_email: dict[str, Person] = {}
    by_phone: dict[str, Person] = {}
    people = Person.objects.for_workspace(workspace).exclude(email="", phone="").order_by("created_at", "pk")
    for person in people.iterator(chunk_size=WRITE_CHUNK):
        if person.email:
            by_email.setdefault(person.email.lower(), person)
        if person.phone:
            by_phone.setdefault(person.phone, person)
    return by_email, by_phone


def _merged_errors(candidate: Candidate, person: Person | None) -> list[RowError]:
    """Rules that span fields, on the values the person would end up with."""
    values = candidate.values

    def current(name: str, default: Any = None) -> Any:
        if name in values:
            return values[name]
        return getattr(person, name) if person is not None else default

    # A row's birthday replaces the whole birthday and was checked on its own; the channel
    # lists may combine a new list with the person's current other list.
    errors = []
    channel_problems = _channel_errors(current("preferred_channels", []), current("opted_out_channels", []))
    for column, message in channel_problems.items():
        errors.append(RowError(candidate.number, column, message))
    return errors


def plan_import(*, workspace: Workspace, candidates: list[Candidate]) -> Plan:
    plan = Plan()
    by_email, by_phone = _existing_people(workspace)
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    seen_person: dict[Any, int] = {}
    now = dj_timezone.now()

    for candidate in candidates:
        errors = list(candidate.errors)
        email, phone = candidate.email_key, candidate.phone_key
        person = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        # Duplicates are judged against every earlier row, good or bad: which of two rows
        # about one person is right is for the file's author to say.
        if email and email in seen_email:
            errors.append(RowError(candidate.number, "email", f"The same email as row {seen_email[email]}."))
        elif phone and phone in seen_phone:
            errors.append(RowError(candidate.number, "phone", f"The same phone as row {seen_phone[phone]}."))
        elif person is not None and person.pk in seen_person:
            errors.append(RowError(candidate.number, None, f"Row {seen_person[person.pk]} is about the same person."))
        if email:
            seen_email.setdefault(email, candidate.number)
        if phone:
            seen_phone.setdefault(phone, candidate.number)
        if person is not None:
            seen_person.setdefault(person.pk, candidate.number)
        if not errors:
            errors = _merged_errors(candidate, person)
        if errors:
            plan.errors.extend(errors)
            plan.bad_rows.add(candidate.number)
            continue
        if person is None:
            plan.create.append(Person(workspace=workspace, created_at=now, updated_at=now, **candidate.values))
            continue
        changes = {
            name: value
            for name, value in candidate.values.items()
            if getattr(person, name) != value
            # an email matched case-insensitively keeps its stored spelling
            and not (name == "email" and person.email.lower() == value.lower())
        }
        if not changes:
            plan.unchanged += 1
            continue
        before = copy.copy(person)
        for name, value in changes.items():
            setattr(person, name, value)
        person.updated_at = now
        plan.update.append((before, person))
    return plan


# --- the import -----------------------------------------------------------------------------


def _write(plan: Plan) -> None:
    Person.objects.bulk_create(plan.create, batch_size=WRITE_CHUNK)
    # One UPDATE per chunk, with only the columns that changed somewhere in that chunk.
    chunk_size = WRITE_CHUNK // 2
    for start in range(0, len(plan.update), chunk_size):
        chunk = plan.update[start : start + chunk_size]
        fields = {"updated_at"}
        for before, after in chunk:
            fields.update(name for name in IMPORTED_FIELDS if getattr(before, name) != getattr(after, name))
        _update_people([after for _, after in chunk], sorted(fields))


def _update_people(people: list[Person], fields: list[str]) -> None:
    """``UPDATE … FROM (VALUES …)``: one set-based statement per chunk.

    Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per field and row, which
    takes seconds per thousand rows to compile; a VALUES list is cheap to build and to run.
    PostgreSQL and SQLite (3.33+) both understand it; other databases get ``bulk_update``.
    """
    connection = connections[Person.objects.db]
    if connection.vendor not in ("postgresql", "sqlite"):
        Person.objects.bulk_update(people, fields)
        return
    meta = Person._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connection.vendor == "postgresql":
        # VALUES rows carry no types; cast each value to its column's.
        placeholders = [f"CAST(%s AS {field.db_type(connection)})" for field in columns]
    else:
        placeholders = ["%s"] * len(columns)
    row = "(" + ", ".join(placeholders) + ")"
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in columns)
    values = ", ".join([row] * len(people))
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    pk = quote(meta.pk.column)
    # Only quoted column names from the model go into the text; every value is a parameter.
    sql = f"WITH v ({names}) AS (VALUES {values}) UPDATE {table} SET {assignments} FROM v WHERE {table}.{pk} = v.{pk}"  # noqa: S608
    params = [
        field.get_db_prep_save(getattr(person, field.attname), connection) for person in people for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def people_import(
    *,
    workspace: Workspace,
    data: bytes,
    partial: bool = False,
    dry_run: bool = False,
    actor: User | None = None,
    source: str = "api",
    filename: str | None = None,
    today: date | None = None,
) -> ImportResult:
    """Imports people from CSV ``data`` into ``workspace`` (see the module docstring).

    Raises :class:`ImportRejected` for a file that cannot be read, or for bad rows unless
    ``partial``; nothing is written then.
    """
    today = today or dj_timezone.localdate()
    _, rows = read_rows(decode(data))
    candidates = [check_row(row, today=today) for row in rows]
    with transaction.atomic():
        if not dry_run:
            # One import per workspace at a time: both would otherwise create the same new people.
            Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        plan = plan_import(workspace=workspace, candidates=candidates)
        plan.errors.sort(key=lambda error: error.row)
        if plan.errors and not partial:
            bad = len(plan.bad_rows)
            raise ImportRejected(
                f"{bad} row{'s' if bad != 1 else ''} of {len(rows)} {'have' if bad != 1 else 'has'} errors; "
                "nothing was imported. Fix them, or import only the good rows with partial=1.",
                code="invalid_rows",
                errors=plan.errors,
            )
        result = ImportResult(
            rows=len(rows),
            created=len(plan.create),
            updated=len(plan.update),
            unchanged=plan.unchanged,
            skipped=len(plan.bad_rows),
            dry_run=dry_run,
            partial=partial,
            errors=plan.errors,
        )
        if dry_run:
            return result
        _write(plan)
        audit.audit_bulk_changes(
            workspace=workspace,
            actor=actor,
            created=plan.create,
            updated=plan.update,
            extra={"via": "people.import"},
        )
        details = {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "source": source,
        }
        if filename:
            details["filename"] = filename[:200]
        audit.audit_manual_send(
            workspace=workspace, actor=actor, action="people.import", target=workspace, details=details
        )
        if plan.create or plan.update:
            bb_cache.birthdays_bump(workspace.pk)
    return result

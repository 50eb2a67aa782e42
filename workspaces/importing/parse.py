"""Reading the CSV file and checking each row on its own (no database)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from birthdaybuddy.validators import SLACK_USER_ID_RE, normalize_phone
from workspaces.importing.results import ImportRejected, RowError
from workspaces.models import PERSONAL_CHANNELS, Person, validate_birthday, validate_channels

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
WRITE_CHUNK = 2_000
PHONE_INPUT_MAX = 32

_BIRTHDAY_RE = re.compile(r"(?:(?P<year>\d{4})-|--)?(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHANNEL_SPLIT_RE = re.compile(r"[;,|\s]+")
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})

KNOWN_CHANNELS = frozenset(PERSONAL_CHANNELS)
NAME_MAX = Person._meta.get_field("name").max_length
EMAIL_MAX = Person._meta.get_field("email").max_length


def max_rows() -> int:
    return getattr(settings, "PEOPLE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def expected_columns() -> list[str]:
    return [f"{name} (required)" if name in REQUIRED_COLUMNS else name for name in COLUMNS]


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


def channel_errors(preferred: list[str], opted_out: list[str]) -> dict[str, str]:
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
            problem = channel_errors(channels, []).get("preferred_channels")
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

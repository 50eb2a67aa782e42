"""What an import reports: a row's error, a refused file, the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from birthdaybuddy.errors import ApplicationError

MAX_REPORTED_ERRORS = 1_000


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

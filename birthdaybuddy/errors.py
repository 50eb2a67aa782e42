"""Errors the service layer raises; the API's exception handler turns them into JSON."""

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A business rule said no. Carries an HTTP status, a stable code and a message."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, extra=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status is not None:
            self.status_code = status
        self.extra = extra or {}


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


# Collected field errors: a service checks every field, then refuses once, naming each problem.
FieldErrors = dict[str, list[ValidationError]]


def raise_if_errors(errors: FieldErrors) -> None:
    """Raises one ``ValidationError`` (400, ``errors`` by field) when any field had a problem."""
    if errors:
        raise ValidationError(errors)

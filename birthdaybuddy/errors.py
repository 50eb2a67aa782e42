"""Errors the service layer raises; the API's exception handler turns them into JSON."""


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

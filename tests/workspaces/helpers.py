"""Assertions shared by the workspaces tests."""

from contextlib import contextmanager

from accounts.models import User
from workspaces.models import Invitation, Membership, Person, Workspace

TRACKED_MODELS = (Workspace, Membership, Invitation, Person, User)


def db_state() -> dict[str, list[dict]]:
    """Every row of every workspaces model (and users), for "this request changed nothing" checks."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in TRACKED_MODELS}


@contextmanager
def unchanged():
    before = db_state()
    yield
    after = db_state()
    for name, rows in before.items():
        assert after[name] == rows, f"{name} rows changed"


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is a JSON error with ``detail`` and ``code`` (and ``errors[field]`` if given)."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    assert isinstance(body.get("code"), str)
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body["errors"], body
    return body

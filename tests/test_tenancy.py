"""Tenancy isolation: a member of workspace B can neither see nor change anything of workspace A.

The test walks every URL pattern the root resolver knows whose route mentions
``workspace_id`` and, for each HTTP method its view allows, calls it as the owner of B
with A's id in the path (and, for other path ids, the id of a real object of A of the
view's model). Every call must answer 404 (403 is tolerated for list/create), must not
change A's data and must not echo A's data. A route added later is covered without
touching this file; a view that forgets ``WorkspaceScopedMixin`` makes it fail.

A positive control proves the ids are real: the same GET as A's owner is not a 404.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import models, transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RoutePattern
from factory.django import DjangoModelFactory

import tests
from tests.conftest import client_for
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role, Workspace

WORKSPACE_KWARG = "workspace_id"
METHODS = ("get", "post", "put", "patch", "delete", "options")
COLLECTION_ACTIONS = frozenset({"list", "create"})
# Routes that exist today; the walk must find at least these (so it cannot silently walk nothing).
KNOWN_ROUTE_NAMES = frozenset(
    {
        "workspace-detail",
        "workspace-member-list",
        "workspace-member-detail",
        "workspace-invitation-list",
        "workspace-invitation-detail",
        "workspace-person-list",
        "workspace-person-detail",
    }
)
# What a leaky write would try to set. Distinct strings make a leak easy to spot.
WRITE_PAYLOAD = {
    "name": "tenancy-probe",
    "title": "tenancy-probe",
    "email": "tenancy-probe@example.com",
    "role": Role.OWNER,
    "timezone": "Pacific/Auckland",
    "show_age": True,
    "active": False,
    "token": "tenancy-probe",
}
SECRET_NAME = "Alpha Secret Person"
SECRET_EMAIL = "alpha-secret@example.com"


# --- walking the URL tree -----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "api/v1/workspaces/<uuid:workspace_id>/people/<uuid:pk>/"
    name: str | None
    view_class: type | None
    actions: dict[str, str] | None  # viewsets: http method -> action
    converters: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def path_kwargs(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)

    def methods(self) -> list[str]:
        allowed = getattr(self.view_class, "http_method_names", METHODS)
        if self.actions is not None:
            candidates = [m for m in self.actions if m in allowed] + ["options"]
        elif self.view_class is not None:
            candidates = [m for m in METHODS if m in allowed and hasattr(self.view_class, m)]
        else:
            candidates = list(METHODS)  # a plain function view: try everything
        return [m for m in METHODS if m in candidates]

    def is_collection(self, method: str) -> bool:
        if self.actions is not None:
            return self.actions.get(method) in COLLECTION_ACTIONS
        return self.path_kwargs == [WORKSPACE_KWARG] and method in ("get", "post")

    def model(self) -> type[models.Model] | None:
        queryset = getattr(self.view_class, "queryset", None)
        if queryset is not None:
            return queryset.model
        serializer_class = getattr(self.view_class, "serializer_class", None)
        return getattr(getattr(serializer_class, "Meta", None), "model", None)


def _route_text(pattern) -> str:
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RoutePattern):
        return text
    # A regex level: drop anchors and turn named groups into <name> so both kinds read alike.
    text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text)


def _walk(resolver: URLResolver, prefix: str = "", converters: dict | None = None):
    for pattern in resolver.url_patterns:
        route = prefix + _route_text(pattern)
        found_converters = {**(converters or {}), **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, route, found_converters)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            yield Route(
                route=route,
                name=pattern.name,
                view_class=getattr(callback, "cls", None) or getattr(callback, "view_class", None),
                actions=getattr(callback, "actions", None),
                converters=found_converters,
            )


def workspace_routes() -> list[Route]:
    return [route for route in _walk(get_resolver()) if f"<{WORKSPACE_KWARG}>" in re.sub(r"<\w+:", "<", route.route)]


def cases() -> list:
    return [
        pytest.param(route, method, id=f"{method.upper()} {route.route}")
        for route in workspace_routes()
        for method in route.methods()
    ]


# --- objects of workspace A ---------------------------------------------------------------


@functools.cache
def _factories() -> dict[type[models.Model], type[DjangoModelFactory]]:
    """Every DjangoModelFactory in tests.factories and any tests.<app>.factories module."""
    modules = [importlib.import_module("tests.factories")]
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if info.name.endswith(".factories") and info.name != "tests.factories":
            modules.append(importlib.import_module(info.name))
    found = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DjangoModelFactory) and value._meta.model:
                found.setdefault(value._meta.model, value)
    return found


def _workspace_fk(model) -> str | None:
    for model_field in model._meta.get_fields():
        if isinstance(model_field, models.ForeignKey) and model_field.related_model is Workspace:
            return model_field.name
    return None


def object_of(model, workspace: Workspace):
    """An object of ``model`` that belongs to ``workspace`` (created with a factory if needed)."""
    if model is None:
        return None
    if model is Workspace:
        return workspace
    fk = _workspace_fk(model)
    if fk is None:
        return None
    obj = model._default_manager.filter(**{fk: workspace}).first()
    factory = _factories().get(model)
    if obj is None and factory is not None:
        try:
            with transaction.atomic():
                obj = factory(**{fk: workspace})
        except Exception:
            obj = None
    return obj


def workspace_data(workspace: Workspace) -> dict[str, list[dict]]:
    """Every row of every model that belongs to ``workspace``, and the workspace itself."""
    data = {"Workspace": list(Workspace.objects.filter(pk=workspace.pk).values())}
    for model in apps.get_models():
        fk = _workspace_fk(model)
        if fk is not None:
            data[model._meta.label] = list(model._default_manager.filter(**{fk: workspace}).order_by("pk").values())
    return data


def secrets_of(workspace: Workspace) -> set[str]:
    """Strings that must never appear in a response to an outsider."""
    markers = {workspace.name, workspace.slug, SECRET_NAME, SECRET_EMAIL}
    for rows in workspace_data(workspace).values():
        for row in rows:
            markers.add(str(row.get("id") or row.get("pk") or ""))
    markers.discard("")
    markers.discard(str(workspace.id))  # it is in the URL the outsider typed; bodies are checked below
    return markers


# --- the test -----------------------------------------------------------------------------


@pytest.fixture
def tenants(db):
    """Workspace A with an owner, a member, people and an invitation; workspace B with its owner."""
    alpha = WorkspaceFactory(name="Alpha Confidential Ltd", slug="alpha-confidential")
    owner_a = UserFactory()
    MembershipFactory(workspace=alpha, user=owner_a, role=Role.OWNER)
    MembershipFactory(workspace=alpha, role=Role.MEMBER)
    PersonFactory(workspace=alpha, name=SECRET_NAME, email=SECRET_EMAIL, birth_year=1970)
    InvitationFactory(workspace=alpha, email="alpha-invitee@example.com")
    beta = WorkspaceFactory(name="Beta")
    owner_b = UserFactory()
    MembershipFactory(workspace=beta, user=owner_b, role=Role.OWNER)
    PersonFactory(workspace=beta)
    return alpha, owner_a, owner_b


def _fill(route: Route, alpha: Workspace) -> tuple[str, bool]:
    """The concrete URL for ``route`` inside A, and whether every id in it is a real object of A."""
    obj = object_of(route.model(), alpha)
    all_real = True
    url = "/" + route.route
    for name in route.path_kwargs:
        if name == WORKSPACE_KWARG:
            value = str(alpha.id)
        elif obj is not None:
            value = str(obj.pk)
        else:
            all_real = False
            converter = route.converters.get(name)
            value = str(uuid.uuid4()) if converter is None or isinstance(converter, UUIDConverter) else "1"
        url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
    return url, all_real


def test_the_walk_finds_the_known_workspace_routes():
    names = {route.name for route in workspace_routes()}
    missing = KNOWN_ROUTE_NAMES - names
    assert not missing, f"the URL walk no longer finds {sorted(missing)}"
    assert len(cases()) >= 15


@pytest.mark.parametrize(("route", "method"), cases())
def test_outsider_gets_404_and_changes_nothing(tenants, route: Route, method: str):
    alpha, owner_a, owner_b = tenants
    url, all_real = _fill(route, alpha)
    before = workspace_data(alpha)
    secrets = secrets_of(alpha)

    outsider = client_for(owner_b)
    kwargs = {"format": "json"} if method in ("post", "put", "patch") else {}
    args = (WRITE_PAYLOAD,) if method in ("post", "put", "patch") else ()
    response = getattr(outsider, method)(url, *args, **kwargs)

    allowed = {403, 404} if route.is_collection(method) else {404}
    assert response.status_code in allowed, (
        f"{method.upper()} {url} as a member of another workspace answered {response.status_code}: "
        f"{response.content[:300]!r}. Does the view use WorkspaceScopedMixin?"
    )
    assert workspace_data(alpha) == before, f"{method.upper()} {url} changed workspace A's data"
    body = response.content.decode(errors="replace")
    leaked = sorted(secret for secret in secrets if secret in body)
    assert not leaked, f"{method.upper()} {url} leaked {leaked}"

    if method == "get" and all_real:
        # Positive control: the ids are real, so the 404 above came from tenancy, not from a typo.
        assert client_for(owner_a).get(url).status_code != 404, f"positive control: {url} is 404 for A's owner"


# --- links people receive (guest, card, account, preferences links) -----------------------------


def link_routes() -> list[Route]:
    """Every route opened by a secret in its path (``<token>``): found by the walk, so a new kind of
    link is covered without being listed here."""
    return [route for route in _walk(get_resolver()) if "<token>" in re.sub(r"<\w+:", "<", route.route)]


def _filled(route: Route) -> str:
    """The route with a forged token, made-up ids, and a well-formed but unknown uuid."""
    path = re.sub(r"<uuid:\w+>", str(uuid.uuid4()), route.route)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", "forged-" + r"\1", path)


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_the_walk_finds_every_kind_of_link():
    names = {route.name for route in link_routes()}
    assert {"rsvp", "gathering-plan", "card-wish", "invitation", "preferences", "password-reset"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", link_routes(), ids=lambda route: route.route)
def test_a_forged_link_opens_nothing_and_changes_nothing(client, tenants, route: Route, method: str):
    """A made-up token (with made-up ids beside it) answers 4xx on every link route, for a
    browser and for a JSON client, and writes nothing anywhere."""
    path = _filled(route)
    assert resolve(path).url_name == route.name  # the view itself answers, not the URL resolver's 404
    before = _row_counts()
    for accept in ("text/html", "application/json"):
        response = getattr(client, method)(path, HTTP_ACCEPT=accept)
        assert 400 <= response.status_code < 500, (route.route, accept, response.status_code)
    assert _row_counts() == before

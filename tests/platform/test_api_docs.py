"""The API docs work offline: Swagger UI and ReDoc from local files, the schema as JSON and YAML, tags in order."""

import json
import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT="text/html")


def assets_of(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)


@pytest.mark.parametrize("path", ["/api/docs/", "/docs", "/api/redoc/"])
def test_the_docs_pages_load_nothing_from_elsewhere(client, path):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), "no CDN"
    assert "fonts.googleapis" not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
    for asset in assets_of(html):
        if asset.startswith(settings.STATIC_URL) or asset.startswith("/" + settings.STATIC_URL):
            name = asset.split(settings.STATIC_URL, 1)[1]
            assert finders.find(name), f"{asset} is served by this service"


def test_swagger_keeps_the_pasted_token_and_reads_the_json_schema(client):
    html = client.get("/api/docs/").content.decode()
    (script_url,) = [asset for asset in assets_of(html) if "script=" in asset]
    script = client.get(script_url.replace("&amp;", "&"))

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert '"persistAuthorization": true' in body
    assert '"/openapi.json"' in body


def test_openapi_json_is_json_and_api_schema_is_yaml_unless_asked(client):
    as_json = Client().get("/openapi.json")
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(as_json.content)["openapi"].startswith("3.")

    as_yaml = Client().get("/api/schema/")
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml.safe_load(as_yaml.content)["info"]["title"] == "BirthdayBuddy API"
    assert json.loads(Client().get("/api/schema/?format=json").content)["openapi"].startswith("3.")


def test_tags_are_in_the_order_an_admin_meets_them_and_cover_every_operation():
    schema = json.loads(Client().get("/openapi.json").content)
    order = [tag["name"] for tag in schema["tags"]]

    assert order[:3] == ["auth", "profile", "workspaces"]
    assert order.index("people") < order.index("birthdays") < order.index("channels") < order.index("events")
    assert order.index("events") < order.index("reminders")
    assert order[-3:] == ["staff: users", "staff tools", "hooks"]
    used = {
        tag
        for operations in schema["paths"].values()
        for operation in operations.values()
        for tag in operation.get("tags", [])
    }
    assert used <= set(order), f"tags missing from SPECTACULAR_SETTINGS['TAGS']: {used - set(order)}"

"""With DEBUG off, an unhandled exception becomes the JSON 500 body: no traceback, no detail."""

import pytest
from django.test import Client

from tests.platform.urls import SECRET_DETAIL

pytestmark = pytest.mark.urls("tests.platform.urls")


@pytest.fixture
def client(settings) -> Client:
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/test/boom", "/test/api-boom"])
def test_an_unhandled_exception_returns_the_json_500_body(client, url):
    response = client.get(url, HTTP_X_REQUEST_ID="req-500-check")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Internal server error. The request id in X-Request-ID identifies it.",
        "code": "server_error",
    }
    assert response["X-Request-ID"] == "req-500-check"
    content = response.content.decode()
    assert "Traceback" not in content
    assert SECRET_DETAIL not in content
    assert "RuntimeError" not in content
    assert "ZeroDivisionError" not in content


def test_an_unknown_url_is_a_json_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_disallowed_host_is_a_json_400(client):
    response = client.get("/health/live", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["search=a%00b", "ordering=%00", "a%00=1"])
def test_nul_in_query_string_is_a_400_not_a_database_error(staff_client, query):
    response = staff_client.get(f"/api/v1/users/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "null_characters_not_allowed"

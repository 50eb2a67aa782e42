import pytest
from django.urls import reverse

from birthdaybuddy.validators import available_timezones

URL = reverse("timezones")


@pytest.mark.django_db
def test_timezones_are_public(api_client):
    response = api_client.get(URL)

    assert response.status_code == 200
    zones = response.json()["timezones"]
    assert zones == list(available_timezones())
    assert {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"} <= set(zones)
    assert zones == sorted(zones)


@pytest.mark.django_db
def test_timezones_ignore_a_bad_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(URL).status_code == 200


@pytest.mark.django_db
def test_timezones_are_read_only(api_client):
    assert api_client.post(URL, {}, format="json").status_code == 405

import pytest
from django.db import connection


@pytest.mark.django_db
def test_database_is_the_configured_engine(settings):
    assert connection.vendor in {"postgresql", "sqlite"}
    if not settings.EMBEDDED:
        assert connection.vendor == "postgresql"

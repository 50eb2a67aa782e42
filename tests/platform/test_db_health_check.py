"""The PostgreSQL backend's health check (``birthdaybuddy.postgresql``), against the real server."""

import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as StockDatabaseWrapper

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def observer():
    """A second session on the same database, in autocommit (fresh pg_stat_activity each statement)."""
    connection.ensure_connection()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as session:
        yield session


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _state_change(observer, pid: int):
    return observer.execute("SELECT state_change FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def _wait_readable(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not connection._socket_has_input(connection.connection):
        assert time.monotonic() < deadline, "the server's message never reached the socket"
        time.sleep(0.01)


def test_the_settings_use_this_backend():
    assert connection.settings_dict["ENGINE"] == "birthdaybuddy.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_an_idle_connection_is_usable_without_asking_the_server(observer):
    pid = _backend_pid()
    before = _state_change(observer, pid)
    time.sleep(0.01)

    assert connection.is_usable() is True
    assert _state_change(observer, pid) == before  # no statement reached the backend

    # Django's own check does reach it, so the comparison above can see a round trip.
    assert StockDatabaseWrapper.is_usable(connection) is True
    assert _state_change(observer, pid) > before


def test_a_terminated_backend_is_not_usable_and_the_health_check_reconnects(observer):
    pid = _backend_pid()
    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_readable()

    assert connection.is_usable() is False

    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_harmless_message_on_the_socket_is_read_by_a_round_trip(observer):
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN bb_health_check_test")
    observer.execute("NOTIFY bb_health_check_test")
    _wait_readable()
    before = _state_change(observer, pid)

    assert connection.is_usable() is True
    assert _state_change(observer, pid) > before  # it asked the server
    assert not connection._socket_has_input(connection.connection)

    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def test_a_connection_inside_a_transaction_is_checked_by_the_server(observer):
    pid = _backend_pid()
    connection.connection.execute("BEGIN")
    try:
        before = _state_change(observer, pid)
        time.sleep(0.01)
        assert connection.is_usable() is True
        assert _state_change(observer, pid) > before
    finally:
        connection.connection.execute("ROLLBACK")


def test_a_closed_connection_is_not_usable():
    connection.ensure_connection()
    connection.connection.close()
    try:
        assert connection.is_usable() is False
    finally:
        connection.close()

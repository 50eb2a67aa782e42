"""The private servers' ports stay clear of the kernel's range for outgoing connections' local ports.

A port in that range can be taken by the local end of any connection the run opens (hundreds
during a fault), and a PostgreSQL restarted on it then fails to start."""

import pytest

from bench.faults.common import SHARED_PORTS, _own_port, ephemeral_ports
from tests.faults.conftest import PG_PORT, REDIS_PORT


def test_the_fault_tests_ports_are_outside_the_ephemeral_range():
    ports = ephemeral_ports()
    assert PG_PORT not in ports
    assert REDIS_PORT not in ports
    assert {PG_PORT, REDIS_PORT}.isdisjoint(SHARED_PORTS)


def test_a_port_in_the_ephemeral_range_is_refused():
    with pytest.raises(ValueError, match="outgoing connections"):
        _own_port(ephemeral_ports().start, "PostgreSQL")


def test_a_shared_port_is_refused():
    with pytest.raises(ValueError, match="shared"):
        _own_port(5432, "PostgreSQL")

"""TLS (this project's extension): the test server's own certificate,
https:// addresses, and each failure its own clear error with nothing
sent."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Iterator

import pytest

import httpqq
from httpqq.testing import Server

from conftest import ALICE, BOB


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Server]:
    with Server(tls=True) as server:
        yield server


def test_a_round_trip_over_tls_with_kept_connections(tls_server: Server) -> None:
    client = tls_server.client(tls=True, keep_alive=True)
    assert client.tls and client.port == tls_server.tls_port
    assert "tls=True" in repr(client)
    alice = client.login(ALICE, "demo")
    bob = client.login(BOB, "demo")
    alice.send(BOB, "你好 & 1+1=2 %26")
    assert [m.text for m in bob.messages()] == ["你好 & 1+1=2 %26"]
    accepted = tls_server.connections_accepted()
    for _ in range(10):
        alice.messages()
    assert tls_server.connections_accepted() == accepted, "connections were reused"
    alice.logout()
    bob.logout()


def test_an_agent_over_tls(tls_server: Server) -> None:
    client = tls_server.client(tls=True)
    with httpqq.Agent(client, BOB, "demo", poll_interval=0.1) as agent:
        alice = client.login(ALICE, "demo")
        alice.send(BOB, "over TLS")
        for event in agent:
            message = event.message
            if message is not None and message.kind is httpqq.MessageKind.TEXT:
                assert message.text == "over TLS"
                break
        alice.logout()


def test_an_untrusted_certificate_is_a_tls_error_with_nothing_sent(tls_server: Server) -> None:
    assert tls_server.tls_endpoint is not None
    untrusted = httpqq.Client(tls_server.tls_endpoint, timeout=5)
    checks = tls_server.password_checks()
    with pytest.raises(httpqq.TransportError) as caught:
        untrusted.login(ALICE, "demo")
    assert caught.value.phase is httpqq.Phase.TLS
    assert caught.value.outcome is httpqq.Outcome.REFUSED
    assert "unknown issuer" in str(caught.value)
    assert tls_server.password_checks() == checks


def test_the_ca_from_a_file_and_addresses_read_as_people_write_them(tls_server: Server) -> None:
    assert tls_server.ca_pem is not None and tls_server.tls_port is not None
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ca.pem")
        with open(path, "w") as f:
            f.write(tls_server.ca_pem)
        client = httpqq.Client("127.0.0.1", tls_server.tls_port, tls=True, ca_file=path)
        client.login(ALICE, "demo").logout()
        same = httpqq.Client(f"https://127.0.0.1:{tls_server.tls_port}/", ca_file=path)
        assert same.tls and same.port == tls_server.tls_port
    assert httpqq.Client("https://qq.example.org").port == 443
    assert httpqq.Client("127.0.0.1:8001").port == 8001
    assert httpqq.Client("::1").port == 8000


def test_settings_that_cannot_work_are_refused(tls_server: Server) -> None:
    with pytest.raises(ValueError, match="twice"):
        httpqq.Client("https://127.0.0.1:8443", 8443)
    with pytest.raises(ValueError, match="tls=False"):
        httpqq.Client("https://127.0.0.1:8443", tls=False)
    with pytest.raises(httpqq.InvalidConfig, match="/nonexistent/ca.pem"):
        httpqq.Client("127.0.0.1", 8443, tls=True, ca_file="/nonexistent/ca.pem")
    with pytest.raises(httpqq.InvalidConfig, match="TLS is off"):
        httpqq.Client("127.0.0.1", 8443, ca_pem=tls_server.ca_pem)
    with pytest.raises(TypeError):
        httpqq.Client("127.0.0.1", 8443, tls=True, ca_pem=42)  # type: ignore[arg-type]
    with Server() as plain:
        assert plain.tls_port is None and plain.ca_pem is None
        with pytest.raises(ValueError, match="no TLS listener"):
            plain.client(tls=True)


def test_tls_to_the_plain_port_is_told_apart(tls_server: Server) -> None:
    client = httpqq.Client(
        f"https://127.0.0.1:{tls_server.port}", ca_pem=tls_server.ca_pem, timeout=5
    )
    with pytest.raises(httpqq.TransportError, match="plain HTTP port") as caught:
        client.login(ALICE, "demo")
    assert caught.value.phase == "tls"


def test_the_command_line_speaks_tls(tls_server: Server) -> None:
    assert tls_server.ca_pem is not None
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ca.pem")
        with open(path, "w") as f:
            f.write(tls_server.ca_pem)
        base = [sys.executable, "-m", "httpqq", "--host", f"https://127.0.0.1:{tls_server.tls_port}"]
        env = {**os.environ, "HTTPQQ_PASSWORD": "demo"}
        ok = subprocess.run(
            [*base, "--ca-file", path, "--uin", "10001", "friends"],
            capture_output=True, text=True, env=env, timeout=30,
        )
        assert ok.returncode == 0, ok.stderr
        assert "10002" in ok.stdout
        refused = subprocess.run(
            [*base, "--uin", "10001", "--json", "friends"],
            capture_output=True, text=True, env=env, timeout=30,
        )
        assert refused.returncode != 0
        assert '"phase": "tls"' in refused.stdout + refused.stderr

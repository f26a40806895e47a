"""Each failure raises its own exception, and bad arguments raise TypeError
or ValueError, never a crash."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

import httpqq
from httpqq.testing import Server

from conftest import ALICE, BOB


def test_wrong_password_raises_login_failed_with_the_reason(client: httpqq.Client) -> None:
    with pytest.raises(httpqq.LoginFailed) as raised:
        client.login(ALICE, "wrong")
    assert raised.value.reason
    assert raised.value.reason in str(raised.value)
    assert isinstance(raised.value, httpqq.Error)


def test_unknown_user_raises_invalid_uin(alice: httpqq.Session) -> None:
    with pytest.raises(httpqq.InvalidUin) as raised:
        alice.user_info(99999)
    assert raised.value.code == 5


def test_after_logout_commands_raise_not_logged_in(alice: httpqq.Session) -> None:
    alice.logout()
    with pytest.raises(httpqq.NotLoggedIn) as raised:
        alice.messages()
    assert raised.value.code == 20


def test_a_dead_server_is_a_connection_error() -> None:
    with Server() as gone:
        host, port = gone.host, gone.port
    client = httpqq.Client(host, port, timeout=2)
    with pytest.raises(httpqq.TransportError) as raised:
        client.login(ALICE, "demo")
    assert isinstance(raised.value, ConnectionError)
    assert raised.value.phase is httpqq.Phase.CONNECTING
    with pytest.raises(ConnectionError):
        client.login(ALICE, "demo")


def test_a_silent_server_times_out_within_the_limit() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = httpqq.Client("127.0.0.1", silent.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(httpqq.Timeout) as raised:
            client.login(ALICE, "demo")
        elapsed = time.monotonic() - started
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.phase is httpqq.Phase.RECEIVING
    # Never early; the upper bound only tells "bounded" from "waited on"
    # (a loaded machine wakes the caller late).
    assert 0.45 <= elapsed <= 1.5, f"{elapsed:.3f} s for a 0.5 s timeout"


def test_network_calls_release_the_gil() -> None:
    """While one thread waits on a silent server, another runs Python."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = httpqq.Client("127.0.0.1", silent.getsockname()[1], timeout=0.6)
        done = threading.Event()

        def wait() -> None:
            with pytest.raises(httpqq.Timeout):
                client.login(ALICE, "demo")
            done.set()

        waiter = threading.Thread(target=wait)
        waiter.start()
        spins = 0
        while not done.is_set():
            spins += 1
        waiter.join()
    # Holding the GIL for 0.6 s would leave this thread a few switch
    # intervals at most; released, it spins freely.
    assert spins > 100_000


class ScriptedPeer:
    """An HTTP peer on loopback: for each connection, reads a request, sends
    `reply` (possibly nothing), then stalls for `stall` seconds or closes."""

    def __init__(self, reply: bytes, stall: float = 0.0, connections: int = 1) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, args=(reply, stall, connections), daemon=True)
        self.thread.start()

    def _serve(self, reply: bytes, stall: float, connections: int) -> None:
        for _ in range(connections):
            connection, _ = self.listener.accept()
            with connection:
                connection.recv(65536)
                try:
                    connection.sendall(reply)
                except OSError:
                    pass
                time.sleep(stall)
        self.listener.close()


def test_a_server_closing_without_a_reply_is_no_reply() -> None:
    peer = ScriptedPeer(b"")
    with pytest.raises(httpqq.NoReply):
        httpqq.Client("127.0.0.1", peer.port, timeout=5).login(ALICE, "demo")


def test_a_garbled_reply_is_a_protocol_error() -> None:
    body = b"this is not HTTP QQ"
    peer = ScriptedPeer(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    with pytest.raises(httpqq.ProtocolError):
        httpqq.Client("127.0.0.1", peer.port, timeout=5).login(ALICE, "demo")


def http(body: bytes, status: bytes = b"200 OK", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % size + body


LOGIN_OK = b"VER=1.1&CMD=LOGIN&SEQ=%d&UIN=10001&RES=0&RS=0&HI=60&LI=300"


@pytest.mark.parametrize(
    ("name", "reply", "stall", "error"),
    [
        ("garbage", b"\x00\xffnot http at all\r\n\r\n", 0.0, httpqq.ProtocolError),
        ("http error status", http(b"busy", b"503 Service Unavailable"), 0.0, httpqq.ProtocolError),
        ("closes mid-reply", http(b"VER=1.1&CMD=LOG", length=200), 0.0, httpqq.TransportError),
        ("wrong content length, short", http(b"VER=1.1&CMD=LOGIN&SEQ=1&UIN=10001&RES=0", length=12), 0.0, httpqq.ProtocolError),
        ("half a reply, then a stall", http(b"VER=1.1&CMD=LOG", length=200), 3.0, httpqq.Timeout),
        ("head only, then a stall", b"HTTP/1.1 200 OK\r\nContent-Len", 3.0, httpqq.Timeout),
    ],
)
def test_each_server_fault_gives_its_own_error_within_the_timeout(
    name: str, reply: bytes, stall: float, error: type[httpqq.Error]
) -> None:
    peer = ScriptedPeer(reply, stall)
    client = httpqq.Client("127.0.0.1", peer.port, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(error):
        client.login(ALICE, "demo")
    elapsed = time.monotonic() - started
    if error is httpqq.Timeout:
        # Never early, and not the peer's 3 s stall (the whole call has
        # one deadline); the upper bound is not a timing claim.
        assert 0.9 <= elapsed <= 2.5, f"{name}: {elapsed:.3f} s for a 1 s timeout"
    else:
        assert elapsed < 0.9, f"{name}: {elapsed:.3f} s"


def test_a_huge_reply_is_cut_off_at_the_cap_not_buffered() -> None:
    """A 100 MiB reply: refused once past max_reply_size, memory bounded."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (100 << 20))
                chunk = b"A" * (1 << 20)
                for _ in range(100):
                    connection.sendall(chunk)
            except OSError:
                pass  # the client hung up, as it should
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    client = httpqq.Client("127.0.0.1", listener.getsockname()[1], timeout=10, max_reply_size=1 << 20)
    started = time.monotonic()
    with pytest.raises(httpqq.ProtocolError, match="large"):
        client.login(ALICE, "demo")
    assert time.monotonic() - started < 5


def test_a_double_reply_on_a_kept_connection_is_never_taken_for_the_next_answer() -> None:
    """The peer answers each request twice (as the original did Query_Stat
    TN=0): the stale second reply must not pass as the next answer."""

    def replies(connection: socket.socket) -> None:
        with connection:
            seq = 0
            while True:
                data = connection.recv(65536)
                if not data:
                    return
                seq = int(data.split(b"SEQ=")[1].split(b"&")[0])
                body = LOGIN_OK % seq
                connection.sendall(http(body) + http(body))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=replies, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    client = httpqq.Client("127.0.0.1", listener.getsockname()[1], timeout=2, keep_alive=True)
    session = client.login(ALICE, "demo")
    # The next request either gets its own answer or a clear error, never
    # the stale reply of the last one.
    try:
        session.relogin()
    except httpqq.ProtocolError as err:
        assert "SEQ" in str(err) or "sequence" in str(err).lower()
    listener.close()


def test_invalid_settings_are_value_errors() -> None:
    with pytest.raises(httpqq.InvalidConfig):
        httpqq.Client("host/with/path", 8000)
    with pytest.raises(ValueError, match="timeout"):
        httpqq.Client("127.0.0.1", 8000, timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        httpqq.Client("127.0.0.1", 8000, timeout=float("nan"))
    with pytest.raises(ValueError, match="port"):
        httpqq.Client("127.0.0.1", 70000)
    with pytest.raises(TypeError, match="port"):
        httpqq.Client("127.0.0.1", "8000")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda c, s: c.login("10001", "demo"),
        lambda c, s: c.login(True, "demo"),
        lambda c, s: c.login(10001, 1234),
        lambda c, s: s.send(None, "hi"),
        lambda c, s: s.send(BOB, b"bytes"),
        lambda c, s: s.set_status("busy"),
        lambda c, s: s.user_info(BOB, level="full"),
        lambda c, s: s.friends(max=1.5),
    ],
)
def test_wrong_types_raise_type_error(client: httpqq.Client, alice: httpqq.Session, call: Any) -> None:
    with pytest.raises(TypeError):
        call(client, alice)


@pytest.mark.parametrize(
    "call",
    [
        lambda c, s: c.login(-1, "demo"),
        lambda c, s: c.login(2**64, "demo"),
        lambda c, s: c.login_md5(10001, "not hex"),
        lambda c, s: s.send(BOB, "lone surrogate \ud800"),
        lambda c, s: s.user_info(BOB, level=1),
        lambda c, s: s.set_status(-5),
        lambda c, s: s.events(interval=-1),
    ],
)
def test_wrong_values_raise_value_error(client: httpqq.Client, alice: httpqq.Session, call: Any) -> None:
    with pytest.raises(ValueError):
        call(client, alice)


def test_exceptions_are_one_hierarchy() -> None:
    import httpqq.errors

    assert len(httpqq.errors.__all__) == 14
    for name in httpqq.errors.__all__:
        assert issubclass(getattr(httpqq, name), httpqq.Error)
    assert issubclass(httpqq.TransportError, ConnectionError)
    assert issubclass(httpqq.Timeout, TimeoutError)
    assert issubclass(httpqq.InvalidConfig, ValueError)
    assert issubclass(httpqq.TooLarge, ValueError)

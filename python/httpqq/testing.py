"""The reference server, in-process, for testing your own code offline.

::

    import pytest
    import httpqq
    from httpqq.testing import Server

    @pytest.fixture
    def qq_server():
        with Server() as server:           # demo accounts, a free port
            yield server

    def test_my_bot_answers(qq_server):
        client = qq_server.client()
        with client.login(10001, "demo") as alice, client.login(10002, "demo") as bob:
            alice.send(10002, "ping")
            assert [m.text for m in bob.messages()] == ["ping"]

The demo accounts are 10001 to 10005, password ``demo``: 10001 and 10002
are friends, 10003 wants verification, 10004 refuses to be added, 10005
accepts anyone.

The server also rehearses the trouble a bot meets, offline::

    server.stop_listening(); server.restart()   # a crash and a restart
    server.expire_session(10002)                # the idle timeout, now
    server.throttle(10002, 5)                   # RES=3 to everything, 5 s
    server.set_latency(0.1)                     # a slow network
    server.pause(); server.resume()             # a black hole
    server.drop_sessions(True)                  # RES=20 right after each login
    server.requests()                           # what it received
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import NamedTuple, Optional, Type, Union

from httpqq._native import Client
from httpqq._native import Server as _NativeServer

__all__ = ["Server", "LoggedRequest"]


class LoggedRequest(NamedTuple):
    """A request the server received (see :meth:`Server.requests`)."""

    at: float
    """When it was answered, in seconds since the server started."""
    uin: Optional[int]
    """Its UIN (``None`` if the body could not be read)."""
    command: Optional[str]
    """Its command's wire name, e.g. ``"GetMsgEx"``."""
    result: Optional[int]
    """The reply's ``RES``; ``None`` for the NULL (no reply)."""


class Server:
    """A running reference server on loopback; stop it with :meth:`stop` or
    use it as a context manager.

    ``accounts`` is an accounts file (TOML, see the repository's
    ``server/accounts.example.toml``) and ``accounts_toml`` the same as
    text; with neither, the demo accounts are served. ``idle_timeout`` (in
    seconds) ends silent sessions sooner than the default 300. ``tls=True``
    adds a listener that speaks TLS (:attr:`tls_port`) with a certificate
    made at start (:attr:`ca_pem`), which ``client(tls=True)`` trusts::

        with Server(tls=True) as server:
            alice = server.client(tls=True).login(10001, "demo")  # over TLS
    """

    def __init__(
        self,
        accounts: Optional[Union[str, os.PathLike[str]]] = None,
        *,
        accounts_toml: Optional[str] = None,
        idle_timeout: Optional[float] = None,
        tls: bool = False,
    ) -> None:
        self._server = _NativeServer(
            accounts_path=os.fspath(accounts) if accounts is not None else None,
            accounts_toml=accounts_toml,
            idle_timeout=idle_timeout,
            tls=tls,
        )

    @property
    def host(self) -> str:
        """The address it listens on (``127.0.0.1``)."""
        return self._server.host

    @property
    def port(self) -> int:
        """The port it listens on (a free one, chosen at start)."""
        return self._server.port

    @property
    def endpoint(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    @property
    def tls_port(self) -> Optional[int]:
        """The TLS listener's port (a server started with ``tls=True``)."""
        return self._server.tls_port

    @property
    def tls_endpoint(self) -> Optional[str]:
        """``https://host:port`` of the TLS listener, if there is one."""
        port = self._server.tls_port
        return None if port is None else f"https://{self.host}:{port}"

    @property
    def ca_pem(self) -> Optional[str]:
        """The TLS listener's certificate (PEM), to trust it
        (``Client(..., ca_pem=server.ca_pem)``)."""
        return self._server.tls_ca_pem

    def client(
        self,
        *,
        timeout: float = 10.0,
        keep_alive: bool = False,
        auto_relogin: bool = False,
        tls: bool = False,
    ) -> Client:
        """A client of this server; with ``tls=True``, of its TLS listener,
        trusting its certificate."""
        if tls:
            if self.tls_endpoint is None:
                raise ValueError("this server has no TLS listener: start it with tls=True")
            return Client(
                self.tls_endpoint,
                timeout=timeout,
                keep_alive=keep_alive,
                auto_relogin=auto_relogin,
                ca_pem=self.ca_pem,
            )
        return Client(
            self.host,
            self.port,
            timeout=timeout,
            keep_alive=keep_alive,
            auto_relogin=auto_relogin,
        )

    def stop_listening(self) -> None:
        """Stops listening as a crashed server would: connections close,
        sessions are forgotten; accounts and queued messages stay (each
        user's last fetched batch is delivered again). :meth:`restart`
        listens again."""
        self._server.stop_listening()

    def restart(self) -> None:
        """Listens again on the same port after :meth:`stop_listening`."""
        self._server.restart()

    def expire_session(self, uin: int) -> bool:
        """Ends ``uin``'s session now, as its idle timeout would; whether it
        had one."""
        return self._server.expire_session(uin)

    def throttle(self, uin: int, seconds: float) -> None:
        """Answers every request of ``uin`` but Logout with ``RES=3`` for
        ``seconds`` (0: no more)."""
        self._server.throttle(uin, seconds)

    def set_latency(self, seconds: float) -> None:
        """Holds every reply back ``seconds`` longer (0: no more)."""
        self._server.set_latency(seconds)

    def pause(self) -> None:
        """Accepts connections but answers nothing until :meth:`resume`
        (a black hole: clients time out)."""
        self._server.pause()

    def resume(self) -> None:
        """Answers again after :meth:`pause`."""
        self._server.resume()

    def change_password(self, uin: int, password: str) -> bool:
        """Changes ``uin``'s password; whether the account exists."""
        return self._server.change_password(uin, password)

    def connections_accepted(self) -> int:
        """Connections accepted since the start: with keep-alive off, one
        per request a client made, answered or not."""
        return self._server.connections_accepted()

    def drop_sessions(self, on: bool = True) -> None:
        """Answers every request but Login and Logout with ``RES=20`` while
        on, as a server does for a client whose address changes with every
        connection (a NAT or proxy in between): each login succeeds, and the
        session is unknown at once. An agent backs off from it."""
        self._server.drop_sessions(on)

    def password_checks(self) -> int:
        """How many passwords the server checked against their slow hash
        since it started (logins its lockout refused cost none)."""
        return self._server.password_checks()

    def requests(self, uin: Optional[int] = None) -> list[LoggedRequest]:
        """The requests received (the latest 100,000), oldest first; only
        ``uin``'s when given."""
        return [
            LoggedRequest(*entry)
            for entry in self._server.requests()
            if uin is None or entry[1] == uin
        ]

    def clear_requests(self) -> None:
        """Empties the request log."""
        self._server.clear_requests()

    def stop(self) -> None:
        """Stops the server; requests in flight finish first. Idempotent."""
        self._server.stop()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Server(host={self.host!r}, port={self.port})"

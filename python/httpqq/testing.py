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
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Optional, Type, Union

from httpqq._native import Client
from httpqq._native import Server as _NativeServer

__all__ = ["Server"]


class Server:
    """A running reference server on loopback; stop it with :meth:`stop` or
    use it as a context manager.

    ``accounts`` is an accounts file (TOML, see the repository's
    ``server/accounts.example.toml``) and ``accounts_toml`` the same as
    text; with neither, the demo accounts are served. ``idle_timeout`` (in
    seconds) ends silent sessions sooner than the default 300.
    """

    def __init__(
        self,
        accounts: Optional[Union[str, os.PathLike[str]]] = None,
        *,
        accounts_toml: Optional[str] = None,
        idle_timeout: Optional[float] = None,
    ) -> None:
        self._server = _NativeServer(
            accounts_path=os.fspath(accounts) if accounts is not None else None,
            accounts_toml=accounts_toml,
            idle_timeout=idle_timeout,
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

    def client(
        self,
        *,
        timeout: float = 10.0,
        keep_alive: bool = False,
        auto_relogin: bool = False,
    ) -> Client:
        """A client of this server."""
        return Client(
            self.host,
            self.port,
            timeout=timeout,
            keep_alive=keep_alive,
            auto_relogin=auto_relogin,
        )

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

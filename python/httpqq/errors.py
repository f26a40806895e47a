"""The exceptions of httpqq: one base, :class:`Error`, and a class per
failure a caller can act on. Network failures are also the standard
``ConnectionError`` / ``TimeoutError``, so generic handlers catch them."""

from __future__ import annotations

from typing import Optional

__all__ = [
    "Error",
    "NoReply",
    "NotLoggedIn",
    "Throttled",
    "InvalidUin",
    "LoginFailed",
    "ProtocolError",
    "TransportError",
    "Timeout",
    "InvalidConfig",
]


class Error(Exception):
    """Base of every httpqq error. ``code`` is the protocol's result code
    (``RES``) behind it, when there is one."""

    code: Optional[int] = None


class NoReply(Error):
    """The server closed the connection without a reply (the protocol's
    "NULL"): it could not accept the request."""


class NotLoggedIn(Error):
    """``RES=20``: not logged in from this address, or the session expired.
    Log in again (or pass ``auto_relogin=True`` to the client)."""

    code = 20


class Throttled(Error):
    """``RES=3``: refused for now (too fast, a repeated removal, an
    unexpected verification). Slow down and retry later."""

    code = 3


class InvalidUin(Error):
    """``RES=5``: the UIN is invalid or unknown."""

    code = 5


class LoginFailed(Error):
    """The server refused the login; ``reason`` is its reason, as sent
    (Chinese on the original server, e.g. ``密码错误``, "wrong password")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[LoginFailed], tuple[str, str]]:
        return (type(self), (str(self), self.reason))


class ProtocolError(Error):
    """The reply does not follow the protocol."""


class TransportError(Error, ConnectionError):
    """The connection could not be made, or broke."""


class Timeout(Error, TimeoutError):
    """No complete reply within the client's ``timeout``."""


class InvalidConfig(Error, ValueError):
    """A client setting cannot be used (e.g. a host that is not a host)."""

"""The exceptions of httpqq: one base, :class:`Error`, and a class per
failure a caller can act on. Network failures are also the standard
``ConnectionError`` / ``TimeoutError``, so generic handlers catch them.

Every exception says what became of the request in ``outcome``: an
:class:`~httpqq.Outcome`, ``REFUSED`` when it was certainly not carried out
(a result code, a server that could not be reached, a bad setting) or
``UNKNOWN`` when it was sent but no reply came, so it may have been (after
a send: maybe delivered). httpqq never resends a request by itself::

    try:
        agent.send(10002, "hello")
    except httpqq.Throttled as too_fast:
        time.sleep(too_fast.retry_after)       # then try again
    except httpqq.Error as failed:
        if failed.outcome is httpqq.Outcome.UNKNOWN:
            ...                                # maybe delivered: your call
"""

from __future__ import annotations

from typing import Any, Optional

from httpqq.enums import Outcome, Phase

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
    "Stopped",
    "Cancelled",
    "NotOnline",
    "TooLarge",
]


class Error(Exception):
    """Base of every httpqq error.

    ``code`` is the protocol's result code (``RES``) behind it, when there
    is one; ``outcome`` says whether the request may have been carried out.
    """

    code: Optional[int] = None
    outcome: Outcome

    def __init__(self, message: str = "", *, outcome: Outcome = Outcome.REFUSED) -> None:
        super().__init__(message)
        self.outcome = Outcome(outcome)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


def _rebuild(cls: type[Error], message: str, state: dict[str, Any]) -> Error:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class NoReply(Error):
    """The server closed the connection without a reply (the protocol's
    "NULL"). The original server did this for requests it could not accept,
    but a server that went away after carrying the request out looks the
    same, so the outcome is ``UNKNOWN``."""


class NotLoggedIn(Error):
    """``RES=20``: not logged in from this address, or the session expired.
    Log in again (an :class:`~httpqq.Agent` does it for you)."""

    code = 20


class Throttled(Error):
    """``RES=3``: refused for now (too fast, a repeated removal, an
    unexpected verification, a recipient whose queue is full).
    ``retry_after`` is how many seconds to send nothing more for this
    session: the original server's penalty (20; 30 after a removal), or
    what is left of an agent's running penalty. ``reason`` is the server's
    reason when it gave one (``"the recipient's queue is full"``), else
    ``None``."""

    code = 3
    retry_after: float
    reason: Optional[str]

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float = 20.0,
        reason: Optional[str] = None,
        outcome: Outcome = Outcome.REFUSED,
    ) -> None:
        super().__init__(message, outcome=outcome)
        self.retry_after = retry_after
        self.reason = reason


class InvalidUin(Error):
    """``RES=5``: the UIN is invalid or unknown."""

    code = 5


class LoginFailed(Error):
    """The server refused the login; ``reason`` is its reason, as sent
    (Chinese on the original server, e.g. ``密码错误``, "wrong password")."""

    reason: str

    def __init__(self, message: str = "", reason: str = "", *, outcome: Outcome = Outcome.REFUSED) -> None:
        super().__init__(message, outcome=outcome)
        self.reason = reason


class ProtocolError(Error):
    """The reply does not follow the protocol."""


class TransportError(Error, ConnectionError):
    """The connection could not be made (``phase`` is
    :attr:`Phase.CONNECTING`: nothing was sent), or broke later (the
    outcome is ``UNKNOWN``)."""

    phase: Phase

    def __init__(
        self,
        message: str = "",
        *,
        phase: Phase = Phase.CONNECTING,
        outcome: Outcome = Outcome.REFUSED,
    ) -> None:
        super().__init__(message, outcome=outcome)
        self.phase = Phase(phase)


class Timeout(Error, TimeoutError):
    """No complete reply within the client's ``timeout``. ``phase`` says
    what the client was doing (a :class:`Phase`): connecting (nothing was
    sent), sending the request or waiting for the reply (the outcome is
    ``UNKNOWN``)."""

    phase: Phase

    def __init__(
        self,
        message: str = "",
        *,
        phase: Phase = Phase.RECEIVING,
        outcome: Outcome = Outcome.UNKNOWN,
    ) -> None:
        super().__init__(message, outcome=outcome)
        self.phase = Phase(phase)


class InvalidConfig(Error, ValueError):
    """A setting cannot be used (e.g. a host that is not a host, a poll
    interval that would be a busy loop)."""


class Stopped(Error):
    """The agent has stopped (it was told to, or its login was refused);
    nothing was sent."""


class Cancelled(Error):
    """The request was cut short by a stop (an agent stopped while its
    send was in flight). ``phase`` says how far it got:
    ``Phase.CONNECTING`` means nothing was sent (``outcome`` is
    ``REFUSED``), later phases that it may have been (``UNKNOWN``)."""

    phase: Phase

    def __init__(
        self,
        message: str = "",
        *,
        phase: Phase = Phase.RECEIVING,
        outcome: Outcome = Outcome.UNKNOWN,
    ) -> None:
        super().__init__(message, outcome=outcome)
        self.phase = Phase(phase)


class NotOnline(Error):
    """An agent's send found no session: the agent had not logged in yet
    (or was logging in again after the server ended the session) and could
    not within the client's ``timeout``. Nothing was sent (``outcome`` is
    ``REFUSED``); ``waited`` is how many seconds the send waited."""

    waited: float

    def __init__(self, message: str = "", *, waited: float = 0.0, outcome: Outcome = Outcome.REFUSED) -> None:
        super().__init__(message, outcome=outcome)
        self.waited = waited


class TooLarge(Error, ValueError):
    """The request would be longer than a server reads
    (:data:`httpqq.MAX_BODY_BYTES` once encoded): a message too long, most
    likely. Nothing was sent (``outcome`` is ``REFUSED``); send it in parts.
    ``size`` is the encoded request's length and ``limit`` the limit, in
    bytes."""

    size: int
    limit: int

    def __init__(
        self, message: str = "", *, size: int = 0, limit: int = 0, outcome: Outcome = Outcome.REFUSED
    ) -> None:
        super().__init__(message, outcome=outcome)
        self.size = size
        self.limit = limit

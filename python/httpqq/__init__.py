r"""httpqq: HTTP QQ 1.1, typed and native.

A client of the plain-HTTP messaging interface Tencent served at
``tqq.tencent.com:8000``, its sans-I/O codec, and (in :mod:`httpqq.testing`)
an in-process reference server, since the original is gone::

    import httpqq

    client = httpqq.Client("127.0.0.1", 8000, timeout=5)
    with client.login(10001, "demo") as session:     # logs out on exit
        session.send(10002, "你好 & 1+1=2")
        for message in session.events(interval=1):   # forever; Ctrl-C or break
            print(message.sender, message.text)

A bot that must run for weeks uses an :class:`Agent` (or the decorator
style of :class:`Bot`, or :mod:`httpqq.aio` with asyncio): it rides out
network failures and server restarts with backoff, waits out penalties,
logs in again, paces its sends, and reports it all as :class:`Event`\ s.
With an ``inbox`` file no message it fetched is lost to a ``break``, an
exception, Ctrl-C or a kill (see :mod:`httpqq.options` for every option)::

    with httpqq.Agent(client, 10001, "demo", inbox="echo.inbox") as agent:
        for event in agent:                              # Ctrl-C interrupts
            message = event.message
            if message is None:
                print(event)                             # online, reconnecting, …
            elif message.kind is httpqq.MessageKind.TEXT:
                message.reply("echo: " + message.text)

Every network call releases the GIL and can be interrupted with Ctrl-C;
clients, sessions and agents may be shared between threads. Rust's log
records reach :mod:`logging` under the logger ``httpqq`` (``httpqq.server``
for the reference server). Rust caches the loggers' levels so that a
filtered record costs no GIL; a level set with ``Logger.setLevel``,
``logging.disable``, ``basicConfig`` or ``dictConfig`` clears that cache at
once (``refresh_logging()`` does it by hand, for a level assigned to
``logger.level`` directly).

``python -m httpqq`` (the ``httpqq`` command) is a command-line client:
``httpqq --host HOST --uin UIN send|listen|friends|online|whois|add|status``.

"""

from __future__ import annotations

import logging as _logging

from httpqq._native import (
    MAX_BODY_BYTES,
    Agent,
    Client,
    Event,
    Events,
    LoginOutcome,
    Message,
    OnlineFriend,
    Request,
    Session,
    UserInfo,
    __version__,
    decode_reply,
    encode_request,
    refresh_logging,
)
from httpqq.bot import Bot, Filter
from httpqq import options
from httpqq.enums import (
    AddFriendOutcome,
    AgentState,
    Phase,
    BloodType,
    Constellation,
    EventKind,
    Gender,
    InfoLevel,
    MessageKind,
    Outcome,
    Status,
    Verification,
    Zodiac,
)
from httpqq.errors import (
    Error,
    InvalidConfig,
    InvalidUin,
    LoginFailed,
    NoReply,
    NotLoggedIn,
    ProtocolError,
    Stopped,
    Cancelled,
    NotOnline,
    TooLarge,
    Throttled,
    Timeout,
    TransportError,
)

__all__ = [
    "__version__",
    "MAX_BODY_BYTES",
    "Client",
    "Session",
    "Events",
    "Agent",
    "Event",
    "Bot",
    "Filter",
    "options",
    "Message",
    "OnlineFriend",
    "UserInfo",
    "LoginOutcome",
    "Request",
    "encode_request",
    "decode_reply",
    "refresh_logging",
    "Status",
    "MessageKind",
    "Gender",
    "BloodType",
    "Constellation",
    "Zodiac",
    "InfoLevel",
    "AddFriendOutcome",
    "Verification",
    "Outcome",
    "EventKind",
    "AgentState",
    "Phase",
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


def _follow_logging_levels() -> None:
    """Makes every change of a logger's level reach the Rust side at once:
    ``logging`` clears its own level cache through ``Manager._clear_cache``
    on each such change (``setLevel``, ``disable``, the config functions),
    and from now on that clears Rust's cache too."""
    manager = _logging.Manager
    clear = getattr(manager, "_clear_cache", None)
    if clear is None or getattr(clear, "_httpqq", False):
        return

    def _clear_cache(self: _logging.Manager) -> None:
        clear(self)
        refresh_logging()

    _clear_cache._httpqq = True  # type: ignore[attr-defined]
    manager._clear_cache = _clear_cache  # type: ignore[attr-defined]


_follow_logging_levels()

"""The protocol's codes as ``enum.IntEnum`` classes: they compare equal to
the plain numbers, and a code the protocol does not list arrives as a member
named ``OTHER_<code>`` rather than an error, so nothing the server sends is
lost. The test suite checks every class against the core's tables
(``httpqq._native.codes()``)."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Optional

__all__ = [
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
]


class _Code(IntEnum):
    """An IntEnum that keeps unlisted codes as ``OTHER_<code>`` members."""

    @classmethod
    def _missing_(cls, value: object) -> Optional[_Code]:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            member = int.__new__(cls, value)
            member._name_ = f"OTHER_{value}"
            member._value_ = value
            return member
        return None


class Status(_Code):
    """A user's presence (``ST``)."""

    ONLINE = 10
    OFFLINE = 20
    BUSY = 30
    INVISIBLE = 40


class MessageKind(_Code):
    """A message's kind (``MT``)."""

    VERIFICATION_REQUEST = 2
    APPROVED = 3
    REJECTED = 4
    TEXT = 9
    STATUS_CHANGE = 99


class Gender(_Code):
    """``SX``."""

    MALE = 0
    FEMALE = 1


class BloodType(_Code):
    """``BT``."""

    UNSET = 0
    A = 1
    B = 2
    O = 3  # noqa: E741
    AB = 4
    OTHER_TYPE = 5


class Constellation(_Code):
    """``CO``: the star sign."""

    UNSET = 0
    AQUARIUS = 1
    PISCES = 2
    ARIES = 3
    TAURUS = 4
    GEMINI = 5
    CANCER = 6
    LEO = 7
    VIRGO = 8
    LIBRA = 9
    SCORPIO = 10
    SAGITTARIUS = 11
    CAPRICORN = 12


class Zodiac(_Code):
    """``SH``: the Chinese zodiac."""

    UNSET = 0
    RAT = 1
    OX = 2
    TIGER = 3
    RABBIT = 4
    DRAGON = 5
    SNAKE = 6
    HORSE = 7
    GOAT = 8
    MONKEY = 9
    ROOSTER = 10
    DOG = 11
    PIG = 12


class InfoLevel(_Code):
    """How much of a profile ``Session.user_info`` asks for (``LV``)."""

    BRIEF = 0
    NORMAL = 2
    FULL = 3


class AddFriendOutcome(_Code):
    """What ``Session.add_friend`` gave (``CD``); any value from ``REFUSED``
    up is a refusal."""

    ADDED = 0
    NEEDS_VERIFICATION = 1
    REFUSED = 2


class Verification(_Code):
    """A verification step (``Request.verify``)."""

    APPROVE = 0
    REJECT = 1
    REQUEST = 2


class Outcome(_Code):
    """What became of a request: ``ACCEPTED``; ``REFUSED`` (certainly not
    carried out: a result code, a server that could not be reached);
    ``UNKNOWN`` (sent, but no reply came: it may have been)."""

    ACCEPTED = 0
    REFUSED = 1
    UNKNOWN = 2


class EventKind(_Code):
    """What an agent's :class:`~httpqq.Event` reports."""

    ONLINE = 1
    RECONNECTING = 2
    THROTTLED = 3
    SESSION_RENEWED = 4
    MESSAGE = 5
    STOPPED = 6


class AgentState(_Code):
    """Where an :class:`~httpqq.Agent` is."""

    CONNECTING = 0
    ONLINE = 1
    RECONNECTING = 2
    THROTTLED = 3
    STOPPED = 4


class Phase(str, Enum):
    """Where in an exchange a network failure happened (the ``phase`` of
    :class:`~httpqq.TransportError` and :class:`~httpqq.Timeout`). Each
    member equals its text, so ``error.phase == "connecting"`` holds too."""

    CONNECTING = "connecting"
    """Nothing of the request reached the server."""
    SENDING = "sending the request"
    RECEIVING = "waiting for the reply"
    TLS = "tls"
    """Securing the connection (the TLS handshake, the certificate's
    checks): nothing of the request reached the server."""

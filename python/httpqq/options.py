"""The keyword options of clients and agents, as typed dictionaries: what
:class:`~httpqq.Bot`, :class:`httpqq.aio.Client` and the other classes that
pass them on accept (``**options``), so that a type checker catches a
misspelled option or a wrong type.

Every agent option left out is the core's default:

==================  ==========================================================
option              what it does (default)
==================  ==========================================================
poll_interval       seconds between polls while no messages come (5; at
                    least 0.1)
backoff_initial     the first retry's delay after a failure, seconds (1)
backoff_max         the longest retry delay, seconds (30)
backoff_factor      how much longer each retry in a row waits (2)
backoff_jitter      the fraction a delay moves at random either way (0.2)
throttle_penalty    seconds to send nothing after ``RES=3`` (the server's
                    penalty: 20, 30 after DelFromList)
throttle_retries    how often a send refused for a penalty is sent again after
                    it (3; 0 fails at once)
send_pace           ``(count, seconds)``: at most that many sends in any
                    window (90 in 10); ``False`` for no pacing
relogin             log in again after ``RES=20`` (True)
stop_timeout        seconds a stop takes at most (0.1)
inbox               a file keeping fetched messages until handled (none)
==================  ==========================================================
"""

from __future__ import annotations

import os
from typing import Literal, Tuple, TypedDict, Union

__all__ = ["AgentOptions", "ClientOptions"]


class ClientOptions(TypedDict, total=False):
    """The keyword options of :class:`httpqq.Client`."""

    timeout: float
    connect_timeout: float
    keep_alive: bool
    auto_relogin: bool
    max_reply_size: int


class AgentOptions(TypedDict, total=False):
    """The keyword options of :class:`httpqq.Agent` (see the module's
    table)."""

    poll_interval: float
    backoff_initial: float
    backoff_max: float
    backoff_factor: float
    backoff_jitter: float
    throttle_penalty: float
    throttle_retries: int
    send_pace: Union[Tuple[int, float], Literal[False]]
    relogin: bool
    stop_timeout: float
    inbox: Union[str, os.PathLike[str]]


"""Bots in the decorator style: handlers for messages and for the agent's
state, run on the thread that calls :meth:`Bot.run`.

::

    import httpqq

    bot = httpqq.Bot(httpqq.Client("127.0.0.1", 8000), 10001, "demo")

    @bot.on_message
    def echo(message: httpqq.Message) -> None:
        if message.kind is httpqq.MessageKind.TEXT:
            bot.send(message.sender, "echo: " + message.text)

    @bot.on_state
    def report(event: httpqq.Event) -> None:
        print(event)                  # online, reconnecting, throttled, …

    bot.run()                         # until Ctrl-C or bot.stop()

The bot is an :class:`~httpqq.Agent`: it rides out network failures and
server restarts, waits out penalties and logs in again by itself. An
exception in a handler is logged (logger ``httpqq.bot``) and the bot goes
on.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, TypeVar

from httpqq._native import Agent, Client, Event, Message, Session
from httpqq.enums import EventKind

__all__ = ["Bot"]

_log = logging.getLogger("httpqq.bot")

MessageHandler = Callable[[Message], Any]
StateHandler = Callable[[Event], Any]
_H = TypeVar("_H", bound=Callable[..., Any])


class Bot:
    """A bot for one account: register handlers, then :meth:`run`.

    ``agent_options`` go to :class:`~httpqq.Agent` (``poll_interval``,
    ``backoff_max``, ``throttle_penalty``, …).
    """

    def __init__(self, client: Client, uin: int, password: str, **agent_options: Any) -> None:
        self._client = client
        self._uin = uin
        self._password = password
        self._options = agent_options
        self._message_handlers: list[MessageHandler] = []
        self._state_handlers: list[StateHandler] = []
        self._agent: Optional[Agent] = None

    @property
    def uin(self) -> int:
        """The account's UIN."""
        return self._uin

    @property
    def agent(self) -> Agent:
        """The running agent (``RuntimeError`` before :meth:`run`)."""
        if self._agent is None:
            raise RuntimeError("the bot is not running: call run() first")
        return self._agent

    @property
    def session(self) -> Session:
        """The agent's session, for other commands (friends, profiles, …)."""
        return self.agent.session

    def on_message(self, handler: _H) -> _H:
        """Registers ``handler(message)`` for every incoming message (a
        decorator; it returns the handler unchanged)."""
        self._message_handlers.append(handler)
        return handler

    def on_state(self, handler: _H) -> _H:
        """Registers ``handler(event)`` for every state event: online,
        reconnecting, throttled, session renewed, stopped."""
        self._state_handlers.append(handler)
        return handler

    def send(self, uin: int, text: str) -> None:
        """Sends a text message (see :meth:`httpqq.Agent.send`)."""
        self.agent.send(uin, text)

    def stop(self) -> None:
        """Stops the bot: :meth:`run` returns once the agent has stopped.
        Callable from any thread (and from a handler)."""
        if self._agent is not None:
            self._agent.stop()

    def run(self) -> Optional[BaseException]:
        """Runs the bot on this thread until :meth:`stop`, Ctrl-C (the
        agent stops and logs out; no traceback) or a refused login. Returns
        why the agent stopped: ``None`` when asked to, else the exception
        (``LoginFailed`` with its ``reason``, say)."""
        self._agent = Agent(self._client, self._uin, self._password, **self._options)
        stopped_by: Optional[BaseException] = None
        try:
            with self._agent as agent:
                for event in agent:
                    self._dispatch(event)
                    if event.kind is EventKind.STOPPED:
                        error = event.error
                        stopped_by = error if isinstance(error, BaseException) else None
        except KeyboardInterrupt:
            _log.info("bot %s: interrupted; stopping", self._uin)
            self._agent.close()
        return stopped_by

    def _dispatch(self, event: Event) -> None:
        message = event.message
        handlers: list[Callable[[Any], Any]]
        argument: Any
        if message is not None:
            handlers, argument = list(self._message_handlers), message
        else:
            handlers, argument = list(self._state_handlers), event
        for handler in handlers:
            try:
                handler(argument)
            except Exception:
                _log.exception("bot %s: handler %r failed; going on", self._uin, handler)

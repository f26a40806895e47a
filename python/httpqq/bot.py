"""Bots in the decorator style: handlers for messages (routed by filters),
commands, state changes and errors, and hooks at start and stop, run on
the thread that calls :meth:`Bot.run`.

::

    import httpqq

    bot = httpqq.Bot(httpqq.Client("127.0.0.1", 8000), 10001, "demo")

    @bot.command("help")                      # "/help" and "/help topic"
    def help(message: httpqq.Message, args: str) -> None:
        message.reply("try /echo")

    @bot.on_message(kind=httpqq.MessageKind.TEXT)
    def echo(message: httpqq.Message) -> None:
        message.reply("echo: " + message.text)

    @bot.on_error
    def report(error: Exception, message: httpqq.Message | None) -> None:
        print("failed on", message, error)

    bot.run()                                 # until bot.stop(), Ctrl-C or SIGTERM

The bot is an :class:`~httpqq.Agent`: it rides out network failures and
server restarts, waits out penalties and logs in again by itself. A message
is handled by the first handler whose filters it passes, in the order they
were registered. A handler's exception goes to the ``on_error`` handlers
(by default it is logged, logger ``httpqq.bot``) and the bot goes on; the
message counts as handled. Ctrl-C or SIGTERM stop the bot (it logs out)
and end the process with status 130 or 143; a message being handled then
is not done with (with an ``inbox`` it comes again next time).
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Optional, Pattern, TypeVar, Union, overload

from httpqq._native import Agent, Client, Event, Message, Session
from httpqq.enums import EventKind, MessageKind

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from httpqq.options import AgentOptions

__all__ = ["Bot", "Filter", "Handlers", "Terminated"]

_log = logging.getLogger("httpqq.bot")

MessageHandler = Callable[[Message], object]
CommandHandler = Callable[[Message, str], object]
StateHandler = Callable[[Event], object]
ErrorHandler = Callable[[Exception, Optional[Message]], object]
Hook = Callable[[], object]

# The handler types of a bot (plain functions for Bot, coroutine functions
# for httpqq.aio.Bot).
_M = TypeVar("_M", bound=MessageHandler)
_C = TypeVar("_C", bound=CommandHandler)
_S = TypeVar("_S", bound=StateHandler)
_E = TypeVar("_E", bound=ErrorHandler)
_H = TypeVar("_H", bound=Hook)


class Terminated(BaseException):
    """Raised in the bot's thread when the process gets SIGTERM while the
    bot runs (so that it stops as after Ctrl-C); :meth:`Bot.run` turns it
    into exit status 143."""


class Filter:
    """Which messages a handler takes: every condition given must hold.

    - ``kind``: a :class:`~httpqq.MessageKind`, or several;
    - ``sender``: a UIN, or several;
    - ``text``: the exact text;
    - ``prefix``: text starting with this;
    - ``pattern``: a regular expression (a string or compiled) found in
      the text (``re.search``).
    """

    def __init__(
        self,
        *,
        kind: Union[MessageKind, Iterable[MessageKind], None] = None,
        sender: Union[int, Iterable[int], None] = None,
        text: Optional[str] = None,
        prefix: Optional[str] = None,
        pattern: Union[str, Pattern[str], None] = None,
    ) -> None:
        self.kinds = None if kind is None else _set_of(kind, MessageKind)
        self.senders = None if sender is None else _set_of(sender, int)
        self.text = text
        self.prefix = prefix
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def __call__(self, message: Message) -> bool:
        """Whether `message` passes."""
        if self.kinds is not None and message.kind not in self.kinds:
            return False
        if self.senders is not None and message.sender not in self.senders:
            return False
        if self.text is not None and message.text != self.text:
            return False
        if self.prefix is not None and not message.text.startswith(self.prefix):
            return False
        return self.pattern is None or self.pattern.search(message.text) is not None

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if v is not None}
        return f"Filter({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def _set_of(value: Any, single: type) -> frozenset[Any]:
    if isinstance(value, single):
        return frozenset([value])
    return frozenset(value)


def command_args(message: Message, name: str, prefix: str) -> Optional[str]:
    """The arguments of command `name` in a text message (``/name args``),
    or ``None`` when it is not that command."""
    if message.kind is not MessageKind.TEXT:
        return None
    head, _, rest = message.text.partition(" ")
    return rest.strip() if head == prefix + name else None


class Handlers(Generic[_M, _C, _S, _E, _H]):
    """The registrations of a bot, shared by :class:`Bot` and
    :class:`httpqq.aio.Bot` (whose handlers are coroutine functions): each
    decorator returns the handler unchanged."""

    def __init__(self) -> None:
        self._routes: list[tuple[Callable[[Message], Optional[str]], Callable[[Message, str], Any]]] = []
        self._state_handlers: list[_S] = []
        self._error_handlers: list[_E] = []
        self._startup: list[_H] = []
        self._shutdown: list[_H] = []

    @overload
    def on_message(self, handler: _M) -> _M: ...

    @overload
    def on_message(
        self,
        handler: None = None,
        *,
        kind: Union[MessageKind, Iterable[MessageKind], None] = None,
        sender: Union[int, Iterable[int], None] = None,
        text: Optional[str] = None,
        prefix: Optional[str] = None,
        pattern: Union[str, Pattern[str], None] = None,
    ) -> Callable[[_M], _M]: ...

    def on_message(
        self,
        handler: Any = None,
        *,
        kind: Union[MessageKind, Iterable[MessageKind], None] = None,
        sender: Union[int, Iterable[int], None] = None,
        text: Optional[str] = None,
        prefix: Optional[str] = None,
        pattern: Union[str, Pattern[str], None] = None,
    ) -> Any:
        """Registers ``handler(message)`` for the messages that pass the
        filters (see :class:`Filter`; none: every message). A decorator,
        with or without arguments."""
        passes = Filter(kind=kind, sender=sender, text=text, prefix=prefix, pattern=pattern)

        def register(handler: _M) -> _M:
            self._routes.append((lambda m: "" if passes(m) else None, lambda m, _args: handler(m)))
            return handler

        return register if handler is None else register(handler)

    def command(self, name: str, *, prefix: str = "/") -> Callable[[_C], _C]:
        """Registers ``handler(message, args)`` for text messages that are
        the command: ``/name`` alone or ``/name args`` (``args`` the rest,
        stripped). A decorator."""

        def register(handler: _C) -> _C:
            self._routes.append((lambda m: command_args(m, name, prefix), handler))
            return handler

        return register

    def on_state(self, handler: _S) -> _S:
        """Registers ``handler(event)`` for every state event: online,
        reconnecting, throttled, session renewed, stopped. A decorator."""
        self._state_handlers.append(handler)
        return handler

    def on_error(self, handler: _E) -> _E:
        """Registers ``handler(error, message)`` for an exception raised by
        a handler or hook (``message`` is ``None`` outside a message
        handler). Without one, errors are logged. A decorator."""
        self._error_handlers.append(handler)
        return handler

    def on_startup(self, hook: _H) -> _H:
        """Registers ``hook()`` to run when the bot starts, before the
        agent logs in. A decorator."""
        self._startup.append(hook)
        return hook

    def on_shutdown(self, hook: _H) -> _H:
        """Registers ``hook()`` to run when the bot has stopped, however it
        stopped. A decorator."""
        self._shutdown.append(hook)
        return hook

    def _route(self, message: Message) -> Optional[Callable[[], Any]]:
        """The call of the first handler whose filters `message` passes."""
        for matches, handler in list(self._routes):
            args = matches(message)
            if args is not None:
                return lambda: handler(message, args)
        return None


class Bot(Handlers[MessageHandler, CommandHandler, StateHandler, ErrorHandler, Hook]):
    """A bot for one account: register handlers, then :meth:`run`.

    The keyword options are an :class:`~httpqq.Agent`'s
    (:class:`httpqq.options.AgentOptions`: ``poll_interval``,
    ``throttle_retries``, ``send_pace``, ``inbox``, …).
    """

    def __init__(self, client: Client, uin: int, password: str, **options: Unpack[AgentOptions]) -> None:
        self._client = client
        self._uin = uin
        self._password = password
        self._options = options
        super().__init__()
        self._agent: Optional[Agent] = None
        self._stopping = False

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

    def send(self, uin: int, text: str) -> None:
        """Sends a text message (see :meth:`httpqq.Agent.send`: paced, a
        send refused for a penalty sent again after it)."""
        self.agent.send(uin, text)

    def stop(self) -> None:
        """Stops the bot: :meth:`run` returns once the agent has stopped.
        Callable from any thread (and from a handler)."""
        self._stopping = True
        if self._agent is not None:
            self._agent.stop()

    def run(self) -> None:
        """Runs the bot on this thread until :meth:`stop` (then it returns),
        Ctrl-C or SIGTERM (it logs out, then raises ``SystemExit`` with 130
        or 143), or a refused login (it raises that error, e.g.
        :class:`~httpqq.LoginFailed`)."""
        self._stopping = False
        previous = self._catch_sigterm()
        exit_status: Optional[int] = None
        stopped_by: Optional[BaseException] = None
        try:
            for hook in self._startup:
                self._call(hook, None)
            self._agent = Agent(self._client, self._uin, self._password, **self._options)
            if self._stopping:
                self._agent.stop()
            with self._agent as agent:
                for event in agent:
                    if event.message is not None:
                        self._dispatch(event.message)
                        agent.ack()
                        continue
                    for handler in list(self._state_handlers):
                        self._call(lambda: handler(event), None)
                    if event.kind is EventKind.STOPPED and isinstance(event.error, BaseException):
                        stopped_by = event.error
        except KeyboardInterrupt:
            _log.info("bot %s: interrupted; stopped", self._uin)
            exit_status = 130
        except Terminated:
            _log.info("bot %s: terminated; stopped", self._uin)
            exit_status = 143
        finally:
            self._restore_sigterm(previous)
            for hook in self._shutdown:
                self._call(hook, None)
        if exit_status is not None:
            raise SystemExit(exit_status)
        if stopped_by is not None:
            raise stopped_by

    def _dispatch(self, message: Message) -> None:
        call = self._route(message)
        if call is not None:
            self._call(call, message)

    def _call(self, work: Callable[[], object], message: Optional[Message]) -> None:
        try:
            work()
        except Exception as error:
            if not self._error_handlers:
                _log.exception("bot %s: a handler failed; going on", self._uin)
            for handler in list(self._error_handlers):
                try:
                    handler(error, message)
                except Exception:
                    _log.exception("bot %s: the error handler %r failed", self._uin, handler)

    def _catch_sigterm(self) -> Any:
        """SIGTERM stops the bot as Ctrl-C does (only Python's main thread
        can handle signals); the previous handler, to put back."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def terminate(signum: int, frame: Optional[FrameType]) -> None:
            raise Terminated()

        return signal.signal(signal.SIGTERM, terminate)

    @staticmethod
    def _restore_sigterm(previous: Any) -> None:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

"""httpqq for asyncio: an async client, sessions and agents.

::

    import asyncio
    import httpqq.aio

    async def main() -> None:
        client = httpqq.aio.Client("127.0.0.1", 8000)
        async with client.agent(10001, "demo") as agent:
            async for event in agent:                    # forever, until stopped
                if event.message is not None:
                    await agent.send(event.message.sender, "echo: " + event.message.text)

    asyncio.run(main())

An agent's events come without any thread blocked waiting for them: the
agent's own threads wake the event loop. Cancelling the task that iterates
stops the agent promptly (``async with`` logs out on the way out). Sends run
on the agent's threads too. The one-off commands of :class:`Session` run in
the default executor. Cancelling an await cuts its request short at once
(its socket is shut down), so no thread is left waiting and ``asyncio.run``
returns at once; a send cut short may still have been delivered (nothing is
ever resent by itself).

:class:`Bot` is the decorator style of :class:`httpqq.Bot`, with ``async``
handlers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, TypeVar

from httpqq import _native
from httpqq._native import Event, Message, OnlineFriend, UserInfo
from httpqq.bot import Handlers
from httpqq.enums import AddFriendOutcome, AgentState, EventKind, InfoLevel, MessageKind, Status

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from httpqq.options import AgentOptions, ClientOptions

__all__ = ["Client", "Session", "Agent", "Bot"]

_T = TypeVar("_T")
_log = logging.getLogger("httpqq.bot")


async def _in_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs a blocking call in the default executor under a cancel token:
    cancelling the await cuts the call short at once."""
    loop = asyncio.get_running_loop()
    token = _native.Cancel()
    call = functools.partial(function, *args, **kwargs)
    try:
        return await loop.run_in_executor(None, token.run, call)
    except asyncio.CancelledError:
        token.cancel()
        raise


class Client:
    """An async client of one server (the arguments of
    :class:`httpqq.Client`)."""

    def __init__(
        self, host: str = "tqq.tencent.com", port: int = 8000, **options: Unpack[ClientOptions]
    ) -> None:
        self._client = _native.Client(host, port, **options)

    @property
    def host(self) -> str:
        return self._client.host

    @property
    def port(self) -> int:
        return self._client.port

    @property
    def sync(self) -> _native.Client:
        """The blocking client underneath."""
        return self._client

    def agent(self, uin: int, password: str, **options: Unpack[AgentOptions]) -> Agent:
        """An agent for ``uin`` (options as :class:`httpqq.Agent`); it starts
        when entered (``async with``) or :meth:`Agent.start`\\ ed."""
        return Agent(self, uin, password, **options)

    async def login(self, uin: int, password: str) -> Session:
        """Logs in (see :meth:`httpqq.Client.login`)."""
        return Session(await _in_thread(self._client.login, uin, password))

    def __repr__(self) -> str:
        return f"aio.Client(host={self.host!r}, port={self.port})"


class Session:
    """An async session: every command of :class:`httpqq.Session`,
    awaitable. ``async with`` logs out on exit."""

    def __init__(self, session: _native.Session) -> None:
        self._session = session

    @property
    def uin(self) -> int:
        return self._session.uin

    @property
    def sync(self) -> _native.Session:
        """The blocking session underneath."""
        return self._session

    async def friend_count(self) -> int:
        return int(await _in_thread(self._session.friend_count))

    async def friends(self, *, max: Optional[int] = None) -> list[int]:
        return list(await _in_thread(self._session.friends, max=max))

    async def online_count(self) -> int:
        return int(await _in_thread(self._session.online_count))

    async def online_friends(self, *, max: Optional[int] = None) -> list[OnlineFriend]:
        return list(await _in_thread(self._session.online_friends, max=max))

    async def user_info(self, uin: int, *, level: Optional[InfoLevel] = None) -> UserInfo:
        info: UserInfo = await _in_thread(self._session.user_info, uin, level=level)
        return info

    async def add_friend(self, uin: int) -> AddFriendOutcome:
        outcome: AddFriendOutcome = await _in_thread(self._session.add_friend, uin)
        return outcome

    async def approve(self, uin: int) -> None:
        await _in_thread(self._session.approve, uin)

    async def reject(self, uin: int, reason: str = "") -> None:
        await _in_thread(self._session.reject, uin, reason)

    async def request_verification(self, uin: int, reason: str = "") -> None:
        await _in_thread(self._session.request_verification, uin, reason)

    async def remove_friend(self, uin: int) -> None:
        await _in_thread(self._session.remove_friend, uin)

    async def set_status(self, status: Status) -> None:
        await _in_thread(self._session.set_status, status)

    async def messages(self) -> list[Message]:
        return list(await _in_thread(self._session.messages))

    async def send(self, uin: int, text: str) -> None:
        await _in_thread(self._session.send, uin, text)

    async def logout(self) -> None:
        await _in_thread(self._session.logout)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await _in_thread(self._session.__exit__, exc_type, exc, traceback)


class Agent:
    """An async :class:`httpqq.Agent`: ``async with``, ``async for event in
    agent``, ``await agent.send(…)``. The agent's threads wake the event
    loop; no thread waits for events."""

    def __init__(self, client: Client, uin: int, password: str, **options: Unpack[AgentOptions]) -> None:
        self._client = client
        self._uin = uin
        self._password = password
        self._options = options
        self._native: Optional[_native.Agent] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ready: Optional[asyncio.Event] = None
        self._ended = False

    @property
    def uin(self) -> int:
        return self._uin

    @property
    def state(self) -> AgentState:
        """Where the agent is (``CONNECTING`` before it starts)."""
        return AgentState.CONNECTING if self._native is None else self._native.state

    @property
    def sync(self) -> _native.Agent:
        """The agent underneath (``RuntimeError`` before it starts)."""
        if self._native is None:
            raise RuntimeError("the agent has not started: use `async with` or await start()")
        return self._native

    async def start(self) -> Agent:
        """Starts the agent (idempotent)."""
        if self._native is None:
            self._loop = asyncio.get_running_loop()
            self._ready = asyncio.Event()
            self._native = _native.Agent(
                self._client.sync,
                self._uin,
                self._password,
                on_event=self._wake,
                **self._options,
            )
        return self

    def _wake(self) -> None:
        # Called on one of the agent's threads: hand over to the loop.
        loop, ready = self._loop, self._ready
        if loop is None or ready is None:
            return
        try:
            loop.call_soon_threadsafe(ready.set)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting

    def __aiter__(self) -> Agent:
        return self

    async def __anext__(self) -> Event:
        agent = self.sync
        ready = self._ready
        assert ready is not None
        while True:
            if self._ended:
                raise StopAsyncIteration
            ready.clear()
            event = agent.next_event(0)
            if event is not None:
                if event.kind is EventKind.STOPPED:
                    self._ended = True
                return event
            await ready.wait()

    async def send(self, uin: int, text: str) -> None:
        """Sends a text message (see :meth:`httpqq.Agent.send`: paced, a
        send refused for a penalty sent again after it). Cancelling the
        await cuts the send short at once; it may still have been delivered
        (nothing is ever resent by itself)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Optional[BaseException]] = loop.create_future()
        token = _native.Cancel()

        def settle(result: Optional[BaseException]) -> None:
            if not done.done():
                done.set_result(result)

        def finished(result: Optional[BaseException]) -> None:
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:
                pass  # the loop is closed

        self.sync._send_then(uin, text, finished, token)
        try:
            error = await done
        except asyncio.CancelledError:
            token.cancel()
            raise
        if error is not None:
            raise error

    async def reply(self, message: Message, text: str) -> None:
        """Answers a message's sender (see :meth:`send`)."""
        await self.send(message.sender, text)

    def ack(self) -> None:
        """Says you are done with the messages taken so far (see
        :meth:`httpqq.Agent.ack`)."""
        if self._native is not None:
            self._native.ack()

    def stop(self) -> None:
        """Asks the agent to stop; returns at once (see :meth:`close`)."""
        if self._native is not None:
            self._native.stop()

    async def close(self) -> None:
        """Stops the agent and waits until it finished (it logs out if the
        server is reachable). Idempotent."""
        agent, ready = self._native, self._ready
        if agent is None or ready is None:
            return
        agent.stop()
        while True:
            ready.clear()
            if agent.wait_stopped(0):
                break
            await ready.wait()
        agent.close()

    async def __aenter__(self) -> Agent:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        # Without an exception the messages taken were handled.
        if exc_type is None:
            self.ack()
        await self.close()

    def __repr__(self) -> str:
        return f"aio.Agent(uin={self._uin}, state={self.state!r})"


AsyncMessageHandler = Callable[[Message], Awaitable[object]]
AsyncCommandHandler = Callable[[Message, str], Awaitable[object]]
AsyncStateHandler = Callable[[Event], Awaitable[object]]
AsyncErrorHandler = Callable[[Exception, Optional[Message]], Awaitable[object]]
AsyncHook = Callable[[], Awaitable[object]]

class Bot(Handlers[AsyncMessageHandler, AsyncCommandHandler, AsyncStateHandler, AsyncErrorHandler, AsyncHook]):
    """:class:`httpqq.Bot` for asyncio: the same decorators, with ``async``
    handlers, run by ``await bot.run()`` (or ``asyncio.run(bot.run())``)::

        bot = httpqq.aio.Bot(httpqq.aio.Client("127.0.0.1", 8000), 10001, "demo")

        @bot.on_message(kind=httpqq.MessageKind.TEXT)
        async def echo(message: httpqq.Message) -> None:
            await bot.reply(message, "echo: " + message.text)

        asyncio.run(bot.run())

    Handlers run one at a time, in the order messages arrive. Ctrl-C or
    SIGTERM stop the bot (it logs out) and end the process with status 130
    or 143.
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
            raise RuntimeError("the bot is not running: await run() first")
        return self._agent

    async def send(self, uin: int, text: str) -> None:
        """Sends a text message (see :meth:`Agent.send`)."""
        await self.agent.send(uin, text)

    async def reply(self, message: Message, text: str) -> None:
        """Answers a message's sender."""
        await self.agent.send(message.sender, text)

    def stop(self) -> None:
        """Stops the bot: :meth:`run` returns once the agent has stopped."""
        self._stopping = True
        if self._agent is not None:
            self._agent.stop()

    async def run(self) -> None:
        """Runs the bot until :meth:`stop` (then it returns), Ctrl-C or
        SIGTERM (it logs out, then raises ``SystemExit`` with 130 or 143),
        or a refused login (it raises that error)."""
        self._stopping = False
        loop = asyncio.get_running_loop()
        caught: list[int] = []
        signals = self._catch_signals(loop, caught)
        stopped_by: Optional[BaseException] = None
        try:
            for hook in self._startup:
                await self._call(hook(), None)
            self._agent = self._client.agent(self._uin, self._password, **self._options)
            async with self._agent as agent:
                if self._stopping:
                    agent.stop()
                async for event in agent:
                    if event.message is not None:
                        await self._dispatch(event.message)
                        agent.ack()
                        continue
                    for handler in list(self._state_handlers):
                        await self._call(handler(event), None)
                    if event.kind is EventKind.STOPPED and isinstance(event.error, BaseException):
                        stopped_by = event.error
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            for hook in self._shutdown:
                await self._call(hook(), None)
        if caught:
            raise SystemExit(128 + caught[0])
        if stopped_by is not None:
            raise stopped_by

    def _catch_signals(self, loop: asyncio.AbstractEventLoop, caught: list[int]) -> list[int]:
        """Ctrl-C and SIGTERM stop the bot (where the loop can take signal
        handlers: the main thread, not Windows)."""
        installed: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):

            def stop(signum: int = signum) -> None:
                caught.append(signum)
                _log.info("bot %s: signal %s; stopping", self._uin, signum)
                self.stop()

            try:
                loop.add_signal_handler(signum, stop)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            installed.append(signum)
        return installed

    async def _dispatch(self, message: Message) -> None:
        call = self._route(message)
        if call is not None:
            await self._call(call(), message)

    async def _call(self, work: Awaitable[object], message: Optional[Message]) -> None:
        try:
            await work
        except Exception as error:
            if not self._error_handlers:
                _log.exception("bot %s: a handler failed; going on", self._uin)
            for handler in list(self._error_handlers):
                try:
                    await handler(error, message)
                except Exception:
                    _log.exception("bot %s: the error handler %r failed", self._uin, handler)

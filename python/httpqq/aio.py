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
on the agent's threads too; a cancelled send may still have been delivered
(nothing is ever resent by itself). The one-off commands of
:class:`Session` run in the default executor.
"""

from __future__ import annotations

import asyncio
import functools
from types import TracebackType
from typing import Any, Optional, TypeVar

from httpqq import _native
from httpqq._native import Event, Message, OnlineFriend, UserInfo
from httpqq.enums import AddFriendOutcome, AgentState, EventKind, InfoLevel, Status

__all__ = ["Client", "Session", "Agent"]

_T = TypeVar("_T")


async def _in_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(function, *args, **kwargs))


class Client:
    """An async client of one server (the arguments of
    :class:`httpqq.Client`)."""

    def __init__(self, host: str = "tqq.tencent.com", port: int = 8000, **options: Any) -> None:
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

    def agent(self, uin: int, password: str, **options: Any) -> Agent:
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

    def __init__(self, client: Client, uin: int, password: str, **options: Any) -> None:
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
        """Sends a text message (see :meth:`httpqq.Agent.send`). Cancelling
        the await does not unsend it."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Optional[BaseException]] = loop.create_future()

        def settle(result: Optional[BaseException]) -> None:
            if not done.done():
                done.set_result(result)

        def finished(result: Optional[BaseException]) -> None:
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:
                pass  # the loop is closed

        self.sync._send_then(uin, text, finished)
        error = await done
        if error is not None:
            raise error

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
        await self.close()

    def __repr__(self) -> str:
        return f"aio.Agent(uin={self._uin}, state={self.state!r})"

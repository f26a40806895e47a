"""Bots without sharp edges: the decorator bot's routing, commands, replies,
errors and hooks (sync and asyncio); SIGTERM and Ctrl-C; the durable inbox
through a break and a SIGKILL; sends that wait out a throttle; cancelled
asyncio calls that leave no thread behind; and the small things a bot
author meets first."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
import pytest

import httpqq
import httpqq.aio
from httpqq.testing import Server

from conftest import ALICE, BOB


def chat(server: Server, *texts: str, delay: float = 0.3) -> threading.Thread:
    """Alice sends Bob `texts` from another thread, after `delay`."""

    def send() -> None:
        with server.client().login(ALICE, "demo") as alice:
            time.sleep(delay)
            for text in texts:
                alice.send(BOB, text)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def alices_texts(server: Server, wait: float = 0.5) -> list[str]:
    time.sleep(wait)
    with server.client().login(ALICE, "demo") as alice:
        return [m.text for m in alice.messages() if m.kind is httpqq.MessageKind.TEXT]


def test_messages_go_to_the_first_handler_whose_filters_they_pass(server: Server) -> None:
    bot = httpqq.Bot(server.client(timeout=2), BOB, "demo", poll_interval=0.1)
    seen: list[tuple[str, str]] = []

    @bot.command("echo")
    def echo(message: httpqq.Message, args: str) -> None:
        seen.append(("echo", args))
        message.reply("echo: " + args)

    @bot.on_message(pattern=re.compile(r"^\d+$"))
    def number(message: httpqq.Message) -> None:
        seen.append(("number", message.text))

    @bot.on_message(kind=httpqq.MessageKind.TEXT, prefix="bye")
    def bye(message: httpqq.Message) -> None:
        seen.append(("bye", message.text))
        bot.stop()

    @bot.on_message(kind=httpqq.MessageKind.TEXT, sender=ALICE)
    def rest(message: httpqq.Message) -> None:
        seen.append(("rest", message.text))

    @bot.on_message
    def anything(message: httpqq.Message) -> None:
        seen.append(("anything", message.kind.name))

    chat(server, "/echo  a b ", "/echo", "/echoes", "42", "hello", "bye now").join()
    bot.run()
    assert [s for s in seen if s[0] != "anything"] == [
        ("echo", "a b"),
        ("echo", ""),
        ("rest", "/echoes"),
        ("number", "42"),
        ("rest", "hello"),
        ("bye", "bye now"),
    ]
    # Status changes went to the catch-all, not to the text handlers.
    assert all(kind == "STATUS_CHANGE" for name, kind in seen if name == "anything")
    assert alices_texts(server) == ["echo: a b", "echo: "]


def test_errors_go_to_on_error_and_hooks_run_at_start_and_stop(server: Server) -> None:
    bot = httpqq.Bot(server.client(timeout=2), BOB, "demo", poll_interval=0.1)
    calls: list[str] = []

    @bot.on_startup
    def start() -> None:
        calls.append("startup")

    @bot.on_shutdown
    def stop() -> None:
        calls.append("shutdown")

    @bot.on_message(kind=httpqq.MessageKind.TEXT)
    def handle(message: httpqq.Message) -> None:
        calls.append(message.text)
        if message.text == "boom":
            raise RuntimeError("a handler's bug")
        if message.text == "bye":
            bot.stop()

    @bot.on_error
    def oops(error: Exception, message: httpqq.Message | None) -> None:
        calls.append(f"error: {error} on {message.text if message else None}")

    @bot.on_state
    def state(event: httpqq.Event) -> None:
        calls.append(event.kind.name)

    chat(server, "boom", "after", "bye").join()
    bot.run()
    assert calls[0] == "startup" and calls[-1] == "shutdown"
    assert "ONLINE" in calls and "STOPPED" in calls
    texts = [c for c in calls if c not in ("startup", "shutdown", "ONLINE", "STOPPED")]
    assert texts == ["boom", "error: a handler's bug on boom", "after", "bye"]
    assert server.requests(BOB)[-1].command == "Logout"


def test_a_refused_login_is_raised_by_run(server: Server) -> None:
    bot = httpqq.Bot(server.client(timeout=2), BOB, "wrong")
    with pytest.raises(httpqq.LoginFailed) as refused:
        bot.run()
    assert refused.value.reason == "密码错误"


def test_a_reply_needs_the_agent_that_fetched_the_message() -> None:
    by_hand = httpqq.Message(httpqq.MessageKind.TEXT, ALICE, "hi")
    with pytest.raises(RuntimeError, match="no agent"):
        by_hand.reply("hello")


SIGNAL_BOT = """
import sys
import httpqq
bot = httpqq.Bot(httpqq.Client(sys.argv[1], int(sys.argv[2]), timeout=5), 10002, "demo", poll_interval=0.1)

@bot.on_state
def state(event: httpqq.Event) -> None:
    if event.kind is httpqq.EventKind.ONLINE:
        print("online", flush=True)

bot.run()
"""


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_stop_the_bot_logging_out_with_their_exit_status(
    server: Server, signum: int, status: int
) -> None:
    bot = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_BOT, server.host, str(server.port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot.stdout is not None
        assert bot.stdout.readline().strip() == "online"
        bot.send_signal(signum)
        _, err = bot.communicate(timeout=10)
        assert bot.returncode == status, err
        assert "Traceback" not in err, err
        assert server.requests(BOB)[-1].command == "Logout"
    finally:
        bot.kill()


def test_a_bot_whose_login_is_refused_exits_with_a_failure(server: Server) -> None:
    code = SIGNAL_BOT.replace('"demo"', '"wrong"')
    done = subprocess.run(
        [sys.executable, "-c", code, server.host, str(server.port)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert "LoginFailed" in done.stderr


def test_the_asyncio_bot_takes_async_handlers(server: Server) -> None:
    async def main() -> list[str]:
        bot = httpqq.aio.Bot(httpqq.aio.Client(server.host, server.port, timeout=2), BOB, "demo", poll_interval=0.1)
        seen: list[str] = []

        @bot.on_startup
        async def start() -> None:
            seen.append("startup")

        @bot.command("ping")
        async def ping(message: httpqq.Message, args: str) -> None:
            await bot.reply(message, "pong " + args)

        @bot.on_message(kind=httpqq.MessageKind.TEXT)
        async def text(message: httpqq.Message) -> None:
            seen.append(message.text)
            if message.text == "bye":
                raise ValueError("bye handler")

        @bot.on_error
        async def oops(error: Exception, message: httpqq.Message | None) -> None:
            seen.append(f"error {error}")
            bot.stop()

        chat(server, "/ping x", "hi", "bye")
        await bot.run()
        return seen

    assert asyncio.run(main()) == ["startup", "hi", "bye", "error bye handler"]
    assert alices_texts(server) == ["pong x"]


# The durable inbox.


def test_an_inbox_keeps_what_a_break_left_for_the_next_agent(server: Server, tmp_path: Path) -> None:
    inbox = tmp_path / "bob.inbox"
    with server.client().login(ALICE, "demo") as alice:
        for n in range(10):
            alice.send(BOB, f"m{n}")
    client = server.client(timeout=2)
    with httpqq.Agent(client, BOB, "demo", poll_interval=0.1, inbox=inbox) as agent:
        for event in agent:
            if event.message is not None and event.message.kind is httpqq.MessageKind.TEXT:
                assert event.message.text == "m0"
                agent.ack()  # m0 handled
                break
    got = []
    with httpqq.Agent(client, BOB, "demo", poll_interval=0.1, inbox=inbox) as agent:
        for event in agent:
            if event.message is not None and event.message.kind is httpqq.MessageKind.TEXT:
                got.append(event.message.text)
                if len(got) == 9:
                    break
    assert got == [f"m{n}" for n in range(1, 10)]


INBOX_BOT = """
import sys, time
import httpqq
bot = httpqq.Bot(httpqq.Client(sys.argv[1], int(sys.argv[2]), timeout=5), 10002, "demo",
                 poll_interval=0.1, inbox=sys.argv[3])

@bot.on_message(kind=httpqq.MessageKind.TEXT)
def handle(message: httpqq.Message) -> None:
    print(message.text, flush=True)
    time.sleep(0.05)

bot.run()
"""


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines `process` prints, as they come (read on a thread)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_sigkilled_bot_with_an_inbox_loses_nothing(server: Server, tmp_path: Path) -> None:
    inbox = str(tmp_path / "bot.inbox")
    with server.client().login(ALICE, "demo") as alice:
        for n in range(30):
            alice.send(BOB, f"m{n}")

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", INBOX_BOT, server.host, str(server.port), inbox],
            stdout=subprocess.PIPE,
            text=True,
        )

    bot = start()
    lines = lines_of(bot)
    handled = [lines.get(timeout=10) for _ in range(5)]
    bot.kill()  # SIGKILL, mid-batch
    bot.wait()
    bot = start()
    lines = lines_of(bot)
    try:
        while not {f"m{n}" for n in range(30)} <= set(handled):
            handled.append(lines.get(timeout=10))
    except queue.Empty:
        raise AssertionError(f"lost: {sorted({f'm{n}' for n in range(30)} - set(handled))}") from None
    finally:
        bot.kill()
        bot.wait()
    # At least once: the one in hand at the kill may come twice, no more.
    assert len(handled) <= 31, handled


# Cancellation.


def test_a_cancelled_asyncio_call_returns_its_thread_at_once(server: Server) -> None:
    threads_before = threading.active_count()

    async def main() -> None:
        client = httpqq.aio.Client(server.host, server.port, timeout=30)
        session = await client.login(ALICE, "demo")
        server.pause()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(session.friends(), 0.3)

    started = time.monotonic()
    try:
        asyncio.run(main())
    finally:
        server.resume()
    assert time.monotonic() - started < 5.0, "asyncio.run waited for the call (30 s)"
    time.sleep(0.2)
    assert threading.active_count() <= threads_before + 1


def test_a_cancelled_asyncio_send_is_cut_short(server: Server) -> None:
    async def main() -> float:
        client = httpqq.aio.Client(server.host, server.port, timeout=30)
        async with client.agent(BOB, "demo", poll_interval=0.1) as agent:
            async for event in agent:
                if event.kind is httpqq.EventKind.ONLINE:
                    break
            server.pause()
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(agent.send(ALICE, "into the void"), 0.3)
            return time.monotonic() - started

    try:
        assert asyncio.run(main()) < 3.0  # against the send's 30 s timeout
    finally:
        server.resume()


# The small things.


def test_wrong_arguments_are_refused_before_anything_is_sent(server: Server) -> None:
    with pytest.raises(TypeError):
        httpqq.Client("127.0.0.1", True)
    with pytest.raises(ValueError):
        httpqq.Client("127.0.0.1", 0)
    client = server.client()
    with pytest.raises(ValueError, match="10000 to 4294967295"):
        client.login(0, "demo")
    with pytest.raises(TypeError, match="callable"):
        httpqq.Agent(client, BOB, "demo", on_event=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        httpqq.Agent(client, BOB, "demo", send_pace="fast")  # type: ignore[arg-type]
    assert not server.requests(), "nothing was sent"


def test_an_unresolvable_host_was_certainly_not_sent_to() -> None:
    client = httpqq.Client("no-such-host.invalid", 8000, timeout=5)
    for call in range(2):
        with pytest.raises(httpqq.TransportError) as failed:
            if call == 0:
                client.login(ALICE, "demo")
            else:
                errors: list[BaseException] = []

                def other_thread() -> None:
                    try:
                        client.login(ALICE, "demo")
                    except BaseException as error:
                        errors.append(error)

                thread = threading.Thread(target=other_thread)
                thread.start()
                thread.join()
                raise errors[0]
        assert failed.value.phase is httpqq.Phase.CONNECTING
        assert failed.value.outcome is httpqq.Outcome.REFUSED


# Typing: mypy --strict rejects what would fail at run time.

TYPED_BOT = """
from __future__ import annotations
import httpqq
import httpqq.aio

bot = httpqq.Bot(httpqq.Client(), 10001, "demo", poll_interval=1.0)

@bot.on_message
def good(message: httpqq.Message) -> None: ...

@bot.on_message(kind=httpqq.MessageKind.TEXT)
def also_good(message: httpqq.Message) -> None: ...

@bot.command("x")
def command(message: httpqq.Message, args: str) -> None: ...
"""

WRONG = {
    "a handler with the wrong signature": """
@bot.on_message
def wrong(message: int) -> None: ...
""",
    "a command handler without its arguments": """
@bot.command("y")
def wrong(message: httpqq.Message) -> None: ...
""",
    "a misspelled option": """
other = httpqq.Bot(httpqq.Client(), 10001, "demo", pol_interval=1.0)
""",
    "an option of the wrong type": """
other = httpqq.Bot(httpqq.Client(), 10001, "demo", poll_interval="1s")
""",
    "a sync handler on the asyncio bot": """
abot = httpqq.aio.Bot(httpqq.aio.Client(), 10001, "demo")
@abot.on_message
def wrong(message: httpqq.Message) -> None: ...
""",
}


def mypy(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bot_under_test.py"
    path.write_text(textwrap.dedent(code), "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": ""},
    )


def test_mypy_accepts_a_well_typed_bot(tmp_path: Path) -> None:
    checked = mypy(TYPED_BOT, tmp_path)
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize("what", list(WRONG))
def test_mypy_rejects(what: str, tmp_path: Path) -> None:
    checked = mypy(TYPED_BOT + WRONG[what], tmp_path)
    assert checked.returncode == 1, f"{what}: {checked.stdout}"
    assert "error" in checked.stdout


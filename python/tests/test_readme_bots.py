"""The README's three bots, run as they are written (each in a process of
its own, with only the server's port and the bot's account changed),
through what a bot meets: a server restart, an expired session, a throttle
during which a backlog builds up (echoing it must not pass the server's
100 sends per 10 s), and a paused server. Every text sent to a bot is
echoed, nothing else is (no status change), and no bot prints a traceback.
The package README's bot and the examples in python/examples answer and
log out on SIGTERM with status 143.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import httpqq
from httpqq.testing import Server

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
BOTS = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "echo.inbox" in b]

BOT_UINS = [20001, 20002, 20003]
SENDER_UINS = [20011, 20012, 20013]
ACCOUNTS = "".join(
    f'[[account]]\nuin = {uin}\npassword = "demo"\nnickname = "n{uin}"\n' for uin in BOT_UINS + SENDER_UINS
)


def test_the_readme_has_the_three_bots() -> None:
    assert len(BOTS) == 3, "the README's Agent, Bot and asyncio bots"


class Sender:
    """An account that talks to one bot and collects its echoes."""

    def __init__(self, server: Server, uin: int, bot: int) -> None:
        self.bot = bot
        self.echoes: list[str] = []
        self.sent: list[str] = []
        self.agent = httpqq.Agent(server.client(timeout=2), uin, "demo", poll_interval=0.2)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for event in self.agent:
            message = event.message
            if message is not None and message.kind is httpqq.MessageKind.TEXT:
                self.echoes.append(message.text)

    def send(self, *texts: str) -> None:
        for text in texts:
            self.agent.send(self.bot, text)
            self.sent.append(text)

    def all_echoed(self) -> bool:
        return {f"echo: {t}" for t in self.sent} <= set(self.echoes)


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_the_readme_bots_ride_out_restart_expiry_throttle_and_pause(tmp_path: Path) -> None:
    with Server(accounts_toml=ACCOUNTS) as server:
        bots = []
        for n, (code, uin) in enumerate(zip(BOTS, BOT_UINS)):
            code = code.replace('"127.0.0.1", 8000', f'"127.0.0.1", {server.port}').replace("10001", str(uin))
            folder = tmp_path / f"bot{n}"
            folder.mkdir()
            bots.append(
                subprocess.Popen(
                    [sys.executable, "-c", code],
                    cwd=folder,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        senders = [Sender(server, uin, bot) for uin, bot in zip(SENDER_UINS, BOT_UINS)]
        try:
            for sender in senders:
                sender.send("hello, 你好 & 1+1=2")
            wait_for(lambda: all(s.all_echoed() for s in senders), 20, "the first echoes")

            server.stop_listening()
            time.sleep(1)
            server.restart()
            for sender in senders:
                sender.send("after the restart")
            wait_for(lambda: all(s.all_echoed() for s in senders), 20, "echoes after a restart")

            for uin in BOT_UINS:
                server.expire_session(uin)
            for sender in senders:
                sender.send("after the expiry")
            wait_for(lambda: all(s.all_echoed() for s in senders), 20, "echoes after an expiry")

            # A throttle builds a backlog of 120 for each bot; echoing it at
            # once would pass the server's 100 sends per 10 s.
            for uin in BOT_UINS:
                server.throttle(uin, 3)
            backlog = [f"backlog {n}" for n in range(120)]
            sending = [threading.Thread(target=s.send, args=backlog, daemon=True) for s in senders]
            for thread in sending:
                thread.start()
            wait_for(
                lambda: not any(t.is_alive() for t in sending) and all(s.all_echoed() for s in senders),
                60,
                "the backlog's echoes",
            )
            assert all(len(s.sent) == 3 + len(backlog) for s in senders)

            server.pause()
            time.sleep(1)
            server.resume()
            for sender in senders:
                sender.send("after the pause")
            wait_for(lambda: all(s.all_echoed() for s in senders), 40, "echoes after a pause")
        finally:
            for bot in bots:
                bot.terminate()
            outputs = [bot.communicate(timeout=10) for bot in bots]
            for sender in senders:
                sender.agent.close()
        for (out, err), sender in zip(outputs, senders):
            assert "Traceback" not in err, err
            assert "Traceback" not in out, out
            assert all(not re.fullmatch(r"echo: \d\d", e) for e in sender.echoes), "a status change was echoed"
            refused = [r for r in server.requests() if r.uin in BOT_UINS and r.command == "CLTMSG" and r.result == 3]
            assert len(refused) < 3 * 4, f"echoes refused for their pace: {refused}"


def test_the_package_readme_bot_answers_commands_and_text_and_exits_143_on_sigterm(tmp_path: Path) -> None:
    package_readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", package_readme, re.S) if "echo.inbox" in b]
    with Server(accounts_toml=ACCOUNTS) as server:
        code = code.replace('"127.0.0.1", 8000', f'"127.0.0.1", {server.port}').replace("10001", str(BOT_UINS[0]))
        bot = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        sender = Sender(server, SENDER_UINS[0], BOT_UINS[0])
        try:
            sender.send("/help", "hi")
            wait_for(lambda: {"say anything", "echo: hi"} <= set(sender.echoes), 20, "the answers")
            assert "echo: /help" not in sender.echoes, "the command went to the echo handler too"
        finally:
            bot.send_signal(signal.SIGTERM)
            _, err = bot.communicate(timeout=10)
            sender.agent.close()
        assert bot.returncode == 143, err
        assert "Traceback" not in err, err


@pytest.mark.parametrize("example", ["echo_bot.py", "echo_bot_asyncio.py"])
def test_the_example_bots_echo_and_log_out_on_sigterm(example: str, tmp_path: Path) -> None:
    path = Path(__file__).parents[1] / "examples" / example
    with Server(accounts_toml=ACCOUNTS) as server:
        bot = subprocess.Popen(
            [sys.executable, str(path), "127.0.0.1", str(server.port), str(BOT_UINS[0])],
            cwd=tmp_path,
            env={**os.environ, "HTTPQQ_PASSWORD": "demo"},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        sender = Sender(server, SENDER_UINS[0], BOT_UINS[0])
        try:
            sender.send("hi")
            wait_for(lambda: "echo: hi" in sender.echoes, 20, "the echo")
        finally:
            bot.send_signal(signal.SIGTERM)
            _, err = bot.communicate(timeout=10)
            sender.agent.close()
        assert bot.returncode == 143, err
        assert "Traceback" not in err, err
        assert [r.command for r in server.requests(BOT_UINS[0])][-1] == "Logout"

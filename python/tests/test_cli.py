"""``python -m httpqq``: each command against the reference server, human
and JSON output, the password never on the command line, and an exit
status per kind of failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Optional

import pytest

import httpqq
from httpqq.cli import EXIT_CODES, error_json, exit_code
from httpqq.testing import Server

from conftest import ALICE, BOB


def run(
    server: Server, *args: str, password: Optional[str] = "demo", stdin: str = "", uin: int = ALICE
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HTTPQQ_PASSWORD"}
    if password is not None:
        env["HTTPQQ_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "httpqq", "--host", server.host, "--port", str(server.port),
         "--uin", str(uin), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_send_then_friends_online_whois_add_and_status(server: Server, bob: httpqq.Session) -> None:
    sent = run(server, "send", str(BOB), "你好 & 1+1=2 %26")
    assert sent.returncode == 0, sent.stderr
    assert [m.text for m in bob.messages() if m.kind is httpqq.MessageKind.TEXT] == ["你好 & 1+1=2 %26"]

    friends = run(server, "friends")
    assert friends.returncode == 0 and friends.stdout.split() == [str(BOB)]
    assert json.loads(run(server, "--json", "friends").stdout) == [BOB]

    online = json.loads(run(server, "--json", "online").stdout)
    assert [(f["uin"], f["status"]) for f in online] == [(BOB, "online")]
    assert f"{BOB}\tonline" in run(server, "online").stdout

    whois = json.loads(run(server, "--json", "whois", str(BOB)).stdout)
    assert whois["uin"] == BOB and whois["nickname"]
    assert f"nickname: {whois['nickname']}" in run(server, "whois", str(BOB)).stdout

    added = run(server, "--json", "add", "10003")
    assert added.returncode == 0 and json.loads(added.stdout)["outcome"] in {
        "added", "needs_verification", "refused",
    }  # fmt: skip
    assert run(server, "status", "busy").returncode == 0
    assert [(r.command, r.result) for r in server.requests(ALICE)][-2:] == [
        ("Change_Stat", 0), ("Logout", 0),
    ]  # fmt: skip


def test_the_password_comes_from_standard_input_when_not_in_the_environment(
    server: Server,
) -> None:
    assert run(server, "friends", password=None, stdin="demo\n").returncode == 0
    refused = run(server, "friends", password=None, stdin="wrong\n")
    assert refused.returncode == 3 and "密码错误" in refused.stderr
    nothing = run(server, "friends", password=None, stdin="")
    assert nothing.returncode == 2 and "HTTPQQ_PASSWORD" in nothing.stderr


def test_exit_statuses_say_what_failed(server: Server) -> None:
    wrong = run(server, "--json", "friends", password="wrong")
    assert wrong.returncode == 3
    assert json.loads(wrong.stderr) == {
        "error": "LoginFailed", "message": json.loads(wrong.stderr)["message"], "reason": "密码错误",
        "outcome": "refused",
    }  # fmt: skip
    assert run(server, "whois", "99999").returncode == 4
    assert run(server, "send", str(BOB), "x" * 100_000).returncode == 2
    assert run(server, "--port", "0", "friends").returncode == 2
    usage = run(server, "frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    with Server() as gone:
        host, port = gone.host, gone.port
    dead = subprocess.run(
        [sys.executable, "-m", "httpqq", "--host", host, "--port", str(port), "--uin", "10001",
         "--timeout", "2", "friends"],
        capture_output=True, text=True, env={**os.environ, "HTTPQQ_PASSWORD": "x"}, timeout=60,
    )  # fmt: skip
    assert dead.returncode == 7, dead.stderr
    assert error_json(httpqq.Throttled("slow down", retry_after=20.0)) == {
        "error": "Throttled", "message": "slow down", "outcome": "refused", "code": 3, "retry_after": 20.0,
    }  # fmt: skip
    cut = error_json(httpqq.Timeout("late", phase=httpqq.Phase.RECEIVING, outcome=httpqq.Outcome.UNKNOWN))
    assert (cut["outcome"], cut["phase"]) == ("unknown", "receiving")
    assert exit_code(httpqq.Throttled("slow down")) == 5
    assert exit_code(httpqq.NotLoggedIn("")) == 6
    assert exit_code(httpqq.NoReply("")) == 8
    assert exit_code(RuntimeError()) == 1
    assert {code for _, code in EXIT_CODES} == {1, 2, 3, 4, 5, 6, 7, 8}


def test_listen_prints_events_and_messages(server: Server, client: httpqq.Client) -> None:
    listener = subprocess.Popen(
        [sys.executable, "-m", "httpqq", "--host", server.host, "--port", str(server.port),
         "--uin", str(BOB), "--json", "listen", "--interval", "0.2", "--count", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HTTPQQ_PASSWORD": "demo"},
    )  # fmt: skip
    assert listener.stdout is not None
    first = json.loads(listener.stdout.readline())
    assert first == {"event": "online"}
    with client.login(ALICE, "demo") as alice:
        alice.send(BOB, "你好\nBob")
        out, err = listener.communicate(timeout=30)
    assert listener.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[-1] == {"event": "message", "kind": "text", "sender": ALICE, "text": "你好\nBob"}


def test_listen_ends_on_ctrl_c_and_logs_out(server: Server) -> None:
    listener = subprocess.Popen(
        [sys.executable, "-m", "httpqq", "--host", server.host, "--port", str(server.port),
         "--uin", str(BOB), "listen", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HTTPQQ_PASSWORD": "demo"},
    )  # fmt: skip
    assert listener.stdout is not None
    assert listener.stdout.readline().strip() == "-- online"
    listener.send_signal(signal.SIGINT)
    started = time.monotonic()
    listener.communicate(timeout=10)
    assert listener.returncode == 130
    assert time.monotonic() - started < 5
    assert server.requests(BOB)[-1].command == "Logout"


def test_listen_ends_on_ctrl_c_promptly_with_a_request_in_flight(server: Server) -> None:
    # Round 2, finding 13: 7 s on a paused server (a poll waiting out the
    # client's timeout).
    listener = subprocess.Popen(
        [sys.executable, "-m", "httpqq", "--host", server.host, "--port", str(server.port),
         "--uin", str(BOB), "--timeout", "30", "listen", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HTTPQQ_PASSWORD": "demo"},
    )  # fmt: skip
    try:
        assert listener.stdout is not None
        assert listener.stdout.readline().strip() == "-- online"
        server.pause()
        time.sleep(0.6)  # a poll is in flight now
        listener.send_signal(signal.SIGINT)
        started = time.monotonic()
        listener.communicate(timeout=10)
        took = time.monotonic() - started
        assert listener.returncode == 130
        assert took < 3.0, f"{took:.2f} s"  # against the poll's 30 s timeout
    finally:
        listener.kill()
        server.resume()


@pytest.mark.parametrize("args", [["--help"], ["send", "--help"]])
def test_help_says_where_the_password_comes_from(args: list[str]) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "httpqq", *args], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and "usage: httpqq" in shown.stdout
    if args == ["--help"]:
        assert "HTTPQQ_PASSWORD" in shown.stdout and "exit status" in shown.stdout

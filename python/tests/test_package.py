"""The package around the native module: enums match the core's tables,
logging reaches Python, threads share sessions, the test server."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

import httpqq
from httpqq import _native, enums
from httpqq.testing import Server

from conftest import ALICE, BOB


def test_enums_match_the_cores_code_tables() -> None:
    for name, table in _native.codes():
        cls = getattr(enums, name)
        assert [(m.name, m.value) for m in cls] == table, name


def test_unlisted_codes_are_kept_not_refused() -> None:
    other = httpqq.Status(15)
    assert other == 15
    assert other.name == "OTHER_15"
    assert httpqq.AddFriendOutcome(3) >= httpqq.AddFriendOutcome.REFUSED
    with pytest.raises(ValueError):
        httpqq.Status(-1)


def test_rust_logs_reach_python_logging_under_httpqq(
    client: httpqq.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="httpqq"):
        httpqq.refresh_logging()
        session = client.login(ALICE, "demo")
        session.friend_count()
        session.logout()
    client_records = [r for r in caplog.records if r.name == "httpqq"]
    assert any(r.getMessage().startswith("List uin=10001") for r in client_records)
    server_records = [r for r in caplog.records if r.name == "httpqq.server"]
    assert any("Login uin=10001 RES=0" in r.getMessage() for r in server_records)
    assert not any("PS=" in r.getMessage() for r in caplog.records)


def test_threads_share_one_session(alice: httpqq.Session, bob: httpqq.Session) -> None:
    errors: list[BaseException] = []

    def send(thread: int) -> None:
        try:
            for n in range(20):
                alice.send(BOB, f"t{thread}-{n}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    received: list[str] = []
    while len(received) < 80:
        batch = bob.messages()
        assert batch, f"only {len(received)} of 80 arrived"
        received.extend(m.text for m in batch)
    for thread in range(4):
        mine = [t for t in received if t.startswith(f"t{thread}-")]
        assert mine == [f"t{thread}-{n}" for n in range(20)]


def test_eight_threads_with_eight_sessions(server: Server) -> None:
    accounts = "\n".join(
        f'[[account]]\nuin = {20000 + n}\npassword = "pw"\nnickname = "u{n}"\nfriends = [{20000 + (n + 1) % 8}]\n'
        for n in range(8)
    )
    with Server(accounts_toml=accounts) as own:
        client = own.client()
        sessions = [client.login(20000 + n, "pw") for n in range(8)]
        counts: list[int] = []

        def work(session: httpqq.Session) -> None:
            for _ in range(10):
                counts.append(session.friend_count())

        threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert counts == [1] * 80
        for s in sessions:
            s.logout()


def test_testing_server_takes_an_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[[account]]\nuin = 77777\npassword = "secret"\nnickname = "七"\n', "utf-8")
    with Server(path) as server:
        assert repr(server) == f"Server(host='127.0.0.1', port={server.port})"
        with server.client().login(77777, "secret") as session:
            assert session.user_info(77777).nickname == "七"
    with pytest.raises(ValueError):
        Server(tmp_path / "missing.toml")


def test_version() -> None:
    assert httpqq.__version__.count(".") == 2

"""Results are values: picklable, hashable where immutable, and buildable
by hand for tests of your own code; and what a server would refuse is a
ValueError before anything is sent."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

import httpqq
from httpqq.testing import Server

from conftest import ALICE, BOB, CAROL


def round_trip(value: object) -> object:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(value, protocol=protocol))
        if type(value).__eq__ is not object.__eq__:
            assert again == value
    return pickle.loads(pickle.dumps(value))


def test_what_the_server_gives_pickles_and_hashes(
    client: httpqq.Client, alice: httpqq.Session, bob: httpqq.Session
) -> None:
    alice.send(BOB, "你好 & 1+1=2 %26\nsecond line")
    messages = [m for m in bob.messages() if m.kind is httpqq.MessageKind.TEXT]
    info = bob.user_info(ALICE)
    online = bob.online_friends()
    for value in [*messages, info, *online]:
        again = round_trip(value)
        assert again == value and hash(again) == hash(value)
        assert again is not value and type(again) is type(value)
        assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(messages[0])).text == "你好 & 1+1=2 %26\nsecond line"
    assert round_trip(info).fields == info.fields  # type: ignore[attr-defined]
    assert len({info, round_trip(info)}) == 1


def test_results_can_be_built_for_tests() -> None:
    message = httpqq.Message(httpqq.MessageKind.STATUS_CHANGE, ALICE, "30", httpqq.Status.BUSY)
    assert message.kind is httpqq.MessageKind.STATUS_CHANGE and message.status is httpqq.Status.BUSY
    assert httpqq.Message(9, ALICE, "hi") == httpqq.Message(httpqq.MessageKind.TEXT, ALICE, "hi")
    info = httpqq.UserInfo({"UN": "10001", "NK": "a&b=c", "AG": "20", "SX": "1", "LV": "3"})
    assert (info.uin, info.nickname, info.age, info.gender, info.level) == (
        ALICE, "a&b=c", 20, httpqq.Gender.FEMALE, 3,
    )  # fmt: skip
    assert httpqq.UserInfo([("UN", "10001")]).nickname == ""
    with pytest.raises(ValueError, match="UN"):
        httpqq.UserInfo({"NK": "no uin"})
    with pytest.raises(ValueError, match="AG"):
        httpqq.UserInfo({"UN": "1", "AG": "twenty"})
    with pytest.raises(TypeError):
        httpqq.Message(httpqq.MessageKind.TEXT, "10001", "hi")  # type: ignore[arg-type]
    outcome = httpqq.LoginOutcome(60.0, 300.0)
    assert round_trip(outcome) == outcome and hash(outcome) == hash(httpqq.LoginOutcome(60.0, 300.0))
    friend = httpqq.OnlineFriend(BOB, 3, httpqq.Status.ONLINE, "Bob")
    assert round_trip(friend) == friend
    event = httpqq.Event(
        ALICE, httpqq.EventKind.STOPPED, error=httpqq.LoginFailed("密码错误", reason="密码错误")
    )
    again = round_trip(event)
    assert isinstance(again, httpqq.Event) and again.kind is httpqq.EventKind.STOPPED
    assert isinstance(again.error, httpqq.LoginFailed) and again.error.reason == "密码错误"
    carried = round_trip(httpqq.Event(BOB, httpqq.EventKind.MESSAGE, httpqq.Message(9, ALICE, "hi")))
    assert isinstance(carried, httpqq.Event) and carried.message == httpqq.Message(9, ALICE, "hi")


def test_a_message_too_long_for_the_server_is_a_value_error(
    server: Server, client: httpqq.Client, alice: httpqq.Session
) -> None:
    before = len(server.requests())
    with pytest.raises(httpqq.TooLarge, match="send the message in parts") as caught:
        alice.send(BOB, "x" * 1_000_000)
    assert isinstance(caught.value, ValueError)
    assert caught.value.outcome is httpqq.Outcome.REFUSED
    assert caught.value.size > 1_000_000 and caught.value.limit == httpqq.MAX_BODY_BYTES
    # Percent-encoding counts: 30,000 "&" are 90,000 bytes on the wire.
    with pytest.raises(httpqq.TooLarge):
        alice.send(BOB, "&" * 30_000)
    with httpqq.Agent(client, CAROL, "demo", poll_interval=1) as agent:
        with pytest.raises(httpqq.TooLarge):
            agent.send(BOB, "x" * (httpqq.MAX_BODY_BYTES + 1))
    assert not any(r.command == "CLTMSG" for r in server.requests()[before:])
    alice.send(BOB, "x" * (httpqq.MAX_BODY_BYTES - 200))  # what fits is sent


def test_an_unknown_status_is_a_value_error(alice: httpqq.Session) -> None:
    with pytest.raises(ValueError, match="ONLINE \\(10\\), OFFLINE \\(20\\), BUSY \\(30\\), INVISIBLE \\(40\\)"):
        alice.set_status(999)  # type: ignore[arg-type]
    alice.set_status(httpqq.Status.BUSY)
    alice.set_status(40)  # type: ignore[arg-type]


def test_intervals_sizes_and_ports_are_checked(server: Server, alice: httpqq.Session) -> None:
    with pytest.raises(ValueError, match="poll interval"):
        alice.events(interval=1e-9)
    with pytest.raises(ValueError, match="poll interval"):
        httpqq.Agent(server.client(), ALICE, "demo", poll_interval=0.01)
    with pytest.raises(ValueError, match="max_reply_size"):
        httpqq.Client("127.0.0.1", 8000, max_reply_size=-1)
    with pytest.raises(ValueError, match="max_reply_size"):
        httpqq.Client("127.0.0.1", 8000, max_reply_size=0)
    with pytest.raises(ValueError, match="max"):
        alice.friends(max=-1)
    with pytest.raises(ValueError, match="max"):
        httpqq.Request.online_friends(max=-5)
    with pytest.raises(ValueError, match="seq"):
        httpqq.encode_request(httpqq.Request.logout(), uin=ALICE, seq=-1)
    with pytest.raises(ValueError, match="seq"):
        httpqq.decode_reply(httpqq.Request.logout(), b"", seq=70000)
    for port in (0, -1, 65536):
        with pytest.raises(ValueError, match="port must be from 1 to 65535"):
            httpqq.Client("127.0.0.1", port)
    assert httpqq.Client("127.0.0.1", 65535).port == 65535


def test_a_log_level_change_takes_effect_without_a_call(
    client: httpqq.Client, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("httpqq")
    old = logger.level
    caplog.set_level(logging.DEBUG)  # the handler takes everything
    try:
        logger.setLevel(logging.WARNING)
        with client.login(ALICE, "demo") as session:
            session.friend_count()
        assert not [r for r in caplog.records if r.name == "httpqq" and r.levelno < logging.WARNING]
        caplog.clear()
        logger.setLevel(logging.DEBUG)  # no refresh_logging() call
        with client.login(ALICE, "demo") as session:
            session.friend_count()
        assert [r for r in caplog.records if r.name == "httpqq" and r.levelno == logging.DEBUG]
        caplog.clear()
        logging.disable(logging.CRITICAL)
        with client.login(ALICE, "demo") as session:
            session.friend_count()
        assert not [r for r in caplog.records if r.name == "httpqq"]
    finally:
        logging.disable(logging.NOTSET)
        logger.setLevel(old)

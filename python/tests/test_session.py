"""Every command of a session against the in-process reference server."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import httpqq
from httpqq import AddFriendOutcome, InfoLevel, MessageKind, Status

from conftest import ALICE, BOB, CAROL, DAVE, ERIN


def test_login_gives_the_servers_intervals(alice: httpqq.Session) -> None:
    assert alice.uin == ALICE
    assert alice.heartbeat == 60.0
    assert alice.idle_timeout == 300.0
    assert repr(alice) == "Session(uin=10001)"


def test_friends_and_counts(alice: httpqq.Session, bob: httpqq.Session) -> None:
    assert alice.friend_count() == 1
    assert alice.friends() == [BOB]
    assert alice.friends(max=1) == [BOB]
    assert alice.online_count() == 1
    (friend,) = alice.online_friends()
    assert friend.uin == BOB
    assert friend.nickname == "Bob 鲍勃"
    assert friend.face == 3
    assert friend.status is Status.ONLINE
    assert repr(friend) == (
        "OnlineFriend(uin=10002, face=3, status=<Status.ONLINE: 10>, nickname='Bob 鲍勃')"
    )
    assert friend == alice.online_friends(max=5)[0]
    assert len({friend, alice.online_friends()[0]}) == 1


def test_user_info_at_every_level(alice: httpqq.Session) -> None:
    full = alice.user_info(ALICE)
    assert full.level == 3
    assert full.nickname == "Alice 爱丽丝"
    assert full.city == "苏州"
    assert full.age == 19
    assert full.face == 270
    assert full.gender is httpqq.Gender.FEMALE
    assert full.blood_type is httpqq.BloodType.B
    assert full.constellation is httpqq.Constellation.CANCER
    assert full.zodiac is httpqq.Zodiac.TIGER
    assert full.introduction == "Testing HTTP QQ, 1+1=2 & more"
    assert full.get("CV") == "\x01"
    assert full.get("XX", "none") == "none"
    assert full.fields["NK"] == "Alice 爱丽丝"
    assert full == alice.user_info(ALICE, level=InfoLevel.FULL)

    brief = alice.user_info(BOB, level=InfoLevel.BRIEF)
    assert brief.nickname == "Bob 鲍勃"
    assert brief.email is None
    normal = alice.user_info(ALICE, level=InfoLevel.NORMAL)
    assert normal.level == InfoLevel.NORMAL


def test_message_with_reserved_characters_newlines_and_unicode_round_trips(
    alice: httpqq.Session, bob: httpqq.Session
) -> None:
    text = "a&b=c,d%e+f 1+1=2\nsecond line\r\n你好, ünïcode ✓ &UIN=1&RES=0"
    alice.send(BOB, text)
    (message,) = bob.messages()
    assert message.kind is MessageKind.TEXT
    assert message.sender == ALICE
    assert message.text == text
    assert message.status is None
    assert bob.messages() == []


def test_status_changes_reach_friends(alice: httpqq.Session, bob: httpqq.Session) -> None:
    alice.messages()
    bob.set_status(Status.BUSY)
    changes = [m for m in alice.poll() if m.kind is MessageKind.STATUS_CHANGE]
    assert changes[-1].sender == BOB
    assert changes[-1].status is Status.BUSY
    assert "status=<Status.BUSY: 30>" in repr(changes[-1])


def test_adding_friends_and_the_verification_flow(
    client: httpqq.Client, alice: httpqq.Session, bob: httpqq.Session
) -> None:
    assert alice.add_friend(ERIN) is AddFriendOutcome.ADDED
    assert alice.add_friend(DAVE) >= AddFriendOutcome.REFUSED
    assert alice.add_friend(CAROL) is AddFriendOutcome.NEEDS_VERIFICATION
    with client.login(CAROL, "demo") as carol:
        alice.request_verification(CAROL, reason="我是 Alice")
        (request,) = carol.messages()
        assert (request.kind, request.sender, request.text) == (
            MessageKind.VERIFICATION_REQUEST,
            ALICE,
            "我是 Alice",
        )
        carol.approve(ALICE)
        assert [m.kind for m in alice.messages() if m.sender == CAROL] == [MessageKind.APPROVED]

        bob.request_verification(CAROL, "Bob")
        carol.messages()
        carol.reject(BOB, reason="no, thanks")
        rejected = [m for m in bob.messages() if m.kind is MessageKind.REJECTED]
        assert [(m.sender, m.text) for m in rejected] == [(CAROL, "no, thanks")]

    alice.remove_friend(ERIN)
    with pytest.raises(httpqq.Throttled) as raised:
        alice.remove_friend(ERIN)
    assert raised.value.code == 3


def test_events_iterates_and_survives_break(alice: httpqq.Session, bob: httpqq.Session) -> None:
    for text in ("one", "two", "three"):
        alice.send(BOB, text)
    events = bob.events(interval=0.1)
    seen = []
    for message in events:
        seen.append(message.text)
        if message.text == "two":
            break
    # The rest of the batch stays in the iterator.
    seen.append(next(events).text)
    assert seen == ["one", "two", "three"]
    events.close()


def test_closing_events_hands_the_rest_back_to_the_session(
    alice: httpqq.Session, bob: httpqq.Session
) -> None:
    for text in ("one", "two", "three"):
        alice.send(BOB, text)
    with bob.events(interval=0.1) as events:
        assert next(events).text == "one"
    assert [m.text for m in bob.messages()] == ["two", "three"]
    with pytest.raises(ValueError):
        bob.events(interval=0.01)  # a busy loop


def test_session_context_manager_logs_out(client: httpqq.Client) -> None:
    with client.login(ERIN, "demo") as erin:
        assert erin.friend_count() == 0
    with pytest.raises(httpqq.NotLoggedIn):
        erin.friend_count()


def test_context_manager_does_not_hide_the_blocks_exception(client: httpqq.Client) -> None:
    with pytest.raises(KeyError):
        with client.login(ERIN, "demo") as erin:
            erin.logout()
            raise KeyError("the block's own error")


def test_relogin_and_auto_relogin(client: httpqq.Client) -> None:
    session = client.login(ERIN, "demo")
    session.logout()
    session.relogin()
    assert session.friend_count() == 0
    session.logout()
    session.set_auto_relogin(True)
    assert session.friend_count() == 0
    session.logout()


def test_login_md5(client: httpqq.Client) -> None:
    session = client.login_md5(ERIN, "fe01ce2a7fbac8fafaed7c982a04e229")
    assert session.uin == ERIN
    session.logout()


def test_events_stop_on_ctrl_c(bob: httpqq.Session) -> None:
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        for _ in bob.events(interval=30):
            pass
    timer.join()
    assert time.monotonic() - started < 3

"""The codec without a socket: every vector of the field notes through
decode_reply, and encode_request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import httpqq
from httpqq import Request

VECTORS = json.loads(
    (Path(__file__).parents[2] / "core" / "tests" / "data" / "vectors.json").read_text("utf-8")
)["vectors"]


def request_for(vector: dict[str, Any]) -> Request:
    response = vector["response"]
    has_sn = "&SN=" in response
    return {
        "Login": lambda: Request.login("x"),
        "List": lambda: Request.friends() if has_sn else Request.friend_count(),
        "Query_Stat": lambda: Request.online_friends(max=50) if has_sn else Request.online_count(),
        "GetInfo": lambda: Request.user_info(106814),
        "AddToList": lambda: Request.add_friend(3814526),
        "Ack_AddToList": lambda: Request.verify(3814526, httpqq.Verification.REQUEST, "TEST"),
        "DelFromList": lambda: Request.remove_friend(3814526),
        "Change_Stat": lambda: Request.set_status(httpqq.Status.BUSY),
        "GetMsgEx": Request.fetch_messages,
        "CLTMSG": lambda: Request.send_message(3814526, "TEST"),
        "Logout": Request.logout,
    }[vector["command"]]()


def seq_for(vector: dict[str, Any]) -> int:
    return int(vector.get("fields", {}).get("SEQ", "4321").strip())


EXPECTED_ERRORS = {"protocol": httpqq.ProtocolError, "no-reply": httpqq.NoReply}
RESULT_ERRORS = {"3": httpqq.Throttled, "5": httpqq.InvalidUin, "20": httpqq.NotLoggedIn}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_decodes_as_the_notes_say(vector: dict[str, Any]) -> None:
    request = request_for(vector)
    body = vector["response"].encode("utf-8")
    fields = {k: str(v).strip() for k, v in vector.get("fields", {}).items()}
    if vector.get("error"):
        with pytest.raises(EXPECTED_ERRORS[vector["error"]]):
            httpqq.decode_reply(request, body, seq=seq_for(vector))
        return
    if fields.get("RES") in RESULT_ERRORS:
        with pytest.raises(RESULT_ERRORS[fields["RES"]]):
            httpqq.decode_reply(request, body, seq=seq_for(vector))
        return
    if fields.get("RS") == "1":
        with pytest.raises(httpqq.LoginFailed) as raised:
            httpqq.decode_reply(request, body, seq=seq_for(vector))
        assert raised.value.reason
        return
    reply = httpqq.decode_reply(request, body, seq=seq_for(vector))
    lists = vector.get("lists", {})
    if isinstance(reply, list) and "UN" in lists:
        uins = [int(u) for u in lists["UN"]]
        if reply and isinstance(reply[0], httpqq.Message):
            assert [m.sender for m in reply] == uins
            assert [int(m.kind) for m in reply] == [int(k) for k in lists["MT"]]
        elif reply and isinstance(reply[0], httpqq.OnlineFriend):
            assert [f.uin for f in reply] == uins
        else:
            assert reply == uins
    elif isinstance(reply, httpqq.LoginOutcome):
        assert reply.heartbeat == float(fields["HI"])
        assert reply.idle_timeout == float(fields["LI"])
    elif isinstance(reply, httpqq.UserInfo):
        assert reply.uin == int(fields["UN"])
        assert reply.nickname == reply.fields["NK"]
    elif vector["command"] == "AddToList":
        assert reply == int(fields["CD"])


def test_encode_request_escapes_what_the_protocol_reserves() -> None:
    body = httpqq.encode_request(Request.send_message(10002, "1+1=2, 好 & %"), uin=10001, seq=7)
    assert body == "VER=1.1&CMD=CLTMSG&SEQ=7&UIN=10001&UN=10002&MG=1%2b1%3d2%2c 好 %26 %25"


def test_requests_know_their_command_and_the_double_reply() -> None:
    assert Request.online_count().closes_connection
    assert not Request.online_friends().closes_connection
    assert Request.logout().command == "Logout"
    assert repr(Request.fetch_messages()) == "Request(GetMsgEx)"
    # max=0 asks for the default (160), as Session.friends(max=0) does.
    assert "&TN=160&" in httpqq.encode_request(Request.friends(max=0), uin=1, seq=1)
    with pytest.raises(ValueError):
        Request.friends(max=-1)


def test_decode_messages_gives_typed_messages() -> None:
    body = b"VER=1.1&CMD=GETMSGEX&SEQ=9&UIN=1&RES=0&MN=2&MT=99,9,&UN=5,6,&MG=30,a%2cb,"
    messages = httpqq.decode_reply(Request.fetch_messages(), body, seq=9)
    assert isinstance(messages, list)
    status, text = messages
    assert isinstance(status, httpqq.Message) and isinstance(text, httpqq.Message)
    assert status.status is httpqq.Status.BUSY
    assert text.text == "a,b"
    assert httpqq.decode_reply(Request.logout(), b"VER=1.1&CMD=LOGOUT&SEQ=3&UIN=1&RES=0", seq=3) is None
    with pytest.raises(httpqq.NoReply):
        httpqq.decode_reply(Request.logout(), b"", seq=3)

//! Core writes every reply the reference server sends
//! (`codec::encode_reply`) and reads it back (`codec::decode_reply`): for
//! every kind of reply, reading what was written gives back what was said.

use httpqq::codec::{self, encode_reply, Answer, Command, Escapes, ReplyHead, ResultCode};
use httpqq::{
    AddFriendOutcome, BloodType, Constellation, Error, Face, Gender, InfoLevel, LoginOutcome,
    Message, OnlineFriend, Reply, Request, Status, Uin, UserInfo, Zodiac,
};
use proptest::prelude::*;
use std::time::Duration;

fn head(command: Command, seq: &str) -> ReplyHead<'_> {
    ReplyHead {
        version: "1.1",
        command,
        seq,
        uin: 10001,
        escapes: Escapes::Safe,
    }
}

/// Written with each escape set, read back: both must give the same.
fn round_trip(request: &Request, seq: u16, answer: &Answer<'_>) -> Result<Reply, Error> {
    let seq_text = seq.to_string();
    let safe = encode_reply(&head(request.command(), &seq_text), answer);
    let faithful = encode_reply(
        &ReplyHead {
            escapes: Escapes::Faithful,
            ..head(request.command(), &seq_text)
        },
        answer,
    );
    let read = codec::decode_reply(request, seq, safe.as_bytes());
    let read_faithful = codec::decode_reply(request, seq, faithful.as_bytes());
    assert_eq!(
        format!("{read:?}"),
        format!("{read_faithful:?}"),
        "the original's escapes read differently: {faithful}"
    );
    read
}

/// Text rich in the characters the encoding must escape.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[&=,%+\r\n\t \u{7f}a-z好🎉]{0,24}",
        Just("&RES=0&UN=1".to_owned()),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let kind = prop_oneof![Just(2u32), Just(3), Just(4), Just(9), Just(99), Just(7)];
    let content = prop_oneof![tricky_text(), (0u32..100).prop_map(|n| n.to_string())];
    (kind, 1u64.., content)
        .prop_map(|(kind, from, content)| Message::from_wire(kind, Uin::new(from), content))
}

fn online_friend() -> impl Strategy<Value = OnlineFriend> {
    (
        0u32..1000,
        prop_oneof![Just(10u32), Just(30), 0u32..100],
        1u64..,
        tricky_text(),
    )
        .prop_map(|(face, status, uin, nickname)| OnlineFriend {
            face: Face::new(face),
            status: Status::from_code(status),
            uin: Uin::new(uin),
            nickname,
        })
}

fn text_field() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(tricky_text())
}

fn number_field() -> impl Strategy<Value = Option<u32>> {
    proptest::option::of(0u32..200)
}

fn user_info() -> impl Strategy<Value = UserInfo> {
    let texts = proptest::collection::vec(text_field(), 17);
    let numbers = proptest::collection::vec(number_field(), 6);
    (0u32..5, 1u64.., tricky_text(), texts, numbers).prop_map(|(level, uin, nickname, t, n)| {
        let extra = ["CV", "ID", "MT", "MV"]
            .iter()
            .zip(&t[12..16])
            .filter_map(|(key, value)| value.clone().map(|v| ((*key).to_owned(), v)))
            .collect();
        UserInfo {
            level,
            uin: Uin::new(uin),
            nickname,
            address: t[0].clone(),
            age: n[0],
            blood_type: n[1].map(BloodType::from_code),
            constellation: n[2].map(Constellation::from_code),
            city: t[1].clone(),
            country: t[2].clone(),
            email: t[3].clone(),
            face: n[3].map(Face::new),
            homepage: t[4].clone(),
            occupation: t[5].clone(),
            mobile: t[6].clone(),
            postal_code: t[7].clone(),
            phone: t[8].clone(),
            introduction: t[9].clone(),
            province: t[10].clone(),
            real_name: t[11].clone(),
            school: t[16].clone(),
            zodiac: n[4].map(Zodiac::from_code),
            gender: n[5].map(Gender::from_code),
            fields: extra,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn messages_read_back_as_written(messages in proptest::collection::vec(message(), 0..6), seq: u16) {
        let reply = round_trip(&Request::FetchMessages, seq, &Answer::Messages(&messages)).unwrap();
        prop_assert_eq!(reply, Reply::Messages(messages));
    }

    #[test]
    fn friend_lists_read_back_as_written(uins in proptest::collection::vec(1u64.., 0..8), seq: u16) {
        let uins: Vec<Uin> = uins.into_iter().map(Uin::new).collect();
        let reply = round_trip(&Request::FriendList { max: 9 }, seq, &Answer::FriendList(&uins)).unwrap();
        prop_assert_eq!(reply, Reply::FriendList(uins));
    }

    #[test]
    fn online_friends_read_back_as_written(friends in proptest::collection::vec(online_friend(), 0..6), seq: u16) {
        let reply = round_trip(&Request::OnlineFriends { max: 9 }, seq, &Answer::OnlineFriends(&friends)).unwrap();
        prop_assert_eq!(reply, Reply::OnlineFriends(friends));
    }

    #[test]
    fn counts_read_back_as_written(count: u32, seq: u16) {
        prop_assert_eq!(round_trip(&Request::FriendCount, seq, &Answer::Count(count)).unwrap(), Reply::FriendCount(count));
        prop_assert_eq!(round_trip(&Request::OnlineCount, seq, &Answer::Count(count)).unwrap(), Reply::OnlineCount(count));
    }

    #[test]
    fn logins_read_back_as_written(heartbeat in 1u64..100_000, idle in 1u64..100_000, reason in tricky_text(), seq: u16) {
        let outcome = LoginOutcome { heartbeat: Duration::from_secs(heartbeat), idle_timeout: Duration::from_secs(idle) };
        let login = Request::Login { password: httpqq::PasswordHash::from_password("x") };
        prop_assert_eq!(round_trip(&login, seq, &Answer::Login(&outcome)).unwrap(), Reply::Login(outcome));
        match round_trip(&login, seq, &Answer::LoginRefused { reason: &reason }) {
            Err(Error::LoginFailed { reason: got }) => prop_assert_eq!(got, reason),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// A profile reads back field for field, and what was read writes the
    /// same bytes again.
    #[test]
    fn profiles_read_back_as_written(info in user_info(), seq: u16) {
        let request = Request::UserInfo { target: info.uin, level: InfoLevel::Full };
        let written = encode_reply(&head(Command::GetInfo, &seq.to_string()), &Answer::UserInfo(&info));
        let Reply::UserInfo(read) = codec::decode_reply(&request, seq, written.as_bytes()).unwrap() else {
            panic!("not a profile");
        };
        let typed = |i: &UserInfo| UserInfo { fields: Vec::new(), ..i.clone() };
        prop_assert_eq!(typed(&read), typed(&info));
        for (key, value) in &info.fields {
            prop_assert_eq!(read.get(key), Some(value.as_str()));
        }
        prop_assert_eq!(encode_reply(&head(Command::GetInfo, &seq.to_string()), &Answer::UserInfo(&read)), written);
    }

    #[test]
    fn result_codes_read_back_as_written(reason in proptest::option::of(tricky_text()), seq: u16) {
        let fetch = Request::FetchMessages;
        let refused = |code| Answer::Refused { code, reason: reason.as_deref() };
        match round_trip(&fetch, seq, &refused(ResultCode::Throttled)) {
            Err(Error::Throttled { retry_after, reason: got }) => {
                prop_assert_eq!(retry_after, Command::GetMsgEx.penalty());
                prop_assert_eq!(got, reason.clone());
            }
            other => prop_assert!(false, "{:?}", other),
        }
        prop_assert!(matches!(round_trip(&fetch, seq, &refused(ResultCode::InvalidUin)), Err(Error::InvalidUin)));
        prop_assert!(matches!(round_trip(&fetch, seq, &refused(ResultCode::NotLoggedIn)), Err(Error::NotLoggedIn)));
        prop_assert_eq!(round_trip(&Request::Logout, seq, &refused(ResultCode::Ok)).unwrap(), Reply::Done);
    }
}

#[test]
fn the_rest_reads_back_as_written() {
    for request in [
        Request::Logout,
        Request::RemoveFriend {
            target: Uin::new(2),
        },
        Request::SetStatus {
            status: Status::Busy,
        },
        Request::SendMessage {
            target: Uin::new(2),
            text: "hi".into(),
        },
    ] {
        assert_eq!(
            round_trip(&request, 5, &Answer::Done).unwrap(),
            Reply::Done,
            "{request:?}"
        );
    }
    for outcome in [
        AddFriendOutcome::Added,
        AddFriendOutcome::NeedsVerification,
        AddFriendOutcome::Refused { code: 2 },
    ] {
        let add = Request::AddFriend {
            target: Uin::new(2),
        };
        let answer = Answer::AddFriend {
            outcome,
            target: Uin::new(2),
        };
        assert_eq!(
            round_trip(&add, 5, &answer).unwrap(),
            Reply::AddFriend(outcome)
        );
    }
    // Query_Stat with TN=0 gets two replies; the second is an empty list.
    let second = encode_reply(
        &head(Command::QueryStat, &5.to_string()),
        &Answer::OnlineFriends(&[]),
    );
    assert_eq!(
        second,
        "VER=1.1&CMD=QUERY_STAT&SEQ=5&UIN=10001&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK="
    );
    // The original's trailing `&`: DelFromList, Change_Stat and CLTMSG only.
    for (command, tail) in [
        (Command::DelFromList, "&RES=0&"),
        (Command::ChangeStat, "&RES=0&"),
        (Command::CltMsg, "&RES=0&"),
        (Command::Logout, "&RES=0"),
        (Command::AckAddToList, "&RES=0"),
    ] {
        assert!(
            encode_reply(&head(command, &1.to_string()), &Answer::Done).ends_with(tail),
            "{command:?}"
        );
    }
}

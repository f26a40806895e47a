//! Any bytes as the reply to any request: the decoder returns a reply or an
//! error, never panics, and what it accepts it accepts again unchanged.
#![no_main]

use httpqq::codec::{decode_reply, Fields};
use httpqq::{InfoLevel, PasswordHash, Request, Status, Uin, Verification};
use libfuzzer_sys::fuzz_target;

fn request(selector: u8) -> Request {
    let target = Uin::new(3814526);
    match selector % 13 {
        0 => Request::Login {
            password: PasswordHash::from_password("x"),
        },
        1 => Request::FriendCount,
        2 => Request::FriendList { max: 160 },
        3 => Request::OnlineCount,
        4 => Request::OnlineFriends { max: 50 },
        5 => Request::UserInfo {
            target,
            level: InfoLevel::Full,
        },
        6 => Request::AddFriend { target },
        7 => Request::Verify {
            target,
            action: Verification::Request,
            reason: "r".into(),
        },
        8 => Request::RemoveFriend { target },
        9 => Request::SetStatus {
            status: Status::Busy,
        },
        10 => Request::FetchMessages,
        11 => Request::SendMessage {
            target,
            text: "t".into(),
        },
        _ => Request::Logout,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let request = request(selector);
    let first = decode_reply(&request, 4321, body);
    let second = decode_reply(&request, 4321, body);
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
    if let Ok(fields) = Fields::parse(body) {
        for (key, raw) in fields.iter() {
            let _ = (key, httpqq::codec::decode_value(raw));
        }
    }
});

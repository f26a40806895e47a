//! Every reply of `vectors.json` (from the 2005 field notes and one capture)
//! is read as the file says: the generic fields and lists, and the typed
//! reply or error a client reports.

use httpqq::codec::{self, decode_value, Fields, List};
use httpqq::{Error, InfoLevel, Message, Reply, Request, Uin};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    command: String,
    response: String,
    #[serde(default)]
    fields: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    lists: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    error: Option<String>,
}

/// Keys whose values are numbers: trimmed of spaces when read (the file's
/// `about`).
const NUMERIC: &[&str] = &[
    "RES", "RS", "HI", "LI", "FN", "SN", "MN", "LV", "CD", "AG", "FC", "SX", "BT", "CO", "SH",
    "SEQ", "UIN", "UN",
];
/// List items that are numbers.
const NUMERIC_LISTS: &[&str] = &["FC", "ST", "UN", "MT"];

fn vectors() -> Vec<Vector> {
    let file: File = serde_json::from_str(include_str!("data/vectors.json")).expect("vectors.json");
    assert!(file.vectors.len() >= 30, "vectors.json lost vectors");
    file.vectors
}

fn trim(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_matches(' ').to_owned()
}

/// The request a vector's reply answers.
fn request_for(v: &Vector) -> Request {
    let has = |key: &str| v.response.contains(&format!("&{key}="));
    match v.command.as_str() {
        "Login" => Request::Login {
            password: httpqq::PasswordHash::from_password("x"),
        },
        "List" if has("SN") => Request::FriendList { max: 160 },
        "List" => Request::FriendCount,
        "Query_Stat" if has("SN") => Request::OnlineFriends { max: 50 },
        "Query_Stat" => Request::OnlineCount,
        "GetInfo" => Request::UserInfo {
            target: Uin::new(106814),
            level: InfoLevel::Full,
        },
        "AddToList" => Request::AddFriend {
            target: Uin::new(3814526),
        },
        "Ack_AddToList" => Request::Verify {
            target: Uin::new(3814526),
            action: httpqq::Verification::Request,
            reason: "TEST".into(),
        },
        "DelFromList" => Request::RemoveFriend {
            target: Uin::new(3814526),
        },
        "Change_Stat" => Request::SetStatus {
            status: httpqq::Status::Busy,
        },
        "GetMsgEx" => Request::FetchMessages,
        "CLTMSG" => Request::SendMessage {
            target: Uin::new(3814526),
            text: "TEST".into(),
        },
        "Logout" => Request::Logout,
        other => panic!("vector {} names unknown command {other}", v.name),
    }
}

fn seq_for(v: &Vector) -> u16 {
    v.fields
        .as_ref()
        .and_then(|f| f.get("SEQ"))
        .and_then(|s| s.as_str())
        .map_or(4321, |s| s.parse().expect("SEQ"))
}

#[test]
fn every_vector_reads_its_fields() {
    for v in vectors() {
        let Some(expected) = &v.fields else { continue };
        let fields =
            Fields::parse(v.response.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let got: Vec<(String, String)> = fields
            .iter()
            .map(|(key, raw)| {
                let value = if v.lists.contains_key(key) {
                    String::from_utf8_lossy(raw).into_owned()
                } else if NUMERIC.contains(&key) {
                    trim(raw)
                } else {
                    decode_value(raw).into_owned()
                };
                (key.to_owned(), value)
            })
            .collect();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(k, val)| (k.clone(), val.as_str().expect("string").to_owned()))
            .collect();
        assert_eq!(got, want, "vector {}", v.name);
    }
}

#[test]
fn every_vector_splits_its_lists() {
    let mut checked = 0;
    for v in vectors() {
        if v.lists.is_empty() {
            continue;
        }
        let fields = Fields::parse(v.response.as_bytes()).expect(&v.name);
        for (key, want) in &v.lists {
            let items = fields
                .list(key)
                .map(List::collect::<Vec<_>>)
                .unwrap_or_default();
            let got: Vec<String> = items
                .into_iter()
                .map(|raw| {
                    if NUMERIC_LISTS.contains(&key.as_str()) {
                        trim(raw)
                    } else {
                        decode_value(raw).into_owned()
                    }
                })
                .collect();
            assert_eq!(&got, want, "vector {} list {key}", v.name);
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} lists checked");
}

#[test]
fn every_vector_gives_its_typed_reply_or_error() {
    for v in vectors() {
        let request = request_for(&v);
        let result = codec::decode_reply(&request, seq_for(&v), v.response.as_bytes());
        let field = |key: &str| -> Option<String> {
            v.fields.as_ref()?.get(key)?.as_str().map(str::to_owned)
        };
        match (
            v.error.as_deref(),
            field("RES").as_deref(),
            field("RS").as_deref(),
        ) {
            (Some("protocol"), ..) => {
                assert!(
                    matches!(result, Err(Error::Protocol(_))),
                    "{}: {result:?}",
                    v.name
                )
            }
            (Some("no-reply"), ..) => {
                assert!(
                    matches!(result, Err(Error::NoReply)),
                    "{}: {result:?}",
                    v.name
                )
            }
            (Some(other), ..) => panic!("{}: unknown error kind {other}", v.name),
            (None, Some("3"), _) => {
                assert!(matches!(result, Err(Error::Throttled { .. })), "{}", v.name)
            }
            (None, Some("5"), _) => assert!(matches!(result, Err(Error::InvalidUin)), "{}", v.name),
            (None, Some("20"), _) => {
                assert!(matches!(result, Err(Error::NotLoggedIn)), "{}", v.name)
            }
            (None, Some("0"), Some("1")) => match result {
                Err(Error::LoginFailed { reason }) => assert_eq!(Some(reason), field("RA")),
                other => panic!("{}: {other:?}", v.name),
            },
            (None, Some("0"), _) => {
                let reply = result.unwrap_or_else(|e| panic!("{}: {e}", v.name));
                check_typed(&v, &reply);
            }
            (None, res, _) => panic!("{}: unexpected RES {res:?}", v.name),
        }
    }
}

/// The typed reply carries what the generic lists and fields say.
fn check_typed(v: &Vector, reply: &Reply) {
    let list = |key: &str| v.lists.get(key).cloned().unwrap_or_default();
    let field =
        |key: &str| -> Option<String> { v.fields.as_ref()?.get(key)?.as_str().map(str::to_owned) };
    match reply {
        Reply::Login(outcome) => {
            assert_eq!(
                outcome.heartbeat.as_secs().to_string(),
                field("HI").unwrap()
            );
            assert_eq!(
                outcome.idle_timeout.as_secs().to_string(),
                field("LI").unwrap()
            );
        }
        Reply::FriendCount(n) | Reply::OnlineCount(n) => {
            assert_eq!(n.to_string(), field("FN").unwrap(), "{}", v.name)
        }
        Reply::FriendList(uins) => {
            let got: Vec<String> = uins.iter().map(Uin::to_string).collect();
            assert_eq!(got, list("UN"), "{}", v.name);
        }
        Reply::OnlineFriends(friends) => {
            assert_eq!(friends.len(), list("UN").len(), "{}", v.name);
            for (i, f) in friends.iter().enumerate() {
                assert_eq!(f.uin.to_string(), list("UN")[i]);
                assert_eq!(f.face.id().to_string(), list("FC")[i]);
                assert_eq!(f.status.code().to_string(), list("ST")[i]);
                assert_eq!(f.nickname, list("NK")[i]);
            }
        }
        Reply::UserInfo(info) => {
            assert_eq!(info.uin.to_string(), field("UN").unwrap());
            assert_eq!(info.nickname, field("NK").unwrap());
            assert_eq!(info.level.to_string(), field("LV").unwrap());
            assert_eq!(info.age.map(|a| a.to_string()), field("AG"));
            assert_eq!(info.address, field("AD"));
            assert_eq!(info.introduction, field("PR"));
            assert_eq!(info.blood_type.map(|b| b.code().to_string()), field("BT"));
            assert_eq!(info.zodiac.map(|z| z.code().to_string()), field("SH"));
            for (key, value) in v.fields.as_ref().unwrap() {
                if !["VER", "CMD", "SEQ", "UIN", "RES"].contains(&key.as_str()) {
                    assert_eq!(info.get(key), value.as_str(), "{} field {key}", v.name);
                }
            }
        }
        Reply::AddFriend(outcome) => {
            assert_eq!(outcome.code().to_string(), field("CD").unwrap())
        }
        Reply::Messages(messages) => {
            let (kinds, senders, contents) = (list("MT"), list("UN"), list("MG"));
            assert_eq!(messages.len(), kinds.len(), "{}", v.name);
            for (i, m) in messages.iter().enumerate() {
                assert_eq!(m.kind().code().to_string(), kinds[i]);
                assert_eq!(m.sender().to_string(), senders[i]);
                match m {
                    Message::StatusChange { status, .. } => {
                        assert_eq!(status.code().to_string(), contents[i].trim())
                    }
                    other => assert_eq!(other.content(), contents[i].as_str()),
                }
            }
        }
        Reply::Done => {}
        other => panic!("{}: unexpected {other:?}", v.name),
    }
}

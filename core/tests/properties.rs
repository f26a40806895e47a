//! Property tests: any text survives the value encoding, no value can inject
//! a field, and no bytes make the decoder panic.

use httpqq::codec::{self, decode_value, decode_value_strict, encode_value, Fields};
use httpqq::{InfoLevel, Message, PasswordHash, Reply, Request, Uin, Verification};
use proptest::prelude::*;

fn all_requests(text: String) -> Vec<Request> {
    vec![
        Request::Login {
            password: PasswordHash::from_password(&text),
        },
        Request::FriendCount,
        Request::FriendList { max: 5 },
        Request::OnlineCount,
        Request::OnlineFriends { max: 5 },
        Request::UserInfo {
            target: Uin::new(1),
            level: InfoLevel::Normal,
        },
        Request::AddFriend {
            target: Uin::new(1),
        },
        Request::Verify {
            target: Uin::new(1),
            action: Verification::Reject,
            reason: text.clone(),
        },
        Request::RemoveFriend {
            target: Uin::new(1),
        },
        Request::SetStatus {
            status: httpqq::Status::Busy,
        },
        Request::FetchMessages,
        Request::SendMessage {
            target: Uin::new(1),
            text,
        },
        Request::Logout,
    ]
}

/// Text rich in the characters the encoding must escape.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[&=,%+\r\n\t \u{7f}a-z好🎉]{0,40}",
        Just("&UIN=1&CMD=Logout".to_owned()),
        Just("%26%3D%2C%25%2B".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The hand-written percent-decoder agrees with the `percent-encoding`
    /// crate's on any bytes, `%` sequences good and bad included.
    #[test]
    fn decoding_agrees_with_the_percent_encoding_crate(
        raw in proptest::collection::vec(
            prop_oneof![Just(b'%'), Just(b'a'), Just(b'F'), Just(b'2'), Just(b'g'), any::<u8>()],
            0..40,
        )
    ) {
        let oracle: Vec<u8> = percent_encoding::percent_decode(&raw).collect();
        prop_assert_eq!(decode_value(&raw), String::from_utf8_lossy(&oracle));
        prop_assert_eq!(
            decode_value_strict(&raw).map(|t| t.into_owned()),
            String::from_utf8(oracle).ok()
        );
    }

    #[test]
    fn any_message_text_arrives_byte_identical(text in tricky_text(), seq in 1u16..) {
        let body = codec::encode_request(Uin::new(10001), seq, &Request::SendMessage { target: Uin::new(10002), text: text.clone() });
        let fields = Fields::parse(body.as_bytes()).unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k).collect();
        prop_assert_eq!(keys, ["VER", "CMD", "SEQ", "UIN", "UN", "MG"]);
        prop_assert_eq!(fields.number("UIN").unwrap(), Some(10001));
        let decoded = decode_value_strict(fields.raw("MG").unwrap()).unwrap();
        prop_assert_eq!(decoded, text);
    }

    #[test]
    fn any_reason_arrives_byte_identical(text in tricky_text()) {
        let request = Request::Verify { target: Uin::new(2), action: Verification::Request, reason: text.clone() };
        let body = codec::encode_request(Uin::new(1), 9, &request);
        let fields = Fields::parse(body.as_bytes()).unwrap();
        prop_assert_eq!(fields.len(), 7);
        prop_assert_eq!(decode_value(fields.raw("RS").unwrap()), text);
    }

    #[test]
    fn any_texts_survive_a_message_list(texts in proptest::collection::vec(tricky_text(), 0..8)) {
        let mut mt = String::new();
        let mut un = String::new();
        let mut mg = String::new();
        for text in &texts {
            mt.push_str("9,");
            un.push_str("10002,");
            encode_value(text, &mut mg);
            mg.push(',');
        }
        let body = format!("VER=1.1&CMD=GETMSGEX&SEQ=3&UIN=10001&RES=0&MN={}&MT={mt}&UN={un}&MG={mg}", texts.len());
        let reply = codec::decode_reply(&Request::FetchMessages, 3, body.as_bytes()).unwrap();
        let expected: Vec<Message> = texts.into_iter().map(|text| Message::Text { from: Uin::new(10002), text }).collect();
        prop_assert_eq!(reply, Reply::Messages(expected));
    }

    /// What core writes as a request, core reads back as the same request
    /// (the reference server reads every request this way), and writes
    /// again as the same body: the two halves are one mirror.
    #[test]
    fn every_request_reads_back_as_itself(text in tricky_text(), uin: u64, seq: u16) {
        for request in all_requests(text.clone()) {
            let body = codec::encode_request(Uin::new(uin), seq, &request);
            let received = codec::decode_request(body.as_bytes(), codec::Plus::Literal).unwrap();
            prop_assert_eq!(received.command(), request.command());
            let sent_seq = seq.to_string();
            prop_assert_eq!((received.seq, received.uin), (sent_seq.as_str(), uin));
            prop_assert_eq!(received.version, codec::VERSION);
            let read = received.to_request().unwrap();
            prop_assert_eq!(&read, &request);
            prop_assert_eq!(codec::encode_request(Uin::new(uin), seq, &read), body);
        }
    }

    #[test]
    fn no_bytes_make_the_request_reader_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        for plus in [codec::Plus::Literal, codec::Plus::Space] {
            if let Ok(received) = codec::decode_request(&body, plus) {
                // What it reads, a client writes back as a request it reads the same.
                if let Some(request) = received.to_request() {
                    let again = codec::encode_request(Uin::new(received.uin), 1, &request);
                    let reread = codec::decode_request(again.as_bytes(), codec::Plus::Literal).unwrap();
                    prop_assert_eq!(reread.to_request(), Some(request));
                }
            }
        }
    }

    #[test]
    fn no_bytes_make_the_decoder_panic(body in proptest::collection::vec(any::<u8>(), 0..300), seq: u16) {
        for request in all_requests(String::new()) {
            let _ = codec::decode_reply(&request, seq, &body);
        }
        let _ = Fields::parse(&body);
        let _ = decode_value(&body);
    }

    #[test]
    fn no_tail_after_a_valid_head_makes_the_decoder_panic(
        tail in "[A-Z=&, %0-9a-f\r\n]{0,120}",
        cmd in prop::sample::select(vec!["LOGIN", "LIST", "QUERY_STAT", "GETINFO", "AddToList", "GETMSGEX", "CLTMSG"]),
    ) {
        let body = format!("VER=1.1&CMD={cmd}&SEQ=5&UIN=1&RES=0&{tail}");
        for request in all_requests("x".into()) {
            let _ = codec::decode_reply(&request, 5, body.as_bytes());
        }
    }
}

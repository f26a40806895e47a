//! The request shapes of clients written against the original server
//! (2005–2010), each served as the original served it; and the escapes
//! of replies: lower-case hex in both modes, and in faithful mode only
//! what the original is seen to have escaped (docs/PROTOCOL.md §2.2, §2.4).

mod support;

use support::*;

/// The reply body of a raw request (its head is checked by `split_reply`).
fn reply_to(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    split_reply(&raw(addr, bytes))
}

#[test]
fn a_python_2_httplib_request_over_http_1_0_with_an_empty_target() {
    let server = notes_server();
    let body = login_body(106814);
    // httplib (2005) put the path it was given, here none, and HTTP/1.0.
    let request = format!(
        "POST  HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = String::from_utf8(raw(server.local_addr(), request.as_bytes())).unwrap();
    assert!(reply.ends_with("&RES=0&RS=0&HI=60&LI=300"), "{reply}");
    assert!(reply.contains("SEQ=4321&UIN=106814"), "{reply}");
}

#[test]
fn a_jdk_6_request_with_its_own_field_order_and_headers() {
    let server = notes_server();
    // HttpURLConnection (2007): form-encoded, its Accept and User-agent,
    // and the fields in the order the program put them.
    let body = format!(
        "UIN=106814&CMD=Login&VER=1.1&SEQ=0675360&LC=9326B87B234E7235&M5=1&PS={SECRET_MD5}"
    );
    let request = format!(
        "POST / HTTP/1.1\r\nContent-type: application/x-www-form-urlencoded\r\nUser-Agent: Java/1.6.0_03\r\nHost: 127.0.0.1\r\nAccept: text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        reply_to(server.local_addr(), request.as_bytes()),
        // SEQ comes back as it was sent, leading zero and all.
        "VER=1.1&CMD=LOGIN&SEQ=0675360&UIN=106814&RES=0&RS=0&HI=60&LI=300"
    );
}

#[test]
fn a_leading_zero_seq_is_echoed_as_sent() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    assert_eq!(
        post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=007&UIN=106814"),
        "VER=1.1&CMD=GETMSGEX&SEQ=007&UIN=106814&RES=0&MN=0&MT=&UN=&MG="
    );
}

#[test]
fn indys_unescaped_plus_in_a_form_body_is_a_space_by_our_rule() {
    // Indy 9 (a Delphi 7 mass-sender) leaves `+` raw in form bodies; a
    // form body's `+` is a space (what the original did is unknown).
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    post(addr, &login_body(3814526));
    let body = "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=106814&UN=3814526&MG=1+1=2";
    let request = format!(
        "POST / HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nUser-Agent: Mozilla/3.0 (compatible; Indy Library)\r\n\r\n{body}",
        body.len()
    );
    let sent = reply_to(addr, request.as_bytes());
    assert!(sent.ends_with("&RES=0&"), "{sent}");
    let got = post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=2&UIN=3814526");
    assert!(got.ends_with("&MG=1 1%3d2,"), "{got}");
}

#[test]
fn replies_escape_in_lower_case_and_faithful_mode_escapes_only_what_the_original_did() {
    let text = "a,b 1+1=2 100% & \u{1}";
    let delivered = |faithful: bool| {
        let server = server_with(|c| c.quirks.original_escapes = faithful);
        let addr = server.local_addr();
        post(addr, &login_body(106814));
        post(addr, &login_body(3814526));
        // The request in our client's (safe) escapes.
        let mut mg = String::new();
        httpqq::codec::encode_value(text, &mut mg);
        post(
            addr,
            &format!("VER=1.1&CMD=CLTMSG&SEQ=1&UIN=106814&UN=3814526&MG={mg}"),
        );
        post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=2&UIN=3814526")
    };
    let safe = delivered(false);
    assert!(
        safe.ends_with("&MG=a%2cb 1%2b1%3d2 100%25 %26 %01,"),
        "{safe}"
    );
    let faithful = delivered(true);
    assert!(
        faithful.ends_with("&MG=a%2cb 1+1=2 100%25 %26 %01,"),
        "{faithful}"
    );
    // Both read back as the text by our client's decoder.
    for reply in [&safe, &faithful] {
        let mg = reply.rsplit_once("&MG=").unwrap().1.trim_end_matches(',');
        assert_eq!(httpqq::codec::decode_value(mg.as_bytes()), text);
    }
    // `Config::faithful` turns the original's escapes on.
    assert!(
        httpqq_server::Config::default()
            .faithful()
            .quirks
            .original_escapes
    );
}

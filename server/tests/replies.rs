//! Replies byte for byte as docs/PROTOCOL.md §5 (and the field notes) show them,
//! every NULL case, and every result code.

mod support;

use std::time::{Duration, Instant};

use support::*;

/// The `response` of a vector in the client's vectors.json.
fn vector(name: &str) -> String {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../core/tests/data/vectors.json")).unwrap();
    file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .and_then(|v| v["response"].as_str())
        .unwrap_or_else(|| panic!("no vector {name}"))
        .to_owned()
}

#[test]
fn login_replies_match_the_notes() {
    let server = notes_server();
    let addr = server.local_addr();
    assert_eq!(post(addr, &login_body(106814)), vector("login-ok"));
    let wrong = "VER=1.1&CMD=Login&SEQ=4321&UIN=106814&PS=00000000000000000000000000000000&M5=1&LC=9326B87B234E7235";
    assert_eq!(
        post(addr, wrong),
        "VER=1.1&CMD=LOGIN&SEQ=4321&UIN=106814&RES=0&RS=1&RA=密码错误"
    );
    assert_eq!(post(addr, &login_body(100)), vector("login-invalid-uin"));
    // PS is compared case-insensitively.
    assert_eq!(
        post(
            addr,
            &login_body(106814)
                .to_uppercase()
                .replace("VER=1.1&CMD=LOGIN", "VER=1.1&CMD=Login")
        ),
        vector("login-ok")
    );
}

#[test]
fn every_command_answers_res_20_before_login() {
    let server = notes_server();
    let addr = server.local_addr();
    let cases = [
        ("List&SEQ=4321&UIN=106814&TN=160&UN=0", "LIST"),
        ("Query_Stat&SEQ=4321&UIN=106814&TN=50&UN=0", "QUERY_STAT"),
        ("GetInfo&SEQ=4321&UIN=106814&LV=0&UN=106814", "GETINFO"),
        ("AddToList&SEQ=4321&UIN=106814&UN=36791785", "AddToList"),
        (
            "Ack_AddToList&SEQ=4321&UIN=106814&UN=36791785&CD=2&RS=x",
            "Ack_AddToList",
        ),
        ("DelFromList&SEQ=4321&UIN=106814&UN=36791785", "DelFromList"),
        ("Change_Stat&SEQ=4321&UIN=106814&ST=10", "Change_Stat"),
        ("GetMsgEx&SEQ=4321&UIN=106814", "GETMSGEX"),
        ("CLTMSG&SEQ=4321&UIN=106814&UN=36791785&MG=TEST", "CLTMSG"),
    ];
    for (request, reply_cmd) in cases {
        assert_eq!(
            post(addr, &format!("VER=1.1&CMD={request}")),
            format!("VER=1.1&CMD={reply_cmd}&SEQ=4321&UIN=106814&RES=20"),
            "{request}"
        );
    }
    // Logout always succeeds.
    assert_eq!(
        post(addr, "VER=1.1&CMD=Logout&SEQ=4321&UIN=106814"),
        vector("logout")
    );
}

#[test]
fn list_and_getinfo_replies_match_the_notes() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let h = "VER=1.1&CMD=LIST&SEQ=4321&UIN=106814";
    assert_eq!(
        post(addr, "VER=1.1&CMD=List&SEQ=4321&UIN=106814"),
        format!("{h}&RES=0&FN=3")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=List&SEQ=4321&UIN=106814&TN=0&UN=5"),
        format!("{h}&RES=0&FN=3")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=List&SEQ=4321&UIN=106814&TN=160&UN=0"),
        vector("list-uins")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=List&SEQ=4321&UIN=106814&TN=2&UN=0"),
        format!("{h}&RES=0&FN=1&SN=2&UN=3814526,36791785,")
    );
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=GetInfo&SEQ=4321&UIN=106814&LV=0&UN=106814"
        ),
        vector("getinfo-brief")
    );
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=GetInfo&SEQ=4321&UIN=106814&LV=2&UN=106814"
        ),
        vector("getinfo-normal")
    );
    let full = vector("getinfo-full").replace('\u{1}', "%01");
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=GetInfo&SEQ=4321&UIN=106814&LV=3&UN=106814"
        ),
        full
    );
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=GetInfo&SEQ=4321&UIN=106814&LV=5&UN=106814"
        ),
        full.replace("&LV=3&", "&LV=5&")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=GetInfo&SEQ=4321&UIN=106814&LV=1&UN=1"),
        "VER=1.1&CMD=GETINFO&SEQ=4321&UIN=106814&RES=5"
    );
}

#[test]
fn query_stat_lists_online_friends_and_writes_the_double_reply() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    post(addr, &login_body(3814526));
    let expected =
        vector("query-stat-one-online").replace("&UIN=106814&RES= 0", "&UIN=3814526&RES=0");
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=Query_Stat&SEQ=4321&UIN=3814526&TN=50&UN=0"
        ),
        expected
    );

    // TN=0: two whole HTTP replies on one connection, then the close.
    let bytes = raw(
        addr,
        &request("VER=1.1&CMD=Query_Stat&SEQ=4321&UIN=3814526"),
    );
    let first = "VER=1.1&CMD=QUERY_STAT&SEQ=4321&UIN=3814526&RES=0&FN=1";
    let second = "VER=1.1&CMD=QUERY_STAT&SEQ=4321&UIN=3814526&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK=";
    let want = format!(
        "{HEAD}{}\r\n\r\n{first}{HEAD}{}\r\n\r\n{second}",
        first.len(),
        second.len()
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), want);

    // Invisible and busy friends.
    post(addr, "VER=1.1&CMD=Change_Stat&SEQ=4321&UIN=106814&ST=40");
    assert!(
        post(addr, "VER=1.1&CMD=Query_Stat&SEQ=4321&UIN=3814526&TN=50")
            .ends_with("&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK=")
    );
    post(addr, "VER=1.1&CMD=Change_Stat&SEQ=4321&UIN=106814&ST=30");
    assert!(
        post(addr, "VER=1.1&CMD=Query_Stat&SEQ=4321&UIN=3814526&TN=50")
            .contains("&ST=30,&UN=106814,")
    );
}

#[test]
fn friend_commands_answer_as_the_notes_show() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let add = |target: u64| {
        post(
            addr,
            &format!("VER=1.1&CMD=AddToList&SEQ=4321&UIN=106814&UN={target}"),
        )
    };
    let h = "VER=1.1&CMD=AddToList&SEQ=4321&UIN=106814&RES=0";
    assert_eq!(add(36791785), format!("{h}&CD=0&UN=36791785"));
    assert_eq!(add(99833581), format!("{h}&CD=1&UN=99833581"));
    assert_eq!(add(3814526), format!("{h}&CD=2&UN=3814526"));
    assert_eq!(add(42), "VER=1.1&CMD=AddToList&SEQ=4321&UIN=106814&RES=5");

    let del = |target: u64| {
        post(
            addr,
            &format!("VER=1.1&CMD=DelFromList&SEQ=4321&UIN=106814&UN={target}"),
        )
    };
    assert_eq!(del(36791785), vector("delfromlist-ok-trailing-amp"));
    assert_eq!(
        del(36791785),
        "VER=1.1&CMD=DelFromList&SEQ=4321&UIN=106814&RES=3"
    );

    let ack = |cd: u32| {
        post(
            addr,
            &format!("VER=1.1&CMD=Ack_AddToList&SEQ=4321&UIN=106814&UN=99833581&CD={cd}&RS=TEST"),
        )
    };
    assert_eq!(
        ack(0),
        vector("ack-refused"),
        "approving with nothing pending"
    );
    assert_eq!(
        ack(1),
        vector("ack-refused"),
        "rejecting with nothing pending"
    );
    assert_eq!(ack(3), vector("ack-refused"));
    assert_eq!(ack(2), vector("ack-ok"));

    assert_eq!(
        post(addr, "VER=1.1&CMD=Change_Stat&SEQ=4321&UIN=106814&ST=30"),
        vector("change-stat-ok")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=4321&UIN=106814"),
        vector("getmsgex-empty")
    );
    assert_eq!(
        post(
            addr,
            "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=3814526&MG=TEST"
        ),
        vector("cltmsg-ok")
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=77&MG=TEST"),
        "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&RES=5"
    );
    assert_eq!(
        post(addr, "VER=1.1&CMD=Logout&SEQ=4321&UIN=106814"),
        vector("logout")
    );
}

#[test]
fn every_null_case_closes_without_a_byte() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let lc = "&M5=1&LC=9326B87B234E7235";
    let cases = [
        format!("VER=1.1&CMD=Login&SEQ=1&UIN=abc&PS={SECRET_MD5}{lc}"),
        format!("VER=1.1&CMD=Login&SEQ=1&UIN=106814&PS={lc}"),
        format!("VER=1.1&CMD=Login&SEQ=1&UIN=106814&PS={SECRET_MD5}&M5=1&LC=1223423545756679"),
        format!("VER=9.9&CMD=Login&SEQ=1&UIN=106814&PS={SECRET_MD5}{lc}"),
        "VER=1.1&CMD=List&SEQ=1&UIN=106814&TN=x".into(),
        "VER=1.1&CMD=List&SEQ=1&UIN=106814&UN=x".into(),
        "VER=1.1&CMD=Query_Stat&SEQ=1&UIN=106814&TN=1a".into(),
        "VER=1.1&CMD=GetInfo&SEQ=1&UIN=106814&LV=x&UN=106814".into(),
        "VER=1.1&CMD=GetInfo&SEQ=1&UIN=106814&LV=0&UN=x".into(),
        "VER=1.1&CMD=AddToList&SEQ=1&UIN=106814&UN=x".into(),
        "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=106814&UN=3814526&CD=x&RS=a".into(),
        "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=106814&UN=3814526&CD=2&RS=%FF".into(),
        "VER=1.1&CMD=DelFromList&SEQ=1&UIN=106814&UN=x".into(),
        "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=106814&ST=15".into(),
        "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=106814&ST=x".into(),
        "VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=x".into(),
        "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=106814&UN=x&MG=a".into(),
        "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=106814&UN=3814526&MG=%E4%BD".into(),
        "VER=1.1&CMD=Logout&SEQ=1&UIN=x".into(),
        "VER=1.1&CMD=Nope&SEQ=1&UIN=106814".into(),
        "garbage".into(),
        "".into(),
    ];
    for body in &cases {
        assert_eq!(post(addr, body), "", "{body}");
    }
    // Invalid UTF-8 sent raw (not percent-encoded) in MG.
    let mut bytes = b"VER=1.1&CMD=CLTMSG&SEQ=1&UIN=106814&UN=3814526&MG=".to_vec();
    bytes.push(0xFF);
    let mut req = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    )
    .into_bytes();
    req.extend_from_slice(&bytes);
    assert!(raw(addr, &req).is_empty());
    // The session survived all of that.
    assert_eq!(
        post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=4321&UIN=106814"),
        vector("getmsgex-empty")
    );
}

#[test]
fn the_probe_request_line_and_stray_bytes_are_accepted() {
    let server = notes_server();
    let addr = server.local_addr();
    let body = login_body(106814);
    let probe = format!(
        "POST HTTP/1.1\r\nContent-length: {}\r\nConnection: close\r\n\r\n{body}\r\n\r\n",
        body.len()
    );
    assert_eq!(
        split_reply(&raw(addr, probe.as_bytes())),
        vector("login-ok")
    );
    let other_path = format!(
        "POST /qq HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        split_reply(&raw(addr, other_path.as_bytes())),
        vector("login-ok")
    );
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    use std::io::{Read, Write};
    let server = notes_server();
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let one = |body: &str| {
        format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let login = login_body(106814);
    // Two requests pipelined, with stray CR/LF between them.
    let both = format!(
        "{}\r\n\r\n{}",
        one(&login),
        one("VER=1.1&CMD=List&SEQ=4321&UIN=106814")
    );
    stream.write_all(both.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("RES=0&FN=3") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got)
            .matches("HTTP/1.1 200 OK")
            .count(),
        2
    );
}

#[test]
fn form_urlencoded_bodies_read_plus_as_space() {
    let server = notes_server();
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    post(addr, &login_body(3814526));
    let body = "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=3814526&MG=a+b%2B";
    let req = format!("POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    assert_eq!(split_reply(&raw(addr, req.as_bytes())), vector("cltmsg-ok"));
    // As plain text, + is a literal plus.
    post(
        addr,
        "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=3814526&MG=a+b",
    );
    let got = post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=4321&UIN=3814526");
    assert!(
        got.ends_with("&RES=0&MN=2&MT=9,9,&UN=106814,106814,&MG=a b%2b,a%2bb,"),
        "{got}"
    );
}

#[test]
fn rate_limits_answer_res_3_after_the_penalty_delay() {
    let server = server_with(|c| {
        c.send_limit.count = 2;
        c.status_limit.count = 1;
        c.penalty_delay = Duration::from_millis(300);
    });
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let send = "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=3814526&MG=hi";
    assert_eq!(post(addr, send), vector("cltmsg-ok"));
    assert_eq!(post(addr, send), vector("cltmsg-ok"));
    let started = Instant::now();
    assert_eq!(post(addr, send), vector("cltmsg-too-fast"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let stat = |st: u32| {
        post(
            addr,
            &format!("VER=1.1&CMD=Change_Stat&SEQ=4321&UIN=106814&ST={st}"),
        )
    };
    assert_eq!(stat(30), vector("change-stat-ok"));
    assert_eq!(stat(10), vector("change-stat-throttled"));
}

#[test]
fn repeated_wrong_passwords_are_throttled() {
    let server = server_with(|c| c.login_limit.count = 3);
    let addr = server.local_addr();
    let wrong = "VER=1.1&CMD=Login&SEQ=4321&UIN=106814&PS=00000000000000000000000000000000&M5=1&LC=9326B87B234E7235";
    for _ in 0..3 {
        assert!(post(addr, wrong).contains("&RS=1&"));
    }
    assert_eq!(
        post(addr, wrong),
        "VER=1.1&CMD=LOGIN&SEQ=4321&UIN=106814&RES=3"
    );
    // Even the right password waits for the window.
    assert_eq!(
        post(addr, &login_body(106814)),
        "VER=1.1&CMD=LOGIN&SEQ=4321&UIN=106814&RES=3"
    );
}

#[test]
fn sessions_expire_after_the_idle_limit_and_friends_are_told() {
    let server = server_with(|c| c.idle_timeout = Duration::from_millis(1000));
    let addr = server.local_addr();
    assert!(post(addr, &login_body(106814)).contains("&RS=0&"));
    let silent_since = Instant::now();
    post(addr, &login_body(3814526));
    // 3814526 polls every 100 ms (and stays); what it is told, in order.
    let mut told = Vec::new();
    let poll = |told: &mut Vec<String>| {
        let got = post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=4321&UIN=3814526");
        assert!(got.contains("&RES=0&"), "{got}");
        if !got.ends_with("&MN=0&MT=&UN=&MG=") {
            told.push(got);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    while silent_since.elapsed() < Duration::from_millis(1200) {
        poll(&mut told);
    }
    // 106814 was silent for over 1 s: its session is gone.
    assert!(post(addr, "VER=1.1&CMD=List&SEQ=4321&UIN=106814").ends_with("&RES=20"));
    // Its friends are told by the server's sweep, within a quarter of the
    // limit (later on a loaded machine: the wait is bounded, not timed).
    let deadline = Instant::now() + Duration::from_secs(5);
    while told.is_empty() && Instant::now() < deadline {
        poll(&mut told);
    }
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].ends_with("&RES=0&MN=1&MT=99,&UN=106814,&MG=20,"),
        "{told:?}"
    );
}

#[test]
fn login_from_another_address_ends_the_old_session() {
    let server = notes_server();
    let addr = server.local_addr();
    let other: std::net::IpAddr = [127, 0, 0, 2].into();
    assert_eq!(post(addr, &login_body(106814)), vector("login-ok"));
    // Another address replaying the logged-in UIN's requests gets RES=20.
    let list = "VER=1.1&CMD=List&SEQ=4321&UIN=106814&TN=160";
    assert!(post_from(other, addr, list).ends_with("&RES=20"));
    assert!(post_from(other, addr, "VER=1.1&CMD=Logout&SEQ=4321&UIN=106814").ends_with("&RES=0"));
    assert_eq!(
        post(addr, list),
        vector("list-uins"),
        "a foreign Logout must not end the session"
    );
    // Logging in from there moves the session.
    assert_eq!(
        post_from(other, addr, &login_body(106814)),
        vector("login-ok")
    );
    assert!(post(addr, list).ends_with("&RES=20"));
    assert_eq!(post_from(other, addr, list), vector("list-uins"));
}

#[test]
fn verification_twice_quirk_refuses_the_first_request() {
    let server = server_with(|c| c.quirks.verification_twice = true);
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let ask = "VER=1.1&CMD=Ack_AddToList&SEQ=4321&UIN=106814&UN=99833581&CD=2&RS=TEST";
    assert_eq!(post(addr, ask), vector("ack-refused"));
    assert_eq!(post(addr, ask), vector("ack-ok"));
    post(addr, &login_body(99833581));
    let got = post(addr, "VER=1.1&CMD=GetMsgEx&SEQ=4321&UIN=99833581");
    assert!(got.ends_with("&MN=1&MT=2,&UN=106814,&MG=TEST,"), "{got}");
}

#[test]
fn oversized_and_slow_requests_are_closed() {
    let server = server_with(|c| {
        c.max_body_bytes = 100;
        c.read_timeout = Duration::from_millis(300);
    });
    let addr = server.local_addr();
    let big = "x".repeat(200);
    assert!(raw(addr, &request(&big)).is_empty());
    let huge_head = format!("POST / HTTP/1.1\r\nX: {}\r\n\r\n", "y".repeat(10_000));
    assert!(raw(addr, huge_head.as_bytes()).is_empty());
    let started = Instant::now();
    assert!(raw(addr, b"POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nVER=").is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
    // Still serving.
    assert_eq!(post(addr, &login_body(106814)), vector("login-ok"));
}

#[test]
fn stopping_finishes_requests_in_flight() {
    let server = server_with(|c| {
        c.penalty_delay = Duration::from_millis(1000);
        c.send_limit.count = 0;
    });
    let addr = server.local_addr();
    post(addr, &login_body(106814));
    let in_flight = std::thread::spawn(move || {
        post(
            addr,
            "VER=1.1&CMD=CLTMSG&SEQ=4321&UIN=106814&UN=3814526&MG=x",
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    assert_eq!(in_flight.join().unwrap(), vector("cltmsg-too-fast"));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after stop"
    );
}

#[test]
fn connections_beyond_the_cap_are_closed_and_others_still_served() {
    use std::io::Read;
    let server = server_with(|c| c.max_connections = 2);
    let addr = server.local_addr();
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut extra = std::net::TcpStream::connect(addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        extra.read(&mut buf).unwrap_or(0),
        0,
        "over the cap: closed at once"
    );
    drop(idle);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(post(addr, &login_body(106814)), vector("login-ok"));
}

#[test]
fn answered_connections_that_stay_open_do_not_take_the_caps() {
    use std::io::{Read, Write};
    let server = server_with(|c| {
        c.max_connections = 2;
        c.max_connections_per_ip = 2;
    });
    let addr = server.local_addr();
    // Each is answered and closed by the server; the client keeps its end
    // open, so the server waits (briefly) for its FIN. Those waits must not
    // fill the two places.
    let mut kept = Vec::new();
    for n in 0..5 {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream.write_all(&request(&login_body(106814))).unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        assert_eq!(split_reply(&reply), vector("login-ok"), "connection {n}");
        kept.push(stream);
    }
}

//! The Rust client against the reference server, no mocks: every command,
//! every error kind, offline delivery, the message cap, state surviving a
//! restart, and many sessions at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use httpqq::{
    AddFriendOutcome, BloodType, Client, ClientBuilder, Constellation, Error, Gender, InfoLevel,
    Message, Status, Uin, Zodiac,
};
use httpqq_server::Server;

mod support;
use support::Scratch;

fn demo() -> (Server, Client) {
    support::demo(|_| {})
}

use support::demo as demo_with;

/// A client of `server` (10 s timeout), with settings of the test's own.
fn client_for(server: &Server, tune: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    tune(Client::builder().endpoint(server.local_addr().to_string()))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A server keeping its state in `dir` (restored if there is one), and a
/// client of it.
fn state_server(dir: &Scratch) -> (Server, Client) {
    let server = dir.start("state.db").unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    (server, client)
}

const ALICE: Uin = Uin::new(10001);
const BOB: Uin = Uin::new(10002);
const CAROL: Uin = Uin::new(10003);
const DAVE: Uin = Uin::new(10004);
const ERIN: Uin = Uin::new(10005);

#[test]
fn login_errors_have_their_own_kinds() {
    let (_server, client) = demo();
    match client.login(ALICE, "wrong") {
        Err(Error::LoginFailed { reason }) => assert_eq!(reason, "密码错误"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.login(Uin::new(100), "demo"),
        Err(Error::InvalidUin)
    ));
    let session = client.login(ALICE, "demo").unwrap();
    assert_eq!(session.heartbeat(), Duration::from_secs(60));
    assert_eq!(session.idle_timeout(), Duration::from_secs(300));
    assert!(
        !format!("{session:?}").contains("fe01ce2a"),
        "Debug shows the hash"
    );
}

#[test]
fn every_command_works_end_to_end() {
    let (_server, client) = demo();
    let alice = client.login(ALICE, "demo").unwrap();
    let bob = client.login(BOB, "demo").unwrap();

    assert_eq!(alice.friend_count().unwrap(), 1);
    assert_eq!(alice.friends().unwrap(), vec![BOB]);
    assert_eq!(alice.friends_max(1).unwrap(), vec![BOB]);
    assert_eq!(alice.online_count().unwrap(), 1);
    let online = alice.online_friends().unwrap();
    assert_eq!(online.len(), 1);
    assert_eq!(
        (online[0].uin, online[0].status, online[0].face.picture()),
        (BOB, Status::Online, 2)
    );
    assert_eq!(online[0].nickname, "Bob 鲍勃");
    // The double reply did not disturb the next request.
    assert_eq!(alice.online_count().unwrap(), 1);

    let info = alice.user_info(ALICE, InfoLevel::Full).unwrap();
    assert_eq!(info.nickname, "Alice 爱丽丝");
    assert_eq!(info.blood_type, Some(BloodType::B));
    assert_eq!(info.constellation, Some(Constellation::Cancer));
    assert_eq!(info.zodiac, Some(Zodiac::Tiger));
    assert_eq!(info.gender, Some(Gender::Female));
    assert_eq!(info.get("CV"), Some("\u{1}"));
    assert_eq!(
        info.introduction.as_deref(),
        Some("Testing HTTP QQ, 1+1=2 & more")
    );
    let brief = bob.user_info(ALICE, InfoLevel::Brief).unwrap();
    assert_eq!((brief.level, brief.age), (0, None));
    assert!(matches!(
        bob.user_info(Uin::new(1), InfoLevel::Normal),
        Err(Error::InvalidUin)
    ));

    assert_eq!(alice.add_friend(ERIN).unwrap(), AddFriendOutcome::Added);
    assert_eq!(
        alice.add_friend(CAROL).unwrap(),
        AddFriendOutcome::NeedsVerification
    );
    assert_eq!(
        alice.add_friend(DAVE).unwrap(),
        AddFriendOutcome::Refused { code: 2 }
    );
    assert_eq!(alice.friends().unwrap(), vec![BOB, ERIN]);
    alice.remove_friend(ERIN).unwrap();
    assert!(matches!(
        alice.remove_friend(ERIN),
        Err(Error::Throttled { .. })
    ));

    alice.set_status(Status::Busy).unwrap();
    bob.send_message(ALICE, "x").unwrap();
    assert!(matches!(
        bob.send_message(Uin::new(1), "x"),
        Err(Error::InvalidUin)
    ));
    let messages = alice.poll().unwrap();
    assert_eq!(
        messages,
        vec![
            Message::StatusChange {
                from: BOB,
                status: Status::Online
            },
            Message::Text {
                from: BOB,
                text: "x".into()
            },
        ]
    );
    let bob_saw = bob.fetch_messages().unwrap();
    assert_eq!(
        bob_saw,
        vec![Message::StatusChange {
            from: ALICE,
            status: Status::Busy
        }]
    );

    alice.logout().unwrap();
    assert!(matches!(alice.friends(), Err(Error::NotLoggedIn)));
    assert_eq!(
        bob.poll().unwrap(),
        vec![Message::StatusChange {
            from: ALICE,
            status: Status::Offline
        }]
    );
}

#[test]
fn verification_flow_delivers_request_approval_and_rejection() {
    let (_server, client) = demo();
    let alice = client.login(ALICE, "demo").unwrap();
    let carol = client.login(CAROL, "demo").unwrap();
    assert!(
        matches!(carol.approve(ALICE), Err(Error::Throttled { .. })),
        "nothing pending"
    );
    alice
        .request_verification(CAROL, "我是 Alice, let me in & say hi")
        .unwrap();
    assert_eq!(
        carol.poll().unwrap(),
        vec![Message::VerificationRequest {
            from: ALICE,
            reason: "我是 Alice, let me in & say hi".into()
        }]
    );
    carol.approve(ALICE).unwrap();
    assert!(alice.friends().unwrap().contains(&CAROL));
    let got = alice.poll().unwrap();
    assert!(got.contains(&Message::Approved { from: CAROL }), "{got:?}");

    let bob = client.login(BOB, "demo").unwrap();
    bob.request_verification(CAROL, "me too").unwrap();
    carol.poll().unwrap();
    carol.reject(BOB, "no, sorry").unwrap();
    assert_eq!(
        bob.poll().unwrap(),
        vec![Message::Rejected {
            from: CAROL,
            reason: "no, sorry".into()
        }]
    );
}

#[test]
fn offline_messages_arrive_after_login_in_order_at_most_32_per_poll() {
    let (_server, client) = demo();
    let alice = client.login(ALICE, "demo").unwrap();
    let texts: Vec<String> = (0..40).map(|i| format!("#{i} &=,%+\n好")).collect();
    for text in &texts {
        alice.send_message(ERIN, text).unwrap();
    }
    let erin = client.login(ERIN, "demo").unwrap();
    let first = erin.poll().unwrap();
    let second = erin.poll().unwrap();
    assert_eq!((first.len(), second.len()), (32, 8));
    let got: Vec<String> = first
        .into_iter()
        .chain(second)
        .map(|m| m.content().into_owned())
        .collect();
    assert_eq!(got, texts);
    assert!(erin.poll().unwrap().is_empty(), "each message exactly once");
}

#[test]
fn an_agent_on_a_session_yields_messages_as_they_come() {
    let (_server, client) = demo();
    let alice = client.login(ALICE, "demo").unwrap();
    let bob = Arc::new(client.login(BOB, "demo").unwrap());
    let sender = std::thread::spawn(move || {
        for i in 0..3 {
            std::thread::sleep(Duration::from_millis(30));
            alice.send_message(BOB, &format!("m{i}")).unwrap();
        }
    });
    let agent = httpqq::Agent::for_session(bob)
        .poll_interval(httpqq::MIN_POLL_INTERVAL)
        .start()
        .unwrap();
    let got: Vec<Message> = agent
        .events()
        .filter_map(|event| match event.kind {
            httpqq::EventKind::Message(m @ Message::Text { .. }) => Some(m),
            _ => None,
        })
        .take(3)
        .collect();
    sender.join().unwrap();
    let texts: Vec<_> = got.iter().map(|m| m.content().into_owned()).collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
}

#[test]
fn auto_relogin_recovers_from_an_expired_session() {
    let (server, client) = demo_with(|c| c.idle_timeout = Duration::from_millis(200));
    let relogging = client_for(&server, |b| b.auto_relogin(true));
    let plain = client.login(ALICE, "demo").unwrap();
    let auto = relogging.login(BOB, "demo").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(matches!(plain.friends(), Err(Error::NotLoggedIn)));
    assert_eq!(auto.friends().unwrap(), vec![ALICE]);
}

#[test]
fn throttling_and_no_reply_surface_as_errors() {
    let (_server, client) = demo_with(|c| c.send_limit.count = 1);
    let alice = client.login(ALICE, "demo").unwrap();
    alice.send_message(BOB, "one").unwrap();
    assert!(matches!(
        alice.send_message(BOB, "two"),
        Err(Error::Throttled { .. })
    ));
    // A status the protocol does not list is answered with the NULL.
    assert!(matches!(
        alice.set_status(Status::Other(15)),
        Err(Error::NoReply)
    ));
}

#[test]
fn state_survives_a_restart() {
    let dir = Scratch::new("e2e-state");
    {
        let (server, client) = state_server(&dir);
        let alice = client.login(ALICE, "demo").unwrap();
        alice.add_friend(ERIN).unwrap();
        alice.send_message(ERIN, "kept, 好 & sound").unwrap();
        alice.request_verification(CAROL, "please").unwrap();
        server.stop();
    }
    let (server, client) = state_server(&dir);
    let alice = client.login(ALICE, "demo").unwrap();
    assert_eq!(alice.friends().unwrap(), vec![BOB, ERIN]);
    let erin = client.login(ERIN, "demo").unwrap();
    assert_eq!(
        erin.poll().unwrap(),
        vec![Message::Text {
            from: ALICE,
            text: "kept, 好 & sound".into()
        }]
    );
    let carol = client.login(CAROL, "demo").unwrap();
    assert_eq!(carol.poll().unwrap().len(), 1);
    carol.approve(ALICE).unwrap();
    server.stop();
}

/// A batch GetMsgEx delivered stays in the state file until the user's next
/// GetMsgEx (or Logout) shows that the reply arrived: a server that stops
/// in between delivers it again, and never loses it.
#[test]
fn an_unconfirmed_batch_is_delivered_again_after_a_restart() {
    let dir = Scratch::new("e2e-in-flight");
    let sent = Message::Text {
        from: ALICE,
        text: "once at least".into(),
    };
    {
        let (server, client) = state_server(&dir);
        let alice = client.login(ALICE, "demo").unwrap();
        let erin = client.login(ERIN, "demo").unwrap();
        alice.send_message(ERIN, "once at least").unwrap();
        assert_eq!(erin.poll().unwrap(), vec![sent.clone()]);
        server.stop(); // before Erin polls again
    }
    {
        let (server, client) = state_server(&dir);
        let erin = client.login(ERIN, "demo").unwrap();
        assert_eq!(erin.poll().unwrap(), vec![sent.clone()], "redelivered");
        // This poll confirms the batch above.
        assert_eq!(erin.poll().unwrap(), vec![]);
        server.stop();
    }
    {
        let (server, client) = state_server(&dir);
        let erin = client.login(ERIN, "demo").unwrap();
        assert_eq!(erin.poll().unwrap(), vec![], "confirmed: not again");
        let alice = client.login(ALICE, "demo").unwrap();
        alice.send_message(ERIN, "once at least").unwrap();
        assert_eq!(erin.poll().unwrap(), vec![sent]);
        // Logging out confirms it too.
        erin.logout().unwrap();
        server.stop();
    }
    let (server, client) = state_server(&dir);
    let erin = client.login(ERIN, "demo").unwrap();
    assert_eq!(erin.poll().unwrap(), vec![], "confirmed by Logout");
    server.stop();
}

#[test]
fn many_sessions_at_once_deliver_every_message_once_in_order() {
    const USERS: u64 = 12;
    const EACH: usize = 30;
    let mut accounts = httpqq_server::Accounts::default();
    for i in 0..USERS {
        accounts.accounts.push(httpqq_server::Account::new(
            20000 + i,
            "pw",
            &format!("user{i}"),
        ));
    }
    let (server, client) = demo_with(|c| {
        c.accounts = accounts;
        c.send_limit.count = 10_000;
    });
    let sessions: Vec<Arc<httpqq::Session>> = (0..USERS)
        .map(|i| Arc::new(client.login(Uin::new(20000 + i), "pw").unwrap()))
        .collect();
    let threads: Vec<_> = sessions
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, me)| {
            let all = sessions.clone();
            std::thread::spawn(move || {
                let mut received = Vec::new();
                for n in 0..EACH {
                    let to = Uin::new(20000 + ((i as u64 + 1 + n as u64) % USERS));
                    me.send_message(to, &format!("{i}:{n}")).unwrap();
                    received.extend(me.poll().unwrap());
                }
                drop(all);
                received
            })
        })
        .collect();
    let mut received: Vec<(Uin, Message)> = Vec::new();
    for (i, t) in threads.into_iter().enumerate() {
        let me = sessions[i].uin();
        received.extend(t.join().unwrap().into_iter().map(|m| (me, m)));
    }
    for s in &sessions {
        loop {
            let batch = s.poll().unwrap();
            if batch.is_empty() {
                break;
            }
            received.extend(batch.into_iter().map(|m| (s.uin(), m)));
        }
    }
    // Every message exactly once, and in order per sender and recipient.
    let mut per_pair: HashMap<(Uin, Uin), Vec<usize>> = HashMap::new();
    for (to, m) in &received {
        if let Message::Text { from, text } = m {
            let n: usize = text.split(':').nth(1).unwrap().parse().unwrap();
            per_pair.entry((*from, *to)).or_default().push(n);
        }
    }
    let total: usize = per_pair.values().map(Vec::len).sum();
    assert_eq!(total, USERS as usize * EACH);
    for (pair, ns) in &per_pair {
        let mut sorted = ns.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(&sorted, ns, "out of order or duplicated for {pair:?}");
    }
    server.stop();
}

#[test]
fn keep_alive_client_shares_connections_and_survives_the_double_reply() {
    let (server, _) = demo();
    let client = client_for(&server, |b| b.keep_alive(true));
    let alice = client.login(ALICE, "demo").unwrap();
    let bob = client.login(BOB, "demo").unwrap();
    for round in 0..5 {
        assert_eq!(alice.online_count().unwrap(), 1, "round {round}");
        assert_eq!(alice.friends().unwrap(), vec![BOB]);
        bob.send_message(ALICE, &format!("r{round}")).unwrap();
        let texts: Vec<_> = alice
            .poll()
            .unwrap()
            .into_iter()
            .filter(|m| matches!(m, Message::Text { .. }))
            .map(|m| m.content().into_owned())
            .collect();
        assert_eq!(texts, [format!("r{round}")]);
    }
}

/// The command, killed with SIGKILL between requests, loses nothing it
/// acknowledged.
#[test]
fn killed_command_keeps_what_it_acknowledged() {
    let dir = Scratch::new("e2e-kill");
    let state = dir.0.join("state.db");
    let start = || {
        let (child, addr) = support::command([
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--demo".as_ref(),
            "--state".as_ref(),
            state.as_os_str(),
        ]);
        (child, Client::new(addr.to_string()).unwrap())
    };
    let (mut child, client) = start();
    let alice = client.login(ALICE, "demo").unwrap();
    for i in 0..20 {
        alice.send_message(ERIN, &format!("m{i}")).unwrap();
    }
    alice.add_friend(ERIN).unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (mut child, client) = start();
    let erin = client.login(ERIN, "demo").unwrap();
    let texts: Vec<_> = erin
        .poll()
        .unwrap()
        .iter()
        .map(|m| m.content().into_owned())
        .collect();
    assert_eq!(texts, (0..20).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let alice = client.login(ALICE, "demo").unwrap();
    assert_eq!(alice.friends().unwrap(), vec![BOB, ERIN]);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn host_names_and_addresses_both_reach_the_server() {
    let (server, _) = demo();
    let port = server.local_addr().port();
    for endpoint in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let client = Client::builder()
            .endpoint(endpoint.as_str())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let session = client.login(Uin::new(10001), "demo").unwrap();
        assert_eq!(session.friend_count().unwrap(), 1, "{endpoint}");
        session.logout().unwrap();
    }
}

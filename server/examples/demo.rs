//! The README demo: the reference server in-process, two demo accounts
//! chatting through it, printed as a transcript.
//!
//! Run with `make demo` (or `cargo run -p httpqq-server --example demo`).

use std::time::Duration;

use httpqq::{Client, InfoLevel, Message, Status, Uin};
use httpqq_server::{Config, Server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start(Config::default())?;
    println!(
        "reference server listening on {} (demo accounts 10001-10005, password \"demo\")\n",
        server.local_addr()
    );
    let client = Client::builder()
        .endpoint(server.local_addr().to_string())
        .timeout(Duration::from_secs(5))
        .build()?;

    let alice = client.login(Uin::new(10001), "demo")?;
    println!(
        "10001 logged in (heartbeat {:?}, idle timeout {:?})",
        alice.heartbeat(),
        alice.idle_timeout()
    );
    let bob = client.login(Uin::new(10002), "demo")?;
    println!("10002 logged in");

    let me = alice.user_info(alice.uin(), InfoLevel::Full)?;
    println!(
        "10001 is {} from {}, {} ({}), face picture {}",
        me.nickname,
        me.city.as_deref().unwrap_or("?"),
        me.constellation.map(|c| c.name()).unwrap_or("?"),
        me.zodiac.map(|z| z.chinese_name()).unwrap_or("?"),
        me.face.unwrap_or_default().picture_file()
    );

    println!(
        "10001's friends: {:?}",
        alice
            .friends()?
            .into_iter()
            .map(Uin::get)
            .collect::<Vec<_>>()
    );
    for friend in alice.online_friends()? {
        println!(
            "  online: {} ({}) is {}",
            friend.nickname, friend.uin, friend.status
        );
    }

    let text = "你好 Bob! 1+1=2 & a,b=c 100%";
    alice.send_message(bob.uin(), text)?;
    println!("10001 -> 10002: {text}");
    bob.set_status(Status::Busy)?;
    println!("10002 is now busy");

    for message in bob.poll()? {
        print_message("10002", &message);
    }
    bob.send_message(alice.uin(), "hi Alice, 收到了\nsecond line")?;
    for message in alice.poll()? {
        print_message("10001", &message);
    }

    bob.logout()?;
    println!("10002 logged out");
    for message in alice.poll()? {
        print_message("10001", &message);
    }
    alice.logout()?;
    println!("10001 logged out");
    server.stop();
    Ok(())
}

fn print_message(to: &str, message: &Message) {
    match message {
        Message::Text { from, text } => println!("{to} received from {from}: {text:?}"),
        Message::StatusChange { from, status } => println!("{to} was told: {from} is now {status}"),
        other => println!(
            "{to} received {} from {}: {}",
            other.kind().name(),
            other.sender(),
            other.content()
        ),
    }
}

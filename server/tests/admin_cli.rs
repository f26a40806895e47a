//! `httpqq-server accounts …`: administration of a database by the command,
//! with clear errors, and a server on the result.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use httpqq::{Client, Error, Uin};
use httpqq_server::{Config, Server};

mod support;
use support::Scratch;

/// Runs `httpqq-server accounts --state DB …`, the password (if any) on
/// standard input.
fn accounts(db: &Path, args: &[&str], password: Option<&str>) -> Output {
    accounts_with(db, args, password, None)
}

/// As [`accounts`], with `HTTPQQ_PASSWORD` set to `env` when given.
fn accounts_with(db: &Path, args: &[&str], password: Option<&str>, env: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_httpqq-server"));
    command
        .arg("accounts")
        .arg("--state")
        .arg(db)
        .arg("--fast-hashing")
        .args(args)
        .env_remove("HTTPQQ_PASSWORD");
    if let Some(env) = env {
        command.env("HTTPQQ_PASSWORD", env);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    if let Some(password) = password {
        // A command that refuses its arguments exits without reading: the
        // write may then fail with a broken pipe, and what the command
        // printed is what the test checks.
        if let Err(e) = writeln!(stdin, "{password}") {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn accounts_are_administered_from_the_command_line() {
    let dir = Scratch::new("cli-crud");
    let db = dir.0.join("qq.db");
    let ok = |out: &Output| assert!(out.status.success(), "{}", text(&out.stderr));
    ok(&accounts(
        &db,
        &["add", "20001", "--nickname", "阿明"],
        Some("first"),
    ));
    ok(&accounts(
        &db,
        &["add", "20002", "--friend", "20001", "--policy", "verify"],
        Some("pw"),
    ));

    let taken = accounts(&db, &["add", "20001"], Some("x"));
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        text(&taken.stderr).contains("20001 is taken"),
        "{}",
        text(&taken.stderr)
    );
    let bad = accounts(&db, &["add", "abc"], Some("x"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("not a UIN"));
    let unknown = accounts(&db, &["add", "20003", "--friend", "20007"], Some("x"));
    assert!(text(&unknown.stderr).contains("unknown friend 20007"));
    // One UIN range, read strictly.
    for bad in [
        "+20005",
        " 20005",
        "9223372036854775808",
        "4294967296",
        "9999",
        "0x4e25",
    ] {
        let out = accounts(&db, &["add", bad], Some("x"));
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            text(&out.stderr).contains("not a UIN"),
            "{bad:?}: {}",
            text(&out.stderr)
        );
    }
    let friend = accounts(&db, &["add", "20005", "--friend", "7"], Some("x"));
    assert!(
        text(&friend.stderr).contains("not a UIN"),
        "{}",
        text(&friend.stderr)
    );
    // No empty password from any source; no control characters or
    // endless nicknames.
    let empty_env = accounts_with(&db, &["add", "20005"], Some("typed"), Some(""));
    assert_eq!(empty_env.status.code(), Some(2));
    assert!(
        text(&empty_env.stderr).contains("empty"),
        "{}",
        text(&empty_env.stderr)
    );
    let empty_line = accounts(&db, &["add", "20005"], Some(""));
    assert!(text(&empty_line.stderr).contains("no password"));
    let escape = accounts(&db, &["add", "20005", "--nickname", "\u{1b}[2J"], Some("x"));
    assert!(
        text(&escape.stderr).contains("control character"),
        "{}",
        text(&escape.stderr)
    );
    let long = "n".repeat(65);
    let endless = accounts(&db, &["add", "20005", "--nickname", &long], Some("x"));
    assert!(
        text(&endless.stderr).contains("at most 64"),
        "{}",
        text(&endless.stderr)
    );
    // Only add and the imports create a database: a mistyped path is an
    // error that names it, and leaves nothing behind.
    let typo = dir.0.join("qq.bd");
    for action in [
        &["list"][..],
        &["show", "20001"],
        &["remove", "20001"],
        &["passwd", "20001"],
    ] {
        let out = accounts(&typo, action, Some("x"));
        assert_eq!(out.status.code(), Some(1), "{action:?}");
        assert!(
            text(&out.stderr).contains(&typo.display().to_string())
                && text(&out.stderr).contains("no such database"),
            "{action:?}: {}",
            text(&out.stderr)
        );
        assert!(!typo.exists(), "{action:?} created {}", typo.display());
    }
    let missing = accounts(&db, &["import", "/no/such/file.toml"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read account file"));
    let no_password = accounts(&db, &["add", "20004"], None);
    assert!(text(&no_password.stderr).contains("no password"));
    let nobody = accounts(&db, &["remove", "29999"], None);
    assert!(text(&nobody.stderr).contains("no account has UIN 29999"));

    let list = accounts(&db, &["list"], None);
    assert_eq!(text(&list.stdout), "20001\t阿明\n20002\t\n");
    let show = text(&accounts(&db, &["show", "20002"], None).stdout);
    assert!(
        show.contains("friends   20001") && show.contains("Verify"),
        "{show}"
    );
    assert!(!show.contains("argon2"), "never the password");
    ok(&accounts(&db, &["passwd", "20001"], Some("second")));

    // A server on it: the accounts as administered.
    let server = Server::start(Config {
        state: Some(db.clone()),
        ..Config::default()
    })
    .unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    assert!(matches!(
        client.login(Uin::new(20001), "first"),
        Err(Error::LoginFailed { .. })
    ));
    let ming = client.login(Uin::new(20001), "second").unwrap();
    assert_eq!(
        ming.user_info(Uin::new(20001), httpqq::InfoLevel::Brief)
            .unwrap()
            .nickname,
        "阿明"
    );
    // Removing an account on a running server's database ends its live
    // session, and it cannot log in again.
    let other = client.login(Uin::new(20002), "pw").unwrap();
    other.fetch_messages().unwrap();
    ok(&accounts(&db, &["remove", "20002"], None));
    assert!(matches!(other.fetch_messages(), Err(Error::NotLoggedIn)));
    assert!(matches!(
        client.login(Uin::new(20002), "pw"),
        Err(Error::InvalidUin)
    ));
    // Changing a password ends the session, and the old one is refused.
    ok(&accounts(&db, &["passwd", "20001"], Some("third")));
    assert!(matches!(ming.fetch_messages(), Err(Error::NotLoggedIn)));
    assert!(matches!(
        client.login(Uin::new(20001), "second"),
        Err(Error::LoginFailed { .. })
    ));
    client.login(Uin::new(20001), "third").unwrap();
}

#[test]
fn an_account_file_is_imported_and_upgraded_at_first_login() {
    let dir = Scratch::new("cli-import");
    let db = dir.0.join("qq.db");
    let file = dir.0.join("accounts.toml");
    let mut toml = String::new();
    for n in 0..200 {
        toml.push_str(&format!(
            "[[account]]\nuin = {}\npassword = \"pw{n}\"\n",
            30000 + n
        ));
    }
    std::fs::write(&file, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(["accounts", "--state"])
        .arg(&db)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "imported 200 accounts\n");
    // Imported cheaply (strong hashing at import would take a second here)…
    let stored = std::fs::read(&db).unwrap();
    let cheap = b"m=256,t=1";
    assert!(stored.windows(cheap.len()).any(|w| w == cheap));
    // …and upgraded by the server's first login.
    let server = Server::start(Config {
        state: Some(db.clone()),
        hash_cost: httpqq_server::HashCost::Strong,
        ..Config::default()
    })
    .unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    client.login(Uin::new(30007), "pw7").unwrap();
    server.stop();
    let mut after = std::fs::read(&db).unwrap();
    after.extend(std::fs::read(dir.0.join("qq.db-wal")).unwrap_or_default());
    let strong = b"m=8192,t=2";
    assert!(after.windows(strong.len()).any(|w| w == strong));
}

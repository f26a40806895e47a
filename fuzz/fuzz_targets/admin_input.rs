//! What an administrator types or imports: any bytes as a UIN, as an
//! account file, and as the fields of an account added to a database. Each
//! is accepted or refused with an error, never a panic, and whatever the
//! database took holds to the rules: a valid UIN, a nickname without
//! control characters within its length, a password that logs in.
#![no_main]

use httpqq::Uin;
use httpqq_server::admin::Database;
use httpqq_server::{Account, Accounts, HashCost};
use libfuzzer_sys::fuzz_target;
use std::sync::{Mutex, OnceLock};

fn database() -> &'static Mutex<Database> {
    static DATABASE: OnceLock<Mutex<Database>> = OnceLock::new();
    DATABASE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("httpqq-fuzz-admin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Mutex::new(Database::open_or_create(&dir.join("qq.db"), HashCost::Test).expect("a database"))
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A UIN as typed: accepted only when valid, and then exactly the digits.
    if let Ok(uin) = text.parse::<Uin>() {
        assert!(uin.is_valid());
        assert_eq!(uin.to_string(), text);
    }
    // An account file: whatever parses also validates.
    if let Ok(accounts) = Accounts::parse(&text) {
        accounts.validate().expect("a parsed file is valid");
    }
    // An account from the pieces, added to a database.
    let mut parts = text.split('\u{0}');
    let uin = parts.next().and_then(|p| p.parse::<u64>().ok()).unwrap_or(10001);
    let password = parts.next().unwrap_or("pw").to_owned();
    let nickname = parts.next().unwrap_or("").to_owned();
    let account = Account::new(uin, &password, &nickname);
    let mut db = database().lock().unwrap_or_else(|p| p.into_inner());
    if db.add(&account).is_ok() {
        assert!(Uin::checked(uin).is_some(), "stored UIN {uin}");
        assert!(!password.is_empty(), "stored an empty password");
        let shown = db.show(uin).expect("an added account shows");
        assert_eq!(shown.nickname, nickname);
        assert!(!shown.nickname.chars().any(char::is_control));
        assert!(shown.nickname.chars().count() <= httpqq_server::accounts::MAX_NICKNAME_CHARS);
        db.remove(uin).expect("an added account is removed");
    }
});

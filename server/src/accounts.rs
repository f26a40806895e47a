//! Accounts: the TOML account file, and the built-in demo directory.
//!
//! ```toml
//! [[account]]
//! uin = 10001
//! password = "demo"            # or password_md5 = "fe01ce2a…" (32 hex digits)
//! nickname = "Alice"
//! face = 0
//! add_policy = "allow"         # allow | verify | refuse
//! friends = [10002]
//!
//! [account.profile]            # every GetInfo field; unset ones are empty
//! age = 19
//! city = "苏州"
//! ```
//!
//! The commented example the repository ships is `server/accounts.example.toml`.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use httpqq::{PasswordHash, Uin};
use serde::{Deserialize, Serialize};

/// Who may add a user as a friend (AddToList's `CD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddPolicy {
    /// Anyone: the adder gets the user at once (`CD=0`).
    #[default]
    Allow,
    /// Only after the user approves a verification request (`CD=1`).
    Verify,
    /// No one (`CD=2`).
    Refuse,
}

/// Every field GetInfo reports besides UIN and nickname. Text fields are
/// empty and numbers 0 when unset; the four fields the notes could not
/// explain (`CV`, `ID`, `MT`, `MV`) are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// `AD`.
    pub address: String,
    /// `AG`.
    pub age: u32,
    /// `BT`: 0 unset, 1 A, 2 B, 3 O, 4 AB, 5 other.
    pub blood_type: u32,
    /// `CO`: 0 unset, 1 Aquarius … 12 Capricorn.
    pub constellation: u32,
    /// `CT`.
    pub city: String,
    /// `CV` (unexplained).
    pub cv: String,
    /// `CY`.
    pub country: String,
    /// `EM`.
    pub email: String,
    /// `HP`.
    pub homepage: String,
    /// `ID` (unexplained).
    pub id: String,
    /// `JB`.
    pub occupation: String,
    /// `MO`.
    pub mobile: String,
    /// `MT` (unexplained).
    pub mt: String,
    /// `MV` (unexplained).
    pub mv: String,
    /// `PC`.
    pub postal_code: String,
    /// `PH`.
    pub phone: String,
    /// `PR`.
    pub introduction: String,
    /// `PV`.
    pub province: String,
    /// `RN`.
    pub real_name: String,
    /// `SC`.
    pub school: String,
    /// `SH`: 0 unset, 1 Rat … 12 Pig.
    pub zodiac: u32,
    /// `SX`: 0 male, 1 female.
    pub gender: u32,
}

/// One account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The QQ number.
    pub uin: u64,
    /// The password in clear (for test and demo accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Or its MD5 as 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_md5: Option<String>,
    /// `NK`.
    #[serde(default)]
    pub nickname: String,
    /// `FC`: the face id.
    #[serde(default)]
    pub face: u32,
    /// Who may add this user.
    #[serde(default)]
    pub add_policy: AddPolicy,
    /// The friend list, in order (one-way: listing someone does not list
    /// you in theirs).
    #[serde(default)]
    pub friends: Vec<u64>,
    /// The GetInfo profile.
    #[serde(default)]
    pub profile: Profile,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("uin", &self.uin)
            .field("password", &"<redacted>")
            .field("nickname", &self.nickname)
            .field("face", &self.face)
            .field("add_policy", &self.add_policy)
            .field("friends", &self.friends)
            .finish_non_exhaustive()
    }
}

/// The password in clear is wiped from memory when the account goes.
impl Drop for Account {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.password.zeroize();
        self.password_md5.zeroize();
    }
}

/// The longest nickname, in characters.
pub const MAX_NICKNAME_CHARS: usize = 64;

/// The longest text field of a profile, in characters.
pub const MAX_PROFILE_CHARS: usize = 256;

/// Checks a nickname or profile text: at most `max` characters, and no
/// control characters (a terminal listing accounts would act on them). The
/// unexplained `CV` field is exempt from the second rule: the original's
/// was `%01`.
fn check_text(
    uin: u64,
    what: &str,
    text: &str,
    max: usize,
    allow_controls: bool,
) -> Result<(), AccountsError> {
    let count = text.chars().count();
    if count > max {
        return Err(AccountsError::Invalid(format!(
            "account {uin}: the {what} has {count} characters; at most {max} are allowed"
        )));
    }
    if !allow_controls && text.chars().any(char::is_control) {
        return Err(AccountsError::Invalid(format!(
            "account {uin}: the {what} holds a control character"
        )));
    }
    Ok(())
}

impl Account {
    /// Checks one account on its own: a valid UIN ([`Uin::checked`]), one
    /// usable, non-empty password, valid friends' UINs, and texts without
    /// control characters within [`MAX_NICKNAME_CHARS`] and
    /// [`MAX_PROFILE_CHARS`].
    ///
    /// # Errors
    /// [`AccountsError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), AccountsError> {
        if Uin::checked(self.uin).is_none() {
            return Err(AccountsError::Invalid(format!(
                "{} is not a UIN: QQ numbers run from {} to {}",
                self.uin,
                Uin::FIRST,
                Uin::LAST
            )));
        }
        if let Some(friend) = self.friends.iter().find(|f| Uin::checked(**f).is_none()) {
            return Err(AccountsError::Invalid(format!(
                "account {}: friend {friend} is not a UIN",
                self.uin
            )));
        }
        self.password_hash()?;
        check_text(
            self.uin,
            "nickname",
            &self.nickname,
            MAX_NICKNAME_CHARS,
            false,
        )?;
        let p = &self.profile;
        for (what, text) in [
            ("address", &p.address),
            ("city", &p.city),
            ("country", &p.country),
            ("email", &p.email),
            ("homepage", &p.homepage),
            ("id", &p.id),
            ("occupation", &p.occupation),
            ("mobile", &p.mobile),
            ("mt", &p.mt),
            ("mv", &p.mv),
            ("postal code", &p.postal_code),
            ("phone", &p.phone),
            ("introduction", &p.introduction),
            ("province", &p.province),
            ("real name", &p.real_name),
            ("school", &p.school),
        ] {
            check_text(self.uin, what, text, MAX_PROFILE_CHARS, false)?;
        }
        check_text(self.uin, "cv", &p.cv, MAX_PROFILE_CHARS, true)
    }

    /// An account with a clear password and defaults for the rest.
    pub fn new(uin: u64, password: &str, nickname: &str) -> Account {
        Account {
            uin,
            password: Some(password.to_owned()),
            password_md5: None,
            nickname: nickname.to_owned(),
            face: 0,
            add_policy: AddPolicy::Allow,
            friends: Vec::new(),
            profile: Profile::default(),
        }
    }

    /// The password's MD5, from whichever form the account gives.
    ///
    /// # Errors
    /// When neither or both forms are given, or the MD5 is not 32 hex digits.
    pub fn password_hash(&self) -> Result<PasswordHash, AccountsError> {
        match (&self.password, &self.password_md5) {
            (Some(clear), None) if clear.is_empty() => Err(AccountsError::Invalid(format!(
                "account {}: the password is empty",
                self.uin
            ))),
            (Some(clear), None) => Ok(PasswordHash::from_password(clear)),
            (None, Some(hex)) => PasswordHash::from_md5_hex(hex).ok_or_else(|| {
                AccountsError::Invalid(format!(
                    "account {}: password_md5 must be 32 hex digits",
                    self.uin
                ))
            }),
            _ => Err(AccountsError::Invalid(format!(
                "account {}: give exactly one of password and password_md5",
                self.uin
            ))),
        }
    }
}

/// An account file: a list of `[[account]]` tables.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// The accounts.
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
}

/// An account file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// The file could not be read.
    #[error("cannot read account file {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The file is not valid TOML for accounts.
    #[error("invalid account file: {0}")]
    Parse(String),
    /// The accounts are inconsistent.
    #[error("invalid accounts: {0}")]
    Invalid(String),
}

impl Accounts {
    /// Reads and checks a TOML account file.
    ///
    /// # Errors
    /// [`AccountsError`] for an unreadable, malformed or inconsistent file.
    pub fn load(path: &Path) -> Result<Accounts, AccountsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AccountsError::Io(path.display().to_string(), e))?;
        Accounts::parse(&text)
    }

    /// Parses and checks TOML account text.
    ///
    /// # Errors
    /// As [`Accounts::load`].
    pub fn parse(text: &str) -> Result<Accounts, AccountsError> {
        let accounts: Accounts =
            toml::from_str(text).map_err(|e| AccountsError::Parse(e.to_string()))?;
        accounts.validate()?;
        Ok(accounts)
    }

    /// Checks each account ([`Account::validate`]), that UINs are unique
    /// and that friends are known.
    ///
    /// # Errors
    /// [`AccountsError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), AccountsError> {
        let mut seen = BTreeSet::new();
        for account in &self.accounts {
            if !seen.insert(account.uin) {
                return Err(AccountsError::Invalid(format!(
                    "UIN {} appears twice",
                    account.uin
                )));
            }
            account.validate()?;
        }
        for account in &self.accounts {
            if let Some(unknown) = account.friends.iter().find(|f| !seen.contains(f)) {
                return Err(AccountsError::Invalid(format!(
                    "account {} lists unknown friend {unknown}",
                    account.uin
                )));
            }
        }
        Ok(())
    }

    /// The built-in demo directory: UINs 10001–10005, password `demo`;
    /// 10001 and 10002 list each other; 10003 requires verification, 10004
    /// refuses all adds, 10005 (like the others) allows anyone; 10001 has
    /// every profile field filled.
    pub fn demo() -> Accounts {
        let mut alice = Account::new(10001, "demo", "Alice 爱丽丝");
        alice.face = 270;
        alice.friends = vec![10002];
        alice.profile = Profile {
            address: "苏州市某路1号".into(),
            age: 19,
            blood_type: 2,
            constellation: 6,
            city: "苏州".into(),
            cv: "\u{1}".into(),
            country: "中华人民共和国".into(),
            email: "alice@example.com".into(),
            homepage: "http://alice.example.com".into(),
            id: "-".into(),
            occupation: "学生".into(),
            mobile: "136********".into(),
            mt: "0".into(),
            mv: "".into(),
            postal_code: "215000".into(),
            phone: "0512-0000000".into(),
            introduction: "Testing HTTP QQ, 1+1=2 & more".into(),
            province: "江苏".into(),
            real_name: "爱丽丝".into(),
            school: "某大学".into(),
            zodiac: 3,
            gender: 1,
        };
        let mut bob = Account::new(10002, "demo", "Bob 鲍勃");
        bob.face = 3;
        bob.friends = vec![10001];
        let mut carol = Account::new(10003, "demo", "Carol");
        carol.add_policy = AddPolicy::Verify;
        let mut dave = Account::new(10004, "demo", "Dave");
        dave.add_policy = AddPolicy::Refuse;
        let erin = Account::new(10005, "demo", "Erin");
        Accounts {
            accounts: vec![alice, bob, carol, dave, erin],
        }
    }

    /// The account with this UIN.
    pub fn get(&self, uin: Uin) -> Option<&Account> {
        self.accounts.iter().find(|a| a.uin == uin.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_directory_is_valid() {
        let demo = Accounts::demo();
        demo.validate().unwrap();
        assert_eq!(demo.accounts.len(), 5);
        assert_eq!(
            demo.get(Uin::new(10003)).unwrap().add_policy,
            AddPolicy::Verify
        );
    }

    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../accounts.example.toml");
        let accounts = Accounts::parse(text).unwrap();
        assert!(accounts.accounts.len() >= 2);
    }

    #[test]
    fn problems_are_named() {
        let refused = |text: &str, why: &str| {
            let err = Accounts::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
        };
        refused(
            "[[account]]\nuin = 10001\npassword = \"a\"\n[[account]]\nuin = 10001\npassword = \"b\"\n",
            "twice",
        );
        refused(
            "[[account]]\nuin = 10001\npassword = \"a\"\nfriends = [10002]\n",
            "unknown friend 10002",
        );
        refused("[[account]]\nuin = 10001\n", "exactly one");
        refused(
            "[[account]]\nuin = 10001\npassword = \"a\"\nnickame = \"x\"\n",
            "nickame",
        );
        refused("[[account]]\nuin = 10001\npassword = \"\"\n", "empty");
        refused("[[account]]\nuin = 9999\npassword = \"a\"\n", "not a UIN");
        refused(
            "[[account]]\nuin = 9223372036854775808\npassword = \"a\"\n",
            "not a UIN",
        );
        refused(
            "[[account]]\nuin = 10001\npassword = \"a\"\nfriends = [0]\n",
            "friend 0",
        );
        refused(
            "[[account]]\nuin = 10001\npassword = \"a\"\nnickname = \"\\u001b[2J\"\n",
            "control character",
        );
        let long = format!(
            "[[account]]\nuin = 10001\npassword = \"a\"\nnickname = \"{}\"\n",
            "好".repeat(65)
        );
        refused(&long, "65 characters");
        // 64 are fine, and so is the original's CV of %01.
        let fine = format!(
            "[[account]]\nuin = 10001\npassword = \"a\"\nnickname = \"{}\"\n[account.profile]\ncv = \"\\u0001\"\n",
            "好".repeat(64)
        );
        Accounts::parse(&fine).unwrap();
    }
}

//! Account administration on the database: seeding a new one, importing an
//! account file or an httpqq-server 0.1 state file, and adding, changing,
//! removing and listing accounts (the `httpqq-server accounts` commands).

use std::path::Path;

use httpqq::PasswordHash;
use serde::Deserialize;

use crate::accounts::{Account, Accounts, AccountsError, AddPolicy, Profile};
use crate::passwords::{self, HashCost};
use crate::store::{AccountRow, Queued, Sqlite, Storage, StoreError};

/// What an administration command can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The database cannot be opened or used.
    #[error("database {path}: {reason}")]
    Database {
        /// Its path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The accounts given are unusable (a bad UIN, a UIN taken, an unknown
    /// friend, an unreadable file).
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// No account has this UIN.
    #[error("no account has UIN {0}")]
    NoSuchAccount(u64),
    /// The file to import cannot be read.
    #[error("cannot import {path}: {reason}")]
    Import {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The database of a running or stopped server, for administration.
pub struct Database {
    store: Box<dyn Storage>,
    path: String,
    cost: HashCost,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// One account as `accounts show` prints it (no password, ever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// The UIN.
    pub uin: u64,
    /// `NK`.
    pub nickname: String,
    /// `FC`.
    pub face: u32,
    /// Who may add the user.
    pub add_policy: AddPolicy,
    /// The friend list, in order.
    pub friends: Vec<u64>,
    /// The profile.
    pub profile: Profile,
    /// Undelivered messages.
    pub queued: usize,
}

impl Database {
    /// Opens the database at `path`, which must exist (`list`, `show`,
    /// `passwd`, `remove`: a mistyped path must not leave an empty
    /// database behind), hashing new passwords at `cost`.
    ///
    /// # Errors
    /// [`AdminError::Database`] for a missing file or one that is not a
    /// usable database.
    pub fn open(path: &Path, cost: HashCost) -> Result<Database, AdminError> {
        if !path.exists() {
            return Err(AdminError::Database {
                path: path.display().to_string(),
                reason: "no such database (check the path; `accounts add` or `import` create one)"
                    .into(),
            });
        }
        Database::open_or_create(path, cost)
    }

    /// Opens the database at `path`, creating it (empty, mode `0600`) if
    /// there is none: for `add` and the imports.
    ///
    /// # Errors
    /// [`AdminError::Database`] for a file that is not a usable database.
    pub fn open_or_create(path: &Path, cost: HashCost) -> Result<Database, AdminError> {
        let store = Sqlite::open(path).map_err(|reason| AdminError::Database {
            path: path.display().to_string(),
            reason,
        })?;
        Ok(Database {
            store: Box::new(store),
            path: path.display().to_string(),
            cost,
        })
    }

    /// A storage failure, naming the database.
    fn failed(&self, err: StoreError) -> AdminError {
        AdminError::Database {
            path: self.path.clone(),
            reason: err.0,
        }
    }

    fn commit(&mut self) -> Result<(), AdminError> {
        self.store.commit().map_err(|e| self.failed(e))
    }

    /// Adds an account.
    ///
    /// # Errors
    /// [`AdminError::Accounts`] for a UIN that is taken or a friend that
    /// does not exist.
    pub fn add(&mut self, account: &Account) -> Result<(), AdminError> {
        account.validate()?;
        let password = account.password_hash()?;
        for friend in &account.friends {
            if self
                .store
                .card(*friend)
                .map_err(|e| self.failed(e))?
                .is_none()
            {
                return Err(AccountsError::Invalid(format!(
                    "account {} lists unknown friend {friend}",
                    account.uin
                ))
                .into());
            }
        }
        let row = row_of(account, passwords::hash(&password, self.cost));
        let inserted = self
            .store
            .insert_accounts(&[(row, account.friends.clone())]);
        if let Err(err) = inserted {
            self.store.rollback();
            return Err(AccountsError::Invalid(err.0).into());
        }
        self.commit()
    }

    /// Changes an account's password (not to an empty one). A server
    /// running on the database ends the account's session at its next
    /// request, and the old password no longer logs in.
    ///
    /// # Errors
    /// [`AdminError::NoSuchAccount`]; [`AdminError::Accounts`] for an
    /// empty password.
    pub fn set_password(&mut self, uin: u64, password: &str) -> Result<(), AdminError> {
        if password.is_empty() {
            return Err(
                AccountsError::Invalid(format!("account {uin}: the password is empty")).into(),
            );
        }
        let hash = passwords::hash(&PasswordHash::from_password(password), self.cost);
        if !self
            .store
            .set_password(uin, &hash)
            .map_err(|e| self.failed(e))?
        {
            self.store.rollback();
            return Err(AdminError::NoSuchAccount(uin));
        }
        self.commit()
    }

    /// Removes an account with its friend list, its place in others' lists
    /// and its undelivered messages. A server running on the database ends
    /// the account's session at its next request.
    ///
    /// # Errors
    /// [`AdminError::NoSuchAccount`].
    pub fn remove(&mut self, uin: u64) -> Result<(), AdminError> {
        if !self.store.remove_account(uin).map_err(|e| self.failed(e))? {
            self.store.rollback();
            return Err(AdminError::NoSuchAccount(uin));
        }
        self.commit()
    }

    /// Every account's UIN and nickname, in UIN order.
    ///
    /// # Errors
    /// [`AdminError::Database`].
    pub fn list(&mut self) -> Result<Vec<(u64, String)>, AdminError> {
        let mut all = Vec::new();
        loop {
            let after = all.last().map_or(0, |(uin, _)| *uin);
            let page = self
                .store
                .accounts(after, 10_000)
                .map_err(|e| self.failed(e))?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// One account.
    ///
    /// # Errors
    /// [`AdminError::NoSuchAccount`].
    pub fn show(&mut self, uin: u64) -> Result<AccountInfo, AdminError> {
        let row = self
            .store
            .account(uin)
            .map_err(|e| self.failed(e))?
            .ok_or(AdminError::NoSuchAccount(uin))?;
        let friends = self.store.friends(uin).map_err(|e| self.failed(e))?;
        let queued = self
            .store
            .queue_totals()
            .map_err(|e| self.failed(e))?
            .into_iter()
            .find(|(u, _)| *u == uin)
            .map_or(0, |(_, q)| q.count + q.in_flight);
        Ok(AccountInfo {
            uin,
            nickname: row.nickname,
            face: row.face,
            add_policy: row.add_policy,
            friends,
            profile: row.profile,
            queued,
        })
    }

    /// Imports an account file (the format of `--accounts`), all or nothing.
    /// Passwords are hashed cheaply now and upgraded at each account's
    /// first login.
    ///
    /// # Errors
    /// [`AdminError::Accounts`] for an unusable file or a UIN taken.
    pub fn import(&mut self, path: &Path) -> Result<usize, AdminError> {
        let accounts = Accounts::load(path)?;
        let count = accounts.accounts.len();
        if let Err(err) = seed(&mut *self.store, &accounts, self.cost) {
            self.store.rollback();
            return Err(err);
        }
        self.commit()?;
        Ok(count)
    }

    /// Imports an httpqq-server 0.1 state file (TOML: accounts, friend
    /// lists, queued messages and pending verifications) into this
    /// database, which must have no accounts yet. Returns the accounts and
    /// messages imported.
    ///
    /// # Errors
    /// [`AdminError::Import`] for an unreadable file or a database that has
    /// accounts already.
    pub fn import_state(&mut self, path: &Path) -> Result<(usize, usize), AdminError> {
        let failed = |reason: String| AdminError::Import {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let old: OldState = toml::from_str(&text).map_err(|e| failed(e.to_string()))?;
        if !self
            .store
            .accounts(0, 1)
            .map_err(|e| self.failed(e))?
            .is_empty()
        {
            return Err(failed(
                "the database has accounts already: import into a new database".into(),
            ));
        }
        let accounts = Accounts {
            accounts: old.account,
        };
        accounts.validate()?;
        seed(&mut *self.store, &accounts, self.cost)?;
        for message in &old.queued {
            let queued = Queued {
                kind: message.kind,
                from: message.from,
                text: message.text.clone(),
            };
            self.store
                .enqueue(message.to, &queued)
                .map_err(|e| self.failed(e))?;
        }
        for pending in &old.pending {
            self.store
                .add_pending(pending.to, pending.from)
                .map_err(|e| self.failed(e))?;
        }
        self.commit()?;
        Ok((accounts.accounts.len(), old.queued.len()))
    }
}

/// An httpqq-server 0.1 state file.
#[derive(Deserialize)]
struct OldState {
    #[serde(default)]
    account: Vec<Account>,
    #[serde(default)]
    queued: Vec<OldQueued>,
    #[serde(default)]
    pending: Vec<OldPending>,
}

#[derive(Deserialize)]
struct OldQueued {
    to: u64,
    kind: u32,
    from: u64,
    text: String,
}

#[derive(Deserialize)]
struct OldPending {
    to: u64,
    from: u64,
}

fn row_of(account: &Account, password: String) -> AccountRow {
    AccountRow {
        uin: account.uin,
        password,
        nickname: account.nickname.clone(),
        face: account.face,
        add_policy: account.add_policy,
        profile: account.profile.clone(),
    }
}

/// Stores accounts (in the transaction in progress): passwords are hashed
/// on every core, at `cost` if that is the cheap test cost, else at the
/// import cost, upgraded at each account's first login.
pub(crate) fn seed(
    store: &mut dyn Storage,
    accounts: &Accounts,
    cost: HashCost,
) -> Result<(), AdminError> {
    accounts.validate()?;
    let passwords: Vec<PasswordHash> = accounts
        .accounts
        .iter()
        .map(Account::password_hash)
        .collect::<Result<_, _>>()?;
    let hashes = passwords::hash_many_for_seed(&passwords, cost);
    let rows: Vec<(AccountRow, Vec<u64>)> = accounts
        .accounts
        .iter()
        .zip(hashes)
        .map(|(account, hash)| (row_of(account, hash), account.friends.clone()))
        .collect();
    store
        .insert_accounts(&rows)
        .map_err(|err| AccountsError::Invalid(err.0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("httpqq-admin-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn accounts_are_added_changed_shown_and_removed_with_clear_errors() {
        let dir = Scratch::new("crud");
        let path = dir.0.join("db");
        let missing = Database::open(&path, HashCost::Test).unwrap_err();
        assert!(
            missing.to_string().contains(&path.display().to_string()),
            "{missing}"
        );
        assert!(!path.exists(), "only add and import create a database");
        let mut db = Database::open_or_create(&path, HashCost::Test).unwrap();
        db.add(&Account::new(10001, "pw", "Alice")).unwrap();
        let mut bob = Account::new(10002, "pw", "Bob");
        bob.friends = vec![10001];
        db.add(&bob).unwrap();
        assert!(
            matches!(db.add(&bob), Err(AdminError::Accounts(_))),
            "a UIN taken"
        );
        let mut carol = Account::new(10003, "pw", "Carol");
        carol.friends = vec![10004];
        assert!(
            matches!(db.add(&carol), Err(AdminError::Accounts(_))),
            "an unknown friend"
        );
        assert_eq!(
            db.list().unwrap(),
            [(10001, "Alice".into()), (10002, "Bob".into())]
        );
        assert_eq!(db.show(10002).unwrap().friends, [10001]);
        db.set_password(10001, "new").unwrap();
        assert!(matches!(
            db.set_password(10009, "x"),
            Err(AdminError::NoSuchAccount(10009))
        ));
        assert!(
            matches!(db.set_password(10002, ""), Err(AdminError::Accounts(_))),
            "an empty password"
        );
        assert!(
            matches!(
                db.add(&Account::new(10007, "", "Eve")),
                Err(AdminError::Accounts(_))
            ),
            "an empty password"
        );
        assert!(
            matches!(
                db.add(&Account::new(9_223_372_036_854_775_808, "pw", "Big")),
                Err(AdminError::Accounts(_))
            ),
            "a UIN past the range"
        );
        db.remove(10001).unwrap();
        assert!(matches!(
            db.remove(10001),
            Err(AdminError::NoSuchAccount(10001))
        ));
        assert!(
            db.show(10002).unwrap().friends.is_empty(),
            "gone from others' lists too"
        );
    }

    #[test]
    fn an_old_state_file_is_imported_once() {
        let dir = Scratch::new("import");
        let old = dir.0.join("state.toml");
        std::fs::write(
            &old,
            "[[account]]\nuin = 10001\npassword = \"a\"\nfriends = [10002]\n[[account]]\nuin = 10002\npassword = \"b\"\n\n[[queued]]\nto = 10002\nkind = 9\nfrom = 10001\ntext = \"hi, 好\"\n\n[[pending]]\nto = 10002\nfrom = 10001\n",
        )
        .unwrap();
        let mut db = Database::open_or_create(&dir.0.join("db"), HashCost::Test).unwrap();
        assert_eq!(db.import_state(&old).unwrap(), (2, 1));
        assert_eq!(db.show(10002).unwrap().queued, 1);
        assert!(
            matches!(db.import_state(&old), Err(AdminError::Import { .. })),
            "only into a new database"
        );
    }
}

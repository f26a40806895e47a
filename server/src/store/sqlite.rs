//! [`Storage`] on SQLite (compiled in): a file in WAL mode with
//! `synchronous=FULL`, created `0600`, checked before use; or a database in
//! memory.

use std::fs::{self, OpenOptions};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::{self, MIGRATIONS};
use super::{AccountRow, Card, QueueTotals, Queued, Result, Storage, StoreError};
use crate::accounts::{AddPolicy, Profile};

/// The server's storage in SQLite.
pub(crate) struct Sqlite {
    connection: Connection,
    new: bool,
}

/// The `MT` of a status notice (99), the kind the queue replaces in place.
const STATUS_CHANGE: u32 = httpqq::MessageKind::StatusChange.code();

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("new", &self.new)
            .finish_non_exhaustive()
    }
}

/// What every SQLite database file starts with.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Sqlite {
    /// A database in memory, with the schema: what a server without a
    /// state file keeps.
    pub(crate) fn in_memory() -> std::result::Result<Sqlite, String> {
        let mut connection = Connection::open_in_memory().map_err(|e| e.to_string())?;
        schema::migrate(&mut connection, MIGRATIONS)?;
        Ok(Sqlite {
            connection,
            new: true,
        })
    }

    /// Opens the database at `path`, or creates it (mode `0600`) if there
    /// is no file. Refuses, with a reason that says what to do, a file that
    /// is empty, is not an SQLite database (an httpqq 0.1 state file, say),
    /// fails SQLite's integrity check, or has a newer schema.
    pub(crate) fn open(path: &Path) -> std::result::Result<Sqlite, String> {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        // Looked at before SQLite opens the database (which creates it).
        let wal_missing = !Path::new(&wal).exists();
        let mut wal_mode = false;
        let new = match fs::metadata(path) {
            Ok(meta) => {
                wal_mode = check_file(path, &meta)?;
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private(path)?;
                true
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut connection = Connection::open(path).map_err(|e| e.to_string())?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        if !new {
            integrity_check(&connection)?;
            let tables: i64 = connection
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| e.to_string())?;
            let version: i64 = connection
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|e| e.to_string())?;
            if version == 0 {
                return Err(if tables == 0 && wal_mode && wal_missing {
                    format!("holds nothing, and its write-ahead log {} is missing: the database's contents are in that file; put it back beside the database (or restore both from a backup)", Path::new(&wal).display())
                } else if tables == 0 {
                    "is an empty SQLite database, not one this server made: refusing to start with nothing in it (remove the file to start a new database)".to_owned()
                } else {
                    "is an SQLite database this server did not make".to_owned()
                });
            }
        }
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| e.to_string())?;
        // Every acknowledged change is on disk, power loss included.
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| e.to_string())?;
        schema::migrate(&mut connection, MIGRATIONS)?;
        Ok(Sqlite { connection, new })
    }

    fn begin(&mut self) -> Result<()> {
        if self.connection.is_autocommit() {
            self.connection.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(())
    }
}

/// Creates the database file, readable and writable by its owner only.
fn create_private(path: &Path) -> std::result::Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|e| e.to_string())
}

/// Refuses a file that cannot be a database of ours, before SQLite would
/// take it as a new, empty one; warns when others can read it. Whether the
/// file is in WAL mode (its header says so).
fn check_file(path: &Path, meta: &fs::Metadata) -> std::result::Result<bool, String> {
    if meta.len() == 0 {
        return Err("is empty (0 bytes), not a database: refusing to start with nothing in it (remove the file to start a new database)".to_owned());
    }
    let mut head = [0u8; 20];
    let read = fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| e.to_string())?;
    if read < 16 || &head[..16] != MAGIC {
        let text = String::from_utf8_lossy(&head[..read]);
        return Err(
            if text.trim_start().starts_with('[') || text.contains('=') {
                "is an httpqq-server 0.1 state file (TOML), not a database: import it once into a new database with `httpqq-server accounts --state NEW.db import-state FILE`, then start with `--state NEW.db`".to_owned()
            } else {
                "is not an SQLite database".to_owned()
            },
        );
    }
    // Bytes 18 and 19 are the file format's write and read versions: 2 in
    // WAL mode.
    let wal_mode = read >= 20 && head[18] == 2 && head[19] == 2;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            log::warn!(
                target: "httpqq::server",
                "{} can be read by other users (mode {:o}); it holds everyone's messages: chmod 600 it",
                path.display(),
                meta.permissions().mode() & 0o777
            );
        }
    }
    Ok(wal_mode)
}

/// SQLite's quick check of every page: a damaged or truncated file is
/// refused rather than served in part.
fn integrity_check(connection: &Connection) -> std::result::Result<(), String> {
    let damaged =
        |why: String| format!("is damaged ({why}): refusing to start; restore it from a backup");
    let mut statement = connection
        .prepare("PRAGMA quick_check")
        .map_err(|e| damaged(e.to_string()))?;
    let findings: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| damaged(e.to_string()))?;
    if findings != ["ok"] {
        return Err(damaged(findings.join("; ")));
    }
    Ok(())
}

fn policy_name(policy: AddPolicy) -> &'static str {
    match policy {
        AddPolicy::Allow => "allow",
        AddPolicy::Verify => "verify",
        AddPolicy::Refuse => "refuse",
    }
}

fn policy_of(name: &str) -> AddPolicy {
    match name {
        "verify" => AddPolicy::Verify,
        "refuse" => AddPolicy::Refuse,
        _ => AddPolicy::Allow,
    }
}

fn profile_text(profile: &Profile) -> std::result::Result<String, StoreError> {
    if *profile == Profile::default() {
        return Ok(String::new());
    }
    toml::to_string(profile).map_err(|e| StoreError(e.to_string()))
}

fn profile_of(text: &str) -> std::result::Result<Profile, StoreError> {
    if text.is_empty() {
        return Ok(Profile::default());
    }
    toml::from_str(text).map_err(|e| StoreError(format!("a stored profile is unreadable: {e}")))
}

fn uin(value: i64) -> u64 {
    value as u64
}

fn sql(value: u64) -> i64 {
    value as i64
}

impl Storage for Sqlite {
    fn is_new(&self) -> bool {
        self.new
    }

    fn account(&mut self, uin_: u64) -> Result<Option<AccountRow>> {
        let row = self
            .connection
            .prepare_cached(
                "SELECT password, nickname, face, add_policy, profile FROM account WHERE uin = ?1",
            )?
            .query_row(params![sql(uin_)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(password, nickname, face, policy, profile)| {
            Ok(AccountRow {
                uin: uin_,
                password,
                nickname,
                face: face as u32,
                add_policy: policy_of(&policy),
                profile: profile_of(&profile)?,
            })
        })
        .transpose()
    }

    fn card(&mut self, uin_: u64) -> Result<Option<Card>> {
        Ok(self
            .connection
            .prepare_cached("SELECT nickname, face, add_policy FROM account WHERE uin = ?1")?
            .query_row(params![sql(uin_)], |r| {
                Ok(Card {
                    nickname: r.get(0)?,
                    face: r.get::<_, i64>(1)? as u32,
                    add_policy: policy_of(&r.get::<_, String>(2)?),
                })
            })
            .optional()?)
    }

    fn password(&mut self, uin_: u64) -> Result<Option<String>> {
        Ok(self
            .connection
            .prepare_cached("SELECT password FROM account WHERE uin = ?1")?
            .query_row(params![sql(uin_)], |r| r.get(0))
            .optional()?)
    }

    fn set_password(&mut self, uin_: u64, hash: &str) -> Result<bool> {
        self.begin()?;
        let changed = self
            .connection
            .prepare_cached("UPDATE account SET password = ?2 WHERE uin = ?1")?
            .execute(params![sql(uin_), hash])?;
        Ok(changed > 0)
    }

    fn insert_accounts(&mut self, accounts: &[(AccountRow, Vec<u64>)]) -> Result<()> {
        self.begin()?;
        let mut account = self.connection.prepare_cached(
            "INSERT INTO account (uin, password, nickname, face, add_policy, profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut friend = self.connection.prepare_cached(
            "INSERT OR IGNORE INTO friend (uin, friend, position) VALUES (?1, ?2, ?3)",
        )?;
        for (row, friends) in accounts {
            account
                .execute(params![
                    sql(row.uin),
                    row.password,
                    row.nickname,
                    i64::from(row.face),
                    policy_name(row.add_policy),
                    profile_text(&row.profile)?,
                ])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        StoreError(format!("UIN {} is taken already", row.uin))
                    }
                    other => other.into(),
                })?;
            for (position, f) in friends.iter().enumerate() {
                friend.execute(params![sql(row.uin), sql(*f), position as i64 + 1])?;
            }
        }
        Ok(())
    }

    fn remove_account(&mut self, uin_: u64) -> Result<bool> {
        self.begin()?;
        let removed = self
            .connection
            .execute("DELETE FROM account WHERE uin = ?1", params![sql(uin_)])?;
        self.connection.execute(
            "DELETE FROM friend WHERE uin = ?1 OR friend = ?1",
            params![sql(uin_)],
        )?;
        self.connection.execute(
            "DELETE FROM pending WHERE recipient = ?1 OR sender = ?1",
            params![sql(uin_)],
        )?;
        self.connection.execute(
            "DELETE FROM message WHERE recipient = ?1",
            params![sql(uin_)],
        )?;
        Ok(removed > 0)
    }

    fn accounts(&mut self, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT uin, nickname FROM account WHERE uin > ?1 ORDER BY uin LIMIT ?2",
        )?;
        let rows = statement.query_map(params![sql(after), limit as i64], |r| {
            Ok((uin(r.get(0)?), r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn friends(&mut self, uin_: u64) -> Result<Vec<u64>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT friend FROM friend WHERE uin = ?1 ORDER BY position")?;
        let rows = statement.query_map(params![sql(uin_)], |r| r.get::<_, i64>(0).map(uin))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn watchers(&mut self, uin_: u64) -> Result<Vec<u64>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT uin FROM friend WHERE friend = ?1")?;
        let rows = statement.query_map(params![sql(uin_)], |r| r.get::<_, i64>(0).map(uin))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_friend(&mut self, uin_: u64, friend: u64) -> Result<bool> {
        self.begin()?;
        let added = self.connection.prepare_cached(
            "INSERT OR IGNORE INTO friend (uin, friend, position) SELECT ?1, ?2, coalesce(max(position), 0) + 1 FROM friend WHERE uin = ?1",
        )?
        .execute(params![sql(uin_), sql(friend)])?;
        Ok(added > 0)
    }

    fn remove_friend(&mut self, uin_: u64, friend: u64) -> Result<bool> {
        self.begin()?;
        let removed = self
            .connection
            .prepare_cached("DELETE FROM friend WHERE uin = ?1 AND friend = ?2")?
            .execute(params![sql(uin_), sql(friend)])?;
        Ok(removed > 0)
    }

    fn add_pending(&mut self, recipient: u64, sender: u64) -> Result<()> {
        self.begin()?;
        self.connection
            .prepare_cached("INSERT OR IGNORE INTO pending (recipient, sender) VALUES (?1, ?2)")?
            .execute(params![sql(recipient), sql(sender)])?;
        Ok(())
    }

    fn has_pending(&mut self, recipient: u64, sender: u64) -> Result<bool> {
        Ok(self
            .connection
            .prepare_cached("SELECT 1 FROM pending WHERE recipient = ?1 AND sender = ?2")?
            .query_row(params![sql(recipient), sql(sender)], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn take_pending(&mut self, recipient: u64, sender: u64) -> Result<bool> {
        self.begin()?;
        let taken = self
            .connection
            .prepare_cached("DELETE FROM pending WHERE recipient = ?1 AND sender = ?2")?
            .execute(params![sql(recipient), sql(sender)])?;
        Ok(taken > 0)
    }

    fn enqueue(&mut self, recipient: u64, message: &Queued) -> Result<()> {
        self.begin()?;
        self.connection
            .prepare_cached(
                "INSERT INTO message (recipient, kind, sender, text) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                sql(recipient),
                i64::from(message.kind),
                sql(message.from),
                message.text
            ])?;
        Ok(())
    }

    fn drop_status_notices(&mut self, recipient: u64, sender: u64) -> Result<(usize, usize)> {
        let (count, bytes): (i64, i64) = self
            .connection
            .prepare_cached(
                "SELECT count(*), coalesce(sum(length(CAST(text AS BLOB))), 0) FROM message WHERE recipient = ?1 AND sender = ?2 AND kind = ?3 AND in_flight = 0",
            )?
            .query_row(params![sql(recipient), sql(sender), STATUS_CHANGE], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if count > 0 {
            self.begin()?;
            self.connection
                .prepare_cached(
                    "DELETE FROM message WHERE recipient = ?1 AND sender = ?2 AND kind = ?3 AND in_flight = 0",
                )?
                .execute(params![sql(recipient), sql(sender), STATUS_CHANGE])?;
        }
        Ok((count as usize, bytes as usize))
    }

    fn take_batch(&mut self, recipient: u64, max: usize) -> Result<Vec<Queued>> {
        let mut last = 0i64;
        let batch: Vec<Queued> = {
            let mut statement = self.connection.prepare_cached(
                "SELECT id, kind, sender, text FROM message WHERE recipient = ?1 AND in_flight = 0 ORDER BY id LIMIT ?2",
            )?;
            let rows = statement.query_map(params![sql(recipient), max as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Queued {
                        kind: r.get::<_, i64>(1)? as u32,
                        from: uin(r.get(2)?),
                        text: r.get(3)?,
                    },
                ))
            })?;
            let mut batch = Vec::new();
            for row in rows {
                let (id, message) = row?;
                last = id;
                batch.push(message);
            }
            batch
        };
        if !batch.is_empty() {
            self.begin()?;
            self.connection
                .prepare_cached(
                    "UPDATE message SET in_flight = 1 WHERE recipient = ?1 AND in_flight = 0 AND id <= ?2",
                )?
                .execute(params![sql(recipient), last])?;
        }
        Ok(batch)
    }

    fn confirm(&mut self, recipient: u64) -> Result<()> {
        self.begin()?;
        self.connection
            .prepare_cached("DELETE FROM message WHERE recipient = ?1 AND in_flight = 1")?
            .execute(params![sql(recipient)])?;
        Ok(())
    }

    fn requeue_in_flight(&mut self) -> Result<()> {
        self.begin()?;
        self.connection
            .execute("UPDATE message SET in_flight = 0 WHERE in_flight = 1", [])?;
        Ok(())
    }

    fn queue_totals(&mut self) -> Result<Vec<(u64, QueueTotals)>> {
        let mut statement = self.connection.prepare(
            "SELECT recipient, sum(in_flight = 0), sum(CASE WHEN in_flight = 0 THEN length(CAST(text AS BLOB)) ELSE 0 END), sum(in_flight) FROM message GROUP BY recipient",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((
                uin(r.get(0)?),
                QueueTotals {
                    count: r.get::<_, i64>(1)? as usize,
                    bytes: r.get::<_, i64>(2)? as usize,
                    in_flight: r.get::<_, i64>(3)? as usize,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn commit(&mut self) -> Result<()> {
        if !self.connection.is_autocommit() {
            if let Err(err) = self.connection.execute_batch("COMMIT") {
                self.rollback();
                return Err(err.into());
            }
        }
        Ok(())
    }

    fn rollback(&mut self) {
        if !self.connection.is_autocommit() {
            if let Err(err) = self.connection.execute_batch("ROLLBACK") {
                log::error!(target: "httpqq::server", "cannot roll back: {err}");
            }
        }
    }

    fn dirty(&self) -> bool {
        !self.connection.is_autocommit()
    }

    fn fail_writes(&mut self, on: bool) -> Result<()> {
        self.rollback();
        self.connection.pragma_update(None, "query_only", on)?;
        Ok(())
    }

    fn data_version(&mut self) -> Result<i64> {
        Ok(self
            .connection
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(uin: u64) -> AccountRow {
        AccountRow {
            uin,
            password: "$argon2id$…".into(),
            nickname: format!("n{uin}"),
            face: 3,
            add_policy: AddPolicy::Verify,
            profile: Profile {
                city: "苏州".into(),
                age: 19,
                ..Profile::default()
            },
        }
    }

    fn text(n: u32) -> Queued {
        Queued {
            kind: 9,
            from: 1,
            text: format!("m{n}"),
        }
    }

    #[test]
    fn accounts_friends_and_queues_round_trip() {
        let mut db = Sqlite::in_memory().unwrap();
        db.insert_accounts(&[(row(1), vec![2]), (row(2), vec![])])
            .unwrap();
        db.commit().unwrap();
        assert_eq!(db.account(1).unwrap().unwrap(), row(1));
        assert!(db.account(3).unwrap().is_none());
        assert!(db
            .insert_accounts(&[(row(1), vec![])])
            .unwrap_err()
            .0
            .contains("taken"));
        db.rollback();
        assert!(db.add_friend(1, 3).unwrap());
        assert!(!db.add_friend(1, 2).unwrap());
        assert_eq!(db.friends(1).unwrap(), [2, 3]);
        assert_eq!(db.watchers(2).unwrap(), [1]);
        for n in 0..5 {
            db.enqueue(2, &text(n)).unwrap();
        }
        let batch = db.take_batch(2, 3).unwrap();
        assert_eq!(batch, [text(0), text(1), text(2)]);
        assert_eq!(
            db.queue_totals().unwrap(),
            [(
                2,
                QueueTotals {
                    count: 2,
                    bytes: 4,
                    in_flight: 3
                }
            )]
        );
        db.requeue_in_flight().unwrap();
        assert_eq!(
            db.take_batch(2, 32).unwrap().len(),
            5,
            "in flight goes back in front"
        );
        db.confirm(2).unwrap();
        assert!(db.take_batch(2, 32).unwrap().is_empty());
    }

    #[test]
    fn a_rollback_forgets_the_transaction() {
        let mut db = Sqlite::in_memory().unwrap();
        db.insert_accounts(&[(row(1), vec![])]).unwrap();
        db.commit().unwrap();
        assert!(!db.dirty());
        db.enqueue(1, &text(0)).unwrap();
        assert!(db.dirty());
        db.rollback();
        assert!(db.take_batch(1, 32).unwrap().is_empty());
        assert!(db.account(1).unwrap().is_some());
    }

    #[test]
    fn newer_status_notices_replace_older_ones() {
        let mut db = Sqlite::in_memory().unwrap();
        let notice = |status: &str| Queued {
            kind: 99,
            from: 7,
            text: status.into(),
        };
        db.enqueue(1, &notice("10")).unwrap();
        db.enqueue(1, &text(0)).unwrap();
        db.enqueue(1, &notice("20")).unwrap();
        assert_eq!(db.drop_status_notices(1, 7).unwrap(), (2, 4));
        db.enqueue(1, &notice("30")).unwrap();
        assert_eq!(db.take_batch(1, 32).unwrap(), [text(0), notice("30")]);
    }
}

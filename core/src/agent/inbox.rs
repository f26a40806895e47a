//! The durable inbox (cargo feature `inbox`): messages an agent fetched,
//! kept in a local SQLite file from before they are handed out until the
//! caller is done with them, so that a break, a Ctrl-C, an exception or a
//! SIGKILL of the bot loses none of them. The next agent for the same UIN
//! on the same file hands the leftovers out first, oldest first.
//!
//! Delivery is at least once: a message is stored (committed, `fsync`ed)
//! before it is handed out and forgotten when the caller is done with it
//! (it takes the next event, or acknowledges), so the one a bot was
//! handling when it stopped or died is handed out again by the next agent.
//!
//! A file serves one process at a time (a lock on `FILE.lock` beside it);
//! agents of one process share it, one per UIN at a time.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use rusqlite::{params, Connection};

use crate::error::Error;
use crate::model::{Message, Uin};

/// A message's place in the inbox.
pub(crate) type Id = i64;

/// One inbox file, open.
pub(crate) struct InboxFile {
    connection: Mutex<Connection>,
    path: PathBuf,
    /// The UINs an agent of this process holds the inbox for.
    claimed: Mutex<HashSet<u64>>,
    /// Signalled when a UIN is let go.
    released: std::sync::Condvar,
    /// Held while the file is open: one process at a time.
    lock: File,
}

impl Drop for InboxFile {
    /// Forgets the file in this process and lets go of its lock, together
    /// (under the table's lock): an agent opening it now opens it anew.
    fn drop(&mut self) {
        let mut files = open_files();
        if files.get(&self.path).is_some_and(|f| f.strong_count() == 0) {
            files.remove(&self.path);
            // Nothing left behind once no inbox is open (a leak checker
            // run at exit finds none).
            files.shrink_to_fit();
        }
        let _ = self.lock.unlock();
    }
}

/// The inbox of one agent: its UIN's part of a file.
pub(crate) struct Inbox {
    file: Arc<InboxFile>,
    uin: Uin,
}

/// How long a new agent waits for one that is stopping to let go of its
/// UIN's inbox.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The schema's version, in `PRAGMA user_version`.
const VERSION: i64 = 1;

impl InboxFile {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens (or creates, mode `0600`) the inbox file at `path`.
    fn open(path: &Path) -> Result<InboxFile, String> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options
            .open(&lock_path)
            .map_err(|e| format!("cannot open its lock file: {e}"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err("is in use by another process (one process per inbox file)".into())
            }
            Err(TryLockError::Error(e)) => return Err(format!("cannot lock it: {e}")),
        }
        if !path.exists() {
            // Created private: it holds everyone's messages to this bot.
            options
                .open(path)
                .map_err(|e| format!("cannot create it: {e}"))?;
        }
        let connection = Connection::open(path).map_err(|e| e.to_string())?;
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if version > VERSION {
            return Err(format!(
                "was made by a newer httpqq (schema {version}; this one knows {VERSION})"
            ));
        }
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| e.to_string())?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS message (
                    id INTEGER PRIMARY KEY,
                    uin INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    sender INTEGER NOT NULL,
                    content TEXT NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS message_uin ON message (uin, id);
                 PRAGMA user_version = 1;",
            )
            .map_err(|e| e.to_string())?;
        Ok(InboxFile {
            connection: Mutex::new(connection),
            path: path.to_owned(),
            claimed: Mutex::new(HashSet::new()),
            released: std::sync::Condvar::new(),
            lock,
        })
    }
}

/// The inbox files this process has open, by path: agents on one file
/// share it.
fn open_files() -> MutexGuard<'static, HashMap<PathBuf, Weak<InboxFile>>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, Weak<InboxFile>>>> = OnceLock::new();
    FILES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inbox {
    /// The inbox of `uin` in the file at `path` (created if there is none).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the file cannot be used (not an
    /// inbox, locked by another process) or another agent of this process
    /// holds this UIN's inbox in it.
    pub(crate) fn open(path: &Path, uin: Uin) -> Result<Inbox, Error> {
        let failed =
            |why: String| Error::InvalidConfig(format!("the inbox {} {why}", path.display()));
        let key = std::fs::canonicalize(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .map(|dir| dir.join(path.file_name().unwrap_or_default()))
        .map_err(|e| failed(format!("is in a folder that cannot be used: {e}")))?;
        let file = {
            let mut files = open_files();
            match files.get(&key).and_then(Weak::upgrade) {
                Some(file) => file,
                None => {
                    let file = Arc::new(InboxFile::open(&key).map_err(failed)?);
                    files.insert(key, Arc::downgrade(&file));
                    file
                }
            }
        };
        // An agent stopped a moment ago lets go when it has finished
        // (within its stop timeout).
        let deadline = std::time::Instant::now() + CLAIM_WAIT;
        let mut claimed = file.claimed.lock().unwrap_or_else(|p| p.into_inner());
        while !claimed.insert(uin.get()) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(failed(format!(
                    "is held for {uin} by another agent of this process"
                )));
            }
            claimed = file
                .released
                .wait_timeout(claimed, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(claimed);
        Ok(Inbox { file, uin })
    }

    /// The messages left from earlier agents, oldest first.
    pub(crate) fn leftovers(&self) -> Result<Vec<(Id, Message)>, String> {
        let connection = self.file.lock();
        let mut statement = connection
            .prepare_cached(
                "SELECT id, kind, sender, content FROM message WHERE uin = ?1 ORDER BY id",
            )
            .map_err(|e| e.to_string())?;
        let rows = statement
            .query_map(params![self.uin.get() as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Message::from_wire(
                        r.get::<_, i64>(1)? as u32,
                        Uin::new(r.get::<_, i64>(2)? as u64),
                        r.get(3)?,
                    ),
                ))
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    /// Stores messages just fetched, all or none, durably (the commit is
    /// `fsync`ed); their ids, in order.
    pub(crate) fn store(&self, messages: &[Message]) -> Result<Vec<Id>, String> {
        let mut connection = self.file.lock();
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| e.to_string())?;
        let transaction = connection.transaction().map_err(|e| e.to_string())?;
        let mut ids = Vec::with_capacity(messages.len());
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO message (uin, kind, sender, content) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| e.to_string())?;
            for message in messages {
                insert
                    .execute(params![
                        self.uin.get() as i64,
                        i64::from(message.kind().code()),
                        message.sender().get() as i64,
                        message.content().as_ref(),
                    ])
                    .map_err(|e| e.to_string())?;
                ids.push(transaction.last_insert_rowid());
            }
        }
        transaction.commit().map_err(|e| e.to_string())?;
        Ok(ids)
    }

    /// Forgets messages the caller is done with. (Without an `fsync`: a
    /// forgetting lost to a power cut only hands a message out again.)
    pub(crate) fn done(&self, ids: &[Id]) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut connection = self.file.lock();
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| e.to_string())?;
        let transaction = connection.transaction().map_err(|e| e.to_string())?;
        {
            let mut delete = transaction
                .prepare_cached("DELETE FROM message WHERE id = ?1 AND uin = ?2")
                .map_err(|e| e.to_string())?;
            for id in ids {
                delete
                    .execute(params![id, self.uin.get() as i64])
                    .map_err(|e| e.to_string())?;
            }
        }
        transaction.commit().map_err(|e| e.to_string())
    }

    /// The file, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.file.path
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.file
            .claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.uin.get());
        self.file.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("httpqq-inbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn text(n: u32) -> Message {
        Message::Text {
            from: Uin::new(10002),
            text: format!("m{n}, 好"),
        }
    }

    #[test]
    fn what_is_stored_and_not_done_is_left_for_the_next_agent_in_order() {
        let dir = scratch("left");
        let path = dir.join("bot.inbox");
        {
            let inbox = Inbox::open(&path, Uin::new(10001)).unwrap();
            assert!(inbox.leftovers().unwrap().is_empty());
            let ids = inbox.store(&[text(1), text(2), text(3)]).unwrap();
            let status = Message::StatusChange {
                from: Uin::new(10003),
                status: crate::Status::Busy,
            };
            inbox.store(std::slice::from_ref(&status)).unwrap();
            inbox.done(&ids[..1]).unwrap();
            // Another UIN's part of the same file is its own.
            let other = Inbox::open(&path, Uin::new(10005)).unwrap();
            assert!(other.leftovers().unwrap().is_empty());
            // One agent per UIN and file in a process.
            assert!(matches!(
                Inbox::open(&path, Uin::new(10001)),
                Err(Error::InvalidConfig(_))
            ));
        }
        let again = Inbox::open(&path, Uin::new(10001)).unwrap();
        let left: Vec<Message> = again
            .leftovers()
            .unwrap()
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        assert_eq!(left[..2], [text(2), text(3)]);
        assert_eq!(left[2].kind(), crate::MessageKind::StatusChange);
        assert_eq!(left.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_is_no_inbox_is_refused() {
        let dir = scratch("foreign");
        let path = dir.join("not.inbox");
        std::fs::write(
            &path,
            b"certainly not SQLite, and long enough to be read as a header",
        )
        .unwrap();
        assert!(matches!(
            Inbox::open(&path, Uin::new(10001)),
            Err(Error::InvalidConfig(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

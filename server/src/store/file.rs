//! The database file itself: served by one server at a time (a lock held
//! for the server's life), and watched while it runs, so that a database
//! deleted or replaced under a running server stops it acknowledging
//! instead of acknowledging into a file nobody will ever read again.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock of a database: an exclusive lock on `DB.lock` beside it, held
/// until dropped (the operating system drops it with the process, however
/// it ends). The file names the holder, for the server that is refused.
/// `httpqq-server accounts` does not take it: administration works beside
/// a running server.
#[derive(Debug)]
pub(crate) struct Lock {
    file: File,
    path: PathBuf,
}

/// `DB.lock` for the database `DB`.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Lock {
    /// Takes the lock of `database`, or says who holds it.
    pub(crate) fn acquire(database: &Path) -> Result<Lock, String> {
        let path = lock_path(database);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| format!("cannot open its lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(format!(
                    "is in use by another server ({}; its lock is {}): stop it first, or give this one another database",
                    if holder.is_empty() { "which did not say who it is" } else { holder },
                    path.display()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
        let lock = Lock { file, path };
        lock.describe("starting");
        Ok(lock)
    }

    /// Writes who holds the lock: this process, and what it is doing.
    pub(crate) fn describe(&self, doing: &str) {
        let text = format!("httpqq-server pid {}, {doing}\n", std::process::id());
        let mut file = &self.file;
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()));
        if let Err(err) = written {
            log::warn!(target: "httpqq::server", "cannot write {}: {err}", self.path.display());
        }
    }
}

/// What identifies a file on its file system. On Windows, nothing (std
/// has no stable file index there): only a deletion is noticed, and
/// Windows refuses to delete or replace the database and its log while
/// the server has them open, which is the protection Unix lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    #[cfg(unix)]
    device: u64,
    #[cfg(unix)]
    inode: u64,
}

fn identity(path: &Path) -> std::io::Result<Identity> {
    let meta = fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(Identity {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(Identity {})
    }
}

/// The database and its write-ahead log as they were when opened.
#[derive(Debug)]
pub(crate) struct Watch {
    files: Vec<(PathBuf, Identity)>,
}

impl Watch {
    /// Remembers `database` and its `-wal` as they are now (the server has
    /// them open).
    pub(crate) fn new(database: &Path) -> Result<Watch, String> {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let mut files = Vec::new();
        for path in [database.to_path_buf(), PathBuf::from(wal)] {
            let id =
                identity(&path).map_err(|e| format!("cannot look at {}: {e}", path.display()))?;
            files.push((path, id));
        }
        Ok(Watch { files })
    }

    /// Why the files are no longer the ones the server writes to, if they
    /// are not: deleted, or replaced by others.
    pub(crate) fn lost(&self) -> Option<String> {
        self.files
            .iter()
            .find_map(|(path, was)| match identity(path) {
                Ok(now) if now == *was => None,
                Ok(_) => Some(format!(
                    "{} was replaced by another file while the server ran",
                    path.display()
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(format!(
                    "{} was deleted while the server ran",
                    path.display()
                )),
                Err(e) => Some(format!("{} cannot be looked at: {e}", path.display())),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("httpqq-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn one_holder_at_a_time_and_the_second_is_told_who() {
        let dir = scratch("lock");
        let db = dir.join("qq.db");
        let first = Lock::acquire(&db).unwrap();
        first.describe("listening on 127.0.0.1:8000");
        let refused = Lock::acquire(&db).unwrap_err();
        assert!(refused.contains("in use by another server"), "{refused}");
        assert!(
            refused.contains(&format!("pid {}", std::process::id())),
            "{refused}"
        );
        assert!(refused.contains("listening on 127.0.0.1:8000"), "{refused}");
        drop(first);
        Lock::acquire(&db).unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    // Unix: Windows refuses to delete or replace a file in use, and std
    // gives no file identity there (see `identity`).
    #[test]
    #[cfg(unix)]
    fn a_deleted_or_replaced_file_is_noticed() {
        let dir = scratch("watch");
        let db = dir.join("qq.db");
        fs::write(&db, b"x").unwrap();
        fs::write(dir.join("qq.db-wal"), b"y").unwrap();
        let watch = Watch::new(&db).unwrap();
        assert_eq!(watch.lost(), None);
        let other = dir.join("other");
        fs::write(&other, b"x").unwrap();
        fs::rename(&other, &db).unwrap();
        assert!(watch.lost().unwrap().contains("replaced"));
        fs::remove_file(&db).unwrap();
        assert!(watch.lost().unwrap().contains("deleted"));
        let _ = fs::remove_dir_all(&dir);
    }
}

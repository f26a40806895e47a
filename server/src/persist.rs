//! The state file: snapshots written atomically (write, fsync, rename), so
//! that a reply is sent only once its change is on disk.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::world::Snapshot;

/// Writes snapshots to one path, newest generation wins.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    /// The generation last written.
    written: Mutex<u64>,
}

impl StateFile {
    pub(crate) fn new(path: PathBuf) -> StateFile {
        StateFile {
            path,
            written: Mutex::new(0),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the snapshot, or `None` when there is no file yet.
    pub(crate) fn load(&self) -> io::Result<Option<Snapshot>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `text` as generation `generation`, unless a newer one is
    /// already on disk (it holds this one's changes too).
    pub(crate) fn save(&self, generation: u64, text: &str) -> io::Result<()> {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *written >= generation && generation != 0 {
            return Ok(());
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not every filesystem allows it.
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        *written = generation;
        Ok(())
    }
}

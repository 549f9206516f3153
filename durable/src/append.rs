//! A log that grows by whole lines, each synced before the append returns.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use crate::fault::{self, Step};

/// An append-only file held by one writer at a time.
#[derive(Debug)]
pub struct AppendFile {
    path: PathBuf,
    file: File,
}

impl AppendFile {
    /// Opens `path` for appending (made, mode 0600, if absent, and its
    /// name synced), locked against every other writer: two would fork a
    /// hash chain.
    ///
    /// # Errors
    ///
    /// It cannot be opened or made, or another process holds it
    /// (`WouldBlock`).
    pub fn open(path: &Path) -> io::Result<Self> {
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        file.try_lock().map_err(|err| match err {
            std::fs::TryLockError::WouldBlock => io::Error::new(
                io::ErrorKind::WouldBlock,
                "the file is open for writing in another process",
            ),
            std::fs::TryLockError::Error(err) => err,
        })?;
        if !existed {
            // The new file's name is durable only once its directory is.
            crate::sync_directory(crate::directory_of(path))?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// Appends `bytes` (a whole line, in one write) and syncs them.
    ///
    /// # Errors
    ///
    /// The write or the sync failed: the file may then end in a part of
    /// `bytes`, and the caller must not append again through this handle.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        fault::step(Step::Append, &self.path)?;
        let length = self.file.metadata()?.len();
        self.file.write_all(bytes)?;
        fault::unsynced(&self.path, length);
        fault::step(Step::SyncAppend, &self.path)?;
        self.file.sync_data()?;
        fault::synced(&self.path);
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

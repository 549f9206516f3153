//! Where a simulated card keeps its state: a file, replaced atomically.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use durable::{LockError, LockFile, Replace};

/// The largest card file read: a card holds a few hundred bytes.
pub const MAX_CARD_FILE: u64 = 64 * 1024;

/// The card's non-volatile memory. A write replaces the whole state, and a
/// crash during it leaves the old state or the new, never a mix.
pub trait Storage {
    /// The stored bytes, or `None` if nothing was ever stored.
    ///
    /// # Errors
    ///
    /// The storage cannot be read, or holds more than [`MAX_CARD_FILE`].
    fn load(&self) -> io::Result<Option<Vec<u8>>>;

    /// Replaces the stored bytes.
    ///
    /// # Errors
    ///
    /// The bytes could not be made durable. The card then treats the
    /// operation as failed (status 6581) and checks nothing.
    fn store(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// A card file on disk, replaced through [`durable::write`]: a fresh
/// temporary file beside it (random name, created new, mode 0600), synced,
/// renamed over it, and the directory synced.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    /// The lock on `<card>.lock` while the card is in the reader; the lock
    /// file goes when the card leaves it.
    _lock: Option<LockFile>,
}

impl FileStorage {
    /// The card file at `path` (which need not exist yet), without a lock:
    /// for tests and tools that own the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            _lock: None,
        }
    }

    /// The existing card file at `path`, locked against every other
    /// process until dropped, as a card sits in one reader at a time: two
    /// processes counting down one copy of the counter would each get
    /// three tries. The lock file `<card>.lock` is removed when the lock is
    /// released; none is made for a path that holds no card.
    ///
    /// # Errors
    ///
    /// No file at `path` (`NotFound`), another process holds the card
    /// (`WouldBlock`, naming it), or the lock file cannot be made.
    pub fn locked(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        if !path.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no card has been issued here (no file at {})",
                    path.display()
                ),
            ));
        }
        let mut name = path
            .file_name()
            .map(|name| name.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        let holder = format!("process {}", std::process::id());
        let lock =
            LockFile::acquire(path.with_file_name(name), &holder).map_err(|err| match err {
                LockError::Busy { holder, .. } => io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("the card is in use by another process ({holder})"),
                ),
                LockError::Io { source, .. } => source,
            })?;
        Ok(Self {
            path,
            _lock: Some(lock),
        })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Storage for FileStorage {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        // At most one byte more than the limit is read, so a huge file
        // costs nothing.
        let mut bytes = Vec::new();
        file.take(MAX_CARD_FILE + 1).read_to_end(&mut bytes)?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_CARD_FILE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than {MAX_CARD_FILE} bytes: not a card file"),
            ));
        }
        Ok(Some(bytes))
    }

    fn store(&mut self, bytes: &[u8]) -> io::Result<()> {
        Ok(durable::write(&self.path, bytes, Replace::Allowed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_replaces_the_file_and_leaves_no_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut storage = FileStorage::new(dir.path().join("CO-1.card"));
        assert_eq!(storage.load()?, None);
        storage.store(b"first")?;
        storage.store(b"second")?;
        assert_eq!(storage.load()?.as_deref(), Some(&b"second"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["CO-1.card"]);
        std::fs::write(storage.path(), vec![b' '; 70_000])?;
        assert!(storage.load().is_err());
        // One reader at a time.
        let held = FileStorage::locked(storage.path())?;
        let second = FileStorage::locked(storage.path()).unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
        drop(held);
        assert!(FileStorage::locked(storage.path()).is_ok());
        // No lock file is left, and none is made for a mistyped name.
        let absent = FileStorage::locked(dir.path().join("CO-9.card")).unwrap_err();
        assert_eq!(absent.kind(), io::ErrorKind::NotFound);
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["CO-1.card"]);
        Ok(())
    }
}

//! Where a simulated card keeps its state: a file, replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

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

/// A card file on disk: written to a temporary file beside it, synced,
/// renamed over it, and the directory synced.
#[derive(Clone, Debug)]
pub struct FileStorage {
    path: PathBuf,
}

impl FileStorage {
    /// The card file at `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file a write goes through.
    fn temporary(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|name| name.to_os_string())
            .unwrap_or_default();
        name.push(".tmp");
        self.path.with_file_name(name)
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
        let temporary = self.temporary();
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Only the owner reads a card file.
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, &self.path)?;
        // The rename itself is durable only once the directory is synced.
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(directory)?.sync_all()
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
        let names: Vec<_> = fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["CO-1.card"]);
        fs::write(storage.path(), vec![b' '; 70_000])?;
        assert!(storage.load().is_err());
        Ok(())
    }
}

//! Lock files that say who holds them and are removed when released.
//!
//! A lock is an exclusive `flock` on a file of its own. Removing the file
//! on release opens a race that is closed on acquisition: a process that
//! locked a file which was unlinked meanwhile (it opened it before the
//! holder removed it) finds that the path no longer names its file, lets
//! go and tries again.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// How often acquisition retries after losing the race with a release.
const RETRIES: usize = 16;

/// The lock files this process holds, for [`remove_held`].
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    HELD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the files of every lock this process holds: for a process
/// about to end without unwinding (a signal handler's exit), which would
/// otherwise leave them behind. The locks themselves end with the
/// process.
pub fn remove_held() {
    for path in held().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

//------------ LockError -----------------------------------------------------

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; `holder` is what that process wrote into
    /// the lock file (empty if it had not written yet).
    Busy {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, in its own words.
        holder: String,
    },
    /// The lock file cannot be made or locked.
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy { holder, .. } if !holder.is_empty() => {
                write!(f, "in use by another process: {holder}")
            }
            Self::Busy { path, .. } => {
                write!(f, "in use by another process ({})", path.display())
            }
            Self::Io { path, source } => write!(f, "cannot lock {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Busy { .. } => None,
        }
    }
}

//------------ LockFile ------------------------------------------------------

/// An exclusive lock, held until dropped; the lock file is then removed.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    file: File,
}

impl LockFile {
    /// Takes the lock at `path` without waiting and writes `holder` into
    /// the file, for whoever finds it taken.
    ///
    /// # Errors
    ///
    /// [`LockError::Busy`] naming the holder, or the file cannot be made.
    pub fn acquire(path: impl Into<PathBuf>, holder: &str) -> Result<Self, LockError> {
        let path = path.into();
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        for _ in 0..RETRIES {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.take(4096).read_to_string(&mut text);
                    return Err(LockError::Busy {
                        path,
                        holder: text.trim().to_owned(),
                    });
                }
                Err(std::fs::TryLockError::Error(err)) => return Err(io(err)),
            }
            let ours = file.metadata().map_err(io)?;
            match std::fs::metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (ours.dev(), ours.ino()) => {
                    file.set_len(0).map_err(io)?;
                    file.rewind().map_err(io)?;
                    file.write_all(holder.as_bytes()).map_err(io)?;
                    held().push(path.clone());
                    return Ok(Self { path, file });
                }
                // Released and removed between our open and our lock.
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io(err)),
            }
        }
        Err(io(io::Error::other("the lock kept changing hands")))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes the lock files a killed process left in a directory (not in
/// its subdirectories) and returns their paths: each `*.lock` file is
/// taken as a lock and released, which removes it; one that a live
/// process holds is left alone. A missing directory has none.
///
/// # Errors
///
/// The directory cannot be read.
pub fn sweep_locks(directory: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(entries) = crate::entries(directory)? else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let is_lock = path
            .extension()
            .is_some_and(|extension| extension == "lock");
        if is_lock
            && entry.file_type()?.is_file()
            && let Ok(lock) = LockFile::acquire(&path, "removing a stale lock")
        {
            drop(lock);
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with the descriptor.
        held().retain(|path| path != &self.path);
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a panic in a test is a failing test")]

    use super::*;

    #[test]
    fn a_lock_names_its_holder_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CO-1.card.lock");
        let held = LockFile::acquire(&path, "pid 7: ceremony sign").unwrap();
        match LockFile::acquire(&path, "pid 8") {
            Err(LockError::Busy { holder, .. }) => assert_eq!(holder, "pid 7: ceremony sign"),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(!path.exists());
        let again = LockFile::acquire(&path, "pid 8").unwrap();
        assert_eq!(std::fs::read_to_string(again.path()).unwrap(), "pid 8");
        drop(again);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_stale_lock_is_swept_and_a_held_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let held = LockFile::acquire(dir.path().join("CO-1.card.lock"), "pid 7").unwrap();
        std::fs::write(dir.path().join("CO-2.card.lock"), "pid 8 (killed)").unwrap();
        std::fs::write(dir.path().join("CO-2.card"), "card").unwrap();
        let removed = sweep_locks(dir.path()).unwrap();
        assert_eq!(removed, [dir.path().join("CO-2.card.lock")]);
        assert!(held.path().exists());
        assert!(dir.path().join("CO-2.card").exists());
        assert!(sweep_locks(&dir.path().join("absent")).unwrap().is_empty());
    }

    #[test]
    fn racing_lockers_never_both_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        if let Ok(lock) = LockFile::acquire(&path, "t") {
                            let before = held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            assert_eq!(before, 0, "two holders at once");
                            held.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                });
            }
        });
        assert!(!path.exists());
    }
}

//! Crash-safe files for every crate of the workspace: one way to replace a
//! file, one name for its temporary, one way to clean up after a crash, and
//! lock files that leave nothing behind.
//!
//! * [`write`]: the bytes go to a fresh temporary file beside the target
//!   (created new, mode 0600), are synced, renamed over the target (or next
//!   to it, refusing an existing file), and the directory is synced. A
//!   crash leaves the old file or the new one, never a mix, and at worst a
//!   temporary that [`sweep`] recognizes by its name.
//! * [`write_checked`]: the same, with the temporary read back from disk
//!   and judged before the rename (an SKR must read back as it was
//!   signed).
//! * [`write_directory`]: a whole folder of files made the same way: in a
//!   temporary folder beside the target, each file synced, the folder
//!   synced, renamed into place, the parent synced (a transfer set on
//!   removable media).
//! * [`AppendFile`]: a log that grows by whole lines, each synced before
//!   the append returns (the audit log).
//! * [`fault`]: in test builds only, a crash or an error at the N-th
//!   durable step of a process, for the crash harness.
//! * [`LockFile`]: an exclusive lock on `NAME.lock` that says who holds it
//!   and is removed when released.
//!
//! Errors name the target path, never the temporary's random name.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("state.json");
//! durable::write(&path, b"{}", durable::Replace::Never)?;
//! assert!(durable::write(&path, b"[]", durable::Replace::Never).is_err());
//! durable::write(&path, b"[]", durable::Replace::Allowed)?;
//! assert_eq!(std::fs::read(&path)?, b"[]");
//! assert!(durable::sweep(dir.path())?.is_empty());
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod append;
pub mod fault;
mod lock;

pub use append::AppendFile;
pub use lock::{LockError, LockFile, remove_held as remove_held_locks, sweep_locks};

use fault::Step;

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// How every temporary file's name ends, so that the next start can tell
/// a crashed run's leftovers from anything else in a directory.
const TEMPORARY_SUFFIX: &str = ".ceremony-tmp";

//------------ Replace -------------------------------------------------------

/// Whether a write may replace an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// An existing file is an error and is left as it is (documents,
    /// PUK files: written once).
    Never,
    /// The file is replaced (state files: cards, key store, policy).
    Allowed,
}

//------------ WriteError ----------------------------------------------------

/// Why a file was not written. Nothing was then left at the target.
#[derive(Debug)]
pub enum WriteError {
    /// The target exists and [`Replace::Never`] was asked for.
    Exists(PathBuf),
    /// The directory is missing, not writable, or a write or sync failed.
    Io {
        /// The target.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The bytes read back from disk were not the bytes written, or were
    /// not accepted.
    ReadBack(PathBuf),
}

impl WriteError {
    /// The target path.
    pub fn path(&self) -> &Path {
        match self {
            Self::Exists(path) | Self::Io { path, .. } | Self::ReadBack(path) => path,
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exists(path) => write!(f, "{} exists; it is not overwritten", path.display()),
            Self::Io { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            Self::ReadBack(path) => write!(
                f,
                "{}: what was read back from disk is not what was written; nothing was kept",
                path.display()
            ),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Exists(_) | Self::ReadBack(_) => None,
        }
    }
}

impl From<WriteError> for io::Error {
    fn from(err: WriteError) -> Self {
        let kind = match &err {
            WriteError::Exists(_) => io::ErrorKind::AlreadyExists,
            WriteError::Io { source, .. } => source.kind(),
            WriteError::ReadBack(_) => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err.to_string())
    }
}

//------------ write ---------------------------------------------------------

/// Writes a file atomically (see the crate documentation).
///
/// # Errors
///
/// See [`WriteError`]; on any error the target is as it was.
pub fn write(path: &Path, bytes: &[u8], replace: Replace) -> Result<(), WriteError> {
    write_checked(path, bytes, replace, |_| true)
}

/// Writes a file atomically, and renames it into place only if the bytes
/// read back from the synced temporary are the bytes written and `accept`
/// takes them.
///
/// # Errors
///
/// See [`WriteError`]; on any error the target is as it was.
pub fn write_checked(
    path: &Path,
    bytes: &[u8],
    replace: Replace,
    accept: impl FnOnce(&[u8]) -> bool,
) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_owned(),
        source,
    };
    if replace == Replace::Never && path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists(path.to_owned()));
    }
    let directory = directory_of(path);
    let prefix = temporary_prefix(path);
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMPORARY_SUFFIX)
        .rand_bytes(8)
        .tempfile_in(directory)
        .map_err(|err| io(without_temporary_name(err, directory)))?;
    let temporary_path = temporary.path().to_owned();
    write_synced(temporary.as_file_mut(), &temporary_path, bytes).map_err(io)?;
    let reread = std::fs::read(temporary.path()).map_err(io)?;
    if reread != bytes || !accept(&reread) {
        return Err(WriteError::ReadBack(path.to_owned()));
    }
    fault::step(Step::Rename, path).map_err(io)?;
    match replace {
        Replace::Never => temporary.persist_noclobber(path).map_err(|err| {
            if err.error.kind() == io::ErrorKind::AlreadyExists {
                WriteError::Exists(path.to_owned())
            } else {
                io(err.error)
            }
        })?,
        Replace::Allowed => temporary.persist(path).map_err(|err| io(err.error))?,
    };
    fault::renamed(&temporary_path, path);
    sync_directory(directory).map_err(io)
}

/// Makes a folder of files atomically: the files are written into a
/// fresh temporary folder beside `target` (named so that [`sweep`] and
/// [`sweep_for`] recognize it), each synced and read back, the folder
/// synced, renamed to `target` (never over an existing one), and the
/// parent synced. A crash leaves no folder at `target` or the whole one.
///
/// # Errors
///
/// `target` exists, a name is not a plain file name, or a write, sync or
/// read-back failed; nothing is then left at `target`.
pub fn write_directory(target: &Path, files: &[(&str, &[u8])]) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: target.to_owned(),
        source,
    };
    if target.symlink_metadata().is_ok() {
        return Err(WriteError::Exists(target.to_owned()));
    }
    let parent = directory_of(target);
    // A folder an earlier, crashed run left for this target.
    sweep_for(target).map_err(io)?;
    let prefix = temporary_prefix(target);
    let staging = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMPORARY_SUFFIX)
        .rand_bytes(8)
        .tempdir_in(parent)
        .map_err(|err| io(without_temporary_name(err, parent)))?;
    for (file_name, bytes) in files {
        let plain = Path::new(file_name).file_name() == Some(OsStr::new(file_name));
        if !plain {
            return Err(io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{file_name:?} is not a file name"),
            )));
        }
        let path = staging.path().join(file_name);
        let file_error = |source| WriteError::Io {
            path: target.join(file_name),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(file_error)?;
        write_synced(&mut file, &path, bytes).map_err(file_error)?;
        if std::fs::read(&path).map_err(file_error)? != *bytes {
            return Err(WriteError::ReadBack(target.join(file_name)));
        }
    }
    sync_directory(staging.path()).map_err(io)?;
    fault::step(Step::Rename, target).map_err(io)?;
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        staging.path(),
        rustix::fs::CWD,
        target,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(|errno| {
        if errno == rustix::io::Errno::EXIST {
            WriteError::Exists(target.to_owned())
        } else {
            io(io::Error::from(errno))
        }
    })?;
    let staging = staging.keep();
    fault::renamed(&staging, target);
    sync_directory(parent).map_err(io)
}

/// How a temporary for `target` is named before its random part:
/// `.NAME.`, which [`sweep_for`] recognizes.
fn temporary_prefix(target: &Path) -> std::ffi::OsString {
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(target.file_name().unwrap_or_else(|| OsStr::new("file")));
    prefix.push(".");
    prefix
}

/// Writes a new file's bytes and syncs them: the two durable steps of
/// every file made here, and where the fault hook learns what is not yet
/// synced (and where the broken-write switch skips the sync).
fn write_synced(file: &mut File, path: &Path, bytes: &[u8]) -> io::Result<()> {
    fault::step(Step::Write, path)?;
    file.write_all(bytes)?;
    fault::unsynced(path, 0);
    if !fault::skip_fsync() {
        fault::step(Step::SyncFile, path)?;
        file.sync_all()?;
        fault::synced(path);
    }
    Ok(())
}

/// Removes a file durably: the file, then its directory synced.
///
/// # Errors
///
/// The file cannot be removed (a missing one is no error), or the
/// directory cannot be synced.
pub fn remove(path: &Path) -> io::Result<()> {
    fault::step(Step::Remove, path)?;
    match std::fs::remove_file(path) {
        Ok(()) => sync_directory(directory_of(path)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// Syncs a directory, so that a rename or a new name in it is durable.
///
/// # Errors
///
/// The directory cannot be opened or synced.
pub fn sync_directory(directory: &Path) -> io::Result<()> {
    fault::step(Step::SyncDirectory, directory)?;
    File::open(directory)?.sync_all()
}

/// The directory a path is in (`.` for a bare name).
pub fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// tempfile names the temporary in its errors; ours name the directory.
fn without_temporary_name(err: io::Error, directory: &Path) -> io::Error {
    match err.kind() {
        io::ErrorKind::NotFound => io::Error::new(
            io::ErrorKind::NotFound,
            format!("the directory {} does not exist", directory.display()),
        ),
        io::ErrorKind::PermissionDenied => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("the directory {} is not writable", directory.display()),
        ),
        kind => io::Error::new(kind, format!("in {}: {kind}", directory.display())),
    }
}

//------------ Writable check ------------------------------------------------

/// Checks, before any work is done, that [`write`] with
/// [`Replace::Never`] could make `path`: it does not exist, and a
/// temporary can be made (and is removed again) in its directory.
///
/// # Errors
///
/// The target exists, or its directory is missing or not writable.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    if path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists(path.to_owned()));
    }
    let directory = directory_of(path);
    let probe = tempfile::Builder::new()
        .prefix(".probe.")
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(directory)
        .map_err(|err| WriteError::Io {
            path: path.to_owned(),
            source: without_temporary_name(err, directory),
        })?;
    probe.close().map_err(|source| WriteError::Io {
        path: path.to_owned(),
        source,
    })
}

//------------ Stale temporaries ---------------------------------------------

/// Whether a file name is one of our temporaries.
pub fn is_temporary(name: &OsStr) -> bool {
    name.to_str()
        .is_some_and(|name| name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX))
}

/// Removes the temporaries a crashed run left in a directory (not in its
/// subdirectories) and returns their paths. Call it only while holding
/// the lock that every writer of the directory holds. A missing directory
/// has none.
///
/// # Errors
///
/// The directory cannot be read, or a temporary cannot be removed.
pub fn sweep(directory: &Path) -> io::Result<Vec<PathBuf>> {
    remove_temporaries(directory, |_| true)
}

/// Removes the temporaries a crashed run left for one target file (those
/// named after it, beside it) and returns their paths: for files outside
/// a directory the caller holds the lock of, such as an SKR's output.
///
/// # Errors
///
/// The directory cannot be read, or a temporary cannot be removed.
pub fn sweep_for(target: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(name) = target.file_name().and_then(OsStr::to_str) else {
        return Ok(Vec::new());
    };
    let prefix = format!(".{name}.");
    remove_temporaries(directory_of(target), |file_name| {
        file_name.starts_with(&prefix)
            && file_name.len() == prefix.len() + 8 + TEMPORARY_SUFFIX.len()
    })
}

/// A directory's entries; `None` for a missing directory.
fn entries(directory: &Path) -> io::Result<Option<std::fs::ReadDir>> {
    match std::fs::read_dir(directory) {
        Ok(entries) => Ok(Some(entries)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Removes the temporaries of a directory whose names `ours` takes.
fn remove_temporaries(directory: &Path, ours: impl Fn(&str) -> bool) -> io::Result<Vec<PathBuf>> {
    let Some(entries) = entries(directory)? else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !is_temporary(&name) || !name.to_str().is_some_and(&ours) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_file() {
            fault::step(Step::Remove, &entry.path())?;
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        } else if kind.is_dir() {
            // A folder that [`write_directory`] did not finish.
            fault::step(Step::Remove, &entry.path())?;
            std::fs::remove_dir_all(entry.path())?;
            removed.push(entry.path());
        }
    }
    if !removed.is_empty() {
        sync_directory(directory)?;
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a panic in a test is a failing test")]

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_replaces_or_refuses_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card");
        write(&path, b"one", Replace::Never).unwrap();
        let err = write(&path, b"two", Replace::Never).unwrap_err();
        assert!(matches!(err, WriteError::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write(&path, b"two", Replace::Allowed).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["card"]);
    }

    #[test]
    fn a_refused_read_back_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skr.xml");
        let err = write_checked(&path, b"signed", Replace::Never, |_| false).unwrap_err();
        assert!(matches!(err, WriteError::ReadBack(_)));
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_missing_directory_is_named_and_the_temporary_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent/skr.xml");
        for err in [
            write(&path, b"x", Replace::Never).unwrap_err(),
            check_writable(&path).unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(text.contains("absent/skr.xml"), "{text}");
            assert!(text.contains("does not exist"), "{text}");
            assert!(!text.contains(TEMPORARY_SUFFIX), "{text}");
        }
    }

    #[test]
    fn sweep_removes_only_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".card.AbCdEfGh.ceremony-tmp"), b"torn").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"keep").unwrap();
        std::fs::write(dir.path().join("x.ceremony-tmp"), b"keep").unwrap();
        std::fs::write(dir.path().join(".skr.xml.AbCdEfGh.ceremony-tmp"), b"torn").unwrap();
        std::fs::write(dir.path().join(".other.xml.AbCdEfGh.ceremony-tmp"), b"keep").unwrap();
        let removed = sweep_for(&dir.path().join("skr.xml")).unwrap();
        assert_eq!(removed, [dir.path().join(".skr.xml.AbCdEfGh.ceremony-tmp")]);
        let removed = sweep(dir.path()).unwrap();
        assert_eq!(removed.len(), 2);
        assert_eq!(names(dir.path()), [".hidden", "x.ceremony-tmp"]);
        assert!(sweep(&dir.path().join("absent")).unwrap().is_empty());
        check_writable(&dir.path().join("new")).unwrap();
        assert_eq!(names(dir.path()), [".hidden", "x.ceremony-tmp"]);
    }
}

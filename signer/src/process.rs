//! The process and the files it trusts: no core dumps, private folders,
//! and a ceremony directory nobody else may write.
//!
//! A core taken while the HSM is active would hold its private keys, and
//! a file someone else may write is a file that person decides. So the
//! binary turns core dumps off before anything else, folders are made
//! 0700 whatever the umask, and a ceremony whose directory or state files
//! are writable by group or others, or owned by another user, is refused
//! before anything in it is read.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::layout::Layout;

/// Turns core dumps off for this process: `RLIMIT_CORE` 0 (soft and hard,
/// so it cannot be raised again) and not dumpable (`PR_SET_DUMPABLE` 0,
/// which also covers a core pattern that pipes to a program, and keeps
/// other processes of the same user from reading its memory).
///
/// # Errors
///
/// The kernel refused either.
pub fn forbid_core_dumps() -> Result<(), Error> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .map_err(|err| Error::Hardening(format!("cannot turn core dumps off (RLIMIT_CORE): {err}")))?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable).map_err(|err| {
        Error::Hardening(format!(
            "cannot make the process undumpable (PR_SET_DUMPABLE): {err}"
        ))
    })
}

/// Makes a folder (and its parents) and gives it mode 0700, whatever the
/// umask.
///
/// # Errors
///
/// It cannot be made.
pub(crate) fn private_dir(dir: &Path) -> Result<(), Error> {
    let io = |source| {
        Error::Write(durable::WriteError::Io {
            path: dir.to_owned(),
            source,
        })
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Whether `path` is `dir` or inside it (both made absolute; an existing
/// path with its links resolved).
pub(crate) fn inside(path: &Path, dir: &Path) -> bool {
    let real = |path: &Path| {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_owned())
    };
    real(path).starts_with(real(dir))
}

/// Checks that this user owns the ceremony directory, its folders and its
/// state files, and that nobody else may write them.
///
/// # Errors
///
/// [`Error::Permissions`], naming the first file that fails.
pub(crate) fn check_ceremony(layout: &Layout) -> Result<(), Error> {
    let mut paths: Vec<PathBuf> = vec![layout.root().to_owned(), layout.policy(), layout.audit()];
    for folder in [layout.hsm(), layout.cards(), layout.service()] {
        if folder.exists() {
            paths.push(folder.clone());
        }
    }
    if let Ok(entries) = std::fs::read_dir(layout.hsm()) {
        let mut files: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        files.sort();
        paths.extend(files);
    }
    let me = rustix::process::geteuid().as_raw();
    for path in paths {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(Error::read(&path)(err)),
        };
        let why = if meta.file_type().is_symlink() {
            Some("is a symbolic link".to_owned())
        } else if meta.uid() != me {
            Some(format!(
                "is owned by user {}, not by this user ({me})",
                meta.uid()
            ))
        } else if meta.mode() & 0o022 != 0 {
            Some(format!(
                "is writable by group or others (mode {:o})",
                meta.mode() & 0o7777
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::Permissions { path, why });
        }
    }
    Ok(())
}

//! The fault-injection hook: every durable step of the crate passes
//! through [`step`], which in a build with the `fault-injection` feature
//! can end the process there, or fail the step, so that a test can crash
//! an operation at each of its durable steps in turn (`tests/cli/crash.rs`).
//!
//! Release builds never enable the feature; without it [`step`] is an
//! empty function and none of the switches below is in the binary (a test
//! looks for their names in the release build).
//!
//! The switches, read from the environment at each step:
//!
//! * `CEREMONY_FAULT_LOG=FILE`: each step appends a line `N KIND PATH`,
//!   so that a first run counts the steps of an operation.
//! * `CEREMONY_FAULT_AT=N`: at the N-th step (counted from 1 in this
//!   process), before it is taken, the process ends (`abort`, the
//!   default) or the step fails with an I/O error
//!   (`CEREMONY_FAULT_MODE=fail`).
//! * `CEREMONY_FAULT_SKIP_FSYNC=1`: the deliberately broken write, for
//!   the test that shows the harness catching it: a replaced file is
//!   renamed into place without its fsync.
//!
//! A crash here models a power cut, not only a killed process: before
//! the process ends, every byte this process wrote and did not sync is
//! lost (a file whose data was never synced is left empty, an append
//! that was not synced is cut off). A missing fsync is then seen as the
//! torn file it would be after a real power loss. The model does not
//! undo a rename whose directory was not synced.

use std::io;
use std::path::Path;

/// The kinds of durable step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The bytes of a new file are written (a temporary, or a file of a
    /// folder being made).
    Write,
    /// A written file is synced.
    SyncFile,
    /// A temporary (file or folder) is renamed into place.
    Rename,
    /// A directory is synced, making the names in it durable.
    SyncDirectory,
    /// A line is appended to a log.
    Append,
    /// An appended line is synced.
    SyncAppend,
    /// A file or folder is removed.
    Remove,
}

#[cfg(not(feature = "fault-injection"))]
mod hook {
    use super::{Path, Step, io};

    #[inline(always)]
    pub(crate) fn step(_kind: Step, _path: &Path) -> io::Result<()> {
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn skip_fsync() -> bool {
        false
    }

    #[inline(always)]
    pub(crate) fn unsynced(_path: &Path, _from: u64) {}

    #[inline(always)]
    pub(crate) fn synced(_path: &Path) {}

    #[inline(always)]
    pub(crate) fn renamed(_from: &Path, _to: &Path) {}
}

#[cfg(feature = "fault-injection")]
mod hook {
    use std::io::Write as _;
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{Path, Step, io};

    /// The steps taken by this process so far.
    static STEPS: AtomicU64 = AtomicU64::new(0);

    /// What this process wrote and has not synced: a file and the length
    /// it had before (0 for a new file).
    static UNSYNCED: Mutex<Vec<(PathBuf, u64)>> = Mutex::new(Vec::new());

    fn unsynced_files() -> std::sync::MutexGuard<'static, Vec<(PathBuf, u64)>> {
        UNSYNCED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn step(kind: Step, path: &Path) -> io::Result<()> {
        let number = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(log) = std::env::var_os("CEREMONY_FAULT_LOG") {
            let line = format!("{number} {kind:?} {}\n", path.display());
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .and_then(|mut file| file.write_all(line.as_bytes()))?;
        }
        let at = std::env::var("CEREMONY_FAULT_AT")
            .ok()
            .and_then(|at| at.parse::<u64>().ok());
        if at != Some(number) {
            return Ok(());
        }
        if std::env::var("CEREMONY_FAULT_MODE").is_ok_and(|mode| mode == "fail") {
            return Err(io::Error::other(format!(
                "injected fault at durable step {number} ({kind:?})"
            )));
        }
        power_cut();
        std::process::abort()
    }

    /// Loses what was not synced, as a power cut would.
    fn power_cut() {
        for (path, length) in unsynced_files().drain(..) {
            if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) {
                let _ = file.set_len(length);
                let _ = file.sync_all();
            }
        }
    }

    pub(crate) fn skip_fsync() -> bool {
        std::env::var_os("CEREMONY_FAULT_SKIP_FSYNC").is_some()
    }

    pub(crate) fn unsynced(path: &Path, from: u64) {
        let mut files = unsynced_files();
        if !files.iter().any(|(known, _)| known == path) {
            files.push((path.to_owned(), from));
        }
    }

    pub(crate) fn synced(path: &Path) {
        unsynced_files().retain(|(known, _)| known != path);
    }

    pub(crate) fn renamed(from: &Path, to: &Path) {
        let mut files = unsynced_files();
        // The target's old contents are gone with the rename.
        files.retain(|(known, _)| known != to);
        for (known, _) in files.iter_mut() {
            if let Ok(rest) = known.strip_prefix(from) {
                *known = if rest.as_os_str().is_empty() {
                    to.to_owned()
                } else {
                    to.join(rest)
                };
            }
        }
    }
}

pub(crate) use hook::{renamed, skip_fsync, step, synced, unsynced};

/// Whether this build has the hook (a test build): for the test that
/// the release binary does not.
pub const ENABLED: bool = cfg!(feature = "fault-injection");

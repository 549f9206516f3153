//! What every command may need: the output form, the policy and its
//! ceremony directory, the one evaluation instant, and the clocks. Only the
//! binary reads the clock, the environment or the terminal (DESIGN.md).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ksr::Timestamp;
use signer::{Ceremony, Clock, Now, Policy};

use crate::error::CliError;

/// The default policy file, read when it exists.
const DEFAULT_POLICY: &str = "ceremony.toml";

/// The global options, resolved on demand.
pub struct Context {
    /// Print JSON on stdout instead of text.
    pub json: bool,
    /// `--config`, if given.
    config: Option<PathBuf>,
    /// `--now`, if given.
    now: Option<String>,
    /// The system clock, read once, when `--now` is not given.
    read: OnceLock<Timestamp>,
}

impl Context {
    /// The global options as given.
    pub fn new(json: bool, config: Option<PathBuf>, now: Option<String>) -> Self {
        Self {
            json,
            config,
            now,
            read: OnceLock::new(),
        }
    }

    /// The policy file in force: `--config`, else `./ceremony.toml` when it
    /// exists.
    pub fn policy_path(&self) -> Option<PathBuf> {
        match &self.config {
            Some(path) => Some(path.clone()),
            None if Path::new(DEFAULT_POLICY).exists() => Some(PathBuf::from(DEFAULT_POLICY)),
            None => None,
        }
    }

    /// Loads the policy; outside a ceremony, the built-in root-zone one,
    /// which is said in one line on stderr.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or it is not a valid policy (`TOOL-CONFIG`).
    pub fn policy(&self) -> Result<Policy, CliError> {
        match self.policy_path() {
            Some(path) => Ok(Policy::load(&path)?),
            None => {
                if !self.json {
                    eprintln!(
                        "policy: the built-in root-zone policy (no --config and no ./ceremony.toml); no ceremony directory"
                    );
                }
                Ok(Policy::builtin())
            }
        }
    }

    /// The ceremony directory: the policy file's.
    ///
    /// # Errors
    ///
    /// No policy file is given or found.
    pub fn ceremony_dir(&self) -> Result<PathBuf, CliError> {
        self.policy_path()
            .map(|path| durable::directory_of(&path).to_path_buf())
            .ok_or(CliError::NoCeremony)
    }

    /// Opens the ceremony for a command, holding it until dropped; a
    /// signal closes its open operation as aborted. What it recovered of a
    /// killed run is said on stderr.
    ///
    /// # Errors
    ///
    /// No ceremony, another process holds it, or it cannot be opened.
    pub fn open_ceremony(&self, command: &str) -> Result<Ceremony, CliError> {
        self.open_ceremony_in(&self.ceremony_dir()?, command)
    }

    /// Opens the ceremony in a directory (see
    /// [`open_ceremony`](Self::open_ceremony)).
    ///
    /// # Errors
    ///
    /// As `open_ceremony`.
    pub fn open_ceremony_in(&self, dir: &Path, command: &str) -> Result<Ceremony, CliError> {
        let holder = format!(
            "process {} (ceremony {command}) since {}",
            std::process::id(),
            self.clock().wall()
        );
        let ceremony = Ceremony::open(dir, self.clock(), &holder)?;
        crate::terminal::on_signal(ceremony.abort_handle());
        let recovery = ceremony.recovery();
        if let Some(interrupted) = recovery.interrupted {
            eprintln!(
                "note: {} (audit entry {}) was interrupted by a killed process; recorded as interrupted",
                interrupted.operation, interrupted.begun
            );
        }
        if !recovery.removed.is_empty() {
            eprintln!(
                "note: removed {} temporary file(s) a killed process left (recorded)",
                recovery.removed.len()
            );
        }
        Ok(ceremony)
    }

    /// The instant every time-dependent check uses, fixed once
    /// (`TOOL-NOW`).
    ///
    /// # Errors
    ///
    /// `--now` is not an RFC 3339 instant in UTC.
    pub fn now(&self) -> Result<Now, CliError> {
        match &self.now {
            Some(text) => Timestamp::parse_document(text)
                .map(|time| Now { time, given: true })
                .map_err(|source| CliError::Now {
                    text: text.clone(),
                    source,
                }),
            None => Ok(Now {
                time: *self.read.get_or_init(wall),
                given: false,
            }),
        }
    }

    /// Whether `--now` was given.
    pub fn now_given(&self) -> bool {
        self.now.is_some()
    }

    /// The machine's clocks.
    pub fn clock(&self) -> Clock {
        Clock::new(wall, Instant::now)
    }
}

/// The system clock as a timestamp.
fn wall() -> Timestamp {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    Timestamp::from_unix(u32::try_from(seconds).unwrap_or(u32::MAX))
}

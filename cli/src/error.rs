//! Errors of the command line and the one place exit codes are decided.

use std::io;
use std::path::PathBuf;

use smartcard_sim::CardError;

//------------ Outcome -------------------------------------------------------

/// How a command that ran to the end went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed (warnings allowed).
    Success,
    /// A document could not be read as one: over the size limit, not
    /// well-formed XML, or beyond the parser's limits.
    Unreadable,
    /// A document was read and at least one check found an error.
    Failed,
}

//------------ CliError ------------------------------------------------------

/// A failure that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] io::Error),
    /// DNSKEY records in zone-file form could not be read.
    #[error("{source_name}: {source}")]
    ZoneFile {
        /// The file name, or `<stdin>`.
        source_name: String,
        /// Why.
        #[source]
        source: ksr::ZoneFileError,
    },
    /// The policy file is not valid (`TOOL-CONFIG`).
    #[error("TOOL-CONFIG: {}: {source}", .path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ksr::ConfigError,
    },
    /// `--now` is not an instant.
    #[error("--now {text:?}: {source}")]
    Now {
        /// What was given.
        text: String,
        /// Why.
        #[source]
        source: ksr::TimeError,
    },
    /// The signing schema named on the command line does not exist or
    /// does not fit the KSR (`SIGN-SCHEMA`).
    #[error("SIGN-SCHEMA: {0}")]
    Schema(String),
    /// A card file could not be opened (missing, unreadable, damaged).
    #[error("{}: {source}", .path.display())]
    CardFile {
        /// The card file.
        path: PathBuf,
        /// Why.
        #[source]
        source: smartcard_sim::OpenError,
    },
    /// The card refused or failed.
    #[error("{}: {source}", .path.display())]
    Card {
        /// The card file.
        path: PathBuf,
        /// The card's answer.
        #[source]
        source: smartcard_sim::CardError,
    },
    /// A pin file is not usable.
    #[error("pin file {}: {message}", .path.display())]
    PinFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The audit log's chain is broken.
    #[error("audit log: {0}")]
    Audit(#[source] hsm::AuditError),
    /// A PIN or PUK given is not of the right form.
    #[error("{0}")]
    Secret(String),
    /// The terminal could not be asked.
    #[error("cannot read a PIN from the terminal: {0}")]
    Prompt(#[source] io::Error),
    /// A file could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// Something failed while the command ran (not the input's fault).
    #[error("{0}")]
    Runtime(String),
    /// The HSM failed.
    #[error("HSM: {0}")]
    Hsm(#[from] hsm::HsmError),
    /// The quorum was not met.
    #[error("the quorum was not met: {accepted} of {threshold} cards counted")]
    NoQuorum {
        /// Cards that counted.
        accepted: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The service refused: a card it did not count, or a client it does
    /// not allow.
    #[error("refused: {0}")]
    Refused(String),
    /// Output could not be written.
    #[error("cannot write the output: {0}")]
    Output(#[source] io::Error),
}

impl CliError {
    /// Returns a next step for the person at the terminal, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::ZoneFile { .. } => Some(
                "give DNSKEY records in zone-file form, such as `. 172800 IN DNSKEY 257 3 8 AwEAA…`",
            ),
            Self::Config { .. } => {
                Some("`ceremony policy show` prints the effective policy with every key it accepts")
            }
            Self::Now { .. } => Some("give --now as RFC 3339 in UTC, such as 2017-03-20T00:00:00Z"),
            Self::Schema(_) => Some(
                "the built-in schemas are normal, pre-publish, rollover, revoke, publish+, rollover+ and revoke+; others come from [schemas.NAME.N] in ceremony.toml",
            ),
            Self::Card {
                source: smartcard_sim::CardError::PinBlocked,
                ..
            } => Some("`ceremony card unblock CARD` sets a new PIN with the card's PUK"),
            Self::Card {
                source: smartcard_sim::CardError::Dead,
                ..
            } => Some("a dead card cannot be repaired: a quorum re-issues a share to a new card"),
            Self::PinFile { .. } => Some(
                "a pin file is TOML: officer name = \"PIN\" at the top level, PUKs under [puk], new PINs under [new-pin]",
            ),
            Self::Prompt(_) => Some("give --pin-file FILE when there is no terminal"),
            Self::Audit(_) => Some(
                "the log was edited, cut or reordered at that entry; keep it as evidence and compare with a copy",
            ),
            Self::NoQuorum { .. } => Some(
                "present more cards of the current roster; `ceremony card status CARD` shows a card's state",
            ),
            Self::Read { .. }
            | Self::Stdin(_)
            | Self::Output(_)
            | Self::Card { .. }
            | Self::CardFile { .. }
            | Self::Write { .. }
            | Self::Usage(_)
            | Self::Runtime(_)
            | Self::Hsm(_)
            | Self::Refused(_)
            | Self::Secret(_) => None,
        }
    }
}

/// Decides the exit code (DESIGN.md): 0 success; 1 runtime failure or
/// unreadable input; 2 usage or configuration (clap decides bad command
/// lines before a command runs);
/// 3 a document failed its checks; 4 activation refused: a wrong PIN or
/// PUK, a blocked or dead card.
pub fn exit_code(result: &Result<Outcome, CliError>) -> u8 {
    match result {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Unreadable) => 1,
        Ok(Outcome::Failed) => 3,
        Err(CliError::Read { .. } | CliError::Stdin(_) | CliError::Output(_)) => 1,
        Err(CliError::ZoneFile { .. }) => 1,
        Err(
            CliError::Config { .. }
            | CliError::Now { .. }
            | CliError::Schema(_)
            | CliError::PinFile { .. }
            | CliError::Usage(_)
            | CliError::Secret(_),
        ) => 2,
        Err(
            CliError::NoQuorum { .. }
            | CliError::Refused(_)
            | CliError::Hsm(hsm::HsmError::Locked(_)),
        ) => 4,
        Err(CliError::Write { .. } | CliError::Hsm(_) | CliError::Runtime(_)) => 1,
        Err(CliError::Card { source, .. }) => match source {
            CardError::WrongPin { .. }
            | CardError::WrongPuk { .. }
            | CardError::PinBlocked
            | CardError::Dead => 4,
            _ => 1,
        },
        Err(CliError::CardFile { .. } | CliError::Prompt(_)) => 1,
        Err(CliError::Audit(hsm::AuditError::Io { .. })) => 1,
        Err(CliError::Audit(_)) => 3,
    }
}

//! What can stop a ceremony operation. Each variant carries what a person
//! needs to act; the binary decides the exit code of each in one
//! exhaustive match.

use std::io;
use std::path::PathBuf;

use crate::report::Report;

/// A failure of the signer system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    //--- The ceremony directory
    /// The directory holds no ceremony (no `ceremony.toml`, or no HSM).
    #[error("{} holds no ceremony ({missing} is missing): run ceremony init, or give --config DIR/ceremony.toml", .dir.display())]
    NotACeremony {
        /// The directory.
        dir: PathBuf,
        /// What is missing.
        missing: &'static str,
    },
    /// `init` was pointed at a directory that holds a ceremony, or the
    /// remains of one.
    #[error("{} already holds {what}; init never overwrites a ceremony", .dir.display())]
    CeremonyExists {
        /// The directory.
        dir: PathBuf,
        /// What is there.
        what: String,
    },
    /// Another process holds the ceremony (or a card).
    #[error("{what} is in use by another process: {holder}")]
    Busy {
        /// The ceremony directory or card.
        what: String,
        /// Who holds it, in its own words.
        holder: String,
    },
    /// The policy file is not valid (`TOOL-CONFIG`).
    #[error("TOOL-CONFIG: {}: {source}", .path.display())]
    Policy {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ksr::ConfigError,
    },
    /// `intake policy` with a file that cannot be the signer's next
    /// policy.
    #[error("the intake's policy is not replaced: {0}")]
    IntakePolicy(String),
    /// `policy approve` with a file that is the approved policy.
    #[error("the policy file is the approved policy: there is nothing to approve")]
    NothingToApprove,
    /// A ceremony file someone else may write, or owns.
    #[error("{} {why}: a ceremony file only its user may write; fix with chown and chmod go-w, after checking who changed it", .path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// What a production ceremony does not allow (a rehearsal does).
    #[error("{0}")]
    Production(String),
    /// The process could not be hardened.
    #[error("{0}")]
    Hardening(String),
    /// The ceremony's sealed state refuses the operation.
    #[error("{0}")]
    State(#[from] crate::state::StateError),
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file could not be written; nothing was left at its path.
    #[error("{0}")]
    Write(#[source] durable::WriteError),
    /// The audit log is broken, cut, or cannot be written.
    #[error("audit log: {0}")]
    Audit(#[source] hsm::AuditError),
    /// The HSM failed.
    #[error("HSM: {0}")]
    Hsm(#[from] hsm::HsmError),

    /// A TLS file (certificate, key, allow-list) is not usable.
    #[error("{}: {reason}", .path.display())]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// TLS itself failed (rustls refused the configuration, a certificate
    /// could not be made).
    #[error("TLS: {0}")]
    Tls(String),

    //--- What is asked
    /// The output exists: an SKR, KSR or PUK file is never overwritten.
    #[error("{} exists; it is never overwritten", .0.display())]
    OutputExists(PathBuf),
    /// The output cannot be made: its directory is missing or not
    /// writable.
    #[error("{} cannot be written: {reason}", .path.display())]
    OutputUnwritable {
        /// The output.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The KSR and SKR(n-1) are of different formats.
    #[error(transparent)]
    FormatMismatch(#[from] ksr::FormatMismatch),
    /// The SKR format asked for does not answer the KSR's.
    #[error("--format {asked}: a {ksr} KSR is answered with {answer}")]
    OutputFormat {
        /// What was asked.
        asked: &'static str,
        /// The KSR's format.
        ksr: ksr::Format,
        /// What it is answered with.
        answer: &'static str,
    },
    /// `--end` was given for an XML KSR, whose bundles end themselves.
    #[error("--end is for a text KSR: an XML KSR gives each bundle its own end")]
    EndWithXml,
    /// A text KSR of one bundle, and neither `--end` nor the policy's
    /// `text_default_span`.
    #[error(
        "the text KSR has one bundle (its ZSKs' lifetime unlimited): give --end (BIND's dnssec-ksr sign -e) or set text_default_span in the policy; without either its SKR would last only text_rrsig_validity from the bundle's time"
    )]
    EndNeeded,
    /// The officers named cannot make a roster.
    #[error("officer {name:?}: {reason}")]
    Officer {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// k of n is not possible.
    #[error(
        "threshold {threshold} of {officers} officers: a quorum is 2 to n of at least two officers"
    )]
    Threshold {
        /// k.
        threshold: usize,
        /// n.
        officers: usize,
    },
    /// A key label or role is taken, missing, or not valid.
    #[error("{0}")]
    Key(String),
    /// A backup cannot be made or restored as asked.
    #[error("{0}")]
    Backup(String),
    /// The zone name is not valid.
    #[error("--domain {text:?}: {source}")]
    Domain {
        /// What was given.
        text: String,
        /// Why.
        #[source]
        source: ksr::NameError,
    },

    /// The signing schema does not exist or does not fit the KSR
    /// (`SIGN-SCHEMA`).
    #[error("SIGN-SCHEMA: {0}")]
    Schema(String),

    /// A pin file is not usable.
    #[error("pin file {}: {message}", .path.display())]
    PinFile {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the file's text).
        message: String,
    },

    //--- The documents
    /// A document failed its checks, or could not be read as one: every
    /// finding, and the files they are about. Nothing was signed.
    #[error("{}", .0.summary())]
    Refused(Report),

    //--- The quorum
    /// The operator did not confirm the summary.
    #[error("not confirmed: nothing was done")]
    NotConfirmed,
    /// Fewer than k cards counted.
    #[error("the quorum was not met: {accepted} of {threshold} cards counted")]
    NoQuorum {
        /// Cards that counted.
        accepted: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The officers took longer than the attempt allows.
    #[error("the activation attempt expired before the quorum was complete")]
    Expired,
    /// A card could not be used for a card command.
    #[error("{}: {source}", .path.display())]
    Card {
        /// The card file.
        path: PathBuf,
        /// The card's answer.
        #[source]
        source: smartcard_sim::CardError,
    },
    /// A card file cannot be opened (missing, damaged, in use).
    #[error("{}: {reason}", .path.display())]
    CardFile {
        /// The card file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// New shares could not be issued.
    #[error("the new roster: {0}")]
    Enrol(#[from] quorum::EnrolError),
    /// The HSM failed while signing; nothing was written.
    #[error("the HSM failed while signing with {label}: {message}")]
    Signing {
        /// The KSK's label.
        label: String,
        /// The HSM's words.
        message: String,
    },
    /// The front end could not ask or tell the people in the room.
    #[error("cannot talk to the terminal: {0}")]
    Prompt(#[source] io::Error),
    /// A transfer set refused at this hop.
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    /// The words read over the phone are not the KSR's.
    #[error("OOB-WORDS: {0}")]
    Oob(String),
    /// A check the code relies on failed: a defect.
    #[error("internal error: {0} (please report this)")]
    Internal(String),
}

impl Error {
    /// The error of an I/O failure reading `path`.
    pub fn read(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Read { path, source }
    }

    /// The error codes of a refusal, for the audit log (empty for other
    /// errors).
    pub fn codes(&self) -> Vec<&'static str> {
        match self {
            Self::Refused(report) => report.error_codes(),
            Self::Media(err) => vec![err.code()],
            Self::Oob(_) => vec!["OOB-WORDS"],
            _ => Vec::new(),
        }
    }
}

impl From<durable::WriteError> for Error {
    fn from(err: durable::WriteError) -> Self {
        match err {
            durable::WriteError::Exists(path) => Self::OutputExists(path),
            other => Self::Write(other),
        }
    }
}

impl From<hsm::AuditError> for Error {
    fn from(err: hsm::AuditError) -> Self {
        Self::Audit(err)
    }
}

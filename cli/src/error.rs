//! Errors of the command line and the one place exit codes are decided.

use std::io;

use smartcard_sim::CardError;

//------------ Outcome -------------------------------------------------------

/// How a command that ran to the end went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed (warnings allowed).
    Success,
    /// A document could not be read as one: over the size limit, not
    /// well-formed, or beyond the parser's limits.
    Unreadable,
    /// A document was read and at least one check found an error.
    Failed,
}

impl Outcome {
    /// The outcome a report means.
    pub fn of(report: &signer::Report) -> Self {
        if report.is_unreadable() {
            Self::Unreadable
        } else if report.has_errors() {
            Self::Failed
        } else {
            Self::Success
        }
    }
}

//------------ CliError ------------------------------------------------------

/// A failure that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The signer system refused or failed.
    #[error(transparent)]
    Signer(#[from] signer::Error),
    /// The quorum was not met (or its attempt failed): the error, with the
    /// cards that counted and those that did not, for `--json`.
    #[error("{source}")]
    Quorum {
        /// What went wrong.
        #[source]
        source: Box<signer::Error>,
        /// The cards that counted.
        accepted: Vec<signer::Accepted>,
        /// The cards that did not.
        refused: Vec<signer::Refused>,
    },
    /// A command that needs a ceremony was run outside one.
    #[error(
        "this needs a ceremony: give --config DIR/ceremony.toml, or run it in the ceremony directory"
    )]
    NoCeremony,
    /// `sign` was given neither the previous SKR nor the waiver.
    #[error(
        "give --previous-skr SKR (the last quarter's SKR, which the chain and safety checks need) or --no-previous-skr (a first quarter; recorded)"
    )]
    PreviousChoice,
    /// `--now` (or another time) is not an instant.
    #[error("--now {text:?}: {source}")]
    Now {
        /// What was given.
        text: String,
        /// Why.
        #[source]
        source: ksr::TimeError,
    },
    /// An option's value is not one it takes.
    #[error("--{option} {value:?}: {expected}")]
    Value {
        /// The option.
        option: &'static str,
        /// What was given.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// With `--json`, PUKs must go to a file (they are never in JSON).
    #[error("with --json, give --puk-file: the PUKs are handed out once and never printed as JSON")]
    JsonNeedsPukFile,
    /// DNSKEY records in zone-file form could not be read.
    #[error("{source_name}: {source}")]
    ZoneFile {
        /// The file name, or `<stdin>`.
        source_name: String,
        /// Why.
        #[source]
        source: ksr::ZoneFileError,
    },
    /// A PIN or PUK given in a file is not of the right form.
    #[error("{0}")]
    Secret(#[from] smartcard_sim::SecretFormatError),
    /// The terminal could not be asked.
    #[error("cannot ask at the terminal: {0}")]
    Prompt(#[source] io::Error),
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] io::Error),
    /// Output could not be written.
    #[error("cannot write the output: {0}")]
    Output(#[source] io::Error),
    /// HTTPS failed: a TLS file, the connection, the server.
    #[error(transparent)]
    Web(#[from] web::Error),
    /// The service could not be reached or answered nonsense.
    #[error("{0}")]
    Remote(String),
    /// The service does not let this client do this (HTTP 401/403).
    #[error("the service refused access: {0}")]
    Access(String),
    /// The service refused the request as it stands (HTTP 400, 404, 409,
    /// 413).
    #[error("the service refused: {0}")]
    Rejected(String),
    /// The service counted no card: the quorum's rules refused it.
    #[error("refused: {0}")]
    CardRefused(String),
    /// A scenario file that cannot run (its line and column named).
    #[error("{0}")]
    Scenario(#[from] crate::exercise::ScenarioError),
    /// The exercise itself cannot go on (not a participant's mistake).
    #[error("exercise: {0}")]
    Exercise(String),
    /// An autopilot run in which the ceremony did not react as the
    /// scenario expects: the tool, not a participant, deviated.
    #[error(
        "the autopilot run deviated from the scenario: {steps} step(s) and {faults} fault(s) not as expected (see the transcript)"
    )]
    ExerciseDeviated {
        /// Steps not as expected.
        steps: usize,
        /// Faults not detected as expected.
        faults: usize,
    },
}

impl CliError {
    /// A next step for the person at the terminal, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        use signer::Error as S;
        if let Self::Quorum { source, .. } = self
            && matches!(**source, S::NoQuorum { .. })
        {
            return Some(
                "present more cards of the current roster; `ceremony card status CARD` shows a card's state",
            );
        }
        match self {
            Self::Signer(S::Policy { .. }) => {
                Some("`ceremony policy show` prints the effective policy with every key it accepts")
            }
            Self::Signer(S::Schema(_)) => Some(
                "the built-in schemas are normal, pre-publish, rollover, revoke, publish+, rollover+ and revoke+; others come from [schemas.NAME.N] in ceremony.toml",
            ),
            Self::Signer(S::Card {
                source: CardError::PinBlocked,
                ..
            }) => Some("`ceremony card unblock CARD` sets a new PIN with the card's PUK"),
            Self::Signer(S::Card {
                source: CardError::Dead,
                ..
            }) => {
                Some("a dead card cannot be repaired: a quorum issues new cards (ceremony reshare)")
            }
            Self::Signer(S::Audit(
                hsm::AuditError::Broken { .. } | hsm::AuditError::Head { .. },
            )) => Some(
                "the log was edited, cut or reordered at that entry; keep it as evidence and compare with a copy",
            ),
            Self::Signer(S::NoQuorum { .. }) => Some(
                "present more cards of the current roster; `ceremony card status CARD` shows a card's state",
            ),
            Self::Signer(S::Busy { .. }) => {
                Some("wait for that process to end; only one process works on a ceremony at a time")
            }
            Self::Signer(S::NotConfirmed) => {
                Some("read the hash aloud, compare it with the ZSK operator's, and type yes")
            }
            Self::Now { .. } => Some("give --now as RFC 3339 in UTC, such as 2017-03-20T00:00:00Z"),
            Self::ZoneFile { .. } => Some(
                "give DNSKEY records in zone-file form, such as `. 172800 IN DNSKEY 257 3 8 AwEAA…`",
            ),
            Self::Signer(S::PinFile { .. }) => Some(
                "a pin file is TOML: officer name = \"PIN\" at the top level, PUKs under [puk], new PINs under [new-pin]",
            ),
            Self::Prompt(_) => {
                Some("give --pin-file FILE (and --cards, --yes) when there is no terminal")
            }
            Self::Access(_) => Some(
                "the allow-list (serve --init-tls DIR) names each client's role; use the certificate of a client that has the role",
            ),
            _ => None,
        }
    }
}

/// Decides the exit code (DESIGN.md, `ksr-checks.md` "Exit codes"): 0
/// success; 1 runtime failure, unreadable input, interruption or the
/// operator declining; 2 usage or configuration; 3 a document failed its
/// checks; 4 activation refused: quorum not met, a wrong PIN or PUK, a
/// blocked, dead, forged or foreign card.
pub fn exit_code(result: &Result<Outcome, CliError>) -> u8 {
    match result {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Unreadable) => 1,
        Ok(Outcome::Failed) => 3,
        Err(err) => err.exit_code(),
    }
}

impl CliError {
    /// The exit code of an error (see [`exit_code`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Signer(err) => signer_exit_code(err),
            Self::Quorum { source, .. } => signer_exit_code(source),
            Self::NoCeremony
            | Self::PreviousChoice
            | Self::Now { .. }
            | Self::Value { .. }
            | Self::JsonNeedsPukFile
            | Self::Secret(_)
            | Self::Access(_)
            | Self::Rejected(_) => 2,
            Self::ZoneFile { .. }
            | Self::Prompt(_)
            | Self::Stdin(_)
            | Self::Output(_)
            | Self::Remote(_)
            | Self::Exercise(_)
            | Self::ExerciseDeviated { .. } => 1,
            Self::Scenario(_) => 2,
            Self::CardRefused(_) => 4,
            Self::Web(web::Error::Pem { .. }) => 2,
            Self::Web(
                web::Error::Read { .. }
                | web::Error::Unreachable { .. }
                | web::Error::Answer { .. }
                | web::Error::Serve(_),
            ) => 1,
        }
    }
}

/// The exit code of a signer error.
fn signer_exit_code(err: &signer::Error) -> u8 {
    use signer::Error as S;
    match err {
        S::Refused(report) if report.is_unreadable() => 1,
        S::Refused(_) => 3,
        S::Media(signer::media::MediaError::Io { .. } | signer::media::MediaError::ReadBack(_)) => {
            1
        }
        S::Media(signer::media::MediaError::NoKey) => 2,
        S::Media(_) | S::Oob(_) => 3,
        // Evidence of tampering with the ceremony, refused by name.
        S::Audit(hsm::AuditError::Broken { .. } | hsm::AuditError::Head { .. })
        | S::State(_)
        | S::Permissions { .. }
        | S::Hsm(hsm::HsmError::PinChanged | hsm::HsmError::UntrustedModule(_)) => 3,
        S::Audit(hsm::AuditError::Io { .. }) => 1,
        S::NoQuorum { .. } | S::Expired | S::Hsm(hsm::HsmError::Locked(_)) => 4,
        S::Card { source, .. } => match source {
            CardError::WrongPin { .. }
            | CardError::WrongPuk { .. }
            | CardError::PinBlocked
            | CardError::Dead
            | CardError::Erased => 4,
            CardError::OlderEpoch { .. } => 3,
            CardError::PinRequired
            | CardError::NoApplet
            | CardError::Damaged
            | CardError::MemoryFailure
            | CardError::WrongState
            | CardError::Unexpected(_)
            | CardError::Malformed => 1,
        },
        S::NotACeremony { .. }
        | S::CeremonyExists { .. }
        | S::Policy { .. }
        | S::OutputExists(_)
        | S::OutputUnwritable { .. }
        | S::FormatMismatch(_)
        | S::OutputFormat { .. }
        | S::EndWithXml
        | S::EndNeeded
        | S::Officer { .. }
        | S::Threshold { .. }
        | S::Key(_)
        | S::Backup(_)
        | S::Domain { .. }
        | S::Schema(_)
        | S::TlsFile { .. }
        | S::PinFile { .. }
        | S::Enrol(_)
        | S::NothingToApprove
        | S::IntakePolicy(_)
        | S::Production(_) => 2,
        S::Busy { .. }
        | S::Read { .. }
        | S::Write(_)
        | S::Hsm(_)
        | S::Tls(_)
        | S::NotConfirmed
        | S::CardFile { .. }
        | S::Signing { .. }
        | S::Prompt(_)
        | S::Hardening(_)
        | S::Internal(_) => 1,
    }
}

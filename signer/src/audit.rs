//! The ceremony's audit trail: every event as one typed value, written to
//! the hash-chained `DIR/audit.log` with the machine's clock.
//!
//! Every operation has exactly one opening entry (`sign-begin`, …) and
//! one closing entry (`sign-done`, `sign-refused`, `sign-failed`,
//! `sign-aborted`, `sign-interrupted`) whose `begun` names the opening's
//! sequence number. An operation left open by a killed process is closed
//! as interrupted by the next process that opens the ceremony, before it
//! does anything else.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hsm::{Actor, AuditLog, Entry};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::error::Error;

//------------ OperationKind and Outcome -------------------------------------

macro_rules! names {
    ($(#[$doc:meta])* $type:ident { $($(#[$vdoc:meta])* $variant:ident => $name:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $type {
            $($(#[$vdoc])* #[serde(rename = $name)] $variant,)*
        }

        impl $type {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// Its name in the audit log.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

names! {
    /// A quorum operation: what a ceremony does, each one as one typed flow.
    OperationKind {
        /// A new ceremony: cards, HSM, first KSK, policy.
        Init => "init",
        /// A KSR signed into an SKR.
        Sign => "sign",
        /// A new KSK.
        Keygen => "keygen",
        /// The next KSK becomes the current one.
        Promote => "ksk-promote",
        /// The policy file, changed, approved as the one in force.
        Approve => "policy-approve",
        /// The intake key that transfer sets must be signed by.
        IntakePin => "intake-pin",
        /// A new card set (and, like rekey, a new secret).
        Reshare => "reshare",
        /// A new secret and a new card set.
        Rekey => "rekey",
        /// A copy for a second site, once a quorum opened the store.
        Backup => "hsm-backup",
        /// A backup laid out at a second site, opened by a quorum there.
        Restore => "hsm-restore",
    }
}

names! {
    /// How an operation ended.
    Outcome {
        /// It did what it was asked.
        Done => "done",
        /// A check refused it, or the quorum was not met: nothing changed.
        Refused => "refused",
        /// Something failed (I/O, the HSM); the reason is recorded.
        Failed => "failed",
        /// A signal or a closed terminal stopped it.
        Aborted => "aborted",
        /// The process was killed; the next process recorded it.
        Interrupted => "interrupted",
    }
}

//------------ Event ---------------------------------------------------------

/// Who acted through the network: a client certificate of the service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Its allow-list name (the certificate's common name when
    /// `serve --init-tls` made it).
    pub name: String,
    /// Its role.
    pub role: String,
    /// SHA-256 of its certificate, hex.
    pub fingerprint: String,
}

/// A card, as the log names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRef {
    /// Its serial.
    pub serial: String,
    /// Its officer.
    pub officer: String,
}

/// Everything the audit log records, in one place.
#[derive(Clone, Debug)]
pub enum Event {
    /// An operation opens.
    Begin {
        /// Which.
        operation: OperationKind,
        /// What it was asked to do.
        details: Map<String, Value>,
    },
    /// The summary was confirmed (or the confirmation waived by `--yes`).
    Confirmed {
        /// Which.
        operation: OperationKind,
        /// How: `typed`, `--yes` or `remote`.
        how: &'static str,
        /// SHA-256 of the operation summary the officers authorize.
        summary_sha256: String,
        /// The summary's warnings and waivers: every check switched off,
        /// every finding the operator saw.
        warnings: Vec<String>,
        /// The administrator, for a remote confirmation.
        client: Option<Client>,
    },
    /// An operation closes.
    Close {
        /// Which.
        operation: OperationKind,
        /// How it ended.
        outcome: Outcome,
        /// The sequence number of its opening entry.
        begun: u64,
        /// Codes, reasons, results.
        details: Map<String, Value>,
    },
    /// A card was put in the reader and named itself (recorded before
    /// its PIN is checked, which writes the card).
    CardInserted {
        /// The card.
        card: CardRef,
        /// Its file.
        path: String,
    },
    /// A card counted towards the quorum.
    CardAccepted {
        /// The card.
        card: CardRef,
        /// Its file, when presented at this terminal.
        path: Option<String>,
        /// The progress after it.
        progress: String,
        /// The officer's client, when presented remotely.
        client: Option<Client>,
    },
    /// A card did not count.
    CardRefused {
        /// The card, when it could say.
        card: Option<CardRef>,
        /// Its file, or what was given.
        path: Option<String>,
        /// Why.
        reason: String,
        /// The client, when presented remotely.
        client: Option<Client>,
    },
    /// A wrong PIN was typed on a card of this ceremony.
    WrongPin {
        /// The card.
        card: CardRef,
        /// Tries left.
        tries_left: u8,
        /// Where: `sign`, `present`, `card verify`, …
        during: String,
        /// The officer's client, for `present`.
        client: Option<Client>,
    },
    /// A retired card presented for a new card set was erased (or could
    /// not be).
    CardErased {
        /// The card.
        card: CardRef,
        /// Its file.
        path: String,
        /// Why it could not be, if it could not.
        error: Option<String>,
    },
    /// A card's PIN was changed.
    PinChanged {
        /// The card.
        card: CardRef,
    },
    /// A card's PUK was used: the card unblocked with a new PIN, or a wrong
    /// PUK tried.
    PukUsed {
        /// The card.
        card: CardRef,
        /// Whether the PUK was right.
        accepted: bool,
        /// PUK tries left.
        tries_left: u8,
    },
    /// The HSM was activated.
    HsmActivated,
    /// The HSM refused the secret or failed a self-test.
    HsmActivationFailed {
        /// Why.
        error: String,
    },
    /// The HSM was sealed.
    HsmDeactivated,
    /// An SKR was written and read back.
    SkrWritten {
        /// Where.
        path: String,
        /// Its SHA-256.
        skr_sha256: String,
        /// The KSR's.
        ksr_sha256: String,
        /// The schema.
        schema: String,
        /// Its bundles.
        bundles: usize,
        /// The KSK tags that signed.
        signers: Vec<u16>,
    },
    /// The emergency SKR of a signing was written and read back: the same
    /// KSR answered with the standby KSK signing at once and the current
    /// one revoked, kept for a compromise of the current one.
    EmergencySkrWritten {
        /// Where.
        path: String,
        /// Its SHA-256.
        skr_sha256: String,
        /// The KSR's.
        ksr_sha256: String,
        /// The standby KSK's label.
        standby: String,
        /// Its bundles.
        bundles: usize,
        /// The KSK tags that signed.
        signers: Vec<u16>,
    },
    /// A backup for a second site was written and read back.
    BackupWritten {
        /// Its folder.
        dir: String,
        /// Its manifest's SHA-256.
        manifest_sha256: String,
        /// The epoch it holds.
        epoch: u64,
        /// The card set that opens it.
        generation: u64,
    },
    /// This ceremony was restored from a backup, a quorum opening it here.
    BackupRestored {
        /// The backup's folder.
        from: String,
        /// Its manifest's SHA-256.
        manifest_sha256: String,
        /// The epoch it held.
        epoch: u64,
    },
    /// A key was made in the HSM.
    KeyGenerated {
        /// Its label.
        label: String,
        /// Its tag.
        key_tag: u16,
        /// Its DS digest.
        ds_sha256: String,
    },
    /// A key the ceremony did not make became the HSM's: imported from a
    /// file into the soft HSM, or adopted from the token.
    KeyTaken {
        /// Its label.
        label: String,
        /// Its tag.
        key_tag: u16,
        /// Its DS digest.
        ds_sha256: String,
        /// Where it came from, and what the token says of it.
        origin: String,
        /// Why a key the token did not make, or that was extractable, was
        /// taken all the same (`--accept-imported`).
        accepted: Option<String>,
    },
    /// The policy file was written.
    PolicyWritten {
        /// Its SHA-256.
        sha256: String,
        /// Why: the KSK roles after the change.
        change: String,
    },
    /// A set of cards was issued.
    CardsIssued {
        /// The generation.
        generation: u64,
        /// The serials, officer by officer.
        cards: Vec<(String, String)>,
    },
    /// The HSM moved to a new generation of the quorum.
    GenerationCommitted {
        /// The generation.
        generation: u64,
        /// The new roster's digest.
        roster_digest: String,
    },
    /// The ceremony's state was sealed under the quorum's secret.
    StateSealed {
        /// Its epoch.
        epoch: u64,
        /// The entry it is anchored to.
        anchor: u64,
        /// The approved policy's SHA-256.
        policy_sha256: String,
        /// The roster's digest.
        roster_sha256: String,
    },
    /// Temporaries left by a killed run were removed.
    StaleFilesRemoved {
        /// Their paths.
        files: Vec<String>,
    },
    /// The service took a KSR.
    KsrSubmitted {
        /// Its service id.
        id: String,
        /// Its SHA-256.
        ksr_sha256: String,
        /// Its warnings.
        warnings: Vec<&'static str>,
        /// Who.
        client: Client,
    },
    /// The service refused a KSR.
    KsrRefused {
        /// Its SHA-256.
        ksr_sha256: String,
        /// The error codes.
        codes: Vec<&'static str>,
        /// Who.
        client: Client,
    },
    /// A client's request was refused by the service (not a card).
    RequestRefused {
        /// What was asked.
        request: &'static str,
        /// Why.
        reason: String,
        /// Who.
        client: Client,
    },
    /// The service started.
    ServiceStarted {
        /// Its settings.
        details: Map<String, Value>,
    },
    /// The service stopped.
    ServiceStopped,
    /// A hop of the air gap: a transfer set verified, exported, loaded or
    /// refused, the words read over the phone checked, an SKR imported
    /// (the names are [`transfer_event`]'s).
    Transfer {
        /// The event's name.
        event: &'static str,
        /// What it records.
        details: Map<String, Value>,
        /// Who, over the network.
        client: Option<Client>,
    },
    /// An exercise injected a fault into a rehearsal's flow.
    FaultInjected {
        /// Which ([`crate::RehearsalFault`]'s name).
        fault: &'static str,
    },
    /// An activation attempt ran out of time.
    AttemptExpired {
        /// Cards presented by then.
        presented: usize,
    },
}

impl Event {
    /// The temporaries (or stale locks) a killed run left, removed.
    pub fn stale_files_removed(removed: &[std::path::PathBuf]) -> Self {
        Self::StaleFilesRemoved {
            files: removed
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
        }
    }

    /// The event's name in the log.
    pub fn name(&self) -> String {
        match self {
            Self::Begin { operation, .. } => format!("{operation}-begin"),
            Self::Confirmed { operation, .. } => format!("{operation}-confirmed"),
            Self::Close {
                operation, outcome, ..
            } => format!("{operation}-{outcome}"),
            Self::CardInserted { .. } => "card-inserted".into(),
            Self::CardAccepted { .. } => "card-accepted".into(),
            Self::CardRefused { .. } => "card-refused".into(),
            Self::WrongPin { .. } => "wrong-pin".into(),
            Self::PinChanged { .. } => "pin-changed".into(),
            Self::CardErased { .. } => "card-erased".into(),
            Self::PukUsed { .. } => "puk-used".into(),
            Self::HsmActivated => "hsm-activated".into(),
            Self::HsmActivationFailed { .. } => "hsm-activation-failed".into(),
            Self::HsmDeactivated => "hsm-deactivated".into(),
            Self::SkrWritten { .. } => "skr-written".into(),
            Self::EmergencySkrWritten { .. } => "emergency-skr-written".into(),
            Self::KeyGenerated { .. } => "key-generated".into(),
            Self::KeyTaken { .. } => "key-taken".into(),
            Self::BackupWritten { .. } => "backup-written".into(),
            Self::BackupRestored { .. } => "backup-restored".into(),
            Self::PolicyWritten { .. } => "policy-written".into(),
            Self::CardsIssued { .. } => "cards-issued".into(),
            Self::GenerationCommitted { .. } => "generation-committed".into(),
            Self::StateSealed { .. } => "state-sealed".into(),
            Self::StaleFilesRemoved { .. } => "stale-files-removed".into(),
            Self::KsrSubmitted { .. } => "ksr-submitted".into(),
            Self::KsrRefused { .. } => "ksr-refused".into(),
            Self::RequestRefused { .. } => "request-refused".into(),
            Self::ServiceStarted { .. } => "service-started".into(),
            Self::ServiceStopped => "service-stopped".into(),
            Self::Transfer { event, .. } => (*event).into(),
            Self::AttemptExpired { .. } => "activation-expired".into(),
            Self::FaultInjected { .. } => "exercise-fault-injected".into(),
        }
    }

    /// The card and officer who acted, if one did.
    fn actor(&self) -> Option<Actor> {
        let card = match self {
            Self::CardAccepted { card, .. }
            | Self::CardInserted { card, .. }
            | Self::WrongPin { card, .. }
            | Self::PinChanged { card }
            | Self::CardErased { card, .. }
            | Self::PukUsed { card, .. } => Some(card),
            Self::CardRefused { card, .. } => card.as_ref(),
            _ => None,
        }?;
        Some(Actor {
            card: card.serial.clone(),
            officer: card.officer.clone(),
        })
    }

    /// The details, as the log's JSON object.
    fn details(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |key: &str, value: Value| {
            map.insert(key.to_owned(), value);
        };
        match self {
            Self::Begin { details, .. } | Self::ServiceStarted { details } => {
                return details.clone();
            }
            Self::Confirmed {
                how,
                summary_sha256,
                warnings,
                client,
                ..
            } => {
                put("how", (*how).into());
                put("summary_sha256", summary_sha256.clone().into());
                put("warnings", warnings.clone().into());
                put_client(&mut map, client.as_ref());
            }
            Self::Close { begun, details, .. } => {
                map.clone_from(details);
                map.insert("begun".into(), (*begun).into());
            }
            Self::CardInserted { path, .. } => put("card_file", path.clone().into()),
            Self::CardErased { path, error, .. } => {
                put("card_file", path.clone().into());
                put("erased", error.is_none().into());
                if let Some(error) = error {
                    put("error", error.clone().into());
                }
            }
            Self::CardAccepted {
                path,
                progress,
                client,
                ..
            } => {
                put("card_file", path.clone().into());
                put("progress", progress.clone().into());
                put_client(&mut map, client.as_ref());
            }
            Self::CardRefused {
                path,
                reason,
                client,
                ..
            } => {
                put("card_file", path.clone().into());
                put("reason", reason.clone().into());
                put_client(&mut map, client.as_ref());
            }
            Self::WrongPin {
                tries_left,
                during,
                client,
                ..
            } => {
                put("tries_left", (*tries_left).into());
                put("during", during.clone().into());
                put_client(&mut map, client.as_ref());
            }
            Self::PukUsed {
                accepted,
                tries_left,
                ..
            } => {
                put("accepted", (*accepted).into());
                put("puk_tries_left", (*tries_left).into());
            }
            Self::HsmActivationFailed { error } => put("error", error.clone().into()),
            Self::SkrWritten {
                path,
                skr_sha256,
                ksr_sha256,
                schema,
                bundles,
                signers,
            } => {
                put("skr", path.clone().into());
                put("skr_sha256", skr_sha256.clone().into());
                put("ksr_sha256", ksr_sha256.clone().into());
                put("schema", schema.clone().into());
                put("bundles", (*bundles).into());
                put("signers", signers.clone().into());
            }
            Self::EmergencySkrWritten {
                path,
                skr_sha256,
                ksr_sha256,
                standby,
                bundles,
                signers,
            } => {
                put("skr", path.clone().into());
                put("skr_sha256", skr_sha256.clone().into());
                put("ksr_sha256", ksr_sha256.clone().into());
                put("standby", standby.clone().into());
                put("bundles", (*bundles).into());
                put("signers", signers.clone().into());
            }
            Self::KeyGenerated {
                label,
                key_tag,
                ds_sha256,
            } => {
                put("label", label.clone().into());
                put("key_tag", (*key_tag).into());
                put("ds_sha256", ds_sha256.clone().into());
            }
            Self::BackupWritten {
                dir,
                manifest_sha256,
                epoch,
                generation,
            } => {
                put("dir", dir.clone().into());
                put("manifest_sha256", manifest_sha256.clone().into());
                put("epoch", (*epoch).into());
                put("generation", (*generation).into());
            }
            Self::BackupRestored {
                from,
                manifest_sha256,
                epoch,
            } => {
                put("from", from.clone().into());
                put("manifest_sha256", manifest_sha256.clone().into());
                put("epoch", (*epoch).into());
            }
            Self::KeyTaken {
                label,
                key_tag,
                ds_sha256,
                origin,
                accepted,
            } => {
                put("label", label.clone().into());
                put("key_tag", (*key_tag).into());
                put("ds_sha256", ds_sha256.clone().into());
                put("origin", origin.clone().into());
                if let Some(reason) = accepted {
                    put("accept_imported", reason.clone().into());
                }
            }
            Self::PolicyWritten { sha256, change } => {
                put("policy_sha256", sha256.clone().into());
                put("change", change.clone().into());
            }
            Self::CardsIssued { generation, cards } => {
                put("generation", (*generation).into());
                put(
                    "cards",
                    cards
                        .iter()
                        .map(|(officer, serial)| serde_json::json!({"officer": officer, "serial": serial}))
                        .collect::<Vec<_>>()
                        .into(),
                );
            }
            Self::GenerationCommitted {
                generation,
                roster_digest,
            } => {
                put("generation", (*generation).into());
                put("roster_digest", roster_digest.clone().into());
            }
            Self::StaleFilesRemoved { files } => put("files", files.clone().into()),
            Self::StateSealed {
                epoch,
                anchor,
                policy_sha256,
                roster_sha256,
            } => {
                put("epoch", (*epoch).into());
                put("anchor", (*anchor).into());
                put("policy_sha256", policy_sha256.clone().into());
                put("roster_sha256", roster_sha256.clone().into());
            }
            Self::KsrSubmitted {
                id,
                ksr_sha256,
                warnings,
                client,
            } => {
                put("ksr", id.clone().into());
                put("ksr_sha256", ksr_sha256.clone().into());
                put("warnings", warnings.clone().into());
                put_client(&mut map, Some(client));
            }
            Self::KsrRefused {
                ksr_sha256,
                codes,
                client,
            } => {
                put("ksr_sha256", ksr_sha256.clone().into());
                put("codes", codes.clone().into());
                put_client(&mut map, Some(client));
            }
            Self::RequestRefused {
                request,
                reason,
                client,
            } => {
                put("request", (*request).into());
                put("reason", reason.clone().into());
                put_client(&mut map, Some(client));
            }
            Self::AttemptExpired { presented } => put("presented", (*presented).into()),
            Self::FaultInjected { fault } => put("fault", (*fault).into()),
            Self::Transfer {
                details, client, ..
            } => {
                for (key, value) in details {
                    map.insert(key.clone(), value.clone());
                }
                put_client(&mut map, client.as_ref());
            }
            Self::PinChanged { .. }
            | Self::HsmActivated
            | Self::HsmDeactivated
            | Self::ServiceStopped => {}
        }
        map
    }
}

/// A remote client as the log records it: the certificate's subject, role
/// and fingerprint.
fn put_client(map: &mut Map<String, Value>, client: Option<&Client>) {
    if let Some(client) = client {
        map.insert("subject".into(), format!("CN={}", client.name).into());
        map.insert("role".into(), client.role.clone().into());
        map.insert("fingerprint".into(), client.fingerprint.clone().into());
    }
}

//------------ Trail ---------------------------------------------------------

/// How many of the last entries are kept in memory.
const RECENT: usize = 32;

/// The operation open in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOperation {
    /// Which.
    pub operation: OperationKind,
    /// The sequence number of its opening entry.
    pub begun: u64,
}

/// The open log, shared between the ceremony and its abort handle.
pub(crate) struct Trail {
    log: AuditLog,
    clock: Clock,
    /// The last entries, for the witness page.
    recent: std::collections::VecDeque<Entry>,
    open: Option<OpenOperation>,
    /// The process is being stopped: nothing more is appended after the
    /// closing entry an abort wrote.
    aborted: bool,
}

/// A handle to the trail.
pub(crate) type SharedTrail = Arc<Mutex<Trail>>;

/// Locks the trail; a panic elsewhere does not stop the recording.
pub(crate) fn lock(trail: &SharedTrail) -> MutexGuard<'_, Trail> {
    trail.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Trail {
    /// Opens the log (made if absent) after verifying its chain, and finds
    /// the operation a killed process left open, if any.
    pub fn open(path: &Path, clock: Clock) -> Result<(Self, Option<OpenOperation>), Error> {
        let log = AuditLog::open(path)?;
        let entries = hsm::read_audit_log(path).unwrap_or_default();
        let left_open = open_operation(&entries);
        let recent = entries.into_iter().rev().take(RECENT).rev().collect();
        Ok((
            Self {
                log,
                clock,
                recent,
                open: None,
                aborted: false,
            },
            left_open,
        ))
    }

    /// Appends an event, synced before this returns.
    pub fn record(&mut self, event: &Event) -> Result<Entry, Error> {
        if self.aborted {
            return Err(Error::Internal(
                "the operation was aborted; nothing more is recorded".into(),
            ));
        }
        let time = self.clock.wall().to_string();
        let entry = self
            .log
            .append(&time, &event.name(), event.actor(), event.details())?;
        self.recent.push_back(entry.clone());
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        Ok(entry)
    }

    /// The last entries, oldest first.
    pub fn recent(&self) -> Vec<Entry> {
        self.recent.iter().cloned().collect()
    }

    /// Opens an operation.
    pub fn begin(
        &mut self,
        operation: OperationKind,
        details: Map<String, Value>,
    ) -> Result<OpenOperation, Error> {
        if let Some(open) = self.open {
            return Err(Error::Internal(format!(
                "{} is still open; one operation at a time",
                open.operation
            )));
        }
        let entry = self.record(&Event::Begin { operation, details })?;
        let open = OpenOperation {
            operation,
            begun: entry.seq,
        };
        self.open = Some(open);
        Ok(open)
    }

    /// Closes the open operation, if it is `operation`.
    pub fn close(
        &mut self,
        open: OpenOperation,
        outcome: Outcome,
        details: Map<String, Value>,
    ) -> Result<Entry, Error> {
        if self.open != Some(open) {
            return Err(Error::Internal(format!(
                "{} (entry {}) is not the open operation",
                open.operation, open.begun
            )));
        }
        let entry = self.record(&Event::Close {
            operation: open.operation,
            outcome,
            begun: open.begun,
            details,
        })?;
        self.open = None;
        Ok(entry)
    }

    /// Closes a killed process's operation as interrupted.
    pub fn close_interrupted(&mut self, left: OpenOperation) -> Result<(), Error> {
        self.record(&Event::Close {
            operation: left.operation,
            outcome: Outcome::Interrupted,
            begun: left.begun,
            details: Map::new(),
        })
        .map(drop)
    }

    /// The operation open now.
    pub fn current(&self) -> Option<OpenOperation> {
        self.open
    }

    /// The hash of the last entry, for the witnesses' minutes.
    pub fn head(&self) -> String {
        self.log.head().to_owned()
    }

    /// Closes the open operation as aborted (a signal), and records
    /// nothing after it.
    pub fn abort(&mut self, reason: &str) {
        if let Some(open) = self.open {
            let mut details = Map::new();
            details.insert("reason".into(), reason.into());
            let _ = self.close(open, Outcome::Aborted, details);
        }
        self.aborted = true;
    }
}

/// The operation an entry list leaves open: an opening with no closing
/// entry naming it.
fn open_operation(entries: &[Entry]) -> Option<OpenOperation> {
    let mut open = None;
    for entry in entries {
        if let Some(name) = entry.event.strip_suffix("-begin")
            && let Some(operation) = OperationKind::ALL
                .iter()
                .find(|operation| operation.name() == name)
        {
            open = Some(OpenOperation {
                operation: *operation,
                begun: entry.seq,
            });
        } else if let Some(begun) = entry.details.get("begun").and_then(Value::as_u64)
            && open.is_some_and(|open| open.begun == begun)
        {
            open = None;
        }
    }
    open
}

//------------ AbortHandle ---------------------------------------------------

/// What a signal handler holds to close the open operation as aborted
/// before the process ends (SIGINT, SIGTERM, a closed terminal).
#[derive(Clone)]
pub struct AbortHandle {
    trail: SharedTrail,
}

impl AbortHandle {
    pub(crate) fn new(trail: SharedTrail) -> Self {
        Self { trail }
    }

    /// Records the open operation's closing as aborted, with the reason
    /// (`SIGINT`, …); nothing is recorded after it.
    pub fn abort(&self, reason: &str) {
        lock(&self.trail).abort(reason);
    }
}

impl std::fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AbortHandle")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a panic in a test is a failing test")]

    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = OperationKind::ALL.iter().map(|kind| kind.name()).collect();
        names.extend(Outcome::ALL.iter().map(|outcome| outcome.name()));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn a_left_open_operation_is_found_and_a_closed_one_is_not() {
        let entry = |seq: u64, event: &str, begun: Option<u64>| {
            let mut details = Map::new();
            if let Some(begun) = begun {
                details.insert("begun".into(), begun.into());
            }
            Entry {
                seq,
                time: String::new(),
                event: event.into(),
                actor: None,
                details,
                prev: String::new(),
            }
        };
        let closed = [
            entry(1, "sign-begin", None),
            entry(2, "card-accepted", None),
            entry(3, "sign-done", Some(1)),
        ];
        assert_eq!(open_operation(&closed), None);
        let left = [
            entry(1, "sign-begin", None),
            entry(2, "sign-done", Some(1)),
            entry(3, "keygen-begin", None),
            entry(4, "hsm-activated", None),
        ];
        assert_eq!(
            open_operation(&left),
            Some(OpenOperation {
                operation: OperationKind::Keygen,
                begun: 3
            })
        );
    }
}

/// The names of the air gap's events ([`Event::Transfer`]).
pub mod transfer_event {
    /// The intake was made.
    pub const INTAKE_INIT: &str = "intake-init";
    /// The intake wrote a transfer set to a medium.
    pub const EXPORTED: &str = "transfer-exported";
    /// The intake refused to export.
    pub const EXPORT_REFUSED: &str = "export-refused";
    /// The signer verified a transfer set (signature, hashes).
    pub const VERIFIED: &str = "transfer-verified";
    /// A transfer set was refused at this hop.
    pub const REFUSED: &str = "transfer-refused";
    /// The room's service was given a transfer set by the administrator.
    pub const LOADED: &str = "transfer-loaded";
    /// The words read over the phone matched.
    pub const OOB_CHECKED: &str = "oob-checked";
    /// The signer wrote the SKR and its manifest to the medium.
    pub const SKR_TO_MEDIA: &str = "skr-written-to-media";
    /// The intake imported an SKR from a medium.
    pub const IMPORTED: &str = "skr-imported";
    /// The intake refused an import.
    pub const IMPORT_REFUSED: &str = "import-refused";
    /// The ZSK operator fetched an SKR.
    pub const FETCHED: &str = "skr-fetched";
}

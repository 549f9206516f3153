//! The ceremony room's service, without the HTTP: the administrator loads
//! a transfer set from the medium (verified against the pinned intake key
//! and checked; the ZSK operator never reaches this service, which runs
//! on the room's own network), and confirms it with the KSR's words read
//! over the phone, which prepares its signing (every check without a
//! private key) and opens an activation attempt bound to that operation's
//! summary; the
//! officers present from their own terminals, their shares sealed to the
//! attempt; at k the same `sign` flow as at one terminal activates the HSM,
//! signs, writes the SKR and seals. Officers cannot present before an
//! operation is confirmed: their consent is to that operation only.
//!
//! Everything here is synchronous and behind one lock; the binary's HTTP
//! layer only translates, and decides the status codes of
//! [`ServiceError`].

pub mod wire;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ksr::{DocumentRole, KsrDocument, Severity};
use p256::ecdsa::Signature;
use quorum::{Presentation, Refusal, SealedShare, SessionKey};
use sha2::{Digest as _, Sha256};

use crate::audit::{CardRef, Client, Event};
use crate::cards::LocalCard;
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::document::Document;
use crate::error::Error;
use crate::flow::{Accepted, Confirmation, Confirmed, Refused};
use crate::inspect::check_ksr;
use crate::media::{Hop, TransferSet, Verified};
use crate::oob::Positions;
use crate::ops::{MediaSignRequest, MediaSource, Sign};
use crate::report::Report;
use wire::{
    AuditLine, KsrRecord, KsrState, LoadAnswer, PresentAnswer, PresentRequest, REFUSED_PREFIX,
    SessionOffer, SignRequest as Confirm, SigningProgress, Status, WrongPinNotice,
};

/// How many audit entries the witnesses see.
const AUDIT_TAIL: usize = 14;

//------------ ServiceError --------------------------------------------------

/// Why the service refused a request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such KSR.
    #[error("{0}")]
    NotFound(String),
    /// Not now: another operation, the wrong state, another hash.
    #[error("{0}")]
    Conflict(String),
    /// The client may not do this with that card.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The transfer set or the words heard were refused.
    #[error("{0}")]
    Transfer(String),
    /// The KSR (or its signing) failed its checks.
    #[error("{message}")]
    Refused {
        /// One sentence.
        message: String,
        /// The findings.
        report: Report,
    },
    /// The service is stopping.
    #[error("the service is stopping")]
    Stopping,
    /// The service itself failed (the log, the store).
    #[error(transparent)]
    Failed(#[from] Error),
}

//------------ Settings ------------------------------------------------------

/// What the service is started with.
pub struct Settings {
    /// How long an activation attempt stays open.
    pub activation_timeout: Duration,
    /// The instant the checks use (`--now`); the clock without it.
    pub now: Option<ksr::Timestamp>,
    /// A rehearsal's exercise status file, shown on the witness page.
    pub exercise: Option<std::path::PathBuf>,
}

/// The largest exercise status file read.
const MAX_EXERCISE_STATUS: u64 = 64 * 1024;

/// The exercise's status, as its file says now (nothing when it is
/// missing, too large or not one).
fn exercise_view(path: &std::path::Path) -> Option<wire::ExerciseView> {
    use std::io::Read as _;
    // Only a regular file: a FIFO would block the service's tick.
    if !std::fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut text = Vec::new();
    file.take(MAX_EXERCISE_STATUS).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

//------------ Service -------------------------------------------------------

/// A loaded KSR, with its transfer set while the service holds it.
struct Stored {
    record: KsrRecord,
    transfer: Option<Loaded>,
}

/// A transfer set the administrator loaded, and the positions of the words
/// asked for it.
struct Loaded {
    set: TransferSet,
    positions: Positions,
}

/// The operation the open attempt is for.
struct Pending {
    id: String,
    confirmed: Confirmed<Sign>,
    key: SessionKey,
    transfer: Verified,
}

struct Core {
    ceremony: Ceremony,
    ksrs: BTreeMap<String, Stored>,
    pending: Option<Pending>,
    attempt: u64,
    signing: Option<SigningProgress>,
    /// The progress of the attempt that completed the quorum, while its
    /// operation runs (the session has wiped its own).
    completed: Option<quorum::Progress>,
    done: bool,
    stopping: bool,
}

/// The service.
pub struct Service {
    settings: Settings,
    core: Mutex<Core>,
    /// The status last published, which the signing job updates without
    /// the core's lock.
    status: Mutex<Status>,
    publish: Box<dyn Fn(&Status) + Send + Sync>,
    /// The signing thread, joined on shutdown.
    job: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Service {
    /// Starts the service on an open ceremony: its KSR store
    /// (`DIR/service`) is read, and `publish` is told every status change.
    ///
    /// # Errors
    ///
    /// The store or the log cannot be used.
    pub fn start(
        ceremony: Ceremony,
        settings: Settings,
        publish: Box<dyn Fn(&Status) + Send + Sync>,
    ) -> Result<Arc<Self>, Error> {
        let store = ceremony.layout().service();
        crate::process::private_dir(&store)?;
        let ksrs = load_store(ceremony.layout(), ceremony.policy().config())?;
        let mut details = serde_json::Map::new();
        details.insert("threshold".into(), ceremony.roster().threshold().into());
        details.insert("officers".into(), ceremony.roster().officers().len().into());
        details.insert(
            "last_skr".into(),
            ceremony
                .chain()
                .last_skr
                .as_ref()
                .map(|last| last.sha256.clone())
                .into(),
        );
        if let Some(exercise) = &settings.exercise {
            if !ceremony.is_rehearsal() {
                return Err(Error::Production(
                    "--exercise shows an exercise on the witness page: only a rehearsal ceremony runs one".into(),
                ));
            }
            details.insert("exercise".into(), exercise.display().to_string().into());
        }
        ceremony.record(&Event::ServiceStarted { details })?;
        let service = Arc::new(Self {
            settings,
            core: Mutex::new(Core {
                ceremony,
                ksrs,
                pending: None,
                attempt: 0,
                signing: None,
                completed: None,
                done: false,
                stopping: false,
            }),
            status: Mutex::new(Status::default()),
            publish,
            job: Mutex::new(None),
        });
        service.publish(&service.lock());
        Ok(service)
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The attempt open for the confirmed operation, for an officer.
    ///
    /// # Errors
    ///
    /// No operation awaits the quorum.
    pub fn offer(&self) -> Result<SessionOffer, ServiceError> {
        let core = self.lock();
        let pending = core.pending.as_ref().ok_or_else(no_operation)?;
        let challenge = pending.confirmed.challenge();
        let progress = pending.confirmed.progress();
        Ok(SessionOffer {
            attempt: core.attempt,
            summary: pending.confirmed.summary().clone(),
            nonce: hex::encode(challenge.nonce),
            generation: challenge.generation,
            roster_digest: hex::encode(challenge.roster_digest),
            session_key: hex::encode(pending.key.public_key()),
            presented: progress.presented,
            threshold: progress.threshold,
        })
    }

    /// A card presented from an officer's terminal. The client must be the
    /// card's officer; the share opens only with this attempt's key; the
    /// quorum crate's rules apply, with the card's signature over the
    /// confirmed operation's digest. At the threshold the operation runs.
    ///
    /// # Errors
    ///
    /// Malformed (400), another officer's card (403), stopping, or the log
    /// fails.
    pub fn present(
        self: &Arc<Self>,
        client: &Client,
        request: &PresentRequest,
    ) -> Result<PresentAnswer, ServiceError> {
        let mut core = self.lock();
        let bad = |what: &str| {
            ServiceError::Invalid(format!("{what} is not valid hex of the right length"))
        };
        let nonce: [u8; 32] = decode(&request.nonce).ok_or_else(|| bad("nonce"))?;
        let signature = hex::decode(&request.signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or_else(|| bad("signature"))?;
        let sealed = SealedShare {
            ephemeral: hex::decode(&request.ephemeral_key).map_err(|_| bad("ephemeral_key"))?,
            ciphertext: hex::decode(&request.sealed_share).map_err(|_| bad("sealed_share"))?,
        };
        let serial = request.card_serial.as_str();
        if serial.is_empty() || serial.len() > 64 {
            return Err(ServiceError::Invalid(
                "card_serial must be 1 to 64 characters".into(),
            ));
        }
        let officer = core.ceremony.roster().officer_by_card(serial).cloned();
        let card = CardRef {
            serial: serial.to_owned(),
            officer: officer
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |officer| officer.name.clone()),
        };
        let refuse = |core: &mut Core, reason: String| -> Result<PresentAnswer, ServiceError> {
            core.ceremony.record(&Event::CardRefused {
                card: Some(card.clone()),
                path: None,
                reason: reason.clone(),
                client: Some(client.clone()),
            })?;
            if let Some(pending) = &mut core.pending {
                pending.confirmed.note(Err(Refused {
                    card: format!("via {}", client.name),
                    serial: Some(card.serial.clone()),
                    officer: Some(card.officer.clone()),
                    reason: reason.clone(),
                }));
            }
            Ok(answer(core, Some(reason)))
        };
        if let Some(officer) = &officer
            && officer.name != client.name
        {
            let reason = format!(
                "{officer}: presented with the certificate of {}, not its officer's",
                client.name
            );
            refuse(&mut core, reason.clone())?;
            return Err(ServiceError::Forbidden(reason));
        }
        if core.stopping {
            return Err(ServiceError::Stopping);
        }
        let named = officer
            .as_ref()
            .map_or_else(|| format!("card {serial:?}"), ToString::to_string);
        let Some(pending) = core.pending.as_ref().filter(|_| core.signing.is_none()) else {
            let reason = if core.signing.is_some() {
                format!("{named}: the quorum is already complete; signing is under way")
            } else {
                format!(
                    "{named}: no operation awaits the quorum (the administrator confirms a KSR first)"
                )
            };
            let answer = refuse(&mut core, reason)?;
            self.publish(&core);
            return Ok(answer);
        };
        let challenge = pending.confirmed.challenge();
        let result = if nonce != challenge.nonce {
            Err(Refusal::StaleNonce {
                officer: named.clone(),
            }
            .to_string())
        } else {
            match pending.key.open(&sealed, &challenge, serial) {
                Err(err) => Err(format!("{named}: {err}")),
                Ok(share) => pending
                    .confirmed
                    .session()
                    .present(
                        Presentation {
                            card_serial: serial.to_owned(),
                            generation: request.generation,
                            nonce,
                            share,
                            signature,
                        },
                        core.ceremony.clock().instant(),
                    )
                    .map_err(|refusal| match refusal {
                        // Named as the terminal names it: retired, or
                        // never this ceremony's.
                        quorum::Refusal::UnknownCard { card, generation } => {
                            crate::flow::not_enrolled(&core.ceremony, &card, generation)
                        }
                        other => other.to_string(),
                    }),
            }
        };
        let answer = match result {
            Err(reason) => refuse(&mut core, reason)?,
            Ok(progress) => {
                core.ceremony.record(&Event::CardAccepted {
                    card: card.clone(),
                    path: None,
                    progress: progress.to_string(),
                    client: Some(client.clone()),
                })?;
                if let Some(pending) = &mut core.pending {
                    pending.confirmed.note(Ok(Accepted {
                        card: format!("via {}", client.name),
                        serial: card.serial.clone(),
                        officer: card.officer.clone(),
                    }));
                }
                if progress.complete {
                    core.completed = Some(progress);
                    self.start_signing(&mut core);
                }
                answer(&core, None)
            }
        };
        self.publish(&core);
        Ok(answer)
    }

    /// An officer's card refused a PIN typed at their own terminal.
    ///
    /// # Errors
    ///
    /// Another officer's card (403), or the log fails.
    pub fn wrong_pin(&self, client: &Client, notice: &WrongPinNotice) -> Result<(), ServiceError> {
        let core = self.lock();
        let officer = core
            .ceremony
            .roster()
            .officer_by_card(&notice.card_serial)
            .filter(|officer| officer.name == client.name)
            .ok_or_else(|| {
                ServiceError::Forbidden(format!(
                    "card {:?} is not {}'s card in this ceremony",
                    notice.card_serial, client.name
                ))
            })?;
        core.ceremony.record(&Event::WrongPin {
            card: CardRef {
                serial: notice.card_serial.clone(),
                officer: officer.name.clone(),
            },
            tries_left: notice.tries_left,
            during: "present".into(),
            client: Some(client.clone()),
        })?;
        self.publish(&core);
        Ok(())
    }

    /// A transfer set the administrator loaded from the medium: its names
    /// and sizes, the pinned intake key's signature over its manifest, its
    /// hashes, then stages 1 to 4 on its KSR against its previous SKR.
    /// Answers the record and the positions of the words to type as heard.
    ///
    /// # Errors
    ///
    /// The set is refused (by name, recorded), the KSR fails a check (with
    /// the report), another KSR has its id, or the store or the log fails.
    pub fn load(
        &self,
        client: &Client,
        name: &str,
        files: BTreeMap<String, Vec<u8>>,
    ) -> Result<LoadAnswer, ServiceError> {
        let mut core = self.lock();
        let refuse = |core: &Core, err: &crate::media::MediaError| -> ServiceError {
            let recorded = core.ceremony.record(&Event::Transfer {
                event: crate::audit::transfer_event::REFUSED,
                details: crate::ops::details([
                    ("dir", name.into()),
                    ("codes", vec![err.code()].into()),
                    ("reason", err.to_string().into()),
                ]),
                client: Some(client.clone()),
            });
            match recorded {
                Ok(_) => ServiceError::Transfer(err.to_string()),
                Err(logged) => logged.into(),
            }
        };
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            || name.starts_with('.')
        {
            return Err(ServiceError::Invalid(
                "name must be the transfer set's folder name (letters, digits, - _ .)".into(),
            ));
        }
        let key = core.ceremony.chain().intake_key;
        let verified = TransferSet::from_files(
            &std::path::Path::new("upload").join(name),
            files,
            Hop::ToSigner,
        )
        .and_then(|set| {
            let key = key.ok_or(crate::media::MediaError::NoKey)?;
            let verified = set.verify(&key)?;
            Ok((set, verified))
        });
        let (set, verified) = match verified {
            Ok(pair) => pair,
            Err(err) => return Err(refuse(&core, &err)),
        };
        let id = verified.manifest.id.clone();
        let sha256 = verified.ksr.sha256();
        let config = core.ceremony.policy().config().clone();
        let checked = check_ksr(
            &verified.ksr,
            verified.previous.as_ref(),
            &config,
            self.now(&core),
        )?;
        let report = checked.report;
        let Some(documents) = checked.documents.filter(|_| !report.has_errors()) else {
            core.ceremony.record(&Event::KsrRefused {
                ksr_sha256: hex::encode(sha256),
                codes: report.error_codes(),
                client: client.clone(),
            })?;
            return Err(ServiceError::Refused {
                message: "the transfer set's KSR failed its checks: nothing was stored".into(),
                report,
            });
        };
        if let Some(stored) = core.ksrs.get(&id)
            && stored.record.ksr_sha256 != hex::encode(sha256)
        {
            return Err(ServiceError::Conflict(format!(
                "another KSR is stored as {id}; nothing was stored"
            )));
        }
        let path = core
            .ceremony
            .layout()
            .service()
            .join(format!("{id}.{}", verified.ksr.extension()));
        let bytes = verified
            .ksr
            .bytes(DocumentRole::Ksr)
            .map_err(|_| Error::Internal("a checked KSR over the limit".into()))?
            .to_vec();
        if !path.exists() {
            durable::write(&path, &bytes, durable::Replace::Never).map_err(Error::from)?;
        }
        let positions = Positions::choose();
        core.ceremony.record(&Event::Transfer {
            event: crate::audit::transfer_event::LOADED,
            details: crate::ops::details([
                ("transfer", id.clone().into()),
                ("manifest_sha256", verified.manifest_sha256.clone().into()),
                ("ksr_sha256", hex::encode(sha256).into()),
                (
                    "warnings",
                    report
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Warning)
                        .map(|f| f.code.as_str())
                        .collect::<Vec<_>>()
                        .into(),
                ),
                ("positions_asked", positions.as_slice().to_vec().into()),
            ]),
            client: Some(client.clone()),
        })?;
        let mut record = match core.ksrs.get(&id) {
            Some(stored) => stored.record.clone(),
            None => record_of(&id, &documents_ksr(&documents), &verified.ksr, &client.name),
        };
        record.transfer = Some(id.clone());
        let answer = LoadAnswer {
            ksr: shown(&record),
            positions: positions.as_slice().to_vec(),
        };
        core.ksrs.insert(
            id,
            Stored {
                record,
                transfer: Some(Loaded { set, positions }),
            },
        );
        self.publish(&core);
        Ok(answer)
    }

    /// A submitted KSR.
    pub fn ksr(&self, id: &str) -> Option<KsrRecord> {
        self.lock().ksrs.get(id).map(|stored| shown(&stored.record))
    }

    /// The SKR of a signed KSR.
    ///
    /// # Errors
    ///
    /// Unknown, not signed yet, unreadable.
    pub fn skr(&self, id: &str) -> Result<Vec<u8>, ServiceError> {
        let core = self.lock();
        let stored = core
            .ksrs
            .get(id)
            .ok_or_else(|| ServiceError::NotFound(format!("no KSR {id:?}")))?;
        if stored.record.state != KsrState::Signed {
            return Err(ServiceError::Conflict(format!(
                "{id} is not signed (it is {:?})",
                stored.record.state
            )));
        }
        let path = skr_path(&core.ceremony, &stored.record);
        let bytes = std::fs::read(&path).map_err(Error::read(&path))?;
        // The file served is the one signed or verified, not one put in
        // its place since.
        if stored.record.skr_sha256.as_deref() != Some(hex::encode(Sha256::digest(&bytes)).as_str())
        {
            return Err(ServiceError::Conflict(format!(
                "the SKR file of {id} changed since it was signed or verified; it is not served"
            )));
        }
        Ok(bytes)
    }

    /// The administrator confirms a KSR, naming its hash: its signing is
    /// prepared (every check that needs no private key, against the HSM's
    /// public keys) and the activation attempt opens for it.
    ///
    /// # Errors
    ///
    /// Unknown KSR; another operation open, another hash, already signed,
    /// or no previous SKR and no waiver (conflict); a check refuses
    /// (with the findings).
    pub fn confirm(
        &self,
        client: &Client,
        id: &str,
        request: &Confirm,
    ) -> Result<KsrRecord, ServiceError> {
        let mut core = self.lock();
        let refuse = |core: &Core, error: ServiceError| -> ServiceError {
            let recorded = core.ceremony.record(&Event::RequestRefused {
                request: "confirm",
                reason: error.to_string(),
                client: client.clone(),
            });
            match recorded {
                Ok(_) => error,
                Err(err) => err.into(),
            }
        };
        if core.stopping {
            return Err(ServiceError::Stopping);
        }
        if let Some(pending) = &core.pending {
            let error = ServiceError::Conflict(format!(
                "{} is already confirmed; one KSR at a time",
                pending.id
            ));
            return Err(refuse(&core, error));
        }
        let Some(stored) = core.ksrs.get(id) else {
            return Err(refuse(
                &core,
                ServiceError::NotFound(format!("no KSR {id:?}")),
            ));
        };
        if !request
            .ksr_sha256
            .eq_ignore_ascii_case(&stored.record.ksr_sha256)
        {
            // Not the stored hash: the answer would give the words away.
            let error = ServiceError::Conflict(format!(
                "{id} is not the KSR with SHA-256 {} confirmed: nothing was signed",
                request.ksr_sha256
            ));
            return Err(refuse(&core, error));
        }
        if !matches!(stored.record.state, KsrState::Accepted | KsrState::Failed) {
            let error = ServiceError::Conflict(format!("{id} is {:?}", stored.record.state));
            return Err(refuse(&core, error));
        }
        let Some(loaded) = &stored.transfer else {
            let error = ServiceError::Conflict(format!(
                "{id} has no transfer set loaded: load it from the medium (ceremony sign --server … --media MEDIA/{id})"
            ));
            return Err(refuse(&core, error));
        };
        let sign = MediaSignRequest {
            source: MediaSource::Uploaded(loaded.set.clone()),
            first_quarter: request.no_previous_skr,
            output: Some(skr_path(&core.ceremony, &stored.record)),
            schema: request.schema.clone().unwrap_or_else(|| "normal".into()),
            format: None,
            end: None,
            now: self.now(&core),
            // The room's service signs the quarter's SKR; the emergency
            // one is signed at the signer's own terminal (sign --media).
            emergency: None,
        };
        let positions = loaded.positions.clone();
        let as_service_error = |err: Error| match err {
            Error::Refused(report) => ServiceError::Refused {
                message: format!("{REFUSED_PREFIX}{}", report.summary()),
                report,
            },
            transfer @ (Error::Media(_) | Error::Oob(_)) => {
                ServiceError::Transfer(transfer.to_string())
            }
            usage @ (Error::Schema(_)
            | Error::FormatMismatch(_)
            | Error::OutputExists(_)
            | Error::OutputUnwritable { .. }) => ServiceError::Invalid(usage.to_string()),
            other => ServiceError::Failed(other),
        };
        let awaiting =
            crate::ops::prepare_sign_media(&core.ceremony, sign).map_err(as_service_error)?;
        let transfer = awaiting.transfer().clone();
        let heard = awaiting.hear(
            &core.ceremony,
            &positions,
            &request.heard,
            Some(client.clone()),
        );
        let prepared = match heard {
            Ok(prepared) => prepared,
            Err(err) => {
                // The KSR on the medium is not the one read out: the set
                // must be loaded again (new positions), after finding out why.
                if let (Error::Oob(_), Some(stored)) = (&err, core.ksrs.get_mut(id)) {
                    stored.transfer = None;
                    stored.record.transfer = None;
                }
                self.publish(&core);
                return Err(as_service_error(err));
            }
        };
        let key = SessionKey::generate().map_err(|err| Error::Internal(err.to_string()))?;
        let confirmed = prepared.confirm(
            &core.ceremony,
            Confirmation::Remote(client.clone()),
            Some(key.public_key()),
            self.settings.activation_timeout,
        )?;
        // A new operation: the last one's "done" is history now.
        core.done = false;
        core.attempt += 1;
        core.pending = Some(Pending {
            id: id.to_owned(),
            confirmed,
            key,
            transfer,
        });
        let schema = request.schema.clone().unwrap_or_else(|| "normal".into());
        let record = core.ksrs.get_mut(id).map(|stored| {
            stored.record.state = KsrState::Confirmed;
            stored.record.schema = Some(schema);
            stored.record.error = None;
            stored.record.clone()
        });
        self.publish(&core);
        record.ok_or_else(|| ServiceError::NotFound(format!("no KSR {id:?}")))
    }

    /// The administrator withdraws the confirmed operation: the attempt's
    /// shares are wiped and the operation closes as aborted.
    ///
    /// # Errors
    ///
    /// Signing is under way (conflict), or the log fails.
    pub fn reset(&self, client: &Client) -> Result<(), ServiceError> {
        let mut core = self.lock();
        if core.signing.is_some() {
            return Err(ServiceError::Conflict(
                "signing is in progress; it cannot be interrupted".into(),
            ));
        }
        if let Some(pending) = core.pending.take() {
            let reason = format!("withdrawn by {} (session reset)", client.name);
            let closed = pending.confirmed.withdraw(&core.ceremony, &reason);
            if !matches!(closed, Error::NotConfirmed) {
                return Err(closed.into());
            }
            if let Some(stored) = core.ksrs.get_mut(&pending.id) {
                stored.record.state = KsrState::Accepted;
            }
        }
        self.publish(&core);
        Ok(())
    }

    /// Called every second: an attempt past its time closes its operation.
    pub fn tick(&self) {
        let mut core = self.lock();
        let expired = core.signing.is_none()
            && core
                .pending
                .as_ref()
                .is_some_and(|pending| pending.confirmed.has_expired(&core.ceremony));
        if expired && let Some(pending) = core.pending.take() {
            let presented = pending.confirmed.progress().presented;
            let _ = core.ceremony.record(&Event::AttemptExpired { presented });
            let _ = pending.confirmed.expire(&core.ceremony);
            if let Some(stored) = core.ksrs.get_mut(&pending.id) {
                stored.record.state = KsrState::Accepted;
                stored.record.error = Some("the activation attempt expired".into());
            }
            self.publish(&core);
        } else if (core.pending.is_some() && core.signing.is_none())
            || self.settings.exercise.is_some()
        {
            // The open attempt's countdown, for the witnesses (nothing to
            // count while none is open); an exercise's step.
            self.publish(&core);
        }
    }

    /// The audit log's head now (after [`Service::shutdown`], the head the
    /// witnesses write down).
    pub fn audit_head(&self) -> String {
        self.lock().ceremony.audit_head()
    }

    /// Stops: nothing new is taken, a signing job finishes (its SKR written
    /// and recorded), a confirmed operation is withdrawn.
    pub fn shutdown(&self) {
        self.lock().stopping = true;
        let job = self
            .job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(job) = job {
            let _ = job.join();
        }
        let mut core = self.lock();
        if let Some(pending) = core.pending.take() {
            let _ = pending
                .confirmed
                .withdraw(&core.ceremony, "the service stopped");
        }
        let _ = core.ceremony.record(&Event::ServiceStopped);
    }

    /// At k: the same flow as at one terminal, on a thread of its own.
    fn start_signing(self: &Arc<Self>, core: &mut Core) {
        let Some(pending) = &core.pending else {
            return;
        };
        let bundles = pending.confirmed.summary().skr_bundles();
        core.signing = Some(SigningProgress {
            ksr: pending.id.clone(),
            bundle: 0,
            bundles,
        });
        if let Some(stored) = core.ksrs.get_mut(&pending.id) {
            stored.record.state = KsrState::Signing;
        }
        let service = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("signing".into())
            .spawn(move || service.sign());
        match spawned {
            Ok(handle) => {
                *self.job.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
            }
            Err(err) => {
                if let Some(pending) = core.pending.take() {
                    let _ = pending
                        .confirmed
                        .withdraw(&core.ceremony, &format!("cannot start signing: {err}"));
                }
                core.signing = None;
            }
        }
    }

    /// The signing job: activate, sign, write, seal, record.
    fn sign(&self) {
        let mut core = self.lock();
        let Some(pending) = core.pending.take() else {
            return;
        };
        let id = pending.id.clone();
        let transfer = pending.transfer.clone();
        let result = {
            let Core { ceremony, .. } = &mut *core;
            let clock = ceremony.clock().clone();
            pending.confirmed.activate(ceremony).and_then(|activated| {
                let status = &self.status;
                let publish = &self.publish;
                let active_since = clock.instant();
                activated.run(&mut |done, total| {
                    let mut status = status.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(signing) = &mut status.signing {
                        signing.bundle = done;
                        signing.bundles = total;
                    }
                    status.attempt_seconds_left = None;
                    status.hsm_active_seconds = Some(
                        clock
                            .instant()
                            .saturating_duration_since(active_since)
                            .as_secs(),
                    );
                    status.hsm_active = true;
                    status.phase = "signing".into();
                    publish(&status);
                })
            })
        };
        core.signing = None;
        core.completed = None;
        match result {
            Ok(done) => {
                core.done = true;
                let manifest = crate::ops::skr_manifest(
                    &transfer,
                    &done,
                    core.ceremony.clock().wall().to_string(),
                );
                if let Err(err) = crate::ops::keep_skr_manifest(&core.ceremony, &manifest) {
                    let _ = core.ceremony.record(&Event::RequestRefused {
                        request: "keep manifest-skr.json",
                        reason: err.to_string(),
                        client: Client {
                            name: "service".into(),
                            role: "service".into(),
                            fingerprint: String::new(),
                        },
                    });
                }
                if let Some(stored) = core.ksrs.get_mut(&id) {
                    stored.record.skr_manifest = Some(manifest);
                    stored.transfer = None;
                    stored.record.state = KsrState::Signed;
                    stored.record.skr_sha256 = Some(done.output.skr_sha256.clone());
                    stored.record.skr_pgp_words =
                        Some(ksr::pgp_words(&Sha256::digest(&done.output.bytes)));
                }
            }
            Err(err) => {
                let error = match &err {
                    Error::Refused(report) => format!("{REFUSED_PREFIX}{}", report_codes(report)),
                    other => format!("signing failed (the audit log has the reason): {other}"),
                };
                if let Some(stored) = core.ksrs.get_mut(&id) {
                    stored.record.state = KsrState::Failed;
                    stored.record.error = Some(error);
                }
            }
        }
        self.publish(&core);
    }

    /// The instant the checks use.
    fn now(&self, core: &Core) -> Now {
        match self.settings.now {
            Some(time) => Now { time, given: true },
            None => Now {
                time: core.ceremony.clock().wall(),
                given: false,
            },
        }
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the status to the witnesses.
    fn publish(&self, core: &Core) {
        let mut status = status_of(core);
        if let Some(path) = &self.settings.exercise {
            status.exercise = exercise_view(path);
        }
        let mut last = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if *last != status {
            *last = status;
            (self.publish)(&last);
        }
    }
}

//------------ The officer's side --------------------------------------------

/// What an officer's terminal sends for an offer, from a card whose PIN
/// was checked: the challenge is made here from the offer, with the digest
/// of the summary as the officer was shown it (so a misstated summary
/// signs nothing), the card signs it, and its share is sealed to the
/// attempt's key (a fresh ephemeral key; the share itself never leaves in
/// clear).
///
/// # Errors
///
/// The offer is malformed, or the card does not answer.
pub fn presentation(card: &mut LocalCard, offer: &SessionOffer) -> Result<PresentRequest, Error> {
    let malformed = |what: &str| Error::Internal(format!("the service sent a malformed {what}"));
    let session_key = hex::decode(&offer.session_key).map_err(|_| malformed("session key"))?;
    let challenge = quorum::Challenge {
        nonce: decode(&offer.nonce).ok_or_else(|| malformed("nonce"))?,
        generation: offer.generation,
        roster_digest: decode(&offer.roster_digest).ok_or_else(|| malformed("roster digest"))?,
        operation: offer.summary.digest(),
        channel: session_key.clone(),
    };
    let presentation = card.present(&challenge).map_err(|reason| Error::CardFile {
        path: card.path().to_owned(),
        reason,
    })?;
    let sealed = SealedShare::seal(
        &presentation.share,
        &session_key,
        &challenge,
        &presentation.card_serial,
    )
    .map_err(|err| Error::Internal(format!("sealing the share: {err}")))?;
    Ok(PresentRequest {
        nonce: offer.nonce.clone(),
        card_serial: presentation.card_serial.clone(),
        generation: presentation.generation,
        signature: hex::encode(presentation.signature.to_bytes()),
        ephemeral_key: hex::encode(&sealed.ephemeral),
        sealed_share: hex::encode(&sealed.ciphertext),
    })
}

/// The refusal of a presentation with no operation to present for.
fn no_operation() -> ServiceError {
    ServiceError::Conflict(
        "no operation awaits the quorum: the administrator confirms a KSR first (ceremony sign --server)".into(),
    )
}

/// The answer to a presentation, with the attempt's progress.
fn answer(core: &Core, refusal: Option<String>) -> PresentAnswer {
    let progress = core
        .pending
        .as_ref()
        .map(|pending| pending.confirmed.progress());
    let threshold = core.ceremony.roster().threshold();
    PresentAnswer {
        accepted: refusal.is_none(),
        refusal,
        presented: progress.as_ref().map_or(0, |p| p.presented),
        threshold,
        who: progress.as_ref().map(|p| p.who.clone()).unwrap_or_default(),
        complete: progress.as_ref().is_some_and(|p| p.complete),
    }
}

/// The error codes of a refusal, with their messages.
fn report_codes(report: &Report) -> String {
    report
        .findings
        .iter()
        .filter(|finding| finding.is_error())
        .map(|finding| format!("{} {}", finding.code.as_str(), finding.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a KSR's SKR is kept: beside it, in its format.
fn skr_path(ceremony: &Ceremony, record: &KsrRecord) -> PathBuf {
    ceremony
        .layout()
        .service()
        .join(format!("{}.skr.{}", record.id, record.extension()))
}

/// A record as the service shows it: until the words read over the phone
/// were checked (a KSR loaded, not yet confirmed), without the KSR's hash,
/// so that nobody types the words from a screen or a response.
fn shown(record: &KsrRecord) -> KsrRecord {
    let mut shown = record.clone();
    if shown.state == KsrState::Accepted {
        shown.ksr_sha256 = String::new();
        shown.ksr_pgp_words = String::new();
    }
    shown
}

/// The KSR of a pair of documents.
pub(crate) fn documents_ksr(documents: &ksr::Documents) -> (String, String, usize, ksr::Format) {
    (
        documents.id().to_owned(),
        documents.domain().to_string(),
        documents.bundle_count(),
        documents.format(),
    )
}

/// The record of a stored KSR.
pub(crate) fn record_of(
    id: &str,
    (request_id, domain, bundles, format): &(String, String, usize, ksr::Format),
    document: &Document,
    by: &str,
) -> KsrRecord {
    let sha256 = document.sha256();
    KsrRecord {
        id: id.to_owned(),
        format: format.to_string(),
        request_id: request_id.clone(),
        domain: domain.clone(),
        bundles: *bundles,
        ksr_sha256: hex::encode(sha256),
        ksr_pgp_words: ksr::pgp_words(&sha256),
        submitted_by: by.to_owned(),
        state: KsrState::Accepted,
        schema: None,
        skr_sha256: None,
        skr_pgp_words: None,
        error: None,
        transfer: None,
        skr_manifest: None,
    }
}

/// The KSRs stored by an earlier run of the service, with their SKRs.
fn load_store(
    layout: &crate::layout::Layout,
    config: &ksr::Config,
) -> Result<BTreeMap<String, Stored>, Error> {
    let store = &layout.service();
    let mut ksrs = BTreeMap::new();
    let entries = std::fs::read_dir(store).map_err(Error::read(store))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let Some(id) = name
            .strip_suffix(".xml")
            .or_else(|| name.strip_suffix(".txt"))
            .filter(|id| id.starts_with("ksr-") && !id.contains('.'))
        else {
            continue;
        };
        let document = Document::read(&path)?;
        let Ok(ksr) = document.parse(DocumentRole::Ksr, |bytes, _| KsrDocument::parse(bytes))
        else {
            continue;
        };
        let summary = (
            ksr.id().to_owned(),
            ksr.domain().to_string(),
            ksr.bundle_count(),
            ksr.format(),
        );
        let mut record = record_of(id, &summary, &document, "an earlier run");
        let extension = if ksr.format() == ksr::Format::Xml {
            "xml"
        } else {
            "txt"
        };
        let skr = store.join(format!("{id}.skr.{extension}"));
        if skr.exists() {
            // Anyone who can write the folder can put a file here: it is
            // served as signed only if it answers its KSR and every bundle
            // carries a valid signature by a KSK the policy pins.
            let skr_document = Document::read(&skr)?;
            let checked = crate::inspect::check_skr(
                &crate::inspect::SkrCheck {
                    skr: &skr_document,
                    ksr: Some(&document),
                    previous: None,
                    schema: None,
                    anchor: crate::inspect::Anchor::Pins,
                },
                config,
            )?;
            if checked.report.has_errors() {
                record.state = KsrState::Failed;
                record.error = Some(format!(
                    "the stored SKR {} does not verify against its KSR and the policy's KSKs ({}): it was planted or altered, and is not served",
                    skr.display(),
                    checked.report.error_codes().join(", ")
                ));
            } else {
                let sha256 = skr_document.sha256();
                record.state = KsrState::Signed;
                record.skr_sha256 = Some(hex::encode(sha256));
                record.skr_pgp_words = Some(ksr::pgp_words(&sha256));
            }
        }
        if let Some(sha256) = record.skr_sha256.as_deref() {
            record.skr_manifest = std::fs::read(crate::ops::kept_manifest_path(layout, sha256))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .filter(|manifest: &crate::media::SkrManifest| {
                    record.skr_sha256.as_deref() == Some(manifest.skr_sha256.as_str())
                });
        }
        ksrs.insert(
            id.to_owned(),
            Stored {
                record,
                transfer: None,
            },
        );
    }
    Ok(ksrs)
}

/// The status the witnesses see.
fn status_of(core: &Core) -> Status {
    let roster = core.ceremony.roster();
    let progress = core.completed.clone().or_else(|| {
        core.pending
            .as_ref()
            .map(|pending| pending.confirmed.progress())
    });
    let presented = progress.as_ref().map_or(0, |p| p.presented);
    let (phase, headline) = match (&core.pending, &core.signing) {
        (_, Some(signing)) => (
            "signing",
            format!(
                "HSM active · signing {} · signature {} of {}",
                signing.ksr, signing.bundle, signing.bundles
            ),
        ),
        (Some(pending), None) if presented > 0 => (
            "collecting",
            format!(
                "HSM sealed · {} of {} cards presented for {}",
                presented,
                roster.threshold(),
                pending.id
            ),
        ),
        (Some(pending), None) => (
            "collecting",
            format!(
                "HSM sealed · {} confirmed · waiting for {} of {} officers",
                pending.id,
                roster.threshold(),
                roster.officers().len()
            ),
        ),
        (None, None) if core.done => (
            "done",
            "Signing done · HSM sealed · the next KSR may be confirmed".to_owned(),
        ),
        (None, None) => (
            "sealed",
            "HSM sealed · no operation awaits the quorum".to_owned(),
        ),
    };
    let entries = core.ceremony.recent_entries();
    Status {
        phase: phase.into(),
        headline,
        domain: core
            .ceremony
            .policy()
            .domain()
            .map(|domain| domain.to_string())
            .unwrap_or_default(),
        attempt: core.attempt,
        presented,
        threshold: roster.threshold(),
        officers: roster.officers().len(),
        who: progress.map(|p| p.who).unwrap_or_default(),
        hsm_active: core.signing.is_some(),
        confirmed: core.pending.as_ref().map(|pending| pending.id.clone()),
        summary_sha256: core
            .pending
            .as_ref()
            .map(|pending| hex::encode(pending.confirmed.summary().digest())),
        signing: core.signing.clone(),
        attempt_seconds_left: core
            .pending
            .as_ref()
            .filter(|_| core.signing.is_none())
            .map(|pending| pending.confirmed.time_left(&core.ceremony).as_secs()),
        hsm_active_seconds: None,
        ksrs: core
            .ksrs
            .values()
            .map(|stored| shown(&stored.record))
            .collect(),
        audit: entries
            .iter()
            .skip(entries.len().saturating_sub(AUDIT_TAIL))
            .map(audit_line)
            .collect(),
        audit_head_pgp_words: ksr::pgp_words(
            &hex::decode(core.ceremony.audit_head()).unwrap_or_default(),
        ),
        audit_head: core.ceremony.audit_head(),
        exercise: None,
    }
}

fn audit_line(entry: &hsm::Entry) -> AuditLine {
    let via = entry
        .details
        .get("subject")
        .and_then(|subject| subject.as_str())
        .map(|subject| subject.trim_start_matches("CN=").to_owned());
    let who = match (&entry.actor, via) {
        (Some(actor), Some(via)) => format!("{} (card {}) via {via}", actor.officer, actor.card),
        (Some(actor), None) => format!("{} (card {})", actor.officer, actor.card),
        (None, Some(via)) => via,
        (None, None) => String::new(),
    };
    AuditLine {
        seq: entry.seq,
        time: entry.time.clone(),
        event: entry.event.clone(),
        who,
    }
}

fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok()?.try_into().ok()
}

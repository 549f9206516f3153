//! The ceremony as a service: one activation attempt open at a time, the
//! HSM sealed until a quorum of officers has presented from their own
//! terminals, KSRs checked when they are submitted and signed only once the
//! administrator has confirmed and the quorum is present. Everything here
//! is synchronous and behind one lock; the HTTP side only translates.
//!
//! The lock order is `state`, then `trail`: the audit trail never takes
//! the state lock.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ksr::{CheckedKsr, Config, DocumentRole, Request, Severity, Skr};
use p256::ecdsa::Signature;
use quorum::{ActivationSession, Presentation, Refusal, Roster, SealedShare, SessionKey};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::ceremony::Layout;
use crate::ceremony::audit::Audit;
use crate::ceremony::files::{write_atomically, write_skr};
use crate::error::CliError;
use crate::render::{self, Files};
use crate::service::pki::Role;
use crate::service::wire::{
    AuditLine, KsrRecord, KsrState, PresentAnswer, PresentRequest, REFUSED_PREFIX, SessionOffer,
    SignRequest, SigningProgress, Status,
};
use crate::service::worker::{HsmWorker, SignFailure, SignJob};

/// How many audit entries the witnesses see.
const AUDIT_TAIL: usize = 14;

/// What the service is started with.
pub struct Settings {
    /// The ceremony directory.
    pub layout: Layout,
    /// The policy.
    pub config: Arc<Config>,
    /// SKR(n-1) for the chain checks, if the operator gave one.
    pub previous: Option<Arc<Skr>>,
    /// How long an activation attempt stays open.
    pub activation_timeout: Duration,
    /// How long an active HSM waits for a confirmed KSR before it seals.
    pub hsm_idle: Duration,
    /// The instant the checks use (`--now`); the system clock without it.
    pub now: Option<ksr::Timestamp>,
}

/// A client, as its certificate and the allow-list name it.
#[derive(Clone, Debug)]
pub struct Client {
    /// Its name (the certificate's common name when `--init-tls` made it).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of its certificate, hex.
    pub fingerprint: String,
}

impl Client {
    /// `details` with the client as the audit log records it: the
    /// certificate's subject, role and fingerprint.
    fn audited(&self, details: serde_json::Value) -> serde_json::Value {
        let mut map = match details {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        map.insert("subject".into(), format!("CN={}", self.name).into());
        map.insert("role".into(), serde_json::json!(self.role));
        map.insert("fingerprint".into(), self.fingerprint.clone().into());
        serde_json::Value::Object(map)
    }
}

/// A refused request: an HTTP status, a sentence, and sometimes a report.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// What went wrong.
    pub error: String,
    /// The findings, for a refused KSR.
    pub report: Option<serde_json::Value>,
}

impl ApiError {
    /// An error without a report.
    pub fn new(status: u16, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            report: None,
        }
    }
}

impl From<CliError> for ApiError {
    fn from(err: CliError) -> Self {
        Self::new(500, err.to_string())
    }
}

/// The open activation attempt.
struct Attempt {
    number: u64,
    session: ActivationSession,
    key: SessionKey,
}

/// Where the HSM stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Sealed; the attempt collects cards.
    Collecting,
    /// The quorum is complete; the HSM is being activated.
    Activating,
    /// Active since then, waiting for a confirmed KSR.
    Active { since: Instant },
    /// Signing a KSR.
    Signing(SigningProgress),
}

/// A KSR the administrator confirmed.
#[derive(Clone, Debug)]
struct Job {
    ksr: String,
    schema: String,
    waived: bool,
}

/// A submitted KSR.
struct Stored {
    record: KsrRecord,
    bytes: Arc<Vec<u8>>,
}

struct State {
    attempt: Attempt,
    phase: Phase,
    job: Option<Job>,
    ksrs: BTreeMap<String, Stored>,
    /// Whether a signing finished since the service started.
    done: bool,
    /// The progress of the attempt that completed the quorum, while the
    /// HSM it activated is in use (the session has wiped its own).
    completed: Option<quorum::Progress>,
    /// The service is stopping: nothing new is taken.
    stopping: bool,
}

struct Trail {
    audit: Audit,
    tail: VecDeque<AuditLine>,
}

/// The service.
pub struct Service {
    settings: Settings,
    roster: Roster,
    store: PathBuf,
    hsm: HsmWorker,
    state: Mutex<State>,
    trail: Mutex<Trail>,
    status: watch::Sender<Status>,
    /// The signing thread, joined on shutdown.
    signing: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Service {
    /// Opens the ceremony's HSM (sealed), its audit log and the KSR store
    /// (`DIR/service`), and opens the first activation attempt.
    ///
    /// # Errors
    ///
    /// The HSM, the log or the store cannot be opened.
    pub fn start(settings: Settings) -> Result<Arc<Self>, CliError> {
        let (hsm, roster) = HsmWorker::start(&settings.layout)?;
        let store = settings.layout.root().join("service");
        std::fs::create_dir_all(&store).map_err(|source| CliError::Write {
            path: store.clone(),
            source,
        })?;
        let audit = Audit::open(&settings.layout)?;
        let entries = hsm::read_audit_log(&settings.layout.audit()).map_err(CliError::Audit)?;
        let tail = entries
            .iter()
            .skip(entries.len().saturating_sub(AUDIT_TAIL))
            .map(audit_line)
            .collect();
        let ksrs = load_store(&store)?;
        let attempt = new_attempt(&roster, settings.activation_timeout, 1)?;
        let service = Arc::new(Self {
            settings,
            roster,
            store,
            hsm,
            state: Mutex::new(State {
                attempt,
                phase: Phase::Collecting,
                job: None,
                ksrs,
                done: false,
                completed: None,
                stopping: false,
            }),
            trail: Mutex::new(Trail { audit, tail }),
            status: watch::Sender::new(Status::default()),
            signing: Mutex::new(None),
        });
        {
            let state = service.lock();
            service.record(
                "service-started",
                None,
                None,
                serde_json::json!({"threshold": service.roster.threshold(), "officers": service.roster.officers().len(), "previous_skr": service.settings.previous.is_some()}),
            )?;
            service.publish(&state);
        }
        Ok(service)
    }

    /// The status as it changes, for the witnesses.
    pub fn watch(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// The open attempt, for an officer's client.
    pub fn offer(&self) -> SessionOffer {
        let state = self.lock();
        let challenge = state.attempt.session.challenge();
        let progress = state.attempt.session.progress();
        SessionOffer {
            attempt: state.attempt.number,
            nonce: hex::encode(challenge.nonce),
            generation: challenge.generation,
            roster_digest: hex::encode(challenge.roster_digest),
            session_key: hex::encode(state.attempt.key.public_key()),
            presented: progress.presented,
            threshold: progress.threshold,
        }
    }

    /// A card presented from an officer's terminal. The client must be the
    /// officer the card belongs to; the share opens only with this
    /// attempt's key; then the quorum crate's rules apply. At the threshold
    /// the HSM is activated.
    ///
    /// # Errors
    ///
    /// A malformed request (400), a card presented with another officer's
    /// certificate (403), no attempt open (409), or the audit log failing.
    pub fn present(
        self: &Arc<Self>,
        client: &Client,
        request: &PresentRequest,
    ) -> Result<PresentAnswer, ApiError> {
        let mut state = self.lock();
        let bad =
            |what: &str| ApiError::new(400, format!("{what} is not valid hex of the right length"));
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
            return Err(ApiError::new(400, "card_serial must be 1 to 64 characters"));
        }
        let officer = self.roster.officer_by_card(serial);
        if let Some(officer) = officer
            && officer.name != client.name
        {
            let reason = format!(
                "{officer}: presented with the certificate of {}, not its officer's",
                client.name
            );
            self.audit_refusal(client, serial, Some(&officer.name), &reason)?;
            return Err(ApiError::new(403, reason));
        }
        let named = officer.map_or_else(|| format!("card {serial:?}"), ToString::to_string);
        if state.stopping {
            return Err(ApiError::new(503, "the service is stopping"));
        }
        if state.phase != Phase::Collecting {
            let reason =
                format!("{named}: the quorum is already complete; wait for the next attempt");
            self.audit_refusal(client, serial, officer.map(|o| o.name.as_str()), &reason)?;
            return Ok(self.refused(&state, reason));
        }
        let challenge = state.attempt.session.challenge();
        let refusal = if nonce != challenge.nonce {
            Some(
                Refusal::StaleNonce {
                    officer: named.clone(),
                }
                .to_string(),
            )
        } else {
            match state.attempt.key.open(&sealed, &challenge, serial) {
                Err(err) => Some(format!("{named}: {err}")),
                Ok(share) => {
                    let presentation = Presentation {
                        card_serial: serial.to_owned(),
                        generation: request.generation,
                        nonce,
                        share,
                        signature,
                    };
                    match state.attempt.session.present(presentation, Instant::now()) {
                        Err(refusal) => Some(refusal.to_string()),
                        Ok(progress) => {
                            let officer_name = officer.map_or("", |o| o.name.as_str());
                            let details = client.audited(serde_json::json!({"progress": progress.to_string(), "attempt": state.attempt.number}));
                            self.record(
                                "card-accepted",
                                Some((serial, officer_name)),
                                Some(client),
                                details,
                            )?;
                            if progress.complete {
                                self.activate(&mut state, progress.clone())?;
                            }
                            self.publish(&state);
                            return Ok(PresentAnswer {
                                accepted: true,
                                refusal: None,
                                presented: progress.presented,
                                threshold: progress.threshold,
                                who: progress.who,
                                complete: progress.complete,
                            });
                        }
                    }
                }
            }
        };
        let reason = refusal.unwrap_or_default();
        self.audit_refusal(client, serial, officer.map(|o| o.name.as_str()), &reason)?;
        self.publish(&state);
        Ok(self.refused(&state, reason))
    }

    fn refused(&self, state: &State, reason: String) -> PresentAnswer {
        let progress = state.attempt.session.progress();
        PresentAnswer {
            accepted: false,
            refusal: Some(reason),
            presented: progress.presented,
            threshold: progress.threshold,
            who: progress.who,
            complete: progress.complete,
        }
    }

    fn audit_refusal(
        &self,
        client: &Client,
        serial: &str,
        officer: Option<&str>,
        reason: &str,
    ) -> Result<(), ApiError> {
        let details = client.audited(serde_json::json!({"reason": reason}));
        self.record(
            "card-refused",
            Some((serial, officer.unwrap_or("unknown"))),
            Some(client),
            details,
        )?;
        Ok(())
    }

    /// The quorum is complete: the secret goes to the HSM and is wiped.
    fn activate(
        self: &Arc<Self>,
        state: &mut MutexGuard<'_, State>,
        progress: quorum::Progress,
    ) -> Result<(), ApiError> {
        let Some(activated) = state.attempt.session.take_secret(Instant::now()) else {
            // The time limit passed between the last card and now.
            self.next_attempt(state)?;
            self.record(
                "activation-expired",
                None,
                None,
                serde_json::json!({"attempt": state.attempt.number - 1, "presented": progress.presented}),
            )?;
            return Ok(());
        };
        state.completed = Some(progress);
        state.phase = Phase::Activating;
        self.publish(state);
        if let Err(err) = self.hsm.activate(activated) {
            self.next_attempt(state)?;
            self.record(
                "hsm-activation-failed",
                None,
                None,
                serde_json::json!({"error": err}),
            )?;
            return Ok(());
        }
        state.phase = Phase::Active {
            since: Instant::now(),
        };
        // An active HSM that cannot be audited is sealed again.
        let audited = self.record(
            "hsm-activated",
            None,
            None,
            serde_json::json!({"attempt": state.attempt.number}),
        );
        if let Err(err) = audited {
            self.seal(state);
            return Err(err.into());
        }
        self.start_signing(state)
    }

    /// Seals the HSM and opens the next attempt, after a failure that
    /// must not leave it active.
    fn seal(&self, state: &mut State) {
        let _ = self.hsm.deactivate();
        if let Some(job) = state.job.take()
            && let Some(stored) = state.ksrs.get_mut(&job.ksr)
        {
            stored.record.state = KsrState::Accepted;
        }
        let _ = self.next_attempt(state);
    }

    /// Checks and stores a submitted KSR. Answers the record and the report
    /// (with its warnings); a KSR with an error is refused (422) with the
    /// report and is not kept.
    ///
    /// # Errors
    ///
    /// The KSR fails a check (422), or the store or the log fails.
    pub fn submit(
        &self,
        client: &Client,
        bytes: &[u8],
    ) -> Result<(KsrRecord, serde_json::Value, bool), ApiError> {
        let sha256 = Sha256::digest(bytes);
        let id = format!("ksr-{}", hex::encode(sha256.get(..6).unwrap_or_default()));
        let upload = PathBuf::from(format!("{id}.xml"));
        let files = Files::one(&upload);
        let refused = |mut findings: Vec<ksr::Finding>| {
            ksr::sort_findings(&mut findings);
            let report =
                serde_json::to_value(render::report(&files, &findings)).unwrap_or_default();
            let codes: Vec<_> = findings
                .iter()
                .filter(|f| f.is_error())
                .map(|f| f.code.as_str())
                .collect();
            (report, codes)
        };
        let request = match ksr::parse_ksr(bytes, DocumentRole::Ksr) {
            Ok(request) => request,
            Err(findings) => {
                let (report, codes) = refused(findings);
                return Err(self.refuse_ksr(client, &sha256, codes, report)?);
            }
        };
        let checked = CheckedKsr::check(&Request {
            ksr: &request,
            previous: self.settings.previous.as_deref(),
            config: &self.settings.config,
            now: self.now(),
        });
        let mut findings = match checked {
            Ok(checked) => checked.findings().to_vec(),
            Err(findings) => {
                let (report, codes) = refused(findings);
                return Err(self.refuse_ksr(client, &sha256, codes, report)?);
            }
        };
        ksr::sort_findings(&mut findings);
        let report = serde_json::to_value(render::report(&files, &findings)).unwrap_or_default();
        let mut state = self.lock();
        if let Some(stored) = state.ksrs.get(&id) {
            // The id is 48 bits of the hash: the same id must be the same
            // document, or it is refused rather than confused.
            if stored.record.sha256 != hex::encode(sha256) {
                return Err(ApiError::new(
                    409,
                    format!("another KSR is stored as {id}; nothing was stored"),
                ));
            }
            return Ok((stored.record.clone(), report, false));
        }
        let path = self.store.join(&upload);
        write_atomically(&path, bytes, true).map_err(|source| CliError::Write { path, source })?;
        let record = KsrRecord {
            id: id.clone(),
            request_id: request.id.clone(),
            domain: request.domain.to_string(),
            bundles: request.bundles.len(),
            sha256: hex::encode(sha256),
            pgp_words: ksr::pgp_words(&sha256),
            submitted_by: client.name.clone(),
            state: KsrState::Accepted,
            schema: None,
            skr_sha256: None,
            skr_pgp_words: None,
            error: None,
        };
        let warnings: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.code.as_str())
            .collect();
        let details = client.audited(serde_json::json!({
            "ksr": id,
            "ksr_id": request.id,
            "ksr_sha256": record.sha256,
            "warnings": warnings,
        }));
        self.record("ksr-submitted", None, Some(client), details)?;
        state.ksrs.insert(
            id,
            Stored {
                record: record.clone(),
                bytes: Arc::new(bytes.to_vec()),
            },
        );
        self.publish(&state);
        Ok((record, report, true))
    }

    fn refuse_ksr(
        &self,
        client: &Client,
        sha256: &[u8],
        codes: Vec<&str>,
        report: serde_json::Value,
    ) -> Result<ApiError, ApiError> {
        let details = client.audited(serde_json::json!({
            "ksr_sha256": hex::encode(sha256),
            "codes": codes,
        }));
        self.record("ksr-refused", None, Some(client), details)?;
        Ok(ApiError {
            status: 422,
            error: "the KSR failed its checks: nothing was stored".into(),
            report: Some(report),
        })
    }

    /// A submitted KSR.
    pub fn ksr(&self, id: &str) -> Option<KsrRecord> {
        self.lock().ksrs.get(id).map(|stored| stored.record.clone())
    }

    /// The SKR of a signed KSR.
    ///
    /// # Errors
    ///
    /// Unknown (404), not signed yet (409), unreadable (500).
    pub fn skr(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        let state = self.lock();
        let stored = state
            .ksrs
            .get(id)
            .ok_or_else(|| ApiError::new(404, format!("no KSR {id:?}")))?;
        if stored.record.state != KsrState::Signed {
            return Err(ApiError::new(
                409,
                format!("{id} is not signed (it is {:?})", stored.record.state),
            ));
        }
        let path = self.store.join(format!("{id}.skr.xml"));
        std::fs::read(&path).map_err(|source| ApiError::from(CliError::Read { path, source }))
    }

    /// The administrator confirms a KSR: it is signed as soon as the
    /// quorum is present (at once if it is).
    ///
    /// # Errors
    ///
    /// Unknown KSR (404); already signed, another KSR confirmed, or no
    /// previous SKR and no waiver (409); a schema that does not fit (422).
    pub fn confirm(
        self: &Arc<Self>,
        client: &Client,
        id: &str,
        request: &SignRequest,
    ) -> Result<KsrRecord, ApiError> {
        let mut state = self.lock();
        if state.stopping {
            return Err(ApiError::new(503, "the service is stopping"));
        }
        let schema = request.schema.clone().unwrap_or_else(|| "normal".into());
        let stored = state
            .ksrs
            .get(id)
            .ok_or_else(|| ApiError::new(404, format!("no KSR {id:?}")))?;
        if let Some(job) = &state.job {
            return Err(ApiError::new(
                409,
                format!("{} is already confirmed; one KSR at a time", job.ksr),
            ));
        }
        if !request
            .ksr_sha256
            .eq_ignore_ascii_case(&stored.record.sha256)
        {
            return Err(ApiError::new(
                409,
                format!(
                    "{id} has SHA-256 {}, not the {} confirmed: nothing was signed",
                    stored.record.sha256, request.ksr_sha256
                ),
            ));
        }
        if !matches!(stored.record.state, KsrState::Accepted | KsrState::Failed) {
            return Err(ApiError::new(
                409,
                format!("{id} is {:?}", stored.record.state),
            ));
        }
        if self.settings.previous.is_none() && !request.no_previous_skr {
            return Err(ApiError::new(
                409,
                "the service has no previous SKR (serve --previous-skr): confirm with no_previous_skr (ceremony sign --server … --no-previous-skr) for a first quarter",
            ));
        }
        ksr::resolve_schema(&self.settings.config, &schema, stored.record.bundles)
            .map_err(|err| ApiError::new(422, format!("SIGN-SCHEMA: {err}")))?;
        let details = client.audited(serde_json::json!({
            "ksr": id,
            "ksr_sha256": stored.record.sha256,
            "schema": schema,
            "previous_skr_waived": self.settings.previous.is_none(),
        }));
        self.record("sign-confirmed", None, Some(client), details)?;
        state.job = Some(Job {
            ksr: id.to_owned(),
            schema: schema.clone(),
            waived: self.settings.previous.is_none(),
        });
        if let Some(stored) = state.ksrs.get_mut(id) {
            stored.record.state = KsrState::Confirmed;
            stored.record.schema = Some(schema);
            stored.record.error = None;
        }
        self.start_signing(&mut state)?;
        self.publish(&state);
        state
            .ksrs
            .get(id)
            .map(|s| s.record.clone())
            .ok_or_else(|| ApiError::new(404, "gone"))
    }

    /// Starts signing when the HSM is active and a KSR is confirmed.
    fn start_signing(self: &Arc<Self>, state: &mut State) -> Result<(), ApiError> {
        let (Phase::Active { .. }, Some(job)) = (&state.phase, state.job.clone()) else {
            return Ok(());
        };
        let Some(stored) = state.ksrs.get_mut(&job.ksr) else {
            return Ok(());
        };
        stored.record.state = KsrState::Signing;
        let bytes = Arc::clone(&stored.bytes);
        let bundles = stored.record.bundles;
        state.phase = Phase::Signing(SigningProgress {
            ksr: job.ksr.clone(),
            bundle: 0,
            bundles,
        });
        let service = Arc::clone(self);
        match std::thread::Builder::new()
            .name("signing".into())
            .spawn(move || service.sign(&job, &bytes))
        {
            Ok(handle) => {
                *self.signing.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
                Ok(())
            }
            Err(err) => {
                self.seal(state);
                Err(ApiError::new(500, format!("cannot start signing: {err}")))
            }
        }
    }

    /// The signing job, on its own thread: sign, write the SKR, seal the
    /// HSM, open a new attempt.
    fn sign(self: Arc<Self>, job: &Job, bytes: &[u8]) {
        let progress = {
            let service = Arc::clone(&self);
            Box::new(move |bundle, bundles| {
                let mut state = service.lock();
                if let Phase::Signing(progress) = &mut state.phase
                    && progress.bundle != bundle
                {
                    progress.bundle = bundle;
                    progress.bundles = bundles;
                    service.publish(&state);
                }
            })
        };
        let result = self.hsm.sign(SignJob {
            ksr: bytes.to_vec(),
            previous: if job.waived {
                None
            } else {
                self.settings.previous.clone()
            },
            config: Arc::clone(&self.settings.config),
            now: self.now(),
            schema: job.schema.clone(),
            progress,
        });
        let deactivated = self.hsm.deactivate();
        let mut state = self.lock();
        // What the public status says, and what the audit log records.
        let outcome = result
            .map_err(|failure| match failure {
                SignFailure::Rejected(findings) => {
                    let text = format!(
                        "{REFUSED_PREFIX}{}",
                        findings
                            .iter()
                            .filter(|f| f.is_error())
                            .map(|f| format!("{} {}", f.code.as_str(), f.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    (text.clone(), text)
                }
                SignFailure::Signer(err) => (
                    "the HSM failed to sign (the audit log has the reason)".to_owned(),
                    format!("the HSM failed: {err}"),
                ),
            })
            .and_then(|signed| {
                let path = self.store.join(format!("{}.skr.xml", job.ksr));
                write_skr(&path, &signed).map_err(|err| {
                    (
                        "the SKR could not be written (the audit log has the reason)".to_owned(),
                        err.to_string(),
                    )
                })?;
                Ok(signed)
            });
        let mut failed = false;
        let audited = match &outcome {
            Ok(signed) => {
                let sha256 = Sha256::digest(signed.xml.as_bytes());
                if let Some(stored) = state.ksrs.get_mut(&job.ksr) {
                    stored.record.state = KsrState::Signed;
                    stored.record.skr_sha256 = Some(hex::encode(sha256));
                    stored.record.skr_pgp_words = Some(ksr::pgp_words(&sha256));
                }
                self.record(
                    "skr-written",
                    None,
                    None,
                    serde_json::json!({
                        "ksr": job.ksr,
                        "skr_sha256": hex::encode(sha256),
                        "schema": job.schema,
                        "bundles": signed.skr.bundles.len(),
                    }),
                )
            }
            Err((public, detail)) => {
                failed = true;
                if let Some(stored) = state.ksrs.get_mut(&job.ksr) {
                    stored.record.state = KsrState::Failed;
                    stored.record.error = Some(public.clone());
                }
                self.record(
                    "signing-failed",
                    None,
                    None,
                    serde_json::json!({"ksr": job.ksr, "error": detail}),
                )
            }
        };
        let _ = audited.and_then(|_| match &deactivated {
            Ok(()) => self.record("hsm-deactivated", None, None, serde_json::json!({})),
            Err(err) => self.record(
                "hsm-deactivation-failed",
                None,
                None,
                serde_json::json!({"error": err}),
            ),
        });
        state.job = None;
        state.done = !failed || state.done;
        let _ = self.next_attempt(&mut state);
        self.publish(&state);
    }

    /// The administrator starts the activation again: the attempt's shares
    /// are wiped and an active HSM (not signing) is sealed.
    ///
    /// # Errors
    ///
    /// Signing is in progress (409), or the log fails.
    pub fn reset(&self, client: &Client) -> Result<SessionOffer, ApiError> {
        {
            let mut state = self.lock();
            if matches!(state.phase, Phase::Signing(_) | Phase::Activating) {
                return Err(ApiError::new(
                    409,
                    "signing is in progress; it cannot be interrupted",
                ));
            }
            if matches!(state.phase, Phase::Active { .. }) {
                let _ = self.hsm.deactivate();
                self.record(
                    "hsm-deactivated",
                    None,
                    Some(client),
                    client.audited(serde_json::json!({})),
                )?;
            }
            let details = client.audited(serde_json::json!({"attempt": state.attempt.number}));
            self.record("activation-reset", None, Some(client), details)?;
            if let Some(job) = state.job.take()
                && let Some(stored) = state.ksrs.get_mut(&job.ksr)
            {
                stored.record.state = KsrState::Accepted;
            }
            self.next_attempt(&mut state)?;
            self.publish(&state);
        }
        Ok(self.offer())
    }

    /// Called every second: an attempt past its time is replaced, an HSM
    /// left active without a confirmed KSR is sealed.
    pub fn tick(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        let result = match state.phase {
            Phase::Collecting if state.attempt.session.has_expired(now) => {
                let presented = state.attempt.session.progress().presented;
                let recorded = if presented > 0 {
                    self.record(
                        "activation-expired",
                        None,
                        None,
                        serde_json::json!({"attempt": state.attempt.number, "presented": presented}),
                    )
                    .map(drop)
                } else {
                    Ok(())
                };
                recorded.and_then(|()| {
                    self.next_attempt(&mut state)
                        .map_err(|e| CliError::Runtime(e.error))
                })
            }
            Phase::Active { since }
                if state.job.is_none() && now.duration_since(since) >= self.settings.hsm_idle =>
            {
                let _ = self.hsm.deactivate();
                self.record(
                    "hsm-idle-sealed",
                    None,
                    None,
                    serde_json::json!({"idle_seconds": self.settings.hsm_idle.as_secs()}),
                )
                .map(drop)
                .and_then(|()| {
                    self.next_attempt(&mut state)
                        .map_err(|e| CliError::Runtime(e.error))
                })
            }
            _ => Ok(()),
        };
        if let Err(err) = result {
            eprintln!("error: {err}");
        }
        self.publish(&state);
    }

    /// Stops: no presentation or confirmation is taken any more, a signing
    /// job in progress finishes (its SKR written and audited), and the HSM
    /// is sealed.
    pub fn shutdown(&self) {
        self.lock().stopping = true;
        // Without the state lock: the job reports to it while it runs.
        let job = self
            .signing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(job) = job {
            let _ = job.join();
        }
        let _state = self.lock();
        let _ = self.hsm.deactivate();
        let _ = self.record("service-stopped", None, None, serde_json::json!({}));
    }

    /// A new attempt: fresh nonce and session key, HSM sealed.
    fn next_attempt(&self, state: &mut State) -> Result<(), ApiError> {
        state.attempt = new_attempt(
            &self.roster,
            self.settings.activation_timeout,
            state.attempt.number + 1,
        )?;
        state.phase = Phase::Collecting;
        state.completed = None;
        Ok(())
    }

    /// Appends to the audit log and the witnesses' tail.
    fn record(
        &self,
        event: &str,
        actor: Option<(&str, &str)>,
        client: Option<&Client>,
        details: serde_json::Value,
    ) -> Result<hsm::Entry, CliError> {
        let mut trail = self.trail.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = trail.audit.record(event, actor, details)?;
        let mut line = audit_line(&entry);
        if let Some(client) = client {
            line.who = match &entry.actor {
                Some(actor) => format!(
                    "{} (card {}) via {}",
                    actor.officer, actor.card, client.name
                ),
                None => client.name.clone(),
            };
        }
        trail.tail.push_back(line);
        while trail.tail.len() > AUDIT_TAIL {
            trail.tail.pop_front();
        }
        Ok(entry)
    }

    /// Sends the status to every witness, if it changed.
    fn publish(&self, state: &State) {
        let progress = match (&state.phase, &state.completed) {
            (Phase::Collecting, _) | (_, None) => state.attempt.session.progress(),
            (_, Some(completed)) => completed.clone(),
        };
        let (audit, audit_head) = {
            let trail = self.trail.lock().unwrap_or_else(PoisonError::into_inner);
            (
                trail.tail.iter().cloned().collect(),
                trail.audit.head().to_owned(),
            )
        };
        let (phase, headline) = match &state.phase {
            Phase::Collecting if progress.presented > 0 => (
                "collecting",
                format!(
                    "HSM sealed · {} of {} cards presented",
                    progress.presented, progress.threshold
                ),
            ),
            Phase::Collecting if state.done => (
                "done",
                "Signing done · HSM sealed · the next activation may begin".to_owned(),
            ),
            Phase::Collecting => (
                "sealed",
                format!(
                    "HSM sealed · waiting for {} of {} officers",
                    progress.threshold,
                    self.roster.officers().len()
                ),
            ),
            Phase::Activating => (
                "activating",
                "Quorum complete · activating the HSM".to_owned(),
            ),
            Phase::Active { .. } => (
                "active",
                "HSM active · waiting for the administrator to confirm a KSR".to_owned(),
            ),
            Phase::Signing(signing) => (
                "signing",
                format!(
                    "Signing {} · bundle {} of {}",
                    signing.ksr, signing.bundle, signing.bundles
                ),
            ),
        };
        let status = Status {
            phase: phase.into(),
            headline,
            domain: self
                .settings
                .config
                .request_policy
                .acceptable_domains
                .first()
                .cloned()
                .unwrap_or_default(),
            attempt: state.attempt.number,
            presented: progress.presented,
            threshold: progress.threshold,
            officers: self.roster.officers().len(),
            who: progress.who,
            hsm_active: matches!(state.phase, Phase::Active { .. } | Phase::Signing(_)),
            signing: match &state.phase {
                Phase::Signing(signing) => Some(signing.clone()),
                _ => None,
            },
            ksrs: state
                .ksrs
                .values()
                .map(|stored| stored.record.clone())
                .collect(),
            audit,
            audit_head,
        };
        self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                *current = status;
                true
            }
        });
    }

    /// The instant the checks use.
    fn now(&self) -> ksr::Timestamp {
        self.settings.now.unwrap_or_else(|| {
            let seconds = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            ksr::Timestamp::from_unix(u32::try_from(seconds).unwrap_or(u32::MAX))
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new attempt, its challenges bound to its session key.
fn new_attempt(roster: &Roster, timeout: Duration, number: u64) -> Result<Attempt, CliError> {
    let key = SessionKey::generate().map_err(|err| CliError::Runtime(err.to_string()))?;
    Ok(Attempt {
        number,
        session: ActivationSession::new(roster.clone(), timeout, Instant::now())
            .bound_to(key.public_key()),
        key,
    })
}

/// The KSRs stored by an earlier run of the service, with their SKRs.
fn load_store(store: &std::path::Path) -> Result<BTreeMap<String, Stored>, CliError> {
    let read =
        |path: PathBuf| std::fs::read(&path).map_err(|source| CliError::Read { path, source });
    let mut ksrs = BTreeMap::new();
    let entries = std::fs::read_dir(store).map_err(|source| CliError::Read {
        path: store.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_suffix(".xml")
            .filter(|id| id.starts_with("ksr-") && !id.ends_with(".skr"))
        else {
            continue;
        };
        let bytes = read(entry.path())?;
        let Ok(request) = ksr::parse_ksr(&bytes, DocumentRole::Ksr) else {
            continue;
        };
        let sha256 = Sha256::digest(&bytes);
        let skr = store.join(format!("{id}.skr.xml"));
        let skr_sha256 = skr
            .exists()
            .then(|| read(skr).map(|skr| Sha256::digest(&skr)))
            .transpose()?;
        ksrs.insert(
            id.to_owned(),
            Stored {
                record: KsrRecord {
                    id: id.to_owned(),
                    request_id: request.id.clone(),
                    domain: request.domain.to_string(),
                    bundles: request.bundles.len(),
                    sha256: hex::encode(sha256),
                    pgp_words: ksr::pgp_words(&sha256),
                    submitted_by: "an earlier run".into(),
                    state: if skr_sha256.is_some() {
                        KsrState::Signed
                    } else {
                        KsrState::Accepted
                    },
                    schema: None,
                    skr_sha256: skr_sha256.map(hex::encode),
                    skr_pgp_words: skr_sha256.map(|sha| ksr::pgp_words(&sha)),
                    error: None,
                },
                bytes: Arc::new(bytes),
            },
        );
    }
    Ok(ksrs)
}

fn audit_line(entry: &hsm::Entry) -> AuditLine {
    AuditLine {
        seq: entry.seq,
        time: entry.time.clone(),
        event: entry.event.clone(),
        who: entry
            .actor
            .as_ref()
            .map(|actor| format!("{} (card {})", actor.officer, actor.card))
            .unwrap_or_default(),
    }
}

fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok()?.try_into().ok()
}

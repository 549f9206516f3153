//! The service's HSM lives on one thread of its own: a PKCS#11 session
//! belongs to the thread that opened it, and the HTTP side never holds key
//! material, only a handle to ask for activation, signing and
//! deactivation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use hsm::{Clock, Hsm};
use ksr::{BundleSigner, CheckedKsr, Config, DocumentRole, Finding, Request, Skr, Timestamp};
use quorum::{Activated, Roster};

use crate::ceremony::Layout;
use crate::ceremony::activation::open_hsm;
use crate::error::CliError;

/// What a signing job needs; all of it owned, so it can cross to the HSM
/// thread.
pub struct SignJob {
    /// The KSR as submitted.
    pub ksr: Vec<u8>,
    /// SKR(n-1), unless the administrator waived the chain.
    pub previous: Option<Arc<Skr>>,
    /// The policy.
    pub config: Arc<Config>,
    /// The instant the checks use.
    pub now: Timestamp,
    /// The signing schema.
    pub schema: String,
    /// Called with (bundle, bundles) as signing moves on.
    pub progress: Box<dyn Fn(usize, usize) + Send>,
}

/// Why a signing job produced no SKR.
pub enum SignFailure {
    /// The KSR, checked again, or the SKR failed a check.
    Rejected(Vec<Finding>),
    /// The HSM failed.
    Signer(String),
}

enum Command {
    Activate(Box<Activated>, mpsc::Sender<Result<(), String>>),
    Deactivate(mpsc::Sender<()>),
    Sign(Box<SignJob>, mpsc::Sender<Result<ksr::Signed, SignFailure>>),
}

/// The handle to the HSM thread. Dropping it seals the HSM and ends the
/// thread.
pub struct HsmWorker {
    commands: mpsc::Sender<Command>,
}

impl HsmWorker {
    /// Opens the ceremony's HSM, sealed, on a thread of its own.
    ///
    /// # Errors
    ///
    /// The HSM cannot be opened or its roster read.
    pub fn start(layout: &Layout) -> Result<(Self, Roster), CliError> {
        let (commands, inbox) = mpsc::channel::<Command>();
        let (opened, roster) = mpsc::channel();
        let layout = layout.clone();
        std::thread::Builder::new()
            .name("hsm".into())
            .spawn(move || {
                let clock: Clock = Arc::new(Instant::now);
                let mut hsm = match open_hsm(&layout, clock).and_then(|hsm| {
                    let roster = hsm.roster()?;
                    Ok((hsm, roster))
                }) {
                    Ok((hsm, roster)) => {
                        let _ = opened.send(Ok(roster));
                        hsm
                    }
                    Err(err) => {
                        let _ = opened.send(Err(err));
                        return;
                    }
                };
                for command in inbox {
                    // A panic must not leave an active HSM behind a thread
                    // that no longer answers: seal it and stop answering,
                    // so every later request fails as "stopped".
                    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run(hsm.as_mut(), command);
                    }));
                    if ran.is_err() {
                        break;
                    }
                }
                hsm.deactivate();
            })
            .map_err(|err| CliError::Runtime(format!("cannot start the HSM thread: {err}")))?;
        let roster = roster
            .recv()
            .map_err(|_| CliError::Runtime("the HSM thread stopped".into()))??;
        Ok((Self { commands }, roster))
    }

    /// Activates the HSM with the quorum's secret, which is wiped when
    /// the activation is done.
    pub fn activate(&self, activated: Activated) -> Result<(), String> {
        self.ask(|reply| Command::Activate(Box::new(activated), reply))
            .unwrap_or_else(|| Err("the HSM thread stopped".into()))
    }

    /// Seals the HSM.
    ///
    /// # Errors
    ///
    /// The HSM thread is gone (it sealed the HSM as it stopped).
    pub fn deactivate(&self) -> Result<(), String> {
        self.ask(Command::Deactivate)
            .ok_or_else(|| "the HSM thread stopped".to_owned())
    }

    /// Checks the KSR again and signs it with the active HSM.
    pub fn sign(&self, job: SignJob) -> Result<ksr::Signed, SignFailure> {
        self.ask(|reply| Command::Sign(Box::new(job), reply))
            .unwrap_or_else(|| Err(SignFailure::Signer("the HSM thread stopped".into())))
    }

    fn ask<T>(&self, command: impl FnOnce(mpsc::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = mpsc::channel();
        self.commands.send(command(reply)).ok()?;
        answer.recv().ok()
    }
}

fn run(hsm: &mut dyn Hsm, command: Command) {
    match command {
        Command::Activate(activated, reply) => {
            let result = hsm
                .activate(activated.secret())
                .map_err(|err| err.to_string());
            drop(activated);
            let _ = reply.send(result);
        }
        Command::Deactivate(reply) => {
            hsm.deactivate();
            let _ = reply.send(());
        }
        Command::Sign(job, reply) => {
            let _ = reply.send(sign(hsm, &job));
        }
    }
}

fn sign(hsm: &dyn Hsm, job: &SignJob) -> Result<ksr::Signed, SignFailure> {
    let request = ksr::parse_ksr(&job.ksr, DocumentRole::Ksr).map_err(SignFailure::Rejected)?;
    let checked = CheckedKsr::check(&Request {
        ksr: &request,
        previous: job.previous.as_deref(),
        config: &job.config,
        now: job.now,
    })
    .map_err(SignFailure::Rejected)?;
    let signer = Progress {
        hsm,
        bundles: request.bundles.len(),
        seen: std::sync::Mutex::new(BTreeSet::new()),
        progress: &job.progress,
    };
    ksr::build_skr(&checked, &job.schema, &signer).map_err(|err| match err {
        ksr::BuildError::Rejected(findings) => SignFailure::Rejected(findings),
        other => SignFailure::Signer(other.to_string()),
    })
}

/// The HSM as the builder's signer, telling which bundle it signs: each
/// bundle has its own inception, which the RRSIG signing input carries
/// (RFC 4034 §3.1.8.1: type, algorithm, labels, TTL, expiration,
/// inception, …).
struct Progress<'a> {
    hsm: &'a dyn Hsm,
    bundles: usize,
    seen: std::sync::Mutex<BTreeSet<[u8; 4]>>,
    progress: &'a (dyn Fn(usize, usize) + Send),
}

impl ksr::KeySource for Progress<'_> {
    fn public_key(&self, label: &str) -> Result<ksr::Dnskey, ksr::SignerError> {
        hsm::Signer(self.hsm).public_key(label)
    }
}

impl BundleSigner for Progress<'_> {
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, ksr::SignerError> {
        if let Some(inception) = data.get(12..16).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
            let bundle = {
                let mut seen = self
                    .seen
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                seen.insert(inception);
                seen.len()
            };
            (self.progress)(bundle.min(self.bundles), self.bundles);
        }
        hsm::Signer(self.hsm).sign(label, data)
    }
}

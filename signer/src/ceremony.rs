//! An open ceremony: its directory locked to this process, its audit log
//! verified and recovered, its policy read, its HSM opened sealed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hsm::{Entry, Hsm, KeyInfo, Pkcs11Hsm, SoftHsm};
use quorum::Roster;
use serde_json::{Map, Value};

use crate::audit::{
    self, AbortHandle, Event, OpenOperation, OperationKind, Outcome, SharedTrail, Trail,
};
use crate::clock::Clock;
use crate::error::Error;
use crate::layout::Layout;
use crate::policy::Policy;

/// What opening a ceremony found of a killed run, and cleaned up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The operation a killed process left open, now closed as
    /// interrupted.
    pub interrupted: Option<OpenOperation>,
    /// The temporary files it left, now removed.
    pub removed: Vec<PathBuf>,
}

/// An open ceremony. One process at a time holds it; every quorum
/// operation runs through it.
pub struct Ceremony {
    layout: Layout,
    _lock: durable::LockFile,
    clock: Clock,
    trail: SharedTrail,
    policy: Policy,
    hsm: Box<dyn Hsm + Send>,
    roster: Roster,
    recovery: Recovery,
    /// The sealed state, read once here (see `state`).
    sealed: Result<crate::state::Sealed, crate::state::StateError>,
    /// The intake key and last SKR, as sealed, or as an operation changed
    /// them (sealed at its end).
    chain: crate::state::Chain,
    /// The fault an exercise injected into this rehearsal's flow.
    fault: Option<crate::RehearsalFault>,
}

impl Ceremony {
    /// Opens the ceremony in `dir`: takes its lock (naming `holder`, such
    /// as "process 4711: ceremony sign"), verifies the audit log, closes an
    /// operation a killed process left open as interrupted and removes the
    /// temporaries it left (both recorded), reads the policy and opens the
    /// HSM sealed.
    ///
    /// # Errors
    ///
    /// No ceremony there, another process holds it, the log does not
    /// verify, the policy is not valid, or the HSM cannot be opened.
    pub fn open(dir: &Path, clock: Clock, holder: &str) -> Result<Self, Error> {
        let layout = Layout::new(dir);
        if !layout.policy().is_file() {
            return Err(Error::NotACeremony {
                dir: dir.to_owned(),
                missing: "ceremony.toml",
            });
        }
        crate::process::check_ceremony(&layout)?;
        let lock = lock(&layout, holder)?;
        let (mut trail, left_open) = Trail::open(&layout.audit(), clock.clone())?;
        let mut recovery = Recovery::default();
        if let Some(left) = left_open {
            trail.close_interrupted(left)?;
            recovery.interrupted = Some(left);
        }
        for directory in layout.state_directories() {
            recovery
                .removed
                .extend(durable::sweep(&directory).map_err(Error::read(&directory))?);
            // A killed run's card locks (they hold nothing, but are
            // clutter that looks like a card in use).
            recovery
                .removed
                .extend(durable::sweep_locks(&directory).map_err(Error::read(&directory))?);
        }
        if let Some(left) = left_open {
            for target in touched_files(&layout.audit(), left.begun) {
                recovery
                    .removed
                    .extend(durable::sweep_for(&target).map_err(Error::read(&target))?);
            }
        }
        if !recovery.removed.is_empty() {
            trail.record(&Event::stale_files_removed(&recovery.removed))?;
        }
        let policy = Policy::load(&layout.policy())?;
        let hsm = open_hsm(&layout, &clock)?;
        let roster = hsm.roster()?;
        let sealed = crate::state::load(&layout, &roster, &policy);
        let chain = sealed
            .as_ref()
            .map(|sealed| sealed.state().chain())
            .unwrap_or_default();
        Ok(Self {
            sealed,
            chain,
            layout,
            _lock: lock,
            clock,
            trail: Arc::new(Mutex::new(trail)),
            policy,
            hsm,
            roster,
            recovery,
            fault: None,
        })
    }

    /// The roster of the ceremony in `dir`, read from its sealed HSM
    /// without taking the ceremony (another process, such as the service,
    /// may hold it): what `serve --init-tls` issues certificates for.
    ///
    /// # Errors
    ///
    /// No ceremony there, or its HSM cannot be read.
    pub fn read_roster(dir: &Path, clock: &Clock) -> Result<Roster, Error> {
        Ok(open_hsm(&Layout::new(dir), clock)?.roster()?)
    }

    /// The directory.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The roster whose quorum activates the HSM.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The clocks.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// What opening found of a killed run.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Whether this is a rehearsal (as its sealed state says; verified at
    /// the next activation).
    pub fn is_rehearsal(&self) -> bool {
        self.sealed
            .as_ref()
            .is_ok_and(|sealed| sealed.state().rehearsal)
    }

    /// The sealed state as read when the ceremony opened (authenticated at
    /// the next activation), if there is one.
    pub fn sealed_state(&self) -> Option<&crate::state::State> {
        self.sealed.as_ref().ok().map(crate::state::Sealed::state)
    }

    /// The sealed state as read when the ceremony opened.
    pub(crate) fn sealed(&self) -> Result<&crate::state::Sealed, Error> {
        self.sealed
            .as_ref()
            .map_err(|err| Error::State(err.clone()))
    }

    /// The state was sealed again.
    pub(crate) fn set_sealed(&mut self, sealed: crate::state::Sealed) {
        self.sealed = Ok(sealed);
    }

    /// The hash of the last audit entry.
    pub fn audit_head(&self) -> String {
        audit::lock(&self.trail).head()
    }

    /// The last entries of the audit log, oldest first.
    pub fn recent_entries(&self) -> Vec<Entry> {
        audit::lock(&self.trail).recent()
    }

    /// The operation open now, if any.
    pub fn current_operation(&self) -> Option<OpenOperation> {
        audit::lock(&self.trail).current()
    }

    /// The handle a signal handler uses to close the open operation as
    /// aborted.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(Arc::clone(&self.trail))
    }

    /// The keys the HSM holds, read while it is sealed.
    ///
    /// # Errors
    ///
    /// The HSM cannot be read.
    pub fn inventory(&self) -> Result<Vec<KeyInfo>, Error> {
        Ok(self.hsm.inventory()?)
    }

    /// The label of the token's key with this CKA_ID, read while the HSM
    /// is sealed (`keygen --adopt-id`).
    ///
    /// # Errors
    ///
    /// No key, or more than one, has the id; or a soft HSM.
    pub fn label_of_id(&self, id: &[u8]) -> Result<String, Error> {
        Ok(self.hsm.label_of_id(id)?)
    }

    /// The public key of a label, read while the HSM is sealed.
    ///
    /// # Errors
    ///
    /// No key, or more than one, has the label.
    pub fn public_key(&self, label: &str) -> Result<ksr::Dnskey, Error> {
        Ok(self.hsm.public_key(label)?)
    }

    /// Appends an event to the audit log.
    ///
    /// # Errors
    ///
    /// The log cannot be written.
    pub fn record(&self, event: &Event) -> Result<Entry, Error> {
        audit::lock(&self.trail).record(event)
    }

    /// Injects an exercise's fault into this rehearsal's flow, recorded
    /// in the log before it strikes.
    ///
    /// # Errors
    ///
    /// A production ceremony ([`Error::Production`]), or the log fails.
    pub fn inject_fault(&mut self, fault: crate::RehearsalFault) -> Result<(), Error> {
        if !self.is_rehearsal() {
            return Err(Error::Production(format!(
                "the fault {fault} is an exercise's: only a rehearsal ceremony (init --rehearsal) takes one"
            )));
        }
        self.record(&Event::FaultInjected {
            fault: fault.name(),
        })?;
        self.fault = Some(fault);
        Ok(())
    }

    /// The fault an exercise injected, if any.
    pub fn injected_fault(&self) -> Option<crate::RehearsalFault> {
        self.fault
    }

    //--- For the flows of this crate

    /// The audit trail.
    pub(crate) fn trail(&self) -> &SharedTrail {
        &self.trail
    }

    /// The HSM.
    pub(crate) fn hsm(&self) -> &dyn Hsm {
        self.hsm.as_ref()
    }

    /// The HSM, to activate or change.
    pub(crate) fn hsm_mut(&mut self) -> &mut dyn Hsm {
        self.hsm.as_mut()
    }

    /// Opens an operation in the log, and checks the sealed state before
    /// anything else: a policy changed since the quorum approved it (but
    /// for its approval), a key store or log that is not the sealed one,
    /// refuse the operation here, before the first card.
    pub(crate) fn begin(
        &self,
        operation: OperationKind,
        details: Map<String, Value>,
    ) -> Result<OpenOperation, Error> {
        let mut details = details;
        details.insert("rehearsal".into(), self.is_rehearsal().into());
        let open = audit::lock(&self.trail).begin(operation, details)?;
        match crate::state::check_sealed(self, operation == OperationKind::Approve) {
            Ok(()) => Ok(open),
            Err(err) => Err(self.fail(open, err)),
        }
    }

    /// Closes the open operation.
    pub(crate) fn close(
        &self,
        open: OpenOperation,
        outcome: Outcome,
        details: Map<String, Value>,
    ) -> Result<Entry, Error> {
        audit::lock(&self.trail).close(open, outcome, details)
    }

    /// Closes the open operation for an error, as refused (a check, no
    /// quorum) or failed (anything else), and returns the error.
    pub(crate) fn fail(&self, open: OpenOperation, err: Error) -> Error {
        let outcome = match &err {
            // Nothing was done: the request, a document or the quorum
            // said no.
            Error::Refused(_)
            | Error::NoQuorum { .. }
            | Error::Expired
            | Error::Schema(_)
            | Error::OutputExists(_)
            | Error::OutputUnwritable { .. }
            | Error::FormatMismatch(_)
            | Error::OutputFormat { .. }
            | Error::EndWithXml
            | Error::Officer { .. }
            | Error::Threshold { .. }
            | Error::Key(_)
            | Error::Domain { .. }
            | Error::PinFile { .. }
            | Error::State(_)
            | Error::NothingToApprove
            | Error::Media(_)
            | Error::Oob(_)
            | Error::Production(_) => Outcome::Refused,
            // Declined, or the terminal closed under a question.
            Error::NotConfirmed | Error::Prompt(_) => Outcome::Aborted,
            _ => Outcome::Failed,
        };
        let mut details = Map::new();
        let codes = err.codes();
        if !codes.is_empty() {
            details.insert("codes".into(), codes.into());
        }
        details.insert("reason".into(), err.to_string().into());
        if let Error::NoQuorum {
            accepted,
            threshold,
        } = &err
        {
            details.insert("accepted".into(), (*accepted).into());
            details.insert("threshold".into(), (*threshold).into());
        }
        match self.close(open, outcome, details) {
            Ok(_) => err,
            // The log's failure is the worse news.
            Err(logged) => logged,
        }
    }

    /// The intake key and the last SKR (from the sealed state; verified at
    /// the next activation).
    pub fn chain(&self) -> &crate::state::Chain {
        &self.chain
    }

    /// An operation changed the chain: sealed at its end.
    pub(crate) fn set_chain(&mut self, chain: crate::state::Chain) {
        self.chain = chain;
    }

    /// The policy changed: the new one is in force from now on.
    pub(crate) fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// The roster changed (reshare, rekey).
    pub(crate) fn set_roster(&mut self, roster: Roster) {
        self.roster = roster;
    }
}

impl Drop for Ceremony {
    fn drop(&mut self) {
        // Every path closes its operation; this is the net under a defect,
        // so that the log never keeps an operation open for a live
        // process.
        let mut trail = audit::lock(&self.trail);
        if let Some(open) = trail.current() {
            let mut details = Map::new();
            details.insert(
                "reason".into(),
                "the operation ended without its closing entry (a defect)".into(),
            );
            let _ = trail.close(open, Outcome::Failed, details);
        }
        drop(trail);
        self.hsm.deactivate();
    }
}

/// Takes the ceremony's lock.
fn lock(layout: &Layout, holder: &str) -> Result<durable::LockFile, Error> {
    durable::LockFile::acquire(layout.lock(), holder).map_err(|err| match err {
        durable::LockError::Busy { holder, .. } => Error::Busy {
            what: format!("the ceremony in {}", layout.root().display()),
            holder: if holder.is_empty() {
                "a process that has not said which".into()
            } else {
                holder
            },
        },
        durable::LockError::Io { path, source } => Error::Read { path, source },
    })
}

/// The HSM of a ceremony directory, sealed.
///
/// # Errors
///
/// The directory holds no HSM, or it cannot be opened.
pub(crate) fn open_hsm(layout: &Layout, clock: &Clock) -> Result<Box<dyn Hsm + Send>, Error> {
    let dir = layout.hsm();
    if dir.join(hsm::STORE_FILE).exists() {
        Ok(Box::new(SoftHsm::open(&dir, clock.hsm())?))
    } else if dir.join(hsm::PKCS11_FILE).exists() {
        Ok(Box::new(Pkcs11Hsm::open(&dir, clock.hsm())?))
    } else {
        Err(Error::NotACeremony {
            dir: layout.root().to_owned(),
            missing: "the HSM (hsm/)",
        })
    }
}

/// The files an operation may have been writing outside the ceremony
/// directory: its output, its PUK file and its cards, as its entries
/// record them.
fn touched_files(log: &Path, begun: u64) -> Vec<PathBuf> {
    let entries = hsm::read_audit_log(log).unwrap_or_default();
    let mut files: Vec<PathBuf> = entries
        .iter()
        .filter(|entry| entry.seq >= begun)
        .flat_map(|entry| {
            ["output", "card_file", "puk_file"]
                .into_iter()
                .filter_map(|key| entry.details.get(key).and_then(Value::as_str))
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

//! Every quorum operation as one typed flow:
//!
//! **prepared** (every check that needs no private key has run; the
//! operation's summary is made) → **confirmed** (the operator confirmed
//! the summary; an activation attempt bound to the summary's digest is
//! open) → **activated** (k cards counted; the HSM is active under a guard
//! that seals it when dropped) → **done**, or an error that closed the
//! operation in the audit log as refused, failed or aborted.
//!
//! A value of each state is made only from the one before, so no path can
//! skip a step, and no refusal that could come before the first card comes
//! after it.

use std::path::PathBuf;
use std::time::Duration;

use hsm::Hsm;
use quorum::{ActivationSession, Challenge, Progress};
use serde::Serialize;
use serde_json::{Map, Value};
use smartcard_sim::{CardStatus, Pin};

use crate::audit::{Client, Event, OpenOperation, Outcome};
use crate::cards::LocalCard;
use crate::ceremony::Ceremony;
use crate::error::Error;
use crate::state::{self, StateKey};
use crate::summary::Summary;

/// How long the officers have to present their cards at one terminal.
pub const ACTIVATION_TIME: Duration = Duration::from_secs(15 * 60);

//------------ Operation -----------------------------------------------------

/// What an operation does once the HSM is active.
pub trait Operation: Sized {
    /// What it makes.
    type Output;

    /// Whether it needs the quorum's secret itself (a new card set), not
    /// only the active HSM; for every other operation the secret is wiped
    /// as soon as the HSM is active.
    const KEEPS_SECRET: bool = false;

    /// Does the work with the active HSM.
    ///
    /// # Errors
    ///
    /// The work failed; the guard seals the HSM and the flow closes the
    /// operation.
    fn run(
        self,
        active: &mut Active<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Self::Output, Error>;

    /// Whether the cards presented at this terminal are erased once the
    /// operation is done (a new card set retires them); otherwise they are
    /// told the new epoch.
    const ERASES_CARDS: bool = false;

    /// Whether the operation changes what the sealed state holds, so that
    /// it is sealed again at a new epoch (which the cards then learn). A
    /// backup and its restore change nothing: the copy holds the epoch the
    /// cards know, and any later operation at either site makes the other
    /// site's state one the cards refuse.
    const SEALS_STATE: bool = true;

    /// What the closing `done` entry records of the output.
    fn closing(output: &Self::Output) -> Map<String, Value>;
}

//------------ Prepared ------------------------------------------------------

/// An operation whose every check without a private key has passed.
#[must_use = "an operation is closed only by confirming or declining it"]
pub struct Prepared<O> {
    op: O,
    summary: Summary,
    open: OpenOperation,
}

/// How the operator confirmed.
#[derive(Clone, Debug)]
pub enum Confirmation {
    /// Typed at the terminal after reading the summary.
    Typed,
    /// Waived with `--yes` (tests and exercises; recorded).
    Waived,
    /// By the service's administrator, naming the KSR's hash.
    Remote(Client),
    /// By the words read over the phone, checked (`AwaitingWords::hear`).
    Words,
}

impl<O: Operation> Prepared<O> {
    pub(crate) fn new(op: O, summary: Summary, open: OpenOperation) -> Self {
        Self { op, summary, open }
    }

    /// What the operator confirms and the officers authorize.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The operation.
    pub fn operation(&self) -> &O {
        &self.op
    }

    /// Confirms the summary and opens the activation attempt, bound to the
    /// summary's digest and, for the service, to the channel the shares
    /// are sealed to; the officers have `timeout` to present.
    ///
    /// # Errors
    ///
    /// This is not the ceremony's open operation, or the log fails.
    pub fn confirm(
        self,
        ceremony: &Ceremony,
        how: Confirmation,
        channel: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Confirmed<O>, Error> {
        owned_by(ceremony, self.open)?;
        let digest = self.summary.digest();
        let (word, client) = match how {
            Confirmation::Typed => ("typed", None),
            Confirmation::Waived => ("--yes", None),
            Confirmation::Remote(client) => ("remote", Some(client)),
            Confirmation::Words => ("words", None),
        };
        if let Err(err) = ceremony.record(&Event::Confirmed {
            operation: self.open.operation,
            how: word,
            summary_sha256: hex::encode(digest),
            warnings: self
                .summary
                .warnings
                .iter()
                .chain(&self.summary.waivers)
                .cloned()
                .collect(),
            client,
        }) {
            return Err(ceremony.fail(self.open, err));
        }
        let mut session = ActivationSession::new(
            ceremony.roster().clone(),
            timeout,
            ceremony.clock().instant(),
        )
        .for_operation(digest);
        if let Some(channel) = channel {
            session = session.bound_to(channel);
        }
        Ok(Confirmed {
            op: self.op,
            summary: self.summary,
            open: self.open,
            session,
            accepted: Vec::new(),
            refused: Vec::new(),
            kept: Vec::new(),
        })
    }

    /// The operator declined: the operation closes as aborted.
    pub fn decline(self, ceremony: &Ceremony) -> Error {
        ceremony.fail(self.open, Error::NotConfirmed)
    }

    /// A check before the confirmation refused it: the operation closes.
    pub fn fail(self, ceremony: &Ceremony, err: Error) -> Error {
        ceremony.fail(self.open, err)
    }
}

/// Checks that the operation is the one open in this ceremony's log.
fn owned_by(ceremony: &Ceremony, open: OpenOperation) -> Result<(), Error> {
    if ceremony.current_operation() == Some(open) {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "{} (entry {}) is not this ceremony's open operation",
            open.operation, open.begun
        )))
    }
}

//------------ Confirmed -----------------------------------------------------

/// A card that counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The card file, or the client it came through.
    pub card: String,
    /// Its serial.
    pub serial: String,
    /// Its officer.
    pub officer: String,
}

/// A card that did not count, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// The card file, or what was given.
    pub card: String,
    /// Its serial, when the card could say.
    pub serial: Option<String>,
    /// Its officer, when the card could say.
    pub officer: Option<String>,
    /// Why.
    pub reason: String,
}

/// A confirmed operation with its activation attempt open.
#[must_use = "an operation is closed only by activating it"]
pub struct Confirmed<O> {
    op: O,
    summary: Summary,
    open: OpenOperation,
    session: ActivationSession,
    accepted: Vec<Accepted>,
    refused: Vec<Refused>,
    /// The accepted cards, still open: told the new epoch at the end, or
    /// erased by an operation that retires them.
    kept: Vec<LocalCard>,
}

/// What happens at the terminal while the cards are presented, for the
/// front end to show.
#[derive(Debug)]
pub enum Presenting<'a> {
    /// A card was read and named.
    Inserted {
        /// Which card this is towards the threshold.
        number: usize,
        /// The threshold.
        of: usize,
        /// The card.
        status: &'a CardStatus,
    },
    /// A wrong PIN.
    WrongPin {
        /// The card.
        status: &'a CardStatus,
        /// Tries left.
        tries_left: u8,
    },
    /// The card counted.
    Accepted(&'a Accepted, &'a Progress),
    /// The card did not count.
    Refused(&'a Refused),
}

/// The people at the terminal: the operator hands over card after card,
/// each officer types their PIN.
pub trait Officers {
    /// The file of card `number` (of `threshold` needed), or `None` when
    /// the operator gives up.
    ///
    /// # Errors
    ///
    /// The terminal cannot be asked.
    fn next_card(&mut self, number: usize, threshold: usize) -> Result<Option<PathBuf>, Error>;

    /// The PIN of this card, or `None` when there is none to try (a pin
    /// file's PIN was wrong). `again` says a wrong PIN was typed before.
    ///
    /// # Errors
    ///
    /// The terminal cannot be asked.
    fn pin(&mut self, card: &CardStatus, again: bool) -> Result<Option<Pin>, Error>;

    /// Shows what happened.
    ///
    /// # Errors
    ///
    /// The terminal cannot be written.
    fn show(&mut self, event: &Presenting<'_>) -> Result<(), Error>;
}

impl<O: Operation> Confirmed<O> {
    /// What the officers authorize.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// What a card must sign in this attempt.
    pub fn challenge(&self) -> Challenge {
        self.session.challenge()
    }

    /// Where the attempt stands.
    pub fn progress(&self) -> Progress {
        self.session.progress()
    }

    /// The cards that counted, and those that did not.
    pub fn cards(&self) -> (&[Accepted], &[Refused]) {
        (&self.accepted, &self.refused)
    }

    /// Whether the attempt ran out of time.
    pub fn has_expired(&self, ceremony: &Ceremony) -> bool {
        self.session.has_expired(ceremony.clock().instant())
    }

    /// How long the attempt has left for the officers to present.
    pub fn time_left(&self, ceremony: &Ceremony) -> Duration {
        self.session.time_left(ceremony.clock().instant())
    }

    /// The cards at this terminal, one officer at a time: the operator
    /// gives a card, which is read and named; its officer types the PIN
    /// (again, while tries are left); the card counts or is refused with
    /// the reason, and the next card is asked for, until the quorum is
    /// complete or the operator gives up. A refusal never ends the
    /// attempt.
    ///
    /// # Errors
    ///
    /// The terminal or the log fails (the operation is then closed).
    pub fn present_cards(
        &mut self,
        ceremony: &Ceremony,
        officers: &mut dyn Officers,
    ) -> Result<(), Error> {
        let result = self.present_each(ceremony, officers);
        result.map_err(|err| ceremony.fail(self.open, err))
    }

    fn present_each(
        &mut self,
        ceremony: &Ceremony,
        officers: &mut dyn Officers,
    ) -> Result<(), Error> {
        let threshold = self.session.roster().threshold();
        while !self.session.progress().complete {
            let number = self.accepted.len() + 1;
            let Some(path) = officers.next_card(number, threshold)? else {
                return Ok(());
            };
            let name = path.display().to_string();
            let mut card = match LocalCard::open(&path) {
                Ok(card) => card,
                Err(reason) => {
                    self.refuse(ceremony, officers, name, None, reason)?;
                    continue;
                }
            };
            ceremony.record(&Event::CardInserted {
                card: card.reference(),
                path: name.clone(),
            })?;
            // Before its PIN: the card refuses a ceremony older than it was
            // last told of (a directory rolled back needs its officers'
            // cards rolled back), and a production ceremony refuses what
            // only a rehearsal takes.
            let roster = self.session.roster();
            let refusal = card.check_epoch(self.summary.epoch).err().or_else(|| {
                if self.summary.rehearsal {
                    None
                } else if !card.status().kdf.is_strong() {
                    Some("its PIN derivation is the light one: a production ceremony takes cards made with --kdf strong only".to_owned())
                } else if crate::process::inside(&path, ceremony.layout().root()) {
                    Some("it is stored inside the ceremony directory: in a production ceremony each officer brings their card from where they keep it".to_owned())
                } else {
                    None
                }
            }).or_else(|| {
                // A usable card the roster does not have is refused
                // before its PIN costs a try: named as a retired card of
                // this ceremony, or as one that was never its own. (A
                // blocked, dead or erased card says so at its PIN.)
                (card.status().state == smartcard_sim::CardState::Active
                    && roster.officer_by_card(&card.status().serial).is_none())
                    .then(|| not_enrolled(ceremony, &card.status().serial, roster.generation()))
            });
            if let Some(reason) = refusal {
                let status = card.status().clone();
                self.refuse(ceremony, officers, name, Some(&status), reason)?;
                continue;
            }
            officers.show(&Presenting::Inserted {
                number,
                of: threshold,
                status: card.status(),
            })?;
            match self.unlock(ceremony, officers, &mut card)? {
                Err(reason) => {
                    let status = card.status().clone();
                    self.refuse(ceremony, officers, name, Some(&status), reason)?;
                }
                Ok(()) => match card.present(&self.session.challenge()) {
                    Err(reason) => {
                        let status = card.status().clone();
                        self.refuse(ceremony, officers, name, Some(&status), reason)?;
                    }
                    Ok(presentation) => {
                        match self
                            .session
                            .present(presentation, ceremony.clock().instant())
                        {
                            Ok(progress) => {
                                let accepted = Accepted {
                                    card: name.clone(),
                                    serial: card.status().serial.clone(),
                                    officer: card.status().holder.clone(),
                                };
                                ceremony.record(&Event::CardAccepted {
                                    card: card.reference(),
                                    path: Some(name),
                                    progress: progress.to_string(),
                                    client: None,
                                })?;
                                officers.show(&Presenting::Accepted(&accepted, &progress))?;
                                self.accepted.push(accepted);
                                self.kept.push(card);
                            }
                            Err(refusal) => {
                                let status = card.status().clone();
                                self.refuse(
                                    ceremony,
                                    officers,
                                    name,
                                    Some(&status),
                                    refusal.to_string(),
                                )?;
                            }
                        }
                    }
                },
            }
        }
        Ok(())
    }

    /// The PIN, asked again while tries are left and the officers have
    /// another; every wrong one recorded.
    fn unlock(
        &self,
        ceremony: &Ceremony,
        officers: &mut dyn Officers,
        card: &mut LocalCard,
    ) -> Result<Result<(), String>, Error> {
        let during = self.open.operation.to_string();
        card.unlock(officers, &mut |card, tries_left| {
            ceremony
                .record(&Event::WrongPin {
                    card: card.reference(),
                    tries_left,
                    during: during.clone(),
                    client: None,
                })
                .map(drop)
        })
    }

    /// Records and shows a card that did not count.
    fn refuse(
        &mut self,
        ceremony: &Ceremony,
        officers: &mut dyn Officers,
        card: String,
        status: Option<&CardStatus>,
        reason: String,
    ) -> Result<(), Error> {
        let refused = Refused {
            card: card.clone(),
            serial: status.map(|status| status.serial.clone()),
            officer: status.map(|status| status.holder.clone()),
            reason: reason.clone(),
        };
        ceremony.record(&Event::CardRefused {
            card: status.map(|status| crate::audit::CardRef {
                serial: status.serial.clone(),
                officer: status.holder.clone(),
            }),
            path: Some(card),
            reason,
            client: None,
        })?;
        officers.show(&Presenting::Refused(&refused))?;
        self.refused.push(refused);
        Ok(())
    }

    /// The attempt's session, for presentations that arrive over the
    /// network (the service).
    pub(crate) fn session(&self) -> &ActivationSession {
        &self.session
    }

    /// Notes a card the service counted or refused.
    pub(crate) fn note(&mut self, outcome: Result<Accepted, Refused>) {
        match outcome {
            Ok(accepted) => self.accepted.push(accepted),
            Err(refused) => self.refused.push(refused),
        }
    }

    /// Withdraws the operation (the service's administrator reset it, or
    /// the service stops): it closes as aborted.
    pub fn withdraw(self, ceremony: &Ceremony, reason: &str) -> Error {
        let mut details = Map::new();
        details.insert("reason".into(), reason.into());
        match ceremony.close(self.open, Outcome::Aborted, details) {
            Ok(_) => Error::NotConfirmed,
            Err(err) => err,
        }
    }

    /// The attempt ran out of time: the operation closes as refused.
    pub fn expire(self, ceremony: &Ceremony) -> Error {
        ceremony.fail(self.open, Error::Expired)
    }

    /// Activates the HSM with the quorum's secret, which is wiped at once
    /// unless the operation keeps it.
    ///
    /// # Errors
    ///
    /// Fewer than k cards counted ([`Error::NoQuorum`]), the attempt
    /// expired, or the HSM refused: the operation is closed.
    pub fn activate(self, ceremony: &mut Ceremony) -> Result<Activated<'_, O>, Error> {
        owned_by(ceremony, self.open)?;
        let progress = self.session.progress();
        if !progress.complete {
            return Err(ceremony.fail(
                self.open,
                Error::NoQuorum {
                    accepted: progress.presented,
                    threshold: progress.threshold,
                },
            ));
        }
        if ceremony.injected_fault() == Some(crate::RehearsalFault::AttemptExpires) {
            let presented = self.accepted.len();
            if let Err(err) = ceremony.record(&Event::AttemptExpired { presented }) {
                return Err(ceremony.fail(self.open, err));
            }
            return Err(self.expire(ceremony));
        }
        let Some(secret) = self.session.take_secret(ceremony.clock().instant()) else {
            return Err(ceremony.fail(self.open, Error::Expired));
        };
        // Before any key is used: the state the sealed checks compared is
        // the one this quorum sealed (a forged one was not).
        let state_key = StateKey::derive(secret.secret());
        if let Err(err) = ceremony
            .sealed()
            .and_then(|sealed| state::verify(sealed, &state_key))
        {
            return Err(ceremony.fail(self.open, err));
        }
        let activation = if ceremony.injected_fault() == Some(crate::RehearsalFault::HsmSelfTest) {
            Err(hsm::HsmError::SelfTest(
                "the exercise's injected fault (a rehearsal)".into(),
            ))
        } else {
            ceremony.hsm_mut().activate(secret.secret())
        };
        if let Err(err) = activation {
            let recorded = ceremony.record(&Event::HsmActivationFailed {
                error: err.to_string(),
            });
            let err = recorded.map_or_else(|logged| logged, |_| Error::Hsm(err));
            return Err(ceremony.fail(self.open, err));
        }
        // A token keeps the state's MAC where only the quorum reaches: a
        // directory restored as a whole from an older copy is found here,
        // before any key is used.
        let bound = ceremony
            .sealed()
            .cloned()
            .and_then(|sealed| state::check_bound(&sealed, ceremony.hsm_mut()));
        if let Err(err) = bound {
            ceremony.hsm_mut().deactivate();
            return Err(ceremony.fail(self.open, err));
        }
        let open = self.open;
        let mut active = Active {
            ceremony,
            secret: O::KEEPS_SECRET.then_some(secret),
            state_key,
            sealed: false,
        };
        if let Err(err) = active.ceremony.record(&Event::HsmActivated) {
            // An active HSM that cannot be audited is sealed again.
            active.seal();
            return Err(active.ceremony.fail(open, err));
        }
        Ok(Activated {
            op: self.op,
            summary: self.summary,
            open,
            active,
            accepted: self.accepted,
            refused: self.refused,
            kept: self.kept,
        })
    }
}

/// Why a card the roster does not have opens nothing: a card of a card
/// set this ceremony retired (its log issued the serial), or a card of no
/// card set of this ceremony (another ceremony's, or forged).
pub(crate) fn not_enrolled(ceremony: &Ceremony, serial: &str, generation: u64) -> String {
    let issued = hsm::read_audit_log(&ceremony.layout().audit())
        .ok()
        .and_then(|entries| {
            entries.into_iter().find_map(|entry| {
                let cards = entry.details.get("cards")?.as_array()?;
                let listed = cards
                    .iter()
                    .any(|card| card.get("serial").and_then(Value::as_str) == Some(serial));
                (entry.event == "cards-issued" && listed)
                    .then(|| entry.details.get("generation").and_then(Value::as_u64))
                    .flatten()
            })
        });
    match issued {
        Some(old) if old < generation => format!(
            "card {serial:?}: the serial of a retired card of card set {old}; card set {generation} replaced it, and it opens nothing (a retired card, or one that copies its serial)"
        ),
        _ => format!(
            "card {serial:?}: not enrolled in generation {generation}: no card set of this ceremony holds it (a card of another ceremony, or a forged one)"
        ),
    }
}

//------------ Activated and Active -----------------------------------------

/// The HSM active for one operation: the guard that seals it when
/// dropped, on every path.
pub struct Active<'c> {
    ceremony: &'c mut Ceremony,
    secret: Option<quorum::Activated>,
    /// The key the state is sealed with at the end: the quorum's, or the
    /// new secret's after a new card set.
    state_key: StateKey,
    sealed: bool,
}

impl Active<'_> {
    /// The ceremony.
    pub(crate) fn ceremony(&self) -> &Ceremony {
        self.ceremony
    }

    /// The ceremony, to change its policy or roster.
    pub(crate) fn ceremony_mut(&mut self) -> &mut Ceremony {
        self.ceremony
    }

    /// The active HSM.
    pub(crate) fn hsm(&self) -> &dyn Hsm {
        self.ceremony.hsm()
    }

    /// The active HSM, to make keys or change generation.
    pub(crate) fn hsm_mut(&mut self) -> &mut dyn Hsm {
        self.ceremony.hsm_mut()
    }

    /// The quorum's secret, for an operation that keeps it.
    pub(crate) fn take_secret(&mut self) -> Option<quorum::Activated> {
        self.secret.take()
    }

    /// The secret changed (a new card set): the state is sealed under the
    /// new one.
    pub(crate) fn secret_changed(&mut self, new: &quorum::ActivationSecret) {
        self.state_key = StateKey::derive(new);
    }

    /// Replaces the policy file under the quorum (`keygen`, `ksk
    /// promote`): the state it will be sealed with goes to disk first as
    /// the pending state, so that a run killed after the file changed
    /// leaves a ceremony the next command opens, not one whose policy
    /// seems edited behind the quorum's back.
    ///
    /// # Errors
    ///
    /// The pending state or the policy cannot be written.
    pub(crate) fn replace_policy(&mut self, config: ksr::Config) -> Result<(), Error> {
        let policy = self.ceremony.policy().with_config(config)?;
        state::write_pending(
            self.ceremony,
            self.ceremony.roster(),
            &policy,
            &self.state_key,
        )?;
        policy.write()?;
        self.ceremony.set_policy(policy);
        Ok(())
    }

    /// Seals the HSM, once, and records it.
    fn seal(&mut self) {
        if !self.sealed {
            self.sealed = true;
            self.ceremony.hsm_mut().deactivate();
            let _ = self.ceremony.record(&Event::HsmDeactivated);
        }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.seal();
    }
}

/// An operation with the HSM active.
pub struct Activated<'c, O> {
    op: O,
    summary: Summary,
    open: OpenOperation,
    active: Active<'c>,
    accepted: Vec<Accepted>,
    refused: Vec<Refused>,
    kept: Vec<LocalCard>,
}

/// A finished operation.
#[derive(Debug)]
pub struct Done<T> {
    /// What it made.
    pub output: T,
    /// The summary it was authorized with.
    pub summary: Summary,
    /// The cards that counted.
    pub accepted: Vec<Accepted>,
    /// The cards that did not.
    pub refused: Vec<Refused>,
    /// The audit log's head after the closing entry, for the witnesses.
    pub audit_head: String,
    /// What went wrong after the work was done and sealed (a card that
    /// could not store the new epoch): for the operator, in words.
    pub after: Vec<String>,
}

impl<O: Operation> Activated<'_, O> {
    /// Does the work, seals the HSM (whatever happened) and closes the
    /// operation: done, refused (a check) or failed.
    ///
    /// # Errors
    ///
    /// The work failed.
    pub fn run(self, progress: &mut dyn FnMut(usize, usize)) -> Result<Done<O::Output>, Error> {
        let Self {
            op,
            summary,
            open,
            mut active,
            accepted,
            refused,
            mut kept,
        } = self;
        // What the operation made is sealed into the state while the HSM
        // is still active (its keys are read as they are now).
        let result = op.run(&mut active, progress).and_then(|output| {
            let epoch = if O::SEALS_STATE {
                Some(state::seal(active.ceremony, &active.state_key)?)
            } else {
                None
            };
            Ok((output, epoch))
        });
        active.seal();
        let ceremony = &*active.ceremony;
        let (output, epoch) = result.map_err(|err| ceremony.fail(open, err))?;
        let mut closing = O::closing(&output);
        let mut after = Vec::new();
        if O::ERASES_CARDS {
            // The retired cards that were presented here open nothing now;
            // they are erased all the same, so that no copy of a share
            // outlives its card set.
            for mut card in kept {
                let error = card.erase().err();
                ceremony.record(&Event::CardErased {
                    card: card.reference(),
                    path: card.path().display().to_string(),
                    error,
                })?;
            }
        } else if let Some(epoch) = epoch {
            // The cards learn the new epoch, and refuse any older state.
            // A card that cannot store it still opens; it is named, in the
            // log and to the operator, as one that would not refuse a
            // restored older state.
            let mut told: Vec<Value> = Vec::new();
            let mut untold = Map::new();
            for card in &mut kept {
                let serial = card.status().serial.clone();
                match card.record_epoch(epoch) {
                    Ok(()) => told.push(serial.into()),
                    Err(why) => {
                        after.push(format!(
                            "card {serial} was not told epoch {epoch} ({why}): it works, but would not refuse an older state; present it at the next operation"
                        ));
                        untold.insert(serial, why.into());
                    }
                }
            }
            closing.insert("epoch".into(), epoch.into());
            closing.insert("cards_told_epoch".into(), told.into());
            if !untold.is_empty() {
                closing.insert("cards_not_told_epoch".into(), untold.into());
            }
        }
        ceremony.close(open, Outcome::Done, closing)?;
        Ok(Done {
            output,
            summary,
            accepted,
            refused,
            audit_head: ceremony.audit_head(),
            after,
        })
    }
}

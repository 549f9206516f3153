//! Activation: cards present their shares to a quorum session, one after
//! the other, until the threshold is met or the cards run out. A refused
//! card is named with its reason and the others stay usable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hsm::{Clock, Hsm, Pkcs11Hsm, SoftHsm};
use p256::ecdsa::Signature;
use quorum::{Activated, ActivationSession, Presentation, Progress, Share};
use serde::Serialize;
use smartcard_sim::{CardClient, CardError, FileStorage, SimulatedCard};

use crate::ceremony::Layout;
use crate::ceremony::audit::Audit;
use crate::error::CliError;
use crate::render::out;
use crate::secrets::Secrets;

/// A card that counted.
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    /// The card file.
    pub card: String,
    /// Its serial.
    pub serial: String,
    /// Its officer.
    pub officer: String,
}

/// A card that did not count, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    /// The card file.
    pub card: String,
    /// Its serial, when the card could say.
    pub serial: Option<String>,
    /// Its officer, when the card could say.
    pub officer: Option<String>,
    /// Why.
    pub reason: String,
}

/// What happened while the cards were presented, for the screen and the
/// audit log.
pub enum Event<'a> {
    /// Card `number` is about to be read.
    Reading {
        /// 1, 2, …
        number: usize,
        /// The threshold.
        of: usize,
        /// The card file.
        card: &'a Path,
    },
    /// A wrong PIN; the officer may try again when PINs are asked.
    WrongPin {
        /// The officer.
        officer: &'a str,
        /// Tries left.
        tries_left: u8,
    },
    /// The card counted.
    Accepted(&'a Accepted, &'a Progress),
    /// The card did not count.
    Refused(&'a Refused),
}

/// The outcome of an activation.
pub struct Outcome {
    /// The cards that counted.
    pub accepted: Vec<Accepted>,
    /// The cards that did not.
    pub refused: Vec<Refused>,
    /// The secret and its roster, when the quorum was met.
    pub activated: Option<Activated>,
}

/// Presents the cards, in order, until the quorum is met.
pub fn activate(
    session: &ActivationSession,
    cards: &[PathBuf],
    secrets: &Secrets,
    mut report: impl FnMut(Event<'_>) -> Result<(), CliError>,
) -> Result<Outcome, CliError> {
    let threshold = session.roster().threshold();
    let mut outcome = Outcome {
        accepted: Vec::new(),
        refused: Vec::new(),
        activated: None,
    };
    for card in cards {
        if outcome.accepted.len() >= threshold {
            break;
        }
        report(Event::Reading {
            number: outcome.accepted.len() + 1,
            of: threshold,
            card,
        })?;
        match present(session, card, secrets, &mut report)? {
            Ok((accepted, progress)) => {
                report(Event::Accepted(&accepted, &progress))?;
                outcome.accepted.push(accepted);
                if progress.complete {
                    outcome.activated = session.take_secret(Instant::now());
                }
            }
            Err(refused) => {
                report(Event::Refused(&refused))?;
                outcome.refused.push(refused);
            }
        }
    }
    Ok(outcome)
}

/// One card: read it for this attempt's challenge, present.
fn present(
    session: &ActivationSession,
    path: &Path,
    secrets: &Secrets,
    report: &mut impl FnMut(Event<'_>) -> Result<(), CliError>,
) -> Result<Result<(Accepted, Progress), Refused>, CliError> {
    let challenge = session.challenge();
    let answer = match read_card(path, secrets, &challenge, report)? {
        Ok(answer) => answer,
        Err(refused) => return Ok(Err(refused)),
    };
    let accepted = Accepted {
        card: path.display().to_string(),
        serial: answer.serial.clone(),
        officer: answer.officer.clone(),
    };
    let (serial, officer) = (answer.serial.clone(), answer.officer.clone());
    Ok(
        match session.present(answer.into_presentation(challenge.nonce), Instant::now()) {
            Ok(progress) => Ok((accepted, progress)),
            Err(refusal) => Err(Refused {
                card: path.display().to_string(),
                serial: Some(serial),
                officer: Some(officer),
                reason: refusal.to_string(),
            }),
        },
    )
}

/// What a card gave for a challenge: its share (which only the PIN
/// unlocked) and its signature over the challenge.
pub struct CardAnswer {
    /// The card's serial.
    pub serial: String,
    /// Its officer.
    pub officer: String,
    /// The generation it was issued in.
    pub generation: u64,
    /// The share; wiped on drop.
    pub share: Share,
    /// The card's signature over the challenge for its share index.
    pub signature: Signature,
}

impl CardAnswer {
    /// The presentation for the attempt of `nonce`.
    pub fn into_presentation(self, nonce: [u8; 32]) -> Presentation {
        Presentation {
            card_serial: self.serial,
            generation: self.generation,
            nonce,
            share: self.share,
            signature: self.signature,
        }
    }
}

/// Opens a card, checks its PIN, reads its share and has it sign the
/// challenge. A card's own failure is a refusal; only a failure to ask for
/// a PIN stops everything.
pub fn read_card(
    path: &Path,
    secrets: &Secrets,
    challenge: &quorum::Challenge,
    report: &mut impl FnMut(Event<'_>) -> Result<(), CliError>,
) -> Result<Result<CardAnswer, Refused>, CliError> {
    let name = path.display().to_string();
    let refused = |serial: Option<&str>, officer: Option<&str>, reason: String| Refused {
        card: name.clone(),
        serial: serial.map(str::to_owned),
        officer: officer.map(str::to_owned),
        reason,
    };
    let card = match FileStorage::locked(path)
        .map_err(smartcard_sim::OpenError::Io)
        .and_then(SimulatedCard::open)
    {
        Ok(card) => card,
        Err(err) => return Ok(Err(refused(None, None, err.to_string()))),
    };
    let mut client = CardClient::new(card);
    let status = match client.select().and_then(|()| client.status()) {
        Ok(status) => status,
        Err(err) => return Ok(Err(refused(None, None, err.to_string()))),
    };
    let (serial, officer) = (status.serial.as_str(), status.holder.as_str());
    // A wrong PIN typed at the terminal may be typed again while tries
    // are left; a wrong PIN in a pin file would only be wrong again.
    loop {
        let pin = secrets.pin(officer)?;
        match client.verify(&pin) {
            Ok(()) => break,
            Err(CardError::WrongPin { tries_left }) => {
                report(Event::WrongPin {
                    officer,
                    tries_left,
                })?;
                if !matches!(secrets, Secrets::Prompt) || tries_left == 0 {
                    return Ok(Err(refused(
                        Some(serial),
                        Some(officer),
                        format!("wrong PIN ({tries_left} tries left)"),
                    )));
                }
            }
            Err(err) => return Ok(Err(refused(Some(serial), Some(officer), err.to_string()))),
        }
    }
    let share = match client.read_share() {
        Ok(bytes) => match Share::from_bytes(&bytes) {
            Ok(share) => share,
            Err(err) => {
                return Ok(Err(refused(
                    Some(serial),
                    Some(officer),
                    format!("its share is unusable: {err}"),
                )));
            }
        },
        Err(err) => return Ok(Err(refused(Some(serial), Some(officer), err.to_string()))),
    };
    let signature = match client
        .authenticate(&challenge.message(share.index()))
        .map_err(|err| err.to_string())
        .and_then(|bytes| Signature::from_slice(&bytes).map_err(|err| err.to_string()))
    {
        Ok(signature) => signature,
        Err(err) => return Ok(Err(refused(Some(serial), Some(officer), err))),
    };
    Ok(Ok(CardAnswer {
        serial: serial.to_owned(),
        officer: officer.to_owned(),
        generation: status.generation,
        share,
        signature,
    }))
}

//------------ The HSM activated by a quorum ---------------------------------

/// How long the officers have to present their cards.
const ACTIVATION_TIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The ceremony's HSM after the cards were presented.
pub struct QuorumResult {
    /// The HSM: active when `activated`, else sealed.
    pub hsm: Box<dyn Hsm>,
    /// Whether the quorum was met and the HSM activated.
    pub activated: bool,
    /// The cards that counted.
    pub accepted: Vec<Accepted>,
    /// The cards that did not.
    pub refused: Vec<Refused>,
    /// The threshold.
    pub threshold: usize,
    /// The quorum's secret, for rekey and reshare (the others drop it at
    /// once, which wipes it).
    pub secret: Option<Activated>,
}

impl QuorumResult {
    /// The error of a quorum not met.
    pub fn failure(&self) -> CliError {
        CliError::NoQuorum {
            accepted: self.accepted.len(),
            threshold: self.threshold,
        }
    }
}

/// Opens the ceremony's HSM, lets the cards present (those given, or
/// asked for one by one), and activates the HSM with the secret if the
/// quorum is met; every event is shown (unless `quiet`) and audited.
pub fn activate_hsm(
    layout: &Layout,
    cards: &[PathBuf],
    secrets: &Secrets,
    quiet: bool,
    audit: &mut Audit,
) -> Result<QuorumResult, CliError> {
    let clock: Clock = Arc::new(Instant::now);
    let mut hsm = open_hsm(layout, clock)?;
    let roster = hsm.roster()?;
    let threshold = roster.threshold();
    let session = ActivationSession::new(roster, ACTIVATION_TIME, Instant::now());
    let cards = if cards.is_empty() {
        ask_for_cards(threshold)?
    } else {
        cards.to_vec()
    };
    // Each event is shown and audited as it happens: a card's counter has
    // moved by then, whatever comes after.
    let outcome = activate(&session, &cards, secrets, |event| {
        let (line, actor, event, details) = describe(&event);
        if !quiet {
            out(line)?;
        }
        if let Some(event) = event {
            let actor = actor
                .as_ref()
                .map(|(card, officer)| (card.as_str(), officer.as_str()));
            audit.record(event, actor, details)?;
        }
        Ok(())
    })?;
    let secret = match outcome.activated {
        Some(activated) => {
            if let Err(err) = hsm.activate(activated.secret()) {
                audit.record(
                    "hsm-activation-failed",
                    None,
                    serde_json::json!({"error": err.to_string()}),
                )?;
                return Err(err.into());
            }
            audit.record("hsm-activated", None, serde_json::json!({}))?;
            Some(activated)
        }
        None => {
            audit.record(
                "activation-failed",
                None,
                serde_json::json!({"accepted": outcome.accepted.len(), "threshold": threshold}),
            )?;
            None
        }
    };
    Ok(QuorumResult {
        hsm,
        activated: secret.is_some(),
        accepted: outcome.accepted,
        refused: outcome.refused,
        threshold,
        secret,
    })
}

/// The HSM of a ceremony directory, sealed.
pub fn open_hsm(layout: &Layout, clock: Clock) -> Result<Box<dyn Hsm>, CliError> {
    let dir = layout.hsm();
    if dir.join(hsm::STORE_FILE).exists() {
        Ok(Box::new(SoftHsm::open(&dir, clock)?))
    } else if dir.join(hsm::PKCS11_FILE).exists() {
        Ok(Box::new(Pkcs11Hsm::open(&dir, clock)?))
    } else {
        Err(CliError::Usage(format!(
            "{} holds no HSM: run ceremony init first",
            dir.display()
        )))
    }
}

/// Asks for card files one by one, up to the threshold and a few spares.
fn ask_for_cards(threshold: usize) -> Result<Vec<PathBuf>, CliError> {
    let mut cards = Vec::new();
    for number in 1..=threshold + 3 {
        let path = crate::render::ask(&format!(
            "card {number} (of {threshold} needed): the card file, or empty to stop: "
        ))?;
        if path.is_empty() {
            break;
        }
        cards.push(PathBuf::from(path));
    }
    Ok(cards)
}

/// A line for the screen and an audit entry for an activation event.
type Described = (
    String,
    Option<(String, String)>,
    Option<&'static str>,
    serde_json::Value,
);

fn describe(event: &Event<'_>) -> Described {
    match event {
        Event::Reading { number, of, card } => (
            format!("card {number} of {of}: {}", card.display()),
            None,
            None,
            serde_json::Value::Null,
        ),
        Event::WrongPin {
            officer,
            tries_left,
        } => (
            format!("  {officer}: wrong PIN, {tries_left} tries left"),
            None,
            Some("wrong-pin"),
            serde_json::json!({"officer": officer, "tries_left": tries_left}),
        ),
        Event::Accepted(accepted, progress) => (
            format!(
                "  accepted: card {} ({}); {progress}",
                accepted.serial, accepted.officer
            ),
            Some((accepted.serial.clone(), accepted.officer.clone())),
            Some("card-accepted"),
            serde_json::json!({"card": accepted.card, "progress": progress.to_string()}),
        ),
        Event::Refused(refused) => (
            format!(
                "  refused: {}{}: {}",
                refused.card,
                refused
                    .officer
                    .as_ref()
                    .map(|officer| format!(" ({officer})"))
                    .unwrap_or_default(),
                refused.reason
            ),
            refused.serial.clone().zip(refused.officer.clone()),
            Some("card-refused"),
            serde_json::json!({"card": refused.card, "reason": refused.reason}),
        ),
    }
}

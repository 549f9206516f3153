//! A new card set, authorized by a quorum of the current one: `reshare`
//! (for a lost or broken card, an officer who leaves or joins, another k
//! or n) and `rekey` both make a new secret that the HSM takes (the soft
//! HSM seals every key again, a token gets new user and SO PINs), so
//! retired cards open nothing current, not even offline with the current
//! key store. The two differ only in the name the log records. The new
//! cards are complete, and their PUKs out, before the HSM moves: a
//! failure up to the move leaves the old cards in charge, and removes the
//! new ones.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};
use smartcard_sim::{KdfParams, Pin};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::issue::{Issuing, PukDelivery, check_officers};
use crate::summary::Detail;

use super::{details, summary};

/// What a new card set is asked to be.
pub struct GenerationRequest {
    /// Recorded as a rekey rather than a reshare (both make a new secret).
    pub rekey: bool,
    /// The new officers.
    pub officers: Vec<String>,
    /// The new threshold.
    pub threshold: usize,
    /// Each new officer's PIN, in order.
    pub pins: Vec<Pin>,
    /// The new cards' PIN derivation.
    pub kdf: KdfParams,
    /// Where the new PUKs go.
    pub puks: PukDelivery,
    /// Now.
    pub now: Now,
    /// Where the new cards go (`DIR/cards/generation-G` without it; a
    /// production ceremony needs a folder outside its directory).
    pub cards_dir: Option<PathBuf>,
}

/// A new card set to issue.
pub struct Generation {
    request: GenerationRequest,
    generation: u64,
    dir: PathBuf,
}

/// The new card set.
#[derive(Clone, Debug, Serialize)]
pub struct NewCards {
    /// The generation.
    pub generation: u64,
    /// The threshold.
    pub threshold: usize,
    /// Officer, serial and card file of each new card.
    pub cards: Vec<(String, String, String)>,
    /// Whether the secret is new.
    pub new_secret: bool,
    /// The PUK file, if the PUKs went to one.
    pub puk_file: Option<String>,
}

/// Prepares a reshare or rekey: the new officers and threshold are
/// possible, their PINs are there, the PUKs can be delivered and the new
/// cards' folder is free.
///
/// # Errors
///
/// Any of these is not so, or the log fails.
pub fn prepare_generation(
    ceremony: &Ceremony,
    request: GenerationRequest,
) -> Result<Prepared<Generation>, Error> {
    let kind = if request.rekey {
        OperationKind::Rekey
    } else {
        OperationKind::Reshare
    };
    let generation = ceremony.roster().generation().saturating_add(1);
    let dir = request
        .cards_dir
        .clone()
        .unwrap_or_else(|| ceremony.layout().generation(generation));
    let mut begin = details([
        ("generation", generation.into()),
        ("officers", request.officers.clone().into()),
        ("threshold", request.threshold.into()),
    ]);
    if let Some(path) = request.puks.file() {
        begin.insert("puk_file".into(), path.display().to_string().into());
    }
    let open = ceremony.begin(kind, begin)?;
    let checked = (|| {
        check_officers(&request.officers, request.threshold)?;
        if request.pins.len() != request.officers.len() {
            return Err(Error::Internal("a PIN for each new officer".into()));
        }
        request.puks.check()?;
        if !ceremony.is_rehearsal() {
            if !request.kdf.is_strong() {
                return Err(Error::Production(
                    "a production ceremony's cards use the strong PIN derivation (--kdf strong)"
                        .into(),
                ));
            }
            if crate::process::inside(&dir, ceremony.layout().root()) {
                return Err(Error::Production(format!(
                    "the new cards would be in {}, inside the ceremony directory: give --cards-dir, a folder outside it",
                    dir.display()
                )));
            }
        }
        if dir.exists() && std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some())
        {
            return Err(Error::OutputExists(dir.clone()));
        }
        summary(
            ceremony,
            kind,
            request.now,
            Detail::Generation {
                generation,
                officers: request.officers.clone(),
                threshold: request.threshold,
                new_secret: true,
            },
            Vec::new(),
            Vec::new(),
        )
    })();
    match checked {
        Ok(summary) => Ok(Prepared::new(
            Generation {
                request,
                generation,
                dir,
            },
            summary,
            open,
        )),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Generation {
    type Output = NewCards;
    const KEEPS_SECRET: bool = true;
    const ERASES_CARDS: bool = true;

    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<NewCards, Error> {
        let Self {
            request,
            generation,
            dir,
        } = self;
        let GenerationRequest {
            rekey: _,
            officers,
            threshold,
            pins,
            kdf,
            mut puks,
            ..
        } = request;
        let activated = active
            .take_secret()
            .ok_or_else(|| Error::Internal("the quorum's secret was not kept".into()))?;
        crate::process::private_dir(&dir)?;
        let result = (|| {
            let issuing = Issuing::begin(&dir, &officers, pins, kdf, generation)?;
            // Never the same secret under new shares: k retired cards would
            // still rebuild it, and with it open the current key store.
            let rekeyed = quorum::rekey(activated, issuing.officers.clone(), threshold)?;
            Ok::<_, Error>((issuing, rekeyed.previous, rekeyed.enrolment))
        })();
        let (mut issuing, previous, enrolment) = match result {
            Ok(made) => made,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(err);
            }
        };
        let stored = issuing
            .finish(&enrolment.shares)
            .and_then(|()| issuing.hand_out(&mut puks));
        if let Err(err) = stored {
            issuing.discard();
            let _ = std::fs::remove_dir(&dir);
            return Err(err);
        }
        let cards = issuing.cards();
        active.ceremony().record(&Event::CardsIssued {
            generation,
            cards: cards
                .iter()
                .map(|(officer, serial, _)| (officer.clone(), serial.clone()))
                .collect(),
        })?;
        // The state the new set will have goes to disk first, sealed under
        // the new secret: a run killed after the HSM moved is picked up by
        // the new cards, not locked out.
        let new_key = crate::state::StateKey::derive(&enrolment.secret);
        if let Err(err) = crate::state::write_pending(
            active.ceremony(),
            &enrolment.roster,
            active.ceremony().policy(),
            &new_key,
        ) {
            issuing.discard();
            let _ = std::fs::remove_dir(&dir);
            return Err(err);
        }
        let committed = active.hsm_mut().commit_generation(
            previous.secret(),
            &enrolment.secret,
            enrolment.roster.clone(),
        );
        let roster = enrolment.roster.clone();
        if committed.is_ok() {
            active.secret_changed(&enrolment.secret);
        }
        drop(previous);
        drop(enrolment);
        if let Err(err) = committed {
            // The old cards stay in charge; the new ones are useless.
            crate::state::discard_pending(active.ceremony().layout());
            issuing.discard();
            let _ = std::fs::remove_dir(&dir);
            return Err(err.into());
        }
        active.ceremony().record(&Event::GenerationCommitted {
            generation,
            roster_digest: hex::encode(roster.digest()),
        })?;
        stall_for_tests();
        active.ceremony_mut().set_roster(roster);
        Ok(NewCards {
            generation,
            threshold,
            cards: cards
                .into_iter()
                .map(|(officer, serial, path)| (officer, serial, path.display().to_string()))
                .collect(),
            new_secret: true,
            puk_file: puks.file().map(|path| path.display().to_string()),
        })
    }

    fn closing(output: &NewCards) -> Map<String, Value> {
        details([
            ("generation", output.generation.into()),
            ("threshold", output.threshold.into()),
            (
                "serials",
                output
                    .cards
                    .iter()
                    .map(|(_, serial, _)| serial.clone())
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ])
    }
}

/// Debug builds only: `CEREMONY_TEST_STALL_AFTER_COMMIT_MS` waits that long
/// once the HSM has moved to the new card set and before the state is
/// sealed, so that a test can kill the run in that window.
#[cfg(debug_assertions)]
fn stall_for_tests() {
    if let Some(millis) = std::env::var("CEREMONY_TEST_STALL_AFTER_COMMIT_MS")
        .ok()
        .and_then(|value| value.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(millis));
    }
}

#[cfg(not(debug_assertions))]
fn stall_for_tests() {}

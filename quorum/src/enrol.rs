//! Enrolment, rekey and reshare: the three ways shares are issued.
//!
//! * **Enrol** ([`enrol`]): the first generation. A fresh secret, shares
//!   for the officers, the roster sealed under the secret.
//! * **Reshare** ([`reshare`]): the same secret, a new polynomial, new
//!   shares and a new generation. Old cards stop working (a session takes
//!   only the current generation), and the HSM is not touched: its keys
//!   stay wrapped under the same secret. The right choice when a card is
//!   lost or broken, an officer leaves or joins, or k or n change, and
//!   there is no reason to think that k shares of the old generation were
//!   ever together in the wrong hands.
//! * **Rekey** ([`rekey`]): a new secret, shares and generation. The HSM
//!   must re-wrap its keys under the new secret, which is why the old
//!   secret comes back with the new one. The right choice when the secret
//!   itself may be known (k old shares or their holders compromised, a
//!   suspected leak of the activated HSM's memory), and as scheduled key
//!   hygiene: old shares, even collected later, then unlock nothing.
//!
//! Both reshare and rekey take an [`Activated`], which only a completed
//! activation session yields: a quorum of the current generation has
//! authorized them.
//!
//! Which roster is current is not this crate's to know: a session checks
//! presentations against the roster it is given. The HSM keeps the current
//! roster with its key store and replaces it, generation by generation,
//! when a reshare or rekey is committed; an old roster, still valid under
//! its MAC after a reshare, must simply never be offered again, and the
//! HSM refuses one with a lower generation than its own.

use std::num::NonZeroU8;

use p256::ecdsa::VerifyingKey;

use crate::feldman::{SplitError, split, split_secret};
use crate::roster::{CardKey, Officer, Roster, RosterError};
use crate::secret::ActivationSecret;
use crate::session::Activated;
use crate::share::Share;

/// An officer to enrol; the share index is given by the position in the
/// list (1 for the first).
#[derive(Clone, Debug)]
pub struct NewOfficer {
    /// The name.
    pub name: String,
    /// The role.
    pub role: String,
    /// The serial of the card that will hold the share.
    pub card_serial: String,
    /// The card's public key.
    pub card_key: VerifyingKey,
}

/// The result of issuing shares: the secret, the sealed roster, and each
/// officer's share, in roster order, to be written to the cards.
#[derive(Debug)]
pub struct Enrolment {
    /// The secret the shares recover (the same one after a reshare).
    pub secret: ActivationSecret,
    /// The new roster.
    pub roster: Roster,
    /// One share per officer, in roster order; wiped when dropped.
    pub shares: Vec<Share>,
}

/// A rekey: the new enrolment and the secret it replaces, which the HSM
/// needs to re-wrap its keys.
#[derive(Debug)]
pub struct Rekeyed {
    /// The old secret and roster.
    pub previous: Activated,
    /// The new secret, roster and shares.
    pub enrolment: Enrolment,
}

/// Why shares were not issued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    /// k and n are not possible.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// The officers do not make a valid roster.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// The generation number cannot grow any more.
    #[error("generation {0} is the last one")]
    LastGeneration(u64),
}

/// The generation after the roster's: one more, never the same.
fn next_generation(roster: &Roster) -> Result<u64, EnrolError> {
    roster
        .generation()
        .checked_add(1)
        .ok_or(EnrolError::LastGeneration(roster.generation()))
}

/// The first generation: a fresh secret and shares for the officers, any
/// `threshold` of whom activate.
///
/// # Errors
///
/// Impossible k or n, or duplicate officers, cards or keys.
pub fn enrol(officers: Vec<NewOfficer>, threshold: usize) -> Result<Enrolment, EnrolError> {
    let dealt = split(threshold, officers.len())?;
    let roster = Roster::seal(
        1,
        dealt.commitments,
        roster_officers(officers),
        &dealt.secret,
    )?;
    Ok(Enrolment {
        secret: dealt.secret,
        roster,
        shares: dealt.shares,
    })
}

/// New shares of the same secret for a new roster, one generation up.
///
/// # Errors
///
/// As [`enrol`].
pub fn reshare(
    current: Activated,
    officers: Vec<NewOfficer>,
    threshold: usize,
) -> Result<Enrolment, EnrolError> {
    let (secret, roster) = current.into_parts();
    let (shares, commitments) = split_secret(&secret, threshold, officers.len())?;
    let roster = Roster::seal(
        next_generation(&roster)?,
        commitments,
        roster_officers(officers),
        &secret,
    )?;
    Ok(Enrolment {
        secret,
        roster,
        shares,
    })
}

/// A new secret and shares for a new roster, one generation up; the old
/// secret is returned for the HSM to re-wrap its keys.
///
/// # Errors
///
/// As [`enrol`].
pub fn rekey(
    current: Activated,
    officers: Vec<NewOfficer>,
    threshold: usize,
) -> Result<Rekeyed, EnrolError> {
    let dealt = split(threshold, officers.len())?;
    let roster = Roster::seal(
        next_generation(current.roster())?,
        dealt.commitments,
        roster_officers(officers),
        &dealt.secret,
    )?;
    Ok(Rekeyed {
        previous: current,
        enrolment: Enrolment {
            secret: dealt.secret,
            roster,
            shares: dealt.shares,
        },
    })
}

/// The officers with share indices 1, 2, … in order. [`split`] refuses
/// more than 255, so every index fits.
fn roster_officers(officers: Vec<NewOfficer>) -> Vec<Officer> {
    officers
        .into_iter()
        .zip((1..=u8::MAX).filter_map(NonZeroU8::new))
        .map(|(officer, share_index)| Officer {
            name: officer.name,
            role: officer.role,
            card_serial: officer.card_serial,
            card_key: CardKey::new(officer.card_key),
            share_index,
        })
        .collect()
}

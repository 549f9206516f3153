//! k-of-n activation of the HSM with Feldman verifiable secret sharing.
//!
//! The activation secret is a P-256 scalar. [`enrol`] makes one, splits it
//! into a share per crypto officer (any k of which recover it) and seals
//! the [`Roster`]: who holds which share on which card, the threshold, the
//! Feldman [`Commitments`] and a generation number, bound by a MAC under a
//! key derived from the secret. An [`ActivationSession`] takes the cards'
//! [`Presentation`]s one by one: each counts only if the card is enrolled
//! in the current generation, signed this attempt's [`Challenge`], and its
//! share matches the commitments; anything else is a [`Refusal`] that
//! names the card and the officer. At the threshold the shares are
//! combined, checked against C0 and the roster's MAC, wiped, and the secret
//! is yielded once. [`reshare`] and [`rekey`] issue a new generation, with
//! a quorum of the current one as their authority.
//!
//! This crate knows nothing of files, cards or clocks: time is a
//! parameter. Which roster is current is the HSM's to keep (see
//! [`reshare`]).
//!
//! No secret (share, secret, polynomial coefficient) is printed by `Debug`
//! or serialized, and none is left in memory after use: shares and the
//! secret live in heap buffers (so moving them copies only a pointer) that
//! are overwritten when dropped, and the polynomial is wiped after the
//! split. What remains is what Rust cannot promise: scalar temporaries on
//! the stack inside p256 and vsss-rs (Horner's accumulator in
//! `Polynomial::evaluate`, the Lagrange terms of the interpolation).
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use p256::ecdsa::{Signature, SigningKey, signature::Signer as _};
//! use quorum::{ActivationSession, NewOfficer, Presentation, Share, enrol};
//!
//! let cards: Vec<SigningKey> =
//!     (1..=3u8).map(|seed| SigningKey::from_slice(&[seed; 32]).unwrap()).collect();
//! let officers = cards.iter().enumerate().map(|(i, card)| NewOfficer {
//!     name: format!("CO-{}", i + 1),
//!     role: "crypto officer".into(),
//!     card_serial: format!("000{}", i + 1),
//!     card_key: *card.verifying_key(),
//! }).collect();
//! let enrolment = enrol(officers, 2)?;
//!
//! let now = Instant::now();
//! let session = ActivationSession::new(enrolment.roster.clone(), Duration::from_secs(900), now);
//! for i in [2, 0] {
//!     // What a card does: sign the challenge, hand over its share.
//!     let challenge = session.challenge();
//!     let share = Share::from_bytes(enrolment.shares[i].to_bytes().as_ref())?;
//!     let signature: Signature = cards[i].sign(&challenge.message(share.index()));
//!     let progress = session.present(Presentation {
//!         card_serial: format!("000{}", i + 1),
//!         generation: challenge.generation,
//!         nonce: challenge.nonce,
//!         share,
//!         signature,
//!     }, now)?;
//!     println!("{progress}");
//! }
//! let activated = session.take_secret(now).expect("the quorum is complete");
//! assert_eq!(activated.secret().public_point(), enrolment.roster.commitments().secret_point());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod enrol;
mod feldman;
mod roster;
mod secret;
mod session;
mod share;
mod transit;
mod wipe;

pub use enrol::{EnrolError, Enrolment, NewOfficer, Rekeyed, enrol, rekey, reshare};
pub use feldman::{
    CombineError, Commitments, Dealt, InvalidShare, MAX_SHARES, SplitError, combine, split,
};
pub use roster::{CardKey, Officer, Roster, RosterError};
pub use secret::ActivationSecret;
pub use session::{Activated, ActivationSession, Challenge, Presentation, Progress, Refusal};
pub use share::{SHARE_LEN, Share, ShareFormatError};
pub use transit::{POINT_LEN, SealedShare, SessionKey, TransitError};

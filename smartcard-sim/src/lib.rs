//! Simulated crypto-officer smartcards that behave like real ones.
//!
//! Each officer's card carries one share of the activation secret and a
//! P-256 card key, behind a PIN. The [`Card`] trait is the level of ISO
//! 7816-4 APDUs, so a PC/SC reader with a real applet could stand in for
//! the [`SimulatedCard`]; [`CardClient`] turns commands and status words
//! into typed calls and errors. The commands are SELECT, GET DATA, VERIFY,
//! CHANGE REFERENCE DATA, RESET RETRY COUNTER, INTERNAL AUTHENTICATE, READ
//! SHARE and, once at issuance, PERSONALIZE, SET PIN AND PUK, GENERATE CARD
//! KEY, WRITE SHARE and END PERSONALIZATION (see [`apdu`]). Status words
//! are the real ones: 9000, 63Cx (x tries left), 6983 (blocked), 6982
//! (PIN first), 6A82, 6700, 6A80, 6A86, 6A88, 6985, 6D00, 6E00, and 6400 /
//! 6581 for damaged data and a failed write.
//!
//! # The card file
//!
//! A simulated card is one file (see [`FileStorage`]): serial, holder,
//! role, generation, card public key and Argon2id parameters in clear; the
//! card's private key and share encrypted (XChaCha20-Poly1305) under a
//! random data key; the data key sealed once under a key derived from the
//! PIN and once under one derived from the PUK (Argon2id, RFC 9106's 64 MiB
//! profile by default, parameters and salts stored in the file); the
//! retry counters; and a SHA-256 checksum of it all. Three wrong PINs block
//! the card; ten wrong PUKs kill it. A counter is decremented and written
//! to disk before the PIN is checked and restored only after success, so
//! pulling the power at any moment never yields a free try. Every write is
//! atomic: temporary file, fsync, rename, fsync of the directory.
//!
//! # What the simulation protects, and what only hardware can
//!
//! Protected by the file format itself:
//!
//! * **PIN and PUK secrecy**: only Argon2id-derived keys are stored, and
//!   guessing offline costs 64 MiB and three passes per guess.
//! * **Share and card-key secrecy**: encrypted; without the PIN or the PUK
//!   the file reveals neither.
//! * **Integrity of every field**: the checksum reports any damaged byte
//!   before anything is used; a deliberate edit that recomputes the
//!   checksum still fails the AEAD, whose associated data are the public
//!   fields and the slot's name, so an edited holder or generation, a share
//!   or key moved from another card, or a card key that does not match the
//!   private key is reported as a damaged card (6400), never accepted.
//!
//! Not protected, because only tamper-resistant hardware can:
//!
//! * **Counter rollback**: whoever holds the file can keep a copy and
//!   restore it after three wrong PINs, getting three more tries; the
//!   counters cannot be sealed (they change without the PIN). Argon2id only
//!   slows the guessing down.
//! * **Cloning**: a copy of the file is a second card, indistinguishable
//!   from the first. A real card's private key cannot be exported.
//! * **Memory of the host**: the simulator runs in the host's process, so
//!   the opened share and key live in its memory (wiped after use).
//!
//! So simulated cards are for exercises, tests and rehearsals; a production
//! ceremony uses hardware cards behind the same [`Card`] trait.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod apdu;
mod card;
mod host;
mod record;
mod secret;
mod sim;
mod storage;

pub use card::Card;
pub use host::{CardClient, CardError, CardState, CardStatus, Personalization};
pub use record::{Damaged, KdfParams, MAX_SHARE, PIN_TRIES, PUK_TRIES};
pub use secret::{Pin, Puk, SecretFormatError};
pub use sim::{OpenError, SimulatedCard};
pub use storage::{FileStorage, MAX_CARD_FILE, Storage};

//! The activation session: cards present their shares one by one, each is
//! checked, and at the threshold the secret is combined once.
//!
//! The session is shared by reference (`&self` everywhere, a mutex inside),
//! so the officers' presentations may arrive from several threads or
//! network connections; the lock makes them one sequence.

use std::fmt;
use std::num::NonZeroU8;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier as _;
use rand::TryRng as _;

use crate::feldman::combine;
use crate::roster::{Officer, Roster};
use crate::secret::ActivationSecret;
use crate::share::Share;

/// The domain separation of the message a card signs.
const CHALLENGE_LABEL: &[u8] = b"ceremony activation challenge v2";

//------------ Challenge -----------------------------------------------------

/// What a card signs to present its share: the attempt's nonce, the share
/// index, the generation, the roster digest, the digest of the operation
/// the officers were shown and authorize (see
/// [`ActivationSession::for_operation`]), and the channel the attempt is
/// bound to (empty at one terminal; the session's transport key when
/// officers present over a network, see [`ActivationSession::bound_to`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The attempt's fresh random nonce.
    pub nonce: [u8; 32],
    /// The roster's generation.
    pub generation: u64,
    /// The roster's digest.
    pub roster_digest: [u8; 32],
    /// The digest of the operation the presentation authorizes.
    pub operation: [u8; 32],
    /// The channel binding: the public key shares are sealed to, or empty.
    pub channel: Vec<u8>,
}

impl Challenge {
    /// The message a card signs for its share index (ECDSA P-256 with
    /// SHA-256 over these bytes).
    pub fn message(&self, share_index: NonZeroU8) -> Vec<u8> {
        let channel_length = u16::try_from(self.channel.len()).unwrap_or(u16::MAX);
        let mut message = Vec::with_capacity(
            CHALLENGE_LABEL.len() + 32 + 1 + 8 + 32 + 32 + 2 + self.channel.len(),
        );
        message.extend_from_slice(CHALLENGE_LABEL);
        message.extend_from_slice(&self.nonce);
        message.push(share_index.get());
        message.extend_from_slice(&self.generation.to_be_bytes());
        message.extend_from_slice(&self.roster_digest);
        message.extend_from_slice(&self.operation);
        message.extend_from_slice(&channel_length.to_be_bytes());
        message.extend_from_slice(
            self.channel
                .get(..usize::from(channel_length))
                .unwrap_or_default(),
        );
        message
    }
}

//------------ Presentation --------------------------------------------------

/// A card's presentation: its share and its signature over the challenge.
#[derive(Debug)]
pub struct Presentation {
    /// The card's serial.
    pub card_serial: String,
    /// The generation the card was issued in.
    pub generation: u64,
    /// The nonce the card signed.
    pub nonce: [u8; 32],
    /// The share read from the card.
    pub share: Share,
    /// The card's signature over [`Challenge::message`].
    pub signature: Signature,
}

//------------ Refusal and Progress ------------------------------------------

/// Why a presentation did not count; it names the card and the officer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No officer of this roster has the card.
    #[error("card {card:?}: not enrolled in generation {generation}")]
    UnknownCard {
        /// The serial presented (at most 64 characters of it).
        card: String,
        /// The current generation.
        generation: u64,
    },
    /// The card belongs to an earlier (or later) generation.
    #[error("{officer}: issued in generation {presented}, the roster is generation {current}")]
    OldGeneration {
        /// The officer and card.
        officer: String,
        /// The card's generation.
        presented: u64,
        /// The roster's.
        current: u64,
    },
    /// The card signed another attempt's nonce.
    #[error("{officer}: the signature is for another attempt (stale nonce)")]
    StaleNonce {
        /// The officer and card.
        officer: String,
    },
    /// The signature does not verify with the enrolled card key.
    #[error("{officer}: the card's signature does not verify with its enrolled key")]
    BadSignature {
        /// The officer and card.
        officer: String,
    },
    /// The share is not this officer's, or not on the committed polynomial.
    #[error("{officer}: the share does not match the commitments")]
    BadShare {
        /// The officer and card.
        officer: String,
    },
    /// The officer has already presented in this attempt.
    #[error("{officer}: already presented in this attempt")]
    Duplicate {
        /// The officer and card.
        officer: String,
    },
    /// The attempt ran out of time; its shares are wiped. Reset to start
    /// again.
    #[error("card {card:?}: the activation attempt expired after {after:?}; reset to start again")]
    Expired {
        /// The serial presented.
        card: String,
        /// The time limit.
        after: Duration,
    },
    /// The threshold was already met in this attempt.
    #[error("card {card:?}: the quorum is already complete in this attempt")]
    Complete {
        /// The serial presented.
        card: String,
    },
    /// The shares combined, but the roster's MAC does not match the secret:
    /// the roster was altered. The attempt is reset.
    #[error(
        "{officer}: completed the quorum, but the roster was altered (its MAC does not match the combined secret); the attempt was reset"
    )]
    RosterAltered {
        /// The officer whose card completed the quorum.
        officer: String,
    },
    /// Verified shares did not combine to C0: the commitments themselves
    /// are inconsistent. The attempt is reset.
    #[error(
        "{officer}: completed the quorum, but the shares do not combine to the committed secret; the attempt was reset"
    )]
    CommitmentsInconsistent {
        /// The officer whose card completed the quorum.
        officer: String,
    },
}

/// Where an attempt stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Valid presentations so far.
    pub presented: usize,
    /// The threshold k.
    pub threshold: usize,
    /// The number of officers n.
    pub officers: usize,
    /// Who has presented, in order.
    pub who: Vec<String>,
    /// Whether the secret was combined.
    pub complete: bool,
}

impl fmt::Display for Progress {
    /// `2 of 3 (CO-1, CO-3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.presented, self.threshold)?;
        if !self.who.is_empty() {
            write!(f, " ({})", self.who.join(", "))?;
        }
        Ok(())
    }
}

//------------ Activated -----------------------------------------------------

/// The combined secret and the roster whose quorum produced it: proof that
/// a quorum of that generation was present, which rekey and reshare
/// require.
/// Only a session makes one.
#[derive(Debug)]
pub struct Activated {
    secret: ActivationSecret,
    roster: Roster,
}

impl Activated {
    /// The secret; wiped when the `Activated` is dropped.
    pub fn secret(&self) -> &ActivationSecret {
        &self.secret
    }

    /// The roster the quorum belongs to.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The two parts, for rekey and reshare.
    pub(crate) fn into_parts(self) -> (ActivationSecret, Roster) {
        (self.secret, self.roster)
    }
}

//------------ ActivationSession ---------------------------------------------

/// One activation: a roster, a time limit and the current attempt.
pub struct ActivationSession {
    roster: Roster,
    timeout: Duration,
    operation: [u8; 32],
    channel: Vec<u8>,
    state: Mutex<Attempt>,
}

/// The current attempt.
struct Attempt {
    nonce: [u8; 32],
    started: Instant,
    /// The accepted presentations: officer name and share.
    accepted: Vec<(String, Share)>,
    /// The combined secret, until it is taken.
    secret: Option<ActivationSecret>,
    complete: bool,
}

impl Attempt {
    fn new(now: Instant) -> Self {
        let mut nonce = [0; 32];
        // The operating system's generator; it does not fail on the
        // platforms we build for, and a failure must not yield a zero nonce.
        if rand::rngs::SysRng.try_fill_bytes(&mut nonce).is_err() {
            panic!("the operating system's random number generator failed");
        }
        Self {
            nonce,
            started: now,
            accepted: Vec::new(),
            secret: None,
            complete: false,
        }
    }

    /// Wipes the shares and any secret not taken.
    fn wipe(&mut self) {
        self.accepted.clear();
        self.secret = None;
    }
}

impl ActivationSession {
    /// Opens a session for the roster; the first attempt starts `now` and
    /// expires `timeout` later.
    pub fn new(roster: Roster, timeout: Duration, now: Instant) -> Self {
        Self {
            roster,
            timeout,
            operation: [0; 32],
            channel: Vec::new(),
            state: Mutex::new(Attempt::new(now)),
        }
    }

    /// Binds every challenge of this session to one operation: the digest
    /// of the summary the officers were shown (what is signed, with which
    /// policy). A card's signature then counts for that operation only, so
    /// a quorum gathered for one KSR cannot be spent on another.
    #[must_use]
    pub fn for_operation(mut self, digest: [u8; 32]) -> Self {
        self.operation = digest;
        self
    }

    /// The digest of the operation this session's presentations authorize.
    pub fn operation(&self) -> [u8; 32] {
        self.operation
    }

    /// Binds every challenge of this session to a channel: when officers
    /// present over a network, the public key their shares are sealed to.
    /// A card then signs that key too, so a relay that substitutes its own
    /// key (to open the shares) makes every signature fail to verify.
    #[must_use]
    pub fn bound_to(mut self, channel: Vec<u8>) -> Self {
        self.channel = channel;
        self
    }

    /// The roster.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// What a card must sign in the current attempt.
    pub fn challenge(&self) -> Challenge {
        Challenge {
            nonce: self.lock().nonce,
            generation: self.roster.generation(),
            roster_digest: self.roster.digest(),
            operation: self.operation,
            channel: self.channel.clone(),
        }
    }

    /// Where the current attempt stands.
    pub fn progress(&self) -> Progress {
        self.progress_of(&self.lock())
    }

    /// Whether the current attempt has run out of time at `now`.
    pub fn has_expired(&self, now: Instant) -> bool {
        self.expired(&self.lock(), now)
    }

    /// How long the current attempt has left at `now` (zero once expired).
    pub fn time_left(&self, now: Instant) -> Duration {
        let started = self.lock().started;
        self.timeout
            .saturating_sub(now.saturating_duration_since(started))
    }

    /// Starts a new attempt: a new nonce and clock, every share so far
    /// wiped, a combined secret not yet taken wiped too.
    pub fn reset(&self, now: Instant) {
        *self.lock() = Attempt::new(now);
    }

    /// Takes a presentation. It counts only if the card is enrolled in the
    /// current generation, signed this attempt's challenge with its
    /// enrolled key, holds its officer's share, the share matches the
    /// commitments, and the officer has not presented yet. At the
    /// threshold the shares are combined, checked against C0 and the
    /// roster's MAC, and wiped.
    ///
    /// # Errors
    ///
    /// The [`Refusal`], naming the card and officer; the attempt goes on
    /// (except after [`Refusal::RosterAltered`], which resets it).
    pub fn present(&self, presentation: Presentation, now: Instant) -> Result<Progress, Refusal> {
        let mut attempt = self.lock();
        let card = || {
            presentation
                .card_serial
                .chars()
                .take(64)
                .collect::<String>()
        };
        if self.expired(&attempt, now) {
            attempt.wipe();
            return Err(Refusal::Expired {
                card: card(),
                after: self.timeout,
            });
        }
        if attempt.complete {
            return Err(Refusal::Complete { card: card() });
        }
        let officer = self.check(&presentation, &attempt)?;
        if attempt
            .accepted
            .iter()
            .any(|(name, _)| *name == officer.name)
        {
            return Err(Refusal::Duplicate {
                officer: officer.to_string(),
            });
        }
        attempt
            .accepted
            .push((officer.name.clone(), presentation.share));
        if attempt.accepted.len() == self.roster.threshold() {
            let shares: Vec<&Share> = attempt.accepted.iter().map(|(_, share)| share).collect();
            let combined = combine(self.roster.commitments(), &shares);
            let progress = self.progress_of(&attempt);
            // The shares are no longer needed: wiped now, whatever happened.
            attempt.accepted.clear();
            let secret = match combined {
                Ok(secret) => secret,
                // Every share was verified on its way in; a failure here
                // means the commitments themselves are inconsistent.
                Err(_) => {
                    *attempt = Attempt::new(now);
                    return Err(Refusal::CommitmentsInconsistent {
                        officer: officer.to_string(),
                    });
                }
            };
            if self.roster.verify_mac(&secret).is_err() {
                *attempt = Attempt::new(now);
                return Err(Refusal::RosterAltered {
                    officer: officer.to_string(),
                });
            }
            attempt.secret = Some(secret);
            attempt.complete = true;
            return Ok(Progress {
                complete: true,
                ..progress
            });
        }
        Ok(self.progress_of(&attempt))
    }

    /// Yields the combined secret, exactly once, and only before the
    /// attempt expires (after that it is wiped).
    pub fn take_secret(&self, now: Instant) -> Option<Activated> {
        let mut attempt = self.lock();
        if self.expired(&attempt, now) {
            attempt.wipe();
            return None;
        }
        attempt.secret.take().map(|secret| Activated {
            secret,
            roster: self.roster.clone(),
        })
    }

    /// Whether the attempt has run out of time at `now`.
    fn expired(&self, attempt: &Attempt, now: Instant) -> bool {
        now.saturating_duration_since(attempt.started) > self.timeout
    }

    /// The checks of one presentation, in the order that names the most
    /// specific reason.
    fn check(&self, presentation: &Presentation, attempt: &Attempt) -> Result<&Officer, Refusal> {
        let roster = &self.roster;
        let officer = roster
            .officer_by_card(&presentation.card_serial)
            .ok_or_else(|| Refusal::UnknownCard {
                card: presentation.card_serial.chars().take(64).collect(),
                generation: roster.generation(),
            })?;
        let name = || officer.to_string();
        if presentation.generation != roster.generation() {
            return Err(Refusal::OldGeneration {
                officer: name(),
                presented: presentation.generation,
                current: roster.generation(),
            });
        }
        if presentation.nonce != attempt.nonce {
            return Err(Refusal::StaleNonce { officer: name() });
        }
        let challenge = Challenge {
            nonce: attempt.nonce,
            generation: roster.generation(),
            roster_digest: roster.digest(),
            operation: self.operation,
            channel: self.channel.clone(),
        };
        let message = challenge.message(presentation.share.index());
        officer
            .card_key
            .verifying_key()
            .verify(&message, &presentation.signature)
            .map_err(|_| Refusal::BadSignature { officer: name() })?;
        if presentation.share.index() != officer.share_index
            || roster.commitments().verify(&presentation.share).is_err()
        {
            return Err(Refusal::BadShare { officer: name() });
        }
        Ok(officer)
    }

    fn progress_of(&self, attempt: &Attempt) -> Progress {
        Progress {
            presented: attempt.accepted.len(),
            threshold: self.roster.threshold(),
            officers: self.roster.officers().len(),
            who: attempt
                .accepted
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            complete: attempt.complete,
        }
    }

    /// The attempt; a panic while it was held cannot leave it half-changed
    /// in a way that matters (every change is one assignment), so a
    /// poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, Attempt> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for ActivationSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivationSession")
            .field("generation", &self.roster.generation())
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "a panic in a test is a failing test"
    )]

    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;

    use super::*;
    use crate::enrol::{NewOfficer, enrol};
    use crate::wipe::log;

    #[test]
    fn shares_and_the_secret_are_zero_after_use() {
        let cards: Vec<SigningKey> = (1..=3u8)
            .map(|seed| SigningKey::from_slice(&[seed; 32]).unwrap())
            .collect();
        let officers = cards
            .iter()
            .enumerate()
            .map(|(index, card)| NewOfficer {
                name: format!("CO-{index}"),
                role: "crypto officer".into(),
                card_serial: format!("{index}"),
                card_key: *card.verifying_key(),
            })
            .collect();
        let enrolment = enrol(officers, 2).unwrap();
        let now = Instant::now();
        let session =
            ActivationSession::new(enrolment.roster.clone(), Duration::from_secs(60), now);
        let present = |index: usize| {
            let challenge = session.challenge();
            let share = Share::from_bytes(enrolment.shares[index].to_bytes().as_ref()).unwrap();
            let signature = cards[index].sign(&challenge.message(share.index()));
            session.present(
                Presentation {
                    card_serial: format!("{index}"),
                    generation: 1,
                    nonce: challenge.nonce,
                    share,
                    signature,
                },
                now,
            )
        };
        present(0).unwrap();
        log::take();
        assert!(present(2).unwrap().complete);
        // Both accepted shares were wiped at the combination, before the
        // call returned, and nothing wiped was left non-zero.
        let wiped = log::take();
        assert_eq!(
            wiped.iter().filter(|(kind, _)| *kind == "share").count(),
            2,
            "{wiped:?}"
        );
        assert!(wiped.iter().all(|(_, zero)| *zero), "{wiped:?}");
        let activated = session.take_secret(now).unwrap();
        drop(activated);
        assert_eq!(log::take(), [("secret", true)]);
        drop(enrolment);
        let wiped = log::take();
        assert_eq!(wiped.len(), 4, "three shares and the secret: {wiped:?}");
        assert!(wiped.iter().all(|(_, zero)| *zero));
    }
}

//! A room of officers with simulated card keys, for the tests.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::time::{Duration, Instant};

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use quorum::{Activated, ActivationSession, Enrolment, NewOfficer, Presentation, Share, enrol};

/// The officers' card keys and the enrolment.
pub struct Room {
    /// The card keys, officer by officer.
    pub cards: Vec<SigningKey>,
    /// The secret, roster and shares.
    pub enrolment: Enrolment,
}

/// Card keys for `count` officers named CO-1 … CO-n.
pub fn officers(count: usize, seed: u8) -> (Vec<SigningKey>, Vec<NewOfficer>) {
    let cards: Vec<SigningKey> = (0..count)
        .map(|index| {
            let mut bytes = [seed; 32];
            bytes[0] = u8::try_from(index + 1).unwrap();
            SigningKey::from_slice(&bytes).unwrap()
        })
        .collect();
    let officers = cards
        .iter()
        .enumerate()
        .map(|(index, card)| NewOfficer {
            name: format!("CO-{}", index + 1),
            role: "crypto officer".into(),
            card_serial: format!("{seed:02}{:04}", index + 1),
            card_key: *card.verifying_key(),
        })
        .collect();
    (cards, officers)
}

impl Room {
    /// k of n officers, enrolled.
    pub fn new(threshold: usize, count: usize) -> Self {
        let (cards, officers) = officers(count, 7);
        Self {
            cards,
            enrolment: enrol(officers, threshold).unwrap(),
        }
    }

    /// A session over the room's roster, opened at `now`, 15 minutes long.
    pub fn session(&self, now: Instant) -> ActivationSession {
        ActivationSession::new(self.enrolment.roster.clone(), Duration::from_secs(900), now)
    }

    /// The officers of `order` present in a new session; the quorum is
    /// then complete and its secret taken.
    pub fn activate(&self, order: &[usize], now: Instant) -> Activated {
        let session = self.session(now);
        for officer in order {
            session
                .present(self.presentation(&session, *officer), now)
                .unwrap();
        }
        session.take_secret(now).expect("a complete quorum")
    }

    /// A copy of officer `index`'s share (0-based), as a card would read it.
    pub fn share(&self, index: usize) -> Share {
        Share::from_bytes(self.enrolment.shares[index].to_bytes().as_ref()).unwrap()
    }

    /// Officer `index` presents their share to the session, signing its
    /// current challenge.
    pub fn presentation(&self, session: &ActivationSession, index: usize) -> Presentation {
        self.presentation_with(session, index, self.share(index))
    }

    /// The same with a share of the caller's choice.
    pub fn presentation_with(
        &self,
        session: &ActivationSession,
        index: usize,
        share: Share,
    ) -> Presentation {
        let challenge = session.challenge();
        let signature: Signature = self.cards[index].sign(&challenge.message(share.index()));
        Presentation {
            card_serial: self.enrolment.roster.officers()[index].card_serial.clone(),
            generation: challenge.generation,
            nonce: challenge.nonce,
            share,
            signature,
        }
    }
}

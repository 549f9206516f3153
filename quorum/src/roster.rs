//! The roster: who holds which share, under which card, in which
//! generation; bound together by a digest that every card signature covers
//! and by a MAC under a key derived from the secret.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU8;

use hmac::{Hmac, KeyInit as _, Mac as _};
use p256::ecdsa::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::feldman::Commitments;
use crate::secret::ActivationSecret;

/// What the roster MAC key is derived for (see [`ActivationSecret::derive_key`]).
const MAC_PURPOSE: &str = "roster mac";

//------------ CardKey -------------------------------------------------------

/// A card's public key (P-256), which checks the card's signature over the
/// activation challenge. Written as hex of the compressed SEC1 point.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CardKey(VerifyingKey);

impl CardKey {
    /// Wraps a verifying key.
    pub fn new(key: VerifyingKey) -> Self {
        Self(key)
    }

    /// The key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// The compressed SEC1 encoding (33 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_sec1_point(true).as_bytes().to_vec()
    }
}

impl fmt::Debug for CardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardKey({})", hex::encode(self.to_bytes()))
    }
}

impl From<CardKey> for String {
    fn from(key: CardKey) -> Self {
        hex::encode(key.to_bytes())
    }
}

impl TryFrom<String> for CardKey {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let bytes = hex::decode(&text).map_err(|err| format!("card key: {err}"))?;
        VerifyingKey::from_sec1_bytes(&bytes)
            .map(Self)
            .map_err(|_| "card key: not a P-256 public key".to_owned())
    }
}

//------------ Officer -------------------------------------------------------

/// One crypto officer: who, what role, which card, which share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Officer {
    /// The officer's name, as the room knows it.
    pub name: String,
    /// The role, such as "crypto officer".
    pub role: String,
    /// The serial number of the officer's card.
    pub card_serial: String,
    /// The card's public key.
    pub card_key: CardKey,
    /// The index of the share on the card, 1 to 255.
    pub share_index: NonZeroU8,
}

impl fmt::Display for Officer {
    /// `card 0042 (CO-1, crypto officer)`: how refusals name a card.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "card {} ({}, {})",
            self.card_serial, self.name, self.role
        )
    }
}

//------------ Roster --------------------------------------------------------

/// The officers of one generation, the threshold and the commitments,
/// sealed with a MAC under a key derived from the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RosterFields", into = "RosterFields")]
pub struct Roster {
    fields: RosterFields,
}

/// The serialized form, checked on the way in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFields {
    generation: u64,
    threshold: usize,
    commitments: Commitments,
    officers: Vec<Officer>,
    /// HMAC-SHA-256 of the digest, hex.
    mac: String,
}

/// Why a roster is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    /// Two officers share a name, a card, a card key or a share index.
    #[error("officers {0} and {1} share a {2}")]
    Duplicate(String, String, &'static str),
    /// The threshold and the commitments, or the officers, do not fit.
    #[error("{0}")]
    Shape(String),
    /// The MAC does not match: a field was changed after sealing.
    #[error("the roster was altered: its MAC does not match the secret")]
    Altered,
}

impl Roster {
    /// Seals a roster for the officers (each with the index of the share
    /// they receive) under the secret the commitments commit to.
    ///
    /// # Errors
    ///
    /// Duplicate officers, cards, keys or indices; a threshold other than
    /// the commitments'; fewer officers than the threshold.
    pub fn seal(
        generation: u64,
        commitments: Commitments,
        officers: Vec<Officer>,
        secret: &ActivationSecret,
    ) -> Result<Self, RosterError> {
        let mut fields = RosterFields {
            generation,
            threshold: commitments.threshold(),
            commitments,
            officers,
            mac: String::new(),
        };
        check_shape(&fields)?;
        fields.mac = hex::encode(mac(&digest(&fields), secret));
        Ok(Self { fields })
    }

    /// The generation: 1 at enrolment, one more at every rekey or reshare.
    pub fn generation(&self) -> u64 {
        self.fields.generation
    }

    /// k.
    pub fn threshold(&self) -> usize {
        self.fields.threshold
    }

    /// The Feldman commitments.
    pub fn commitments(&self) -> &Commitments {
        &self.fields.commitments
    }

    /// The officers.
    pub fn officers(&self) -> &[Officer] {
        &self.fields.officers
    }

    /// The officer whose card has this serial.
    pub fn officer_by_card(&self, serial: &str) -> Option<&Officer> {
        self.fields
            .officers
            .iter()
            .find(|officer| officer.card_serial == serial)
    }

    /// SHA-256 over every field but the MAC, in a fixed binary form: what
    /// each card signs together with the session's nonce.
    pub fn digest(&self) -> [u8; 32] {
        digest(&self.fields)
    }

    /// Checks the MAC with the combined secret.
    ///
    /// # Errors
    ///
    /// [`RosterError::Altered`] if any field changed since sealing.
    pub fn verify_mac(&self, secret: &ActivationSecret) -> Result<(), RosterError> {
        let expected = hex::decode(&self.fields.mac).map_err(|_| RosterError::Altered)?;
        let mut mac_state = <Hmac<Sha256>>::new_from_slice(secret.derive_key(MAC_PURPOSE).as_ref())
            .map_err(|_| RosterError::Altered)?;
        mac_state.update(&self.digest());
        mac_state
            .verify_slice(&expected)
            .map_err(|_| RosterError::Altered)
    }
}

impl TryFrom<RosterFields> for Roster {
    type Error = RosterError;

    fn try_from(fields: RosterFields) -> Result<Self, RosterError> {
        check_shape(&fields)?;
        Ok(Self { fields })
    }
}

impl From<Roster> for RosterFields {
    fn from(roster: Roster) -> Self {
        roster.fields
    }
}

/// What a roster must satisfy whatever its MAC.
fn check_shape(fields: &RosterFields) -> Result<(), RosterError> {
    if fields.threshold != fields.commitments.threshold() {
        return Err(RosterError::Shape(format!(
            "the threshold is {} but there are {} commitments",
            fields.threshold,
            fields.commitments.threshold()
        )));
    }
    if fields.officers.len() < fields.threshold {
        return Err(RosterError::Shape(format!(
            "{} officers cannot reach a threshold of {}",
            fields.officers.len(),
            fields.threshold
        )));
    }
    let officers = &fields.officers;
    let clashes = [
        (
            "name",
            duplicate(officers, |officer| officer.name.as_bytes().to_vec()),
        ),
        (
            "card",
            duplicate(officers, |officer| officer.card_serial.as_bytes().to_vec()),
        ),
        (
            "card key",
            duplicate(officers, |officer| officer.card_key.to_bytes()),
        ),
        (
            "share index",
            duplicate(officers, |officer| vec![officer.share_index.get()]),
        ),
    ];
    for (what, clash) in clashes {
        if let Some((first, second)) = clash {
            return Err(RosterError::Duplicate(
                first.name.clone(),
                second.name.clone(),
                what,
            ));
        }
    }
    Ok(())
}

/// The first two officers with the same key, if any.
fn duplicate(
    officers: &[Officer],
    key: impl Fn(&Officer) -> Vec<u8>,
) -> Option<(&Officer, &Officer)> {
    let mut seen = BTreeMap::new();
    officers.iter().find_map(|officer| {
        seen.insert(key(officer), officer)
            .map(|first| (first, officer))
    })
}

/// The roster digest: SHA-256 of a length-prefixed encoding of every field
/// but the MAC, so no two rosters share an encoding.
fn digest(fields: &RosterFields) -> [u8; 32] {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        hash.update(bytes);
    };
    field(b"ceremony roster v1");
    field(&fields.generation.to_be_bytes());
    field(
        &u64::try_from(fields.threshold)
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    field(&fields.commitments.to_bytes());
    field(
        &u64::try_from(fields.officers.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    for officer in &fields.officers {
        field(officer.name.as_bytes());
        field(officer.role.as_bytes());
        field(officer.card_serial.as_bytes());
        field(&officer.card_key.to_bytes());
        field(&[officer.share_index.get()]);
    }
    hash.finalize().into()
}

/// HMAC-SHA-256 of the digest under the roster key.
fn mac(digest: &[u8; 32], secret: &ActivationSecret) -> Vec<u8> {
    match <Hmac<Sha256>>::new_from_slice(secret.derive_key(MAC_PURPOSE).as_ref()) {
        Ok(mut mac) => {
            mac.update(digest);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => unreachable!("HMAC takes a key of any length"),
    }
}

//! Where a private key on a PKCS#11 token came from and how it is kept,
//! as the token's attributes say (PKCS#11 v2.40 §4.7.2 and §4.9): what an
//! operator weighs before the ceremony adopts a key it did not make.

use std::fmt;

use ksr::Dnskey;

use crate::spec::KeySpec;

//------------ Provenance ----------------------------------------------------

/// The attributes of a private key that tell its history. Each is `None`
/// when the token did not report it, which counts against the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// CKA_SENSITIVE: the private value cannot be read out in clear.
    pub sensitive: Option<bool>,
    /// CKA_EXTRACTABLE: the key can be wrapped out of the token.
    pub extractable: Option<bool>,
    /// CKA_ALWAYS_SENSITIVE: it has been sensitive since it was made.
    pub always_sensitive: Option<bool>,
    /// CKA_NEVER_EXTRACTABLE: it has never been extractable.
    pub never_extractable: Option<bool>,
    /// CKA_LOCAL: it was generated on the token, not imported or
    /// unwrapped.
    pub local: Option<bool>,
    /// CKA_PRIVATE: only a logged-in user (the quorum) can use it.
    pub private: Option<bool>,
    /// CKA_DECRYPT.
    pub decrypt: Option<bool>,
    /// CKA_UNWRAP.
    pub unwrap: Option<bool>,
    /// CKA_DERIVE.
    pub derive: Option<bool>,
}

impl Provenance {
    /// Every property that falls short of a key generated on the token,
    /// never exposed and only for signing, in words. Empty when none does.
    pub fn failures(&self) -> Vec<ProvenanceFailure> {
        let rows: [(Option<bool>, bool, &'static str, &'static str); 9] = [
            (
                self.local,
                true,
                "CKA_LOCAL",
                "the key was imported or unwrapped, not generated on the token: copies of it may exist",
            ),
            (
                self.always_sensitive,
                true,
                "CKA_ALWAYS_SENSITIVE",
                "the private value was readable at some time: copies of it may exist",
            ),
            (
                self.never_extractable,
                true,
                "CKA_NEVER_EXTRACTABLE",
                "the key could be wrapped out of the token at some time: copies of it may exist",
            ),
            (
                self.sensitive,
                true,
                "CKA_SENSITIVE",
                "the private value can be read out of the token",
            ),
            (
                self.extractable,
                false,
                "CKA_EXTRACTABLE",
                "the key can be wrapped out of the token",
            ),
            (
                self.private,
                true,
                "CKA_PRIVATE",
                "anyone can use the key without logging in: the quorum does not guard it",
            ),
            (
                self.decrypt,
                false,
                "CKA_DECRYPT",
                "the key can also decrypt",
            ),
            (self.unwrap, false, "CKA_UNWRAP", "the key can also unwrap"),
            (self.derive, false, "CKA_DERIVE", "the key can also derive"),
        ];
        rows.into_iter()
            .filter(|(value, good, ..)| *value != Some(*good))
            .map(|(value, _, attribute, meaning)| ProvenanceFailure {
                attribute,
                value,
                meaning,
            })
            .collect()
    }

    /// Whether nothing falls short: the key was made on the token and never
    /// left it, and it only signs.
    pub fn is_sound(&self) -> bool {
        self.failures().is_empty()
    }
}

//------------ ProvenanceFailure ---------------------------------------------

/// One property of a key that falls short, as
/// "CKA_LOCAL is false: the key was imported or unwrapped, …".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenanceFailure {
    attribute: &'static str,
    value: Option<bool>,
    meaning: &'static str,
}

impl ProvenanceFailure {
    /// Whether it is a use beyond signing (CKA_DECRYPT, CKA_UNWRAP,
    /// CKA_DERIVE), which adoption switches off, rather than a history or
    /// a protection that a copy of the key may exist or be made.
    pub fn is_other_use(&self) -> bool {
        matches!(self.attribute, "CKA_DECRYPT" | "CKA_UNWRAP" | "CKA_DERIVE")
    }

    /// The attribute, such as `CKA_LOCAL`.
    pub fn attribute(&self) -> &'static str {
        self.attribute
    }

    /// Its value, or `None` if the token did not report it.
    pub fn value(&self) -> Option<bool> {
        self.value
    }
}

impl fmt::Display for ProvenanceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(value) => write!(f, "{} is {value}: {}", self.attribute, self.meaning),
            None => write!(
                f,
                "{} is not reported, so it counts as if {}",
                self.attribute, self.meaning
            ),
        }
    }
}

//------------ TokenKey ------------------------------------------------------

/// A key found on a token before the ceremony adopts it: its label, kind,
/// public key and provenance. Made by `Pkcs11Hsm::initialize` when asked
/// to look for a key, after checking that exactly one private and one
/// public key have the label, that a `KeySpec` holds its kind, and that the
/// two halves match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenKey {
    /// The label.
    pub label: String,
    /// The kind.
    pub spec: KeySpec,
    /// The public key as DNSKEY RDATA with Flags 257.
    pub dnskey: Dnskey,
    /// How the private key was made and is kept.
    pub provenance: Provenance,
}

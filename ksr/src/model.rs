//! The document model: what a KSR and an SKR say, independent of the
//! format they were read from.
//!
//! These are plain data. A parsed document is well-formed (stage 1 of
//! `ksr-checks.md` passed), but whether its signatures verify or it follows
//! a policy is for the checks to say, so the fields are public.

use serde::Serialize;

use crate::dnssec::algorithm::Algorithm;
use crate::dnssec::dnskey::Dnskey;
use crate::dnssec::keytag::KeyTag;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::{Duration, Timestamp};
use crate::dnssec::verify::{VerifyError, verify};
use crate::octets::serialize_base64;

//------------ Ksr -----------------------------------------------------------

/// A Key Signing Request: the ZSK operator's bundles of ZSKs with their
/// proofs of possession.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ksr {
    /// The request's id, echoed by the SKR.
    pub id: String,
    /// The serial, echoed by the SKR.
    pub serial: u64,
    /// The zone.
    pub domain: DomainName,
    /// The optional `timestamp` attribute (read, shown, never written).
    pub timestamp: Option<Timestamp>,
    /// The ZSK operator's policy claims (RequestPolicy/ZSK).
    pub zsk_policy: Policy,
    /// The request bundles, in document order.
    pub bundles: Vec<Bundle>,
}

//------------ Skr -----------------------------------------------------------

/// A Signed Key Response: the bundles of a KSR with the KSKs added and the
/// DNSKEY RRset of each bundle signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skr {
    /// The id of the KSR answered.
    pub id: String,
    /// The serial of the KSR answered.
    pub serial: u64,
    /// The zone.
    pub domain: DomainName,
    /// The optional `timestamp` attribute (read, shown, never written).
    pub timestamp: Option<Timestamp>,
    /// The KSK operator's policy (ResponsePolicy/KSK).
    pub ksk_policy: Policy,
    /// The KSR's policy, re-serialised (ResponsePolicy/ZSK).
    pub zsk_policy: Policy,
    /// The response bundles, in document order.
    pub bundles: Vec<Bundle>,
}

//------------ Policy --------------------------------------------------------

/// A policy block (`anykeyPolicy` of ksr.rnc, `ksr-skr-format.md` §1.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// How long a key is published before it signs.
    pub publish_safety: Duration,
    /// How long a key stays published after it last signed.
    pub retire_safety: Duration,
    /// Upper bound of a bundle's Expiration − Inception.
    pub max_signature_validity: Duration,
    /// Lower bound of a bundle's Expiration − Inception.
    pub min_signature_validity: Duration,
    /// Upper bound of the overlap of consecutive bundles.
    pub max_validity_overlap: Duration,
    /// Lower bound of the overlap of consecutive bundles.
    pub min_validity_overlap: Duration,
    /// The algorithms with their parameters, in document order.
    pub signature_algorithms: Vec<SignatureAlgorithm>,
}

/// One `SignatureAlgorithm` entry of a policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SignatureAlgorithm {
    /// The DNSSEC algorithm.
    pub algorithm: Algorithm,
    /// Its parameters, of the algorithm's family.
    pub parameters: AlgorithmParameters,
}

/// The parameters of a `SignatureAlgorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum AlgorithmParameters {
    /// `RSA @size @exponent`: modulus bits and public exponent.
    Rsa {
        /// Modulus length in bits (octets × 8).
        size: u32,
        /// Public exponent.
        exponent: u64,
    },
    /// `ECDSA @size`: the curve size, 256 or 384.
    Ecdsa {
        /// Curve size in bits.
        size: u32,
    },
    /// `EdDSA @size`: public-key bits, 256 for Ed25519.
    Eddsa {
        /// Public-key length in bits.
        size: u32,
    },
}

//------------ Bundle --------------------------------------------------------

/// A bundle: one time slot with its DNSKEY RRset and signatures over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bundle {
    /// The bundle's id.
    pub id: String,
    /// The start of the slot.
    pub inception: Timestamp,
    /// The end of the slot.
    pub expiration: Timestamp,
    /// Request bundles only: the `Signer` identifiers, which are ignored.
    pub signers: Vec<String>,
    /// The keys of the DNSKEY RRset, in document order.
    pub keys: Vec<Key>,
    /// The signatures over that RRset, in document order.
    pub signatures: Vec<Signature>,
}

impl Bundle {
    /// Returns the first key with this identifier.
    pub fn key(&self, identifier: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.identifier == identifier)
    }

    /// Returns the DNSKEY RDATA of every key, the RRset the signatures
    /// cover.
    pub fn dnskeys(&self) -> impl Iterator<Item = &Dnskey> {
        self.keys.iter().map(|key| &key.dnskey)
    }

    /// Checks one signature of this bundle against a key over the bundle's
    /// whole DNSKEY RRset at `owner`.
    ///
    /// # Errors
    ///
    /// See [`verify`].
    pub fn verify_signature(
        &self,
        owner: &DomainName,
        signature: &Signature,
        key: &Dnskey,
    ) -> Result<(), VerifyError> {
        let input = signature.rrsig.signing_input(owner, self.dnskeys());
        verify(key, &input, &signature.rrsig.signature)
    }
}

//------------ Key -----------------------------------------------------------

/// A `Key` element: a DNSKEY record with its identifier and claimed tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    /// The opaque label that joins keys across bundles and documents.
    pub identifier: String,
    /// The `keyTag` attribute as written; the checks recompute it.
    pub key_tag: KeyTag,
    /// The record's TTL.
    pub ttl: u32,
    /// The record's RDATA.
    #[serde(flatten)]
    pub dnskey: Dnskey,
}

//------------ Signature -----------------------------------------------------

/// A `Signature` element: an RRSIG over the bundle's DNSKEY RRset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The identifier of the signing key in the same bundle.
    pub key_identifier: String,
    /// The TTL of the RRSIG record.
    pub ttl: u32,
    /// The RRSIG RDATA.
    #[serde(flatten)]
    pub rrsig: Rrsig,
}

//------------ Serialize for DNSSEC types ------------------------------------

impl Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.to_int())
    }
}

impl Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for Dnskey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        #[derive(Serialize)]
        struct Base64<'a>(#[serde(serialize_with = "serialize_base64")] &'a [u8]);
        let mut state = serializer.serialize_struct("Dnskey", 5)?;
        state.serialize_field("flags", &self.flags())?;
        state.serialize_field("protocol", &self.protocol())?;
        state.serialize_field("algorithm", &self.algorithm())?;
        state.serialize_field("public_key", &Base64(self.public_key()))?;
        let size = self.decode_public_key().ok().map(|key| key.size_bits());
        state.serialize_field("size", &size)?;
        state.end()
    }
}

impl Serialize for Rrsig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        #[derive(Serialize)]
        struct Base64<'a>(#[serde(serialize_with = "serialize_base64")] &'a [u8]);
        let mut state = serializer.serialize_struct("Rrsig", 9)?;
        state.serialize_field("type_covered", "DNSKEY")?;
        state.serialize_field("algorithm", &self.algorithm)?;
        state.serialize_field("labels", &self.labels)?;
        state.serialize_field("original_ttl", &self.original_ttl)?;
        state.serialize_field("expiration", &self.expiration)?;
        state.serialize_field("inception", &self.inception)?;
        state.serialize_field("key_tag", &self.key_tag)?;
        state.serialize_field("signer_name", &self.signer_name)?;
        state.serialize_field("signature", &Base64(&self.signature))?;
        state.end()
    }
}

//! The Knot DNS / BIND 9.20 text format of KSRs and SKRs
//! (`ksr-skr-format.md` §5): master-file records under `;;` bundle
//! headers, "KeySigningRequest 1.0" and "SignedKeyResponse 1.0".
//!
//! The format has no ids, no policy and no proof of possession. It is read
//! here into its own small model ([`TextKsr`], [`TextSkr`]), which maps to
//! the document model for the checks that apply (§5.6), and written back
//! in the dialect of the requester ([`Dialect`]).

pub(crate) mod cds;
mod parse;
mod write;

pub use parse::{is_text, parse_text_ksr, parse_text_skr};
pub use write::write_text_skr;

use crate::dnssec::dnskey::Dnskey;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::Timestamp;
use crate::model::{Bundle, Key, Ksr, Policy, Signature, SignatureAlgorithm, Skr};
use crate::{AlgorithmParameters, Duration};

/// Who wrote a text document, as its header times tell: Knot writes Unix
/// seconds, BIND `YYYYMMDDhhmmss`. An SKR is written in the dialect of the
/// KSR it answers unless told otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Unix seconds in headers, readable by every Knot and BIND version.
    Knot,
    /// `YYYYMMDDhhmmss` in headers, as BIND 9.20 writes them.
    Bind,
}

/// A DNSKEY record of a text document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextKey {
    /// Its TTL.
    pub ttl: u32,
    /// Its RDATA.
    pub dnskey: Dnskey,
}

/// An RRSIG record over the DNSKEY RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSignature {
    /// Its TTL.
    pub ttl: u32,
    /// Its RDATA.
    pub rrsig: Rrsig,
}

/// One bundle of a text KSR: the ZSKs to publish from its time on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextRequestBundle {
    /// The header time.
    pub time: Timestamp,
    /// The header's line.
    pub line: u32,
    /// The ZSKs.
    pub keys: Vec<TextKey>,
}

/// A text KSR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextKsr {
    /// The header style it was written in.
    pub dialect: Dialect,
    /// The zone: the owner of every record.
    pub domain: DomainName,
    /// Its name in reports: the first 16 hex digits of the file's SHA-256.
    pub id: String,
    /// The bundles, times strictly increasing.
    pub bundles: Vec<TextRequestBundle>,
}

/// One bundle of a text SKR: the DNSKEY RRset to serve from its time on,
/// and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextResponseBundle {
    /// The header time.
    pub time: Timestamp,
    /// The header's line (0 for a bundle made here).
    pub line: u32,
    /// The DNSKEY RRset.
    pub keys: Vec<TextKey>,
    /// The RRSIGs over it.
    pub signatures: Vec<TextSignature>,
    /// Records other than DNSKEY and its RRSIGs (CDNSKEY, CDS and their
    /// RRSIGs), as read, in presentation form; kept, not interpreted.
    pub other: Vec<String>,
}

/// A text SKR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSkr {
    /// The header style it was written in.
    pub dialect: Dialect,
    /// The zone.
    pub domain: DomainName,
    /// Its name in reports: the first 16 hex digits of the file's SHA-256.
    pub id: String,
    /// The bundles, times strictly increasing.
    pub bundles: Vec<TextResponseBundle>,
}

/// The bundle id of the document model for a header time (§5.6).
pub fn bundle_id(time: Timestamp) -> String {
    format!("@{}", time.to_rrsig_text())
}

/// The key identifier of the document model for a text key: its tag, its
/// algorithm and the start of the SHA-256 of its RDATA, so that keys are
/// matched by RDATA (§5.6) wherever the checks match identifiers.
pub fn key_identifier(dnskey: &Dnskey) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(dnskey.rdata());
    format!(
        "{}/{}/{}",
        dnskey.key_tag(),
        dnskey.algorithm().to_int(),
        hex_prefix(&digest, 8)
    )
}

fn hex_prefix(bytes: &[u8], count: usize) -> String {
    bytes
        .iter()
        .take(count)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn model_key(key: &TextKey) -> Key {
    Key {
        identifier: key_identifier(&key.dnskey),
        key_tag: key.dnskey.key_tag(),
        ttl: key.ttl,
        dnskey: key.dnskey.clone(),
    }
}

/// A policy block of zeros with the algorithms of `keys`, as the model
/// needs one: a text document claims no policy, so the checks that read
/// these values do not apply to it, and the algorithm checks are made on
/// the keys themselves (`ksr-checks.md`, stage-2 checks for a text KSR).
fn policy_of<'a>(keys: impl Iterator<Item = &'a TextKey>) -> Policy {
    let mut algorithms: Vec<SignatureAlgorithm> = keys
        .filter_map(|key| {
            let public = key.dnskey.decode_public_key().ok()?;
            let size = public.size_bits();
            let parameters = match key.dnskey.algorithm().family()? {
                crate::AlgorithmFamily::Rsa => AlgorithmParameters::Rsa {
                    size,
                    exponent: public.rsa_exponent()?,
                },
                crate::AlgorithmFamily::Ecdsa => AlgorithmParameters::Ecdsa { size },
                crate::AlgorithmFamily::Eddsa => AlgorithmParameters::Eddsa { size },
            };
            Some(SignatureAlgorithm {
                algorithm: key.dnskey.algorithm(),
                parameters,
            })
        })
        .collect();
    algorithms.sort();
    algorithms.dedup();
    empty_policy(algorithms)
}

/// A policy block of zero durations with these algorithms.
fn empty_policy(signature_algorithms: Vec<SignatureAlgorithm>) -> Policy {
    let zero = Duration::from_seconds(0);
    Policy {
        publish_safety: zero,
        retire_safety: zero,
        max_signature_validity: zero,
        min_signature_validity: zero,
        max_validity_overlap: zero,
        min_validity_overlap: zero,
        signature_algorithms,
    }
}

impl TextKsr {
    /// The KSR in the document model: bundle *i* spans its header time to
    /// the next header's, the last to `last_until`; ids and key
    /// identifiers as §5.6 says; no signatures.
    pub fn to_model(&self, last_until: Timestamp) -> Ksr {
        let ends = self
            .bundles
            .iter()
            .skip(1)
            .map(|bundle| bundle.time)
            .chain([last_until]);
        Ksr {
            id: self.id.clone(),
            serial: 0,
            domain: self.domain.clone(),
            timestamp: None,
            zsk_policy: policy_of(self.bundles.iter().flat_map(|bundle| &bundle.keys)),
            bundles: self
                .bundles
                .iter()
                .zip(ends)
                .map(|(bundle, end)| Bundle {
                    id: bundle_id(bundle.time),
                    inception: bundle.time,
                    expiration: end,
                    signers: Vec::new(),
                    keys: bundle.keys.iter().map(model_key).collect(),
                    signatures: Vec::new(),
                })
                .collect(),
        }
    }

    /// The SHA-256 of the ZSK set: every distinct ZSK's DNSKEY RDATA, sorted,
    /// each preceded by its length (two octets), to compare out of band.
    pub fn zsk_set_sha256(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let mut rdatas: Vec<Vec<u8>> = self
            .bundles
            .iter()
            .flat_map(|bundle| bundle.keys.iter().map(|key| key.dnskey.rdata()))
            .collect();
        rdatas.sort();
        rdatas.dedup();
        let mut hasher = sha2::Sha256::new();
        for rdata in rdatas {
            hasher.update(u16::try_from(rdata.len()).unwrap_or(u16::MAX).to_be_bytes());
            hasher.update(&rdata);
        }
        hasher.finalize().into()
    }
}

impl TextSkr {
    /// The SKR in the document model: each bundle spans the earliest
    /// inception to the latest expiration of its signatures (its header
    /// time when it has none); each RRSIG names the key of the bundle with
    /// its tag and algorithm (`ksr-checks.md`, SKR-PREV-SIGS for text).
    pub fn to_model(&self) -> Skr {
        let empty = empty_policy(Vec::new());
        Skr {
            id: self.id.clone(),
            serial: 0,
            domain: self.domain.clone(),
            timestamp: None,
            ksk_policy: empty.clone(),
            zsk_policy: empty,
            bundles: self
                .bundles
                .iter()
                .map(|bundle| {
                    let keys: Vec<Key> = bundle.keys.iter().map(model_key).collect();
                    let signatures = bundle
                        .signatures
                        .iter()
                        .map(|signature| Signature {
                            key_identifier: keys
                                .iter()
                                .find(|key| {
                                    key.key_tag == signature.rrsig.key_tag
                                        && key.dnskey.algorithm() == signature.rrsig.algorithm
                                })
                                .map_or_else(
                                    || {
                                        format!(
                                            "{}/{}",
                                            signature.rrsig.key_tag,
                                            signature.rrsig.algorithm.to_int()
                                        )
                                    },
                                    |key| key.identifier.clone(),
                                ),
                            ttl: signature.ttl,
                            rrsig: signature.rrsig.clone(),
                        })
                        .collect::<Vec<_>>();
                    let inception = signatures
                        .iter()
                        .map(|s| s.rrsig.inception)
                        .min()
                        .unwrap_or(bundle.time);
                    let expiration = signatures
                        .iter()
                        .map(|s| s.rrsig.expiration)
                        .max()
                        .unwrap_or(bundle.time);
                    Bundle {
                        id: bundle_id(bundle.time),
                        inception,
                        expiration,
                        signers: Vec::new(),
                        keys,
                        signatures,
                    }
                })
                .collect(),
        }
    }
}

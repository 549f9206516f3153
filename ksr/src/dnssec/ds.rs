//! Delegation Signer digests (RFC 4034 §5, RFC 4509, RFC 6605 §2).

use sha2::{Digest, Sha256, Sha384};

use super::dnskey::Dnskey;
use super::keytag::KeyTag;
use super::name::DomainName;

//------------ DigestType ----------------------------------------------------

/// A DS digest type (IANA "Delegation Signer (DS) Resource Record (RR) Type
/// Digest Algorithms").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestType {
    /// SHA-256, digest type 2 (RFC 4509).
    Sha256,
    /// SHA-384, digest type 4 (RFC 6605 §2).
    Sha384,
}

impl DigestType {
    /// Returns the digest type number.
    pub const fn to_int(self) -> u8 {
        match self {
            Self::Sha256 => 2,
            Self::Sha384 => 4,
        }
    }
}

//------------ Ds ------------------------------------------------------------

/// The RDATA of a DS record for a DNSKEY.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ds {
    key_tag: KeyTag,
    algorithm: crate::Algorithm,
    digest_type: DigestType,
    digest: Vec<u8>,
}

impl Ds {
    /// Computes the DS of a key at an owner name.
    ///
    /// RFC 4034 §5.1.4: "digest = digest_algorithm( DNSKEY owner name |
    /// DNSKEY RDATA)", with the owner in canonical form. The key's own flags
    /// are used: trust anchors and pins use the unrevoked key (Flags 257).
    pub fn compute(owner: &DomainName, key: &Dnskey, digest_type: DigestType) -> Self {
        let mut input = owner.canonical_wire();
        input.extend_from_slice(&key.rdata());
        let digest = match digest_type {
            DigestType::Sha256 => Sha256::digest(&input).to_vec(),
            DigestType::Sha384 => Sha384::digest(&input).to_vec(),
        };
        Self {
            key_tag: key.key_tag(),
            algorithm: key.algorithm(),
            digest_type,
            digest,
        }
    }

    /// Returns the key tag of the key the DS points to.
    pub fn key_tag(&self) -> KeyTag {
        self.key_tag
    }

    /// Returns the key's algorithm.
    pub fn algorithm(&self) -> crate::Algorithm {
        self.algorithm
    }

    /// Returns the digest type.
    pub fn digest_type(&self) -> DigestType {
        self.digest_type
    }

    /// Returns the digest in uppercase hexadecimal, as DS records are
    /// usually published.
    pub fn digest_hex(&self) -> String {
        hex::encode_upper(&self.digest)
    }

    /// Returns the record's RDATA in wire form (RFC 4034 §5.1): key tag,
    /// algorithm, digest type, digest.
    pub fn rdata(&self) -> Vec<u8> {
        let mut rdata = self.key_tag.to_int().to_be_bytes().to_vec();
        rdata.push(self.algorithm.to_int());
        rdata.push(self.digest_type.to_int());
        rdata.extend_from_slice(&self.digest);
        rdata
    }

    /// Returns the record's RDATA in presentation format:
    /// `<tag> <algorithm> <digest type> <digest>`.
    pub fn rdata_text(&self) -> String {
        format!(
            "{} {} {} {}",
            self.key_tag,
            self.algorithm.to_int(),
            self.digest_type.to_int(),
            self.digest_hex()
        )
    }
}

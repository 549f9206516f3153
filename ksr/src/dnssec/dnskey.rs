//! DNSKEY records (RFC 4034 §2) and their public keys.

use std::fmt;

use serde::Serialize;

use super::algorithm::{Algorithm, AlgorithmFamily};
use super::keytag::KeyTag;

//------------ Flags ---------------------------------------------------------

/// The DNSKEY Flags field (RFC 4034 §2.1.1, RFC 5011 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Flags(u16);

impl Flags {
    /// A zone signing key: only the Zone Key bit (256).
    pub const ZSK: Self = Self(256);
    /// A key signing key: Zone Key and Secure Entry Point (257).
    pub const KSK: Self = Self(257);
    /// A revoked key signing key: Zone Key, SEP and REVOKE (385).
    pub const REVOKED_KSK: Self = Self(385);

    /// RFC 4034 §2.1.1: "Bit 7 of the Flags field is the Zone Key flag."
    const ZONE_KEY: u16 = 0x0100;
    /// RFC 5011 §3: "Bit 8 of the DNSKEY Flags field is designated as the
    /// 'REVOKE' flag."
    const REVOKE: u16 = 0x0080;
    /// RFC 4034 §2.1.1: "Bit 15 of the Flags field is the Secure Entry Point
    /// flag."
    const SEP: u16 = 0x0001;

    /// Makes flags from the field's value.
    pub const fn from_int(value: u16) -> Self {
        Self(value)
    }

    /// Returns the field's value.
    pub const fn to_int(self) -> u16 {
        self.0
    }

    /// Returns whether the Zone Key bit is set.
    pub const fn is_zone_key(self) -> bool {
        self.0 & Self::ZONE_KEY != 0
    }

    /// Returns whether the Secure Entry Point bit is set.
    pub const fn is_sep(self) -> bool {
        self.0 & Self::SEP != 0
    }

    /// Returns whether the REVOKE bit is set.
    pub const fn is_revoked(self) -> bool {
        self.0 & Self::REVOKE != 0
    }

    /// Returns the flags with the REVOKE bit set.
    pub const fn with_revoke(self) -> Self {
        Self(self.0 | Self::REVOKE)
    }

    /// Returns whether this is one of the three values the documents allow:
    /// 256, 257 and 385 (`KSR-PARSE-FLAGS`).
    pub const fn is_document_value(self) -> bool {
        matches!(self.0, 256 | 257 | 385)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

//------------ Dnskey --------------------------------------------------------

/// The RDATA of a DNSKEY record.
///
/// The public key is kept as the raw octets of the record; [`PublicKey`]
/// decodes it for one algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dnskey {
    flags: Flags,
    protocol: u8,
    algorithm: Algorithm,
    public_key: Vec<u8>,
}

impl Dnskey {
    /// The only Protocol value RFC 4034 §2.1.2 allows: "The Protocol Field
    /// MUST have value 3".
    pub const PROTOCOL: u8 = 3;

    /// Makes DNSKEY RDATA from its fields. Any values are accepted: checks
    /// decide which ones a document may hold.
    pub fn new(flags: Flags, protocol: u8, algorithm: Algorithm, public_key: Vec<u8>) -> Self {
        Self {
            flags,
            protocol,
            algorithm,
            public_key,
        }
    }

    /// Returns the Flags field.
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// Returns the Protocol field.
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// Returns the Algorithm field.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Returns the Public Key field as raw octets.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// Returns the same key with other flags, such as the REVOKE bit.
    pub fn with_flags(&self, flags: Flags) -> Self {
        Self {
            flags,
            ..self.clone()
        }
    }

    /// Returns the RDATA in wire form (RFC 4034 §2.1).
    pub fn rdata(&self) -> Vec<u8> {
        let mut rdata = Vec::with_capacity(4 + self.public_key.len());
        rdata.extend_from_slice(&self.flags.0.to_be_bytes());
        rdata.push(self.protocol);
        rdata.push(self.algorithm.to_int());
        rdata.extend_from_slice(&self.public_key);
        rdata
    }

    /// Returns the key tag (RFC 4034 Appendix B). It depends on the flags,
    /// so a revoked key has another tag than the same key unrevoked.
    pub fn key_tag(&self) -> KeyTag {
        KeyTag::of_rdata(&self.rdata())
    }

    /// Decodes the public key for the record's algorithm.
    ///
    /// # Errors
    ///
    /// Fails when the algorithm is not one of the three families or the
    /// octets are not a well-formed key of that family (`KSR-PARSE-PUBKEY`).
    pub fn decode_public_key(&self) -> Result<PublicKey, PublicKeyError> {
        PublicKey::decode(self.algorithm, &self.public_key)
    }
}

//------------ PublicKey -----------------------------------------------------

/// A public key decoded from the DNSKEY Public Key field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA key (RFC 3110 §2).
    Rsa {
        /// The exponent, big-endian, as encoded.
        exponent: Vec<u8>,
        /// The modulus, big-endian, as encoded.
        modulus: Vec<u8>,
    },
    /// An ECDSA key: Q = x | y, without the `04` prefix (RFC 6605 §4).
    Ecdsa {
        /// The curve size in bits: 256 or 384.
        curve_bits: u32,
        /// x | y.
        point: Vec<u8>,
    },
    /// An Edwards-curve key (RFC 8080 §3).
    Eddsa {
        /// The key, 32 octets for Ed25519 or 57 for Ed448.
        key: Vec<u8>,
    },
}

impl PublicKey {
    /// Decodes the Public Key field for an algorithm.
    ///
    /// # Errors
    ///
    /// See [`PublicKeyError`].
    pub fn decode(algorithm: Algorithm, octets: &[u8]) -> Result<Self, PublicKeyError> {
        match algorithm.family() {
            Some(AlgorithmFamily::Rsa) => Self::decode_rsa(octets),
            Some(AlgorithmFamily::Ecdsa) => {
                let p256 = algorithm == Algorithm::ECDSAP256SHA256;
                let point = Self::fixed_length(algorithm, octets, if p256 { 64 } else { 96 })?;
                Ok(Self::Ecdsa {
                    curve_bits: if p256 { 256 } else { 384 },
                    point,
                })
            }
            Some(AlgorithmFamily::Eddsa) => {
                let length = if algorithm == Algorithm::ED25519 {
                    32
                } else {
                    57
                };
                Ok(Self::Eddsa {
                    key: Self::fixed_length(algorithm, octets, length)?,
                })
            }
            None => Err(PublicKeyError::Algorithm(algorithm)),
        }
    }

    /// Returns the octets if they have the length the algorithm requires.
    fn fixed_length(
        algorithm: Algorithm,
        octets: &[u8],
        expected: usize,
    ) -> Result<Vec<u8>, PublicKeyError> {
        if octets.len() != expected {
            return Err(PublicKeyError::Length {
                algorithm,
                expected,
                found: octets.len(),
            });
        }
        Ok(octets.to_vec())
    }

    /// RFC 3110 §2: "a one octet exponent length ... followed by the
    /// exponent and the modulus"; when the first octet is zero, "the
    /// exponent length is in the next two octets".
    fn decode_rsa(octets: &[u8]) -> Result<Self, PublicKeyError> {
        let (exponent_len, rest) = match octets {
            [0, high, low, rest @ ..] => (usize::from(u16::from_be_bytes([*high, *low])), rest),
            [len, rest @ ..] => (usize::from(*len), rest),
            [] => return Err(PublicKeyError::RsaEncoding("the key is empty")),
        };
        if exponent_len == 0 {
            return Err(PublicKeyError::RsaEncoding("the exponent length is zero"));
        }
        let (exponent, modulus) =
            rest.split_at_checked(exponent_len)
                .ok_or(PublicKeyError::RsaEncoding(
                    "the exponent is longer than the key",
                ))?;
        if modulus.is_empty() {
            return Err(PublicKeyError::RsaEncoding("the modulus is empty"));
        }
        Ok(Self::Rsa {
            exponent: exponent.to_vec(),
            modulus: modulus.to_vec(),
        })
    }

    /// Returns the key size as the documents count it
    /// (`ksr-skr-format.md` §1.4): for RSA the modulus octets × 8, for ECDSA
    /// the curve size, for EdDSA the public-key bits.
    pub fn size_bits(&self) -> u32 {
        let bits = |octets: usize| u32::try_from(octets.saturating_mul(8)).unwrap_or(u32::MAX);
        match self {
            Self::Rsa { modulus, .. } => bits(modulus.len()),
            Self::Ecdsa { curve_bits, .. } => *curve_bits,
            Self::Eddsa { key } => bits(key.len()),
        }
    }

    /// Returns the RSA exponent as a number, if this is an RSA key whose
    /// exponent fits 64 bits.
    pub fn rsa_exponent(&self) -> Option<u64> {
        match self {
            Self::Rsa { exponent, .. } => {
                let significant: Vec<u8> = exponent
                    .iter()
                    .copied()
                    .skip_while(|octet| *octet == 0)
                    .collect();
                if significant.len() > 8 {
                    return None;
                }
                Some(
                    significant
                        .iter()
                        .fold(0u64, |acc, octet| (acc << 8) | u64::from(*octet)),
                )
            }
            _ => None,
        }
    }
}

//------------ PublicKeyError ------------------------------------------------

/// Why a DNSKEY Public Key field does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// The algorithm is not RSA, ECDSA or EdDSA.
    #[error("algorithm {0} has no known public-key format")]
    Algorithm(Algorithm),
    /// An ECDSA or EdDSA key of the wrong length.
    #[error("a public key for algorithm {algorithm} has {expected} octets, found {found}")]
    Length {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// The length the algorithm requires.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// An RSA key that does not follow RFC 3110.
    #[error("RSA public key is not RFC 3110 encoded: {0}")]
    RsaEncoding(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_long_exponent_length_form_is_read() {
        let mut octets = vec![0, 0, 3, 1, 0, 1];
        octets.extend_from_slice(&[0xC5; 64]);
        let key = PublicKey::decode(Algorithm::RSASHA256, &octets).unwrap();
        assert_eq!(key.rsa_exponent(), Some(65537));
        assert_eq!(key.size_bits(), 512);
    }

    #[test]
    fn rsa_exponent_longer_than_key_is_refused() {
        assert_eq!(
            PublicKey::decode(Algorithm::RSASHA256, &[4, 1, 0, 1]),
            Err(PublicKeyError::RsaEncoding(
                "the exponent is longer than the key"
            ))
        );
        assert!(PublicKey::decode(Algorithm::RSASHA256, &[3, 1, 0, 1]).is_err());
        assert!(PublicKey::decode(Algorithm::RSASHA256, &[]).is_err());
        assert!(PublicKey::decode(Algorithm::RSASHA256, &[0]).is_err());
    }

    #[test]
    fn ecdsa_key_with_04_prefix_is_refused() {
        let mut octets = vec![4];
        octets.extend_from_slice(&[1; 64]);
        assert!(matches!(
            PublicKey::decode(Algorithm::ECDSAP256SHA256, &octets),
            Err(PublicKeyError::Length {
                expected: 64,
                found: 65,
                ..
            })
        ));
    }

    #[test]
    fn revoke_bit_changes_flags_and_tag() {
        let key = Dnskey::new(Flags::KSK, 3, Algorithm::ED25519, vec![7; 32]);
        let revoked = key.with_flags(key.flags().with_revoke());
        assert_eq!(revoked.flags(), Flags::REVOKED_KSK);
        assert!(revoked.flags().is_revoked() && revoked.flags().is_sep());
        assert_ne!(key.key_tag(), revoked.key_tag());
    }
}

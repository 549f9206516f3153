//! What a KSK is: its algorithm and size, and what the HSM says about it.

use std::fmt;
use std::str::FromStr;

use ksr::{Algorithm, Dnskey};
use serde::{Deserialize, Serialize};

/// The kinds of KSK an HSM makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeySpec {
    /// RSASHA256 (algorithm 8) with 2048, 3072 or 4096 bits, exponent 65537.
    Rsa(RsaBits),
    /// ECDSAP256SHA256 (algorithm 13).
    EcdsaP256,
    /// ED25519 (algorithm 15).
    Ed25519,
}

/// The RSA sizes an HSM makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaBits {
    /// 2048 bits.
    B2048,
    /// 3072 bits.
    B3072,
    /// 4096 bits.
    B4096,
}

impl RsaBits {
    /// The size in bits.
    pub fn bits(self) -> u32 {
        match self {
            Self::B2048 => 2048,
            Self::B3072 => 3072,
            Self::B4096 => 4096,
        }
    }

    /// The size for a number of bits.
    pub fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            2048 => Some(Self::B2048),
            3072 => Some(Self::B3072),
            4096 => Some(Self::B4096),
            _ => None,
        }
    }
}

impl KeySpec {
    /// The DNSSEC algorithm.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Rsa(_) => Algorithm::RSASHA256,
            Self::EcdsaP256 => Algorithm::ECDSAP256SHA256,
            Self::Ed25519 => Algorithm::ED25519,
        }
    }
}

impl fmt::Display for KeySpec {
    /// `rsasha256-2048`, `ecdsap256sha256`, `ed25519`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa(bits) => write!(f, "rsasha256-{}", bits.bits()),
            Self::EcdsaP256 => f.write_str("ecdsap256sha256"),
            Self::Ed25519 => f.write_str("ed25519"),
        }
    }
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "ecdsap256sha256" => Ok(Self::EcdsaP256),
            "ed25519" => Ok(Self::Ed25519),
            _ => text
                .strip_prefix("rsasha256-")
                .and_then(|bits| bits.parse().ok())
                .and_then(RsaBits::from_bits)
                .map(Self::Rsa)
                .ok_or_else(|| {
                    format!(
                        "{text:?} is not a key kind: rsasha256-2048, -3072, -4096, ecdsap256sha256 or ed25519"
                    )
                }),
        }
    }
}

impl TryFrom<String> for KeySpec {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<KeySpec> for String {
    fn from(spec: KeySpec) -> Self {
        spec.to_string()
    }
}

/// What the HSM says about one key, readable while it is sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The label, unique in the HSM.
    pub label: String,
    /// The kind.
    pub spec: KeySpec,
    /// The public key as DNSKEY RDATA with Flags 257.
    pub dnskey: Dnskey,
    /// When it was made, Unix seconds (as the caller's clock said).
    pub created: u64,
}

/// Checks a key label: 1 to 64 printable ASCII characters without spaces (it names
/// keys in configurations, SKRs and PKCS#11 objects).
pub fn check_label(label: &str) -> Result<(), String> {
    if !label.is_empty() && label.len() <= 64 && label.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(format!(
            "{label:?} is not a key label: 1 to 64 printable ASCII characters without spaces"
        ))
    }
}

//! Keys made in tests: Ed25519 and ECDSA P-256 signers from fixed seeds.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use ed25519_dalek::Signer as _;
use ksr::{Algorithm, Dnskey, Flags};

/// A signer for one of the two algorithms.
pub enum TestKey {
    /// An ECDSA P-256 key.
    Ecdsa(p256::ecdsa::SigningKey),
    /// An Ed25519 key.
    Ed25519(ed25519_dalek::SigningKey),
}

impl TestKey {
    /// The public key as DNSKEY RDATA with Flags 257.
    pub fn dnskey(&self) -> Dnskey {
        match self {
            Self::Ecdsa(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                // Q = x | y without the 04 prefix (RFC 6605 §4).
                Dnskey::new(
                    Flags::KSK,
                    3,
                    Algorithm::ECDSAP256SHA256,
                    point.as_bytes()[1..].to_vec(),
                )
            }
            Self::Ed25519(key) => Dnskey::new(
                Flags::KSK,
                3,
                Algorithm::ED25519,
                key.verifying_key().to_bytes().to_vec(),
            ),
        }
    }

    /// Signs in the DNSSEC encoding of the algorithm.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Ecdsa(key) => {
                let signature: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(key, message);
                signature.to_bytes().to_vec()
            }
            Self::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }
}

impl TestKey {
    /// A key of the algorithm from a seed.
    pub fn new(algorithm: Algorithm, seed: u8) -> Self {
        if algorithm == Algorithm::ED25519 {
            Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
        } else {
            Self::Ecdsa(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar"))
        }
    }
}

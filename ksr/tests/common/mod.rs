//! Keys made in tests: Ed25519 and ECDSA P-256 signers from fixed seeds.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::path::{Path, PathBuf};
use std::process::Command;

use ed25519_dalek::Signer as _;
use ksr::{Algorithm, Dnskey, Flags};

/// A signer for one of the two algorithms.
pub enum TestKey {
    /// An ECDSA P-256 key.
    Ecdsa(p256::ecdsa::SigningKey),
    /// An RSA key (RSASHA256).
    Rsa(Box<rsa::PrivateKey>),
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
            Self::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                let strip = |octets: Box<[u8]>| {
                    octets
                        .iter()
                        .copied()
                        .skip_while(|octet| *octet == 0)
                        .collect::<Vec<u8>>()
                };
                let exponent = strip(key.e().to_be_bytes());
                let modulus = strip(key.n().to_be_bytes());
                // RFC 3110 §2: exponent length, exponent, modulus.
                let mut public = vec![u8::try_from(exponent.len()).expect("a short exponent")];
                public.extend(exponent);
                public.extend(modulus);
                Dnskey::new(Flags::KSK, 3, Algorithm::RSASHA256, public)
            }
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
            Self::Rsa(key) => {
                use sha2::Digest as _;
                key.sign(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    &sha2::Sha256::digest(message),
                )
                .expect("RSA signing works")
            }
        }
    }
}

impl TestKey {
    /// A fresh RSA key of this size (exponent 65537).
    pub fn rsa(bits: usize) -> Self {
        let mut rng = rsa::rand_core::UnwrapErr(crypto_common::getrandom::SysRng);
        Self::Rsa(Box::new(
            rsa::PrivateKey::new(&mut rng, bits).expect("RSA key generation works"),
        ))
    }

    /// A key of the algorithm from a seed.
    pub fn new(algorithm: Algorithm, seed: u8) -> Self {
        if algorithm == Algorithm::RSASHA256 {
            // RSA keys cannot come from a seed as cheaply; each is fresh.
            let _ = seed;
            Self::rsa(2048)
        } else if algorithm == Algorithm::ED25519 {
            Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
        } else {
            Self::Ecdsa(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar"))
        }
    }
}

/// Runs the independent validator (`tests/dnspython/validate.py`, Debian's
/// python3-dnspython) on documents; returns whether all passed, and its
/// output.
pub fn dnspython<P: AsRef<Path>>(files: &[P]) -> (bool, String) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/dnspython/validate.py");
    let output = Command::new("/usr/bin/python3")
        .arg(script)
        .args(files.iter().map(AsRef::as_ref))
        .output()
        .expect("/usr/bin/python3 runs; the test command installs python3-dnspython");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("No module named"),
        "dnspython is missing: install python3-dnspython (the test command does): {text}"
    );
    (output.status.success(), text)
}

//! What the benchmarks share: an RSA-2048 key in memory that signs through
//! ring (as fast as an HSM could), and the vectors.

#![allow(dead_code, reason = "each benchmark uses a part of the helpers")]

use std::path::PathBuf;

use ksr::{
    Algorithm, BundleSigner, DigestType, Dnskey, DomainName, Ds, Flags, KeySource, KskConfig,
    SignerError, Timestamp,
};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;

/// An RSA-2048 key in memory: a KSK for the builder, or a ZSK that signs
/// its proof of possession.
pub struct RingKey {
    pair: ring::signature::RsaKeyPair,
    /// The public key, with Flags 257.
    pub dnskey: Dnskey,
}

impl RingKey {
    /// A fresh key.
    pub fn new() -> Self {
        let mut rng = rsa::rand_core::UnwrapErr(crypto_common::getrandom::SysRng);
        let key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
        let strip = |octets: Box<[u8]>| {
            octets
                .iter()
                .copied()
                .skip_while(|octet| *octet == 0)
                .collect::<Vec<u8>>()
        };
        let exponent = strip(key.e().to_be_bytes());
        let mut public = vec![u8::try_from(exponent.len()).unwrap()];
        public.extend(exponent);
        public.extend(strip(key.n().to_be_bytes()));
        let pkcs8 = key.to_pkcs8_der().unwrap();
        Self {
            pair: ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).unwrap(),
            dnskey: Dnskey::new(Flags::KSK, 3, Algorithm::RSASHA256, public),
        }
    }

    /// Signs with RSASHA256 (RFC 5702).
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                data,
                &mut signature,
            )
            .unwrap();
        signature
    }

    /// The configuration of this key as a KSK of `domain` under `label`,
    /// pinned by tag and DS.
    pub fn ksk_config(&self, domain: &DomainName, label: &str) -> KskConfig {
        KskConfig {
            label: label.into(),
            algorithm: "RSASHA256".into(),
            rsa_size: Some(2048),
            rsa_exponent: Some(65537),
            valid_from: Timestamp::from_unix(1_262_304_000),
            valid_until: None,
            ds_sha256: Ds::compute(domain, &self.dnskey, DigestType::Sha256).digest_hex(),
            key_tag: self.dnskey.key_tag().to_int(),
        }
    }
}

impl KeySource for RingKey {
    fn public_key(&self, _label: &str) -> Result<Dnskey, SignerError> {
        Ok(self.dnskey.clone())
    }
}

impl BundleSigner for RingKey {
    fn sign(&self, _label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(RingKey::sign(self, data))
    }
}

/// A file of `../shared/vectors`.
pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

//! Issue 3's target: validate and sign the 9-bundle 2017-Q2 root KSR (with
//! its previous SKR) using an in-memory RSA-2048 key, under 10 ms on one
//! core. The key signs through ring, as an HSM would sign quickly; the
//! builder verifies every signature, re-writes, re-reads and re-checks.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark, not library code"
)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use ksr::{
    Algorithm, BundleSigner, CheckedKsr, Config, DigestType, Dnskey, DocumentRole, Ds, Flags,
    KskConfig, Request, SignerError, Timestamp, build_skr, parse_ksr, parse_skr,
};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;

/// An RSA-2048 KSK in memory, signing with ring.
struct Signer {
    pair: ring::signature::RsaKeyPair,
    dnskey: Dnskey,
}

impl BundleSigner for Signer {
    fn public_key(&self, _label: &str) -> Result<Dnskey, SignerError> {
        Ok(self.dnskey.clone())
    }

    fn sign(&self, _label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                data,
                &mut signature,
            )
            .map_err(|_| SignerError::failed("ring refused to sign"))?;
        Ok(signature)
    }
}

fn signer() -> Signer {
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
    Signer {
        pair: ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).unwrap(),
        dnskey: Dnskey::new(Flags::KSK, 3, Algorithm::RSASHA256, public),
    }
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors")
            .join(name),
    )
    .unwrap()
}

fn validate_and_sign(c: &mut Criterion) {
    let ksr_bytes = vector("ksr-root-2017-q2-0.xml");
    let previous_bytes = vector("skr-root-2017-q1-0.xml");
    let signer = signer();
    let mut config = Config::default();
    // The bench key stands in for KSK-2010 under its HSM label, so the
    // chain to the Q1 SKR and the safety checks run as in production (the
    // chain itself is anchored by the default ksk_2010 pin).
    config.keys.insert(
        "ksk_current".into(),
        KskConfig {
            label: "Kjqmt7v".into(),
            algorithm: "RSASHA256".into(),
            rsa_size: Some(2048),
            rsa_exponent: Some(65537),
            valid_from: Timestamp::from_unix(1_262_304_000),
            valid_until: None,
            ds_sha256: Ds::compute(&ksr::DomainName::root(), &signer.dnskey, DigestType::Sha256)
                .digest_hex(),
            key_tag: signer.dnskey.key_tag().to_int(),
        },
    );
    let now = Timestamp::parse_document("2017-03-20T00:00:00Z").unwrap();
    // KSR-KEY-RSA's primality test is one 2048-bit modular exponentiation
    // per distinct ZSK, most of the time; the second figure shows the rest.
    let mut without_sanity = config.clone();
    without_sanity.request_policy.check_rsa_key_sanity = false;
    for (name, config) in [
        ("validate_and_sign_root_ksr", &config),
        (
            "validate_and_sign_root_ksr_without_rsa_sanity",
            &without_sanity,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let ksr = parse_ksr(black_box(&ksr_bytes), DocumentRole::Ksr).unwrap();
                let previous =
                    parse_skr(black_box(&previous_bytes), DocumentRole::PreviousSkr).unwrap();
                let checked = CheckedKsr::check(&Request {
                    ksr: &ksr,
                    previous: Some(&previous),
                    config,
                    now,
                })
                .unwrap();
                build_skr(&checked, "normal", &signer).unwrap()
            })
        });
    }
}

criterion_group!(benches, validate_and_sign);
criterion_main!(benches);

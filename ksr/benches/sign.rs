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

use criterion::{Criterion, criterion_group, criterion_main};
use ksr::{CheckedKsr, Config, DocumentRole, Request, Timestamp, build_skr, parse_ksr, parse_skr};

mod common;
use common::{RingKey, vector};

fn validate_and_sign(c: &mut Criterion) {
    let ksr_bytes = vector("ksr-root-2017-q2-0.xml");
    let previous_bytes = vector("skr-root-2017-q1-0.xml");
    let signer = RingKey::new();
    let mut config = Config::default();
    // The bench key stands in for KSK-2010 under its HSM label, so the
    // chain to the Q1 SKR and the safety checks run as in production (the
    // chain itself is anchored by the default ksk_2010 pin).
    config.keys.insert(
        "ksk_current".into(),
        signer.ksk_config(&ksr::DomainName::root(), "Kjqmt7v"),
    );
    // The stand-in's public key is not KSK-2010's, which signed the Q1
    // SKR: the HSM half of KSR-CHAIN-KEYS.1 rightly refuses it, so it is
    // switched off here (with its CHECK-DISABLED warning, and with it the
    // DS-pin half; one lookup and compare per signer, a negligible cost).
    config.request_policy.check_chain_keys_in_hsm = false;
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

/// What one signature of the stand-in signer costs: nine of them are part
/// of the figures above, and an HSM's own speed replaces them.
fn ring_sign(c: &mut Criterion) {
    let signer = RingKey::new();
    c.bench_function("ring_rsa2048_sign", |b| {
        b.iter(|| signer.sign(black_box(b"a DNSKEY RRset")))
    });
}

criterion_group!(benches, validate_and_sign, ring_sign);
criterion_main!(benches);

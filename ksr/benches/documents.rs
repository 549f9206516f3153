//! Performance targets of issue 2, measured on the real root KSR:
//!
//! * `parse_and_verify_root_ksr`: read `ksr-root-2017-q2-0.xml` and verify
//!   all 11 proof-of-possession signatures; target under 2 ms on one core.
//! * `rsa2048_verify`: one RSASHA256 verification of a 2048-bit key, to
//!   compare with `openssl speed rsa2048` on the same machine (target:
//!   within 1.5x of OpenSSL's verifications per second).

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
use ksr::{DocumentRole, check_ksr, parse_ksr, verify};

fn root_ksr() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/ksr-root-2017-q2-0.xml");
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn parse_and_verify(c: &mut Criterion) {
    let xml = root_ksr();
    c.bench_function("parse_and_verify_root_ksr", |b| {
        b.iter(|| {
            let ksr = parse_ksr(black_box(&xml), DocumentRole::Ksr).unwrap();
            let findings = check_ksr(&ksr, DocumentRole::Ksr);
            assert!(findings.is_empty());
            ksr
        })
    });
    c.bench_function("parse_root_ksr", |b| {
        b.iter(|| parse_ksr(black_box(&xml), DocumentRole::Ksr).unwrap())
    });
}

fn rsa2048(c: &mut Criterion) {
    let ksr = parse_ksr(&root_ksr(), DocumentRole::Ksr).unwrap();
    let bundle = &ksr.bundles[0];
    let signature = &bundle.signatures[0];
    let key = &bundle.key(&signature.key_identifier).unwrap().dnskey;
    assert_eq!(key.decode_public_key().unwrap().size_bits(), 2048);
    let input = signature.rrsig.signing_input(&ksr.domain, bundle.dnskeys());
    c.bench_function("rsa2048_verify", |b| {
        b.iter(|| {
            verify(
                black_box(key),
                black_box(&input),
                black_box(&signature.rrsig.signature),
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, parse_and_verify, rsa2048);
criterion_main!(benches);

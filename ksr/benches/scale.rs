//! Issue 3's scale targets: synthetic KSRs of 10, 100, 1,000 and 10,000
//! bundles, built in memory, must take time linear in the bundle count,
//! and signature verification must use every core.
//!
//! * `validate/N`: stages 2 to 4 (`CheckedKsr::check`), which verify every
//!   proof of possession.
//! * `validate_and_sign/N`: the same and `build_skr` with an RSA-2048 KSK
//!   signing through ring: stage 5, the SKR checks (every signature again)
//!   and stage 6, the write and the read-back. An SKR file may hold at most
//!   256 bundles (`KSR-PARSE-LIMITS`), and the builder refuses what it could
//!   not read back, so this group stops at 256.
//!
//! The synthetic KSR is the root's quarter pattern repeated with one-day
//! bundles: three RSA-2048 ZSKs, two keys in the first and last bundle of
//! every nine, one in the others. The ZSKs' proofs of possession are the
//! same in every repetition (the RRset and the RRSIG fields repeat), but
//! each is verified anew in each bundle. The RSA sanity test runs once per
//! distinct ZSK whatever the size, so it is switched off here; the `sign`
//! benchmark measures it.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark, not library code"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ksr::{
    Algorithm, AlgorithmParameters, Bundle, CheckedKsr, Config, DomainName, Duration, Flags, Key,
    Ksr, Policy, Request, Rrsig, Signature, SignatureAlgorithm, Timestamp, build_skr,
};

mod common;
use common::RingKey;

const DAY: u32 = 86_400;
const START: u32 = 1_900_000_000;

/// The synthetic KSR of `count` bundles for `example.`, and the policy that
/// accepts it.
fn synthetic(count: usize, zsks: &[RingKey; 3], ksk: &RingKey) -> (Ksr, Config) {
    let domain: DomainName = "example.".parse().unwrap();
    let key = |index: usize| {
        let dnskey = zsks[index].dnskey.with_flags(Flags::ZSK);
        Key {
            identifier: format!("zsk-{index}"),
            key_tag: dnskey.key_tag(),
            ttl: 3600,
            dnskey,
        }
    };
    let members = |position: usize| match position % 9 {
        0 => vec![0, 1],
        8 => vec![1, 2],
        _ => vec![1],
    };
    // The proofs of possession of the three key sets, made once.
    let proofs: Vec<(Vec<Key>, Vec<Signature>)> = [0, 1, 8]
        .into_iter()
        .map(|position| {
            let keys: Vec<Key> = members(position).into_iter().map(key).collect();
            let signatures = members(position)
                .into_iter()
                .zip(&keys)
                .map(|(member, key)| {
                    let mut rrsig = Rrsig {
                        algorithm: Algorithm::RSASHA256,
                        labels: domain.rrsig_labels(),
                        original_ttl: 3600,
                        expiration: Timestamp::from_unix(START),
                        inception: Timestamp::from_unix(START - 30 * DAY),
                        key_tag: key.key_tag,
                        signer_name: domain.clone(),
                        signature: Vec::new(),
                    };
                    rrsig.signature = zsks[member]
                        .sign(&rrsig.signing_input(&domain, keys.iter().map(|key| &key.dnskey)));
                    Signature {
                        key_identifier: key.identifier.clone(),
                        ttl: 3600,
                        rrsig,
                    }
                })
                .collect();
            (keys, signatures)
        })
        .collect();
    let bundles = (0..count)
        .map(|position| {
            let (keys, signatures) = match position % 9 {
                0 => proofs[0].clone(),
                8 => proofs[2].clone(),
                _ => proofs[1].clone(),
            };
            let inception = START + u32::try_from(position).unwrap() * DAY;
            Bundle {
                id: format!("bundle-{position}"),
                inception: Timestamp::from_unix(inception),
                expiration: Timestamp::from_unix(inception + 2 * DAY),
                signers: Vec::new(),
                keys,
                signatures,
            }
        })
        .collect();
    let ksr = Ksr {
        id: format!("synthetic-{count}"),
        serial: 1,
        domain: domain.clone(),
        timestamp: None,
        zsk_policy: Policy {
            publish_safety: Duration::from_seconds(DAY),
            retire_safety: Duration::from_seconds(DAY),
            max_signature_validity: Duration::from_seconds(2 * DAY),
            min_signature_validity: Duration::from_seconds(2 * DAY),
            max_validity_overlap: Duration::from_seconds(DAY),
            min_validity_overlap: Duration::from_seconds(DAY),
            signature_algorithms: vec![SignatureAlgorithm {
                algorithm: Algorithm::RSASHA256,
                parameters: AlgorithmParameters::Rsa {
                    size: 2048,
                    exponent: 65537,
                },
            }],
        },
        bundles,
    };
    let mut config = Config::default();
    config.keys.clear();
    config
        .keys
        .insert("ksk_current".into(), ksk.ksk_config(&domain, "Kbench"));
    config.ksk_policy.ttl = 3600;
    config.ksk_policy.signers_name = "example.".into();
    config.response_policy.num_bundles = count;
    let policy = &mut config.request_policy;
    policy.acceptable_domains = vec!["example.".into()];
    policy.num_bundles = count;
    policy.num_keys_per_bundle = (0..count).map(|position| members(position).len()).collect();
    policy.num_different_keys_in_all_bundles = if count > 8 { 3 } else { 2 };
    let cycle = Duration::from_seconds(u32::try_from(count - 1).unwrap() * DAY);
    policy.min_cycle_inception_length = cycle;
    policy.max_cycle_inception_length = cycle;
    policy.min_bundle_interval = Duration::from_seconds(DAY);
    policy.max_bundle_interval = Duration::from_seconds(DAY);
    policy.signature_horizon_days = u32::try_from(count).unwrap() + 30;
    policy.check_rsa_key_sanity = false;
    (ksr, config)
}

/// Stages 2 to 4, which must pass.
fn check<'a>(ksr: &'a Ksr, config: &'a Config, now: Timestamp) -> CheckedKsr<'a> {
    CheckedKsr::check(&Request {
        ksr: black_box(ksr),
        previous: None,
        config,
        now,
    })
    .unwrap()
}

fn scale(c: &mut Criterion) {
    let zsks = [RingKey::new(), RingKey::new(), RingKey::new()];
    let ksk = RingKey::new();
    let now = Timestamp::from_unix(START - DAY);
    eprintln!(
        "verifying on {} core(s)",
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    for count in [10, 100, 1_000, 10_000] {
        let (ksr, config) = synthetic(count, &zsks, &ksk);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::from_parameter(count), &count, |b, _| {
            b.iter(|| check(&ksr, &config, now).findings().len())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("validate_and_sign");
    group.sample_size(10);
    for count in [10, 100, 256] {
        let (ksr, config) = synthetic(count, &zsks, &ksk);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::from_parameter(count), &count, |b, _| {
            b.iter(|| {
                build_skr(&check(&ksr, &config, now), "normal", &ksk)
                    .unwrap()
                    .xml
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);

//! Issue 6's figures: signatures per second for RSA-2048 and P-256 on both
//! backends, to set beside `openssl speed rsa2048 ecdsap256` on the same
//! machine (target for the soft HSM: at least 0.7x OpenSSL). Criterion's
//! throughput line gives the rate.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark, not library code"
)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsm::{Clock, Hsm, KeySpec, Pkcs11Hsm, RsaBits, SoftHsm};
use quorum::{Enrolment, NewOfficer, enrol};
use zeroize::Zeroizing;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn quorum() -> Enrolment {
    let officers = (1..=2u8)
        .map(|seed| NewOfficer {
            name: format!("CO-{seed}"),
            role: "crypto officer".into(),
            card_serial: format!("{seed}"),
            card_key: *p256::ecdsa::SigningKey::from_slice(&[seed; 32])
                .unwrap()
                .verifying_key(),
        })
        .collect();
    enrol(officers, 2).unwrap()
}

/// A fresh SoftHSM2 token labelled "bench" in `dir` (SOFTHSM2_CONF comes
/// from .cargo/config.toml).
fn token(dir: &Path) {
    let conf = std::env::var_os("SOFTHSM2_CONF").expect("run with cargo bench");
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    std::fs::create_dir_all(Path::new(&conf).parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let context = cryptoki::context::Pkcs11::new(MODULE).unwrap();
    context
        .initialize(cryptoki::context::CInitializeArgs::new(
            cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
        ))
        .unwrap();
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| !context.get_token_info(*slot).unwrap().token_initialized())
        .unwrap();
    context
        .init_token(slot, &cryptoki::types::AuthPin::from("bench-so"), "bench")
        .unwrap();
    context.finalize().unwrap();
}

fn bench(c: &mut Criterion, backend: &str, hsm: &mut dyn Hsm) {
    let mut group = c.benchmark_group(format!("{backend}_sign"));
    group.throughput(Throughput::Elements(1));
    for (label, spec) in [
        ("rsa2048", KeySpec::Rsa(RsaBits::B2048)),
        ("p256", KeySpec::EcdsaP256),
    ] {
        hsm.generate(label, spec, 1).unwrap();
        group.bench_function(label, |b| {
            b.iter(|| {
                hsm.sign(label, black_box(b"a DNSKEY RRset's signing input"))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn sign(c: &mut Criterion) {
    let clock: Clock = Arc::new(Instant::now);
    let dir = tempfile::tempdir().unwrap();
    let enrolment = quorum();
    let mut soft = SoftHsm::create(
        dir.path(),
        enrolment.roster.clone(),
        &enrolment.secret,
        clock.clone(),
    )
    .unwrap();
    soft.activate(&enrolment.secret).unwrap();
    bench(c, "soft", &mut soft);
    drop(soft);

    let dir = tempfile::tempdir().unwrap();
    token(dir.path());
    let mut token = Pkcs11Hsm::initialize(
        dir.path(),
        Path::new(MODULE),
        "bench",
        &Zeroizing::new("bench-so".to_owned()),
        enrolment.roster.clone(),
        &enrolment.secret,
        clock,
        None,
    )
    .unwrap()
    .0;
    token.activate(&enrolment.secret).unwrap();
    bench(c, "softhsm2", &mut token);
}

criterion_group!(benches, sign);
criterion_main!(benches);

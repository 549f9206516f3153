//! Issue 5's figure: the time of one PIN verification with the strong
//! Argon2id profile a real card gets (64 MiB, 3 passes, 4 lanes), through
//! the whole VERIFY: counter written and synced, key derived, data key and
//! secrets opened, counter restored and synced. And the light profile of
//! tests, for comparison.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark, not library code"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use smartcard_sim::{CardClient, FileStorage, KdfParams, Personalization, Pin, Puk, SimulatedCard};

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("pin_verify");
    group.sample_size(10);
    for (name, kdf) in [("strong", KdfParams::STRONG), ("light", KdfParams::LIGHT)] {
        let path = dir.path().join(format!("{name}.card"));
        let blank = SimulatedCard::blank(FileStorage::new(&path), kdf).unwrap();
        let mut client = CardClient::new(blank);
        client.select().unwrap();
        let pin = Pin::new("483920".into()).unwrap();
        client
            .personalize(
                &Personalization {
                    serial: "1".into(),
                    holder: "CO-1".into(),
                    role: "crypto officer".into(),
                    generation: 1,
                },
                &pin,
                &Puk::new("12345678".into()).unwrap(),
                &[7; 33],
            )
            .unwrap();
        let mut client = CardClient::new(SimulatedCard::open(FileStorage::new(&path)).unwrap());
        client.select().unwrap();
        group.bench_function(name, |b| b.iter(|| client.verify(&pin).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);

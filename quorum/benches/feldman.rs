//! Issue 4's target: split, verify and combine for n = 7, k = 3 under
//! 5 ms; n = 255, k = 128 reported as well.
//!
//! * `split/k-of-n`: a fresh secret, the polynomial, n shares and k
//!   commitments.
//! * `verify/k-of-n`: one share against the commitments.
//! * `combine/k-of-n`: k shares, each verified again, interpolated, and
//!   the result checked against C0.
//! * `all/k-of-n`: split, verify every share, combine: the whole path.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark, not library code"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quorum::{Share, combine, split};

fn feldman(c: &mut Criterion) {
    for (k, n) in [(3, 7), (128, 255)] {
        let id = format!("{k}-of-{n}");
        let dealt = split(k, n).unwrap();
        let mut group = c.benchmark_group("feldman");
        if n > 100 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("split", &id), &(k, n), |b, (k, n)| {
            b.iter(|| split(black_box(*k), *n).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("verify", &id), &dealt, |b, dealt| {
            b.iter(|| {
                dealt
                    .commitments
                    .verify(black_box(&dealt.shares[n - 1]))
                    .unwrap()
            })
        });
        let chosen: Vec<&Share> = dealt.shares.iter().rev().take(k).collect();
        group.bench_with_input(BenchmarkId::new("combine", &id), &dealt, |b, dealt| {
            b.iter(|| combine(&dealt.commitments, black_box(&chosen)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("all", &id), &(k, n), |b, (k, n)| {
            b.iter(|| {
                let dealt = split(*k, *n).unwrap();
                for share in &dealt.shares {
                    dealt.commitments.verify(share).unwrap();
                }
                let chosen: Vec<&Share> = dealt.shares.iter().take(*k).collect();
                combine(&dealt.commitments, &chosen).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, feldman);
criterion_main!(benches);

//! Splitting and combining: the laws of k-of-n, checked on random
//! parameters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use proptest::prelude::*;
use quorum::{CombineError, Share, SplitError, combine, split};

/// Every subset of `0..n` with `size` members.
fn subsets(n: usize, size: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == size)
        .map(|mask| (0..n).filter(|bit| mask & (1 << bit) != 0).collect())
        .collect()
}

fn copy(share: &Share) -> Share {
    Share::from_bytes(share.to_bytes().as_ref()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_k_subset_recovers_and_no_smaller_one_combines(n in 2usize..=7, k_offset in 0usize..6) {
        let k = 2 + k_offset % (n - 1);
        let dealt = split(k, n).unwrap();
        let expected = dealt.secret.derive_key("test");
        for subset in subsets(n, k) {
            let shares: Vec<&Share> = subset.iter().map(|i| &dealt.shares[*i]).collect();
            let secret = combine(&dealt.commitments, &shares).unwrap();
            prop_assert_eq!(*secret.derive_key("test"), *expected);
            prop_assert_eq!(secret.public_point(), dealt.commitments.secret_point());
        }
        for subset in subsets(n, k - 1) {
            let shares: Vec<&Share> = subset.iter().map(|i| &dealt.shares[*i]).collect();
            prop_assert_eq!(
                combine(&dealt.commitments, &shares).err(),
                Some(CombineError::TooFew { have: k - 1, need: k })
            );
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_in_a_share_is_caught_and_named(
        n in 3usize..=7,
        victim in 0usize..7,
        bit in 0usize..(33 * 8),
    ) {
        let k = 3;
        let dealt = split(k, n).unwrap();
        let victim = victim % n;
        let mut bytes = *dealt.shares[victim].to_bytes();
        bytes[bit / 8] ^= 1 << (bit % 8);
        // Either the bytes are no longer a share at all, or the share is
        // refused by the commitments under the index it now claims.
        let Ok(flipped) = Share::from_bytes(&bytes) else { return Ok(()); };
        prop_assert!(dealt.commitments.verify(&flipped).is_err());
        let others: Vec<Share> = (0..n).filter(|i| *i != victim).take(k - 1).map(|i| copy(&dealt.shares[i])).collect();
        let mut shares: Vec<&Share> = others.iter().collect();
        shares.push(&flipped);
        let err = combine(&dealt.commitments, &shares).unwrap_err();
        match err {
            CombineError::Invalid(invalid) => prop_assert_eq!(invalid.0, flipped.index()),
            // A flipped index bit may land on another officer's index.
            CombineError::Duplicate(index) => prop_assert_eq!(index, flipped.index()),
            other => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn the_order_of_the_shares_does_not_matter(seed in any::<u64>()) {
        let (k, n) = (3, 5);
        let dealt = split(k, n).unwrap();
        let mut order: Vec<usize> = (0..n).collect();
        // A permutation from the seed.
        let mut state = seed;
        for i in (1..n).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, usize::try_from(state >> 33).unwrap() % (i + 1));
        }
        let shares: Vec<&Share> = order.iter().take(k).map(|i| &dealt.shares[*i]).collect();
        let secret = combine(&dealt.commitments, &shares).unwrap();
        prop_assert_eq!(*secret.derive_key("test"), *dealt.secret.derive_key("test"));
    }
}

#[test]
fn impossible_parameters_are_refused() {
    for (k, n) in [(1, 3), (0, 0), (4, 3), (2, 256), (256, 256)] {
        assert_eq!(
            split(k, n).err(),
            Some(SplitError::Parameters {
                threshold: k,
                count: n
            }),
            "{k} of {n}"
        );
    }
    let dealt = split(255, 255).unwrap();
    assert_eq!(dealt.shares.len(), 255);
    assert_eq!(dealt.shares[254].index().get(), 255);
}

#[test]
fn a_share_given_twice_is_refused() {
    let dealt = split(2, 3).unwrap();
    let again = copy(&dealt.shares[0]);
    assert_eq!(
        combine(&dealt.commitments, &[&dealt.shares[0], &again]).err(),
        Some(CombineError::Duplicate(dealt.shares[0].index()))
    );
}

#[test]
fn shares_of_another_split_are_refused() {
    let one = split(2, 3).unwrap();
    let other = split(2, 3).unwrap();
    let err = combine(&one.commitments, &[&one.shares[0], &other.shares[1]]).unwrap_err();
    assert_eq!(
        err,
        CombineError::Invalid(quorum::InvalidShare(other.shares[1].index()))
    );
}

#[test]
fn commitments_survive_serde_and_bad_points_are_refused() {
    let dealt = split(3, 5).unwrap();
    let json = serde_json::to_string(&dealt.commitments).unwrap();
    let back: quorum::Commitments = serde_json::from_str(&json).unwrap();
    assert_eq!(back, dealt.commitments);
    let texts: Vec<String> = serde_json::from_str(&json).unwrap();
    let mut broken = texts.clone();
    broken[1].replace_range(10..12, "00");
    broken[1].replace_range(0..2, "05");
    let err = serde_json::from_str::<quorum::Commitments>(&serde_json::to_string(&broken).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("commitment 1"), "{err}");
    let one = serde_json::to_string(&texts[..1]).unwrap();
    assert!(serde_json::from_str::<quorum::Commitments>(&one).is_err());
}

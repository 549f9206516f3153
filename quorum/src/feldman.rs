//! Feldman verifiable secret sharing over P-256, with vsss-rs doing the
//! polynomial, the share verification and the interpolation.
//!
//! vsss-rs's `split_secret` drops its polynomial unwiped, and its
//! `combine` returns a wrong value, without error, from too few shares.
//! So the polynomial is made here, through vsss-rs's `Polynomial` trait,
//! and wiped after use; `combine` counts the shares, verifies each, and
//! checks the result against C0 before it returns anything; and a share
//! is verified here, by Horner's rule (see [`Commitments::verify`]).

use std::fmt;
use std::num::NonZeroU8;

use p256::elliptic_curve::ff::Field as _;
use p256::elliptic_curve::group::{Group as _, GroupEncoding as _};
use p256::{ProjectivePoint, Scalar};
use serde::{Deserialize, Serialize};
use vsss_rs::{DefaultShare, IdentifierPrimeField, Polynomial as _, ReadableShareSet as _};
use zeroize::Zeroize as _;

use crate::secret::ActivationSecret;
use crate::share::Share;

/// vsss-rs's share over P-256: identifier and value are scalars.
type VsssShare = DefaultShare<IdentifierPrimeField<Scalar>, IdentifierPrimeField<Scalar>>;

/// The most shares there can be: an index is one octet, and 0 is the secret.
pub const MAX_SHARES: usize = 255;

//------------ Commitments ---------------------------------------------------

/// The Feldman commitments C0 … C(k-1) = G·a0 … G·a(k-1) of the polynomial
/// whose a0 is the secret. Public: they let anyone check a share, and C0
/// is the public key of the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Commitments {
    points: Vec<ProjectivePoint>,
}

impl Commitments {
    /// The threshold k: the number of commitments.
    pub fn threshold(&self) -> usize {
        self.points.len()
    }

    /// C0 = G·secret.
    pub fn secret_point(&self) -> ProjectivePoint {
        self.points
            .first()
            .copied()
            .unwrap_or(ProjectivePoint::IDENTITY)
    }

    /// Checks a share against the commitments: G·value = Σ Cj·index^j.
    ///
    /// The sum is taken by Horner's rule in the group. The index is public
    /// and below 256, so each step is eight doublings and a few additions
    /// instead of a full scalar multiplication (what vsss-rs's
    /// `verify_share` does, about 10x slower at k = 3 and far more at
    /// k = 128). The share's value is multiplied in constant time.
    ///
    /// # Errors
    ///
    /// The share is not a point of the committed polynomial.
    pub fn verify(&self, share: &Share) -> Result<(), InvalidShare> {
        let x = share.index().get();
        let expected = self
            .points
            .iter()
            .rev()
            .fold(ProjectivePoint::IDENTITY, |sum, commitment| {
                times_small(&sum, x) + commitment
            });
        let mut value = share.scalar();
        let actual = ProjectivePoint::GENERATOR * value;
        let zero = bool::from(value.is_zero());
        value.zeroize();
        if zero || actual != expected {
            return Err(InvalidShare(share.index()));
        }
        Ok(())
    }

    /// The commitments as compressed SEC1 points, one after the other: the
    /// form the roster digest covers.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.points
            .iter()
            .flat_map(|point| point.to_bytes().to_vec())
            .collect()
    }
}

impl fmt::Debug for Commitments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.points
                    .iter()
                    .map(|point| hex::encode(point.to_bytes())),
            )
            .finish()
    }
}

impl From<Commitments> for Vec<String> {
    fn from(commitments: Commitments) -> Self {
        commitments
            .points
            .iter()
            .map(|point| hex::encode(point.to_bytes()))
            .collect()
    }
}

impl TryFrom<Vec<String>> for Commitments {
    type Error = String;

    fn try_from(texts: Vec<String>) -> Result<Self, String> {
        if texts.len() < 2 || texts.len() > MAX_SHARES {
            return Err(format!(
                "{} commitments; a threshold is 2 to {MAX_SHARES}",
                texts.len()
            ));
        }
        let points = texts
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let bytes =
                    hex::decode(text).map_err(|err| format!("commitment {index}: {err}"))?;
                // SEC1 decoding checks the tag (GroupEncoding::from_bytes
                // would take 05 for 03) and refuses the identity; the
                // re-encoding must give the same bytes.
                let point = p256::PublicKey::from_sec1_bytes(&bytes)
                    .map(|key| key.to_projective())
                    .map_err(|_| format!("commitment {index} is not a point of P-256"))?;
                if point.to_bytes().as_slice() != bytes.as_slice() {
                    return Err(format!("commitment {index} is not a compressed SEC1 point"));
                }
                Ok(point)
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { points })
    }
}

//------------ Errors --------------------------------------------------------

/// A share that does not lie on the committed polynomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("share {0} does not match the commitments")]
pub struct InvalidShare(pub NonZeroU8);

/// Why shares were not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// k < 2, k > n or n > 255.
    #[error(
        "a threshold of {threshold} of {count} is not possible: it takes 2 <= threshold <= count <= {MAX_SHARES}"
    )]
    Parameters {
        /// k.
        threshold: usize,
        /// n.
        count: usize,
    },
}

/// Why shares were not combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    /// Fewer shares than the threshold: nothing was combined.
    #[error("{have} share(s), the threshold is {need}")]
    TooFew {
        /// Shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// Two shares with one index.
    #[error("share {0} is given twice")]
    Duplicate(NonZeroU8),
    /// A share that does not match the commitments.
    #[error(transparent)]
    Invalid(#[from] InvalidShare),
    /// The combined value is not the committed secret (not reachable with
    /// verified shares; checked all the same).
    #[error("the combined secret does not match the commitment C0")]
    Mismatch,
}

//------------ split and combine ---------------------------------------------

/// A fresh secret, its shares and their commitments.
#[derive(Debug)]
pub struct Dealt {
    /// The secret.
    pub secret: ActivationSecret,
    /// Share i for officer index i, 1 to n.
    pub shares: Vec<Share>,
    /// The commitments.
    pub commitments: Commitments,
}

/// Makes a fresh random secret and splits it into `count` shares, any
/// `threshold` of which recover it.
///
/// # Errors
///
/// Unless 2 <= threshold <= count <= 255.
pub fn split(threshold: usize, count: usize) -> Result<Dealt, SplitError> {
    let secret = ActivationSecret::generate();
    let (shares, commitments) = split_secret(&secret, threshold, count)?;
    Ok(Dealt {
        secret,
        shares,
        commitments,
    })
}

/// Splits a given secret into new shares with a new polynomial (reshare).
pub(crate) fn split_secret(
    secret: &ActivationSecret,
    threshold: usize,
    count: usize,
) -> Result<(Vec<Share>, Commitments), SplitError> {
    if threshold < 2 || threshold > count || count > MAX_SHARES {
        return Err(SplitError::Parameters { threshold, count });
    }
    let rng = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    let mut intercept = IdentifierPrimeField(secret.scalar());
    let mut polynomial: Vec<VsssShare> = vsss_rs::Polynomial::create(threshold);
    // vsss-rs draws a1 … a(k-1) uniformly, zero included (its audit
    // finding #2); a zero top coefficient is a 2^-256 event and harmless.
    let filled = polynomial.fill(&intercept, rng, threshold);
    intercept.zeroize();
    if filled.is_err() {
        unreachable!("the polynomial was created with the threshold's length");
    }
    // vsss-rs keeps a0 in the value and a1 … in the identifiers.
    let points = polynomial
        .iter()
        .enumerate()
        .map(|(degree, coefficient)| {
            let scalar = if degree == 0 {
                coefficient.value.0
            } else {
                coefficient.identifier.0
            };
            ProjectivePoint::GENERATOR * scalar
        })
        .collect();
    let mut shares = Vec::with_capacity(count);
    for index in (1..=u8::MAX).filter_map(NonZeroU8::new).take(count) {
        let x = IdentifierPrimeField(Scalar::from(u64::from(index.get())));
        let mut value = polynomial.evaluate(&x, threshold);
        shares.push(Share::new(index, &value.0));
        value.zeroize();
    }
    for coefficient in &mut polynomial {
        coefficient.zeroize();
    }
    Ok((shares, Commitments { points }))
}

/// Combines shares into the secret: at least the threshold, distinct
/// indices, each verified against the commitments, and the result checked
/// against C0. The shares given are not consumed; the caller wipes them by
/// dropping them.
///
/// # Errors
///
/// See [`CombineError`]; nothing is combined unless every check passes.
pub fn combine(
    commitments: &Commitments,
    shares: &[&Share],
) -> Result<ActivationSecret, CombineError> {
    let need = commitments.threshold();
    if shares.len() < need {
        return Err(CombineError::TooFew {
            have: shares.len(),
            need,
        });
    }
    for (position, share) in shares.iter().enumerate() {
        if shares
            .iter()
            .take(position)
            .any(|other| other.index() == share.index())
        {
            return Err(CombineError::Duplicate(share.index()));
        }
        commitments.verify(share)?;
    }
    let mut chosen: Vec<VsssShare> = shares
        .iter()
        .take(need)
        .map(|share| to_vsss(share))
        .collect();
    let combined = chosen.combine();
    for share in &mut chosen {
        share.zeroize();
    }
    let mut value = combined.map_err(|_| CombineError::Mismatch)?;
    let secret = ActivationSecret::from_scalar(&value.0);
    value.zeroize();
    if secret.public_point() != commitments.secret_point() {
        return Err(CombineError::Mismatch);
    }
    Ok(secret)
}

/// `point · x` for a public x below 256, by double-and-add (variable
/// time in x, which is public).
fn times_small(point: &ProjectivePoint, x: u8) -> ProjectivePoint {
    (0..8).rev().fold(ProjectivePoint::IDENTITY, |sum, bit| {
        let doubled = sum.double();
        if (x >> bit) & 1 == 1 {
            doubled + point
        } else {
            doubled
        }
    })
}

/// A share in vsss-rs's form; the caller wipes it.
fn to_vsss(share: &Share) -> VsssShare {
    VsssShare {
        identifier: IdentifierPrimeField(Scalar::from(u64::from(share.index().get()))),
        value: IdentifierPrimeField(share.scalar()),
    }
}

//! The activation secret: a P-256 scalar that unlocks the HSM.

use std::fmt;

use hkdf::Hkdf;
use p256::elliptic_curve::{Generate as _, PrimeField as _};
use p256::{NonZeroScalar, ProjectivePoint, Scalar};
use sha2::Sha256;
use zeroize::{Zeroize as _, Zeroizing};

use crate::wipe::wipe;

/// The salt of every key derived from the secret (RFC 5869 §3.1): it names
/// this scheme, so the keys differ from any other use of the same scalar.
const SALT: &[u8] = b"ceremony quorum activation secret v1";

/// The secret the quorum reassembles. It exists only in memory, is never
/// printed or serialized, and is wiped when dropped.
pub struct ActivationSecret {
    /// The scalar, big-endian, on the heap: moving the secret moves the
    /// pointer, and no copy of the bytes is left behind.
    bytes: Box<[u8; 32]>,
    /// Its page locked in memory (never swapped out) where the platform
    /// allows it; dropped after the bytes are wiped.
    _locked: Option<region::LockGuard>,
}

impl ActivationSecret {
    /// A fresh secret from the operating system's random numbers.
    pub(crate) fn generate() -> Self {
        let mut rng = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
        Self::from_scalar(&NonZeroScalar::generate_from_rng(&mut rng))
    }

    pub(crate) fn from_scalar(scalar: &Scalar) -> Self {
        let mut bytes = Box::new([0; 32]);
        let locked = region::lock(bytes.as_ptr(), bytes.len()).ok();
        let mut repr = scalar.to_repr();
        bytes.copy_from_slice(&repr);
        repr.zeroize();
        Self {
            bytes,
            _locked: locked,
        }
    }

    /// The scalar, for arithmetic inside the crate.
    pub(crate) fn scalar(&self) -> Scalar {
        // The bytes came from a scalar, so they are canonical.
        Option::from(Scalar::from_repr((*self.bytes).into())).unwrap_or(Scalar::ZERO)
    }

    /// G·secret: the public commitment C0 that a combined secret must match.
    pub fn public_point(&self) -> ProjectivePoint {
        ProjectivePoint::GENERATOR * self.scalar()
    }

    /// Derives a 32-byte key for one purpose (HKDF-SHA-256, RFC 5869): the
    /// roster MAC here, the key store's wrapping key in the HSM. Different
    /// purposes give independent keys.
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), self.bytes.as_ref());
        let mut key = Zeroizing::new([0; 32]);
        // 32 bytes is far below HKDF-SHA-256's limit of 255 · 32.
        if hkdf.expand(purpose.as_bytes(), key.as_mut()).is_err() {
            unreachable!("32 bytes is a valid HKDF-SHA-256 output length");
        }
        key
    }
}

impl Drop for ActivationSecret {
    fn drop(&mut self) {
        wipe("secret", self.bytes.as_mut());
    }
}

/// Never the value.
impl fmt::Debug for ActivationSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationSecret(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_purpose_and_debug_shows_nothing() {
        let secret = ActivationSecret::generate();
        assert_ne!(*secret.derive_key("roster"), *secret.derive_key("keystore"));
        assert_eq!(*secret.derive_key("roster"), *secret.derive_key("roster"));
        let text = format!("{secret:?}");
        assert!(!text.contains(&hex::encode(*secret.bytes)));
        assert_eq!(text, "ActivationSecret(<secret>)");
    }

    #[test]
    fn the_secret_is_zero_after_drop() {
        crate::wipe::log::take();
        drop(ActivationSecret::generate());
        assert_eq!(crate::wipe::log::take(), [("secret", true)]);
    }
}

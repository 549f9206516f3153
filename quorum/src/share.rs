//! One officer's share of the activation secret.

use std::fmt;
use std::num::NonZeroU8;

use p256::Scalar;
use p256::elliptic_curve::PrimeField as _;
use p256::elliptic_curve::ff::Field as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::wipe::wipe;

/// A share: the polynomial's value at the officer's index. Wiped when
/// dropped; `Debug` shows the index only.
pub struct Share {
    index: NonZeroU8,
    /// The value, a P-256 scalar, big-endian, on the heap: a move copies
    /// the pointer, not the value.
    value: Box<[u8; 32]>,
}

/// The length of a share's byte form: the index, then the value.
pub const SHARE_LEN: usize = 33;

/// Why bytes are not a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShareFormatError {
    /// Not 33 bytes.
    #[error("a share is {SHARE_LEN} bytes, not {0}")]
    Length(usize),
    /// Index 0 is the secret itself, never a share.
    #[error("a share's index is 1 to 255, not 0")]
    ZeroIndex,
    /// The value is not a scalar below the group order, or is zero.
    #[error("the share's value is not a non-zero P-256 scalar")]
    Value,
}

impl Share {
    pub(crate) fn new(index: NonZeroU8, value: &Scalar) -> Self {
        let mut boxed = Box::new([0; 32]);
        let mut repr = value.to_repr();
        boxed.copy_from_slice(&repr);
        repr.zeroize();
        Self {
            index,
            value: boxed,
        }
    }

    /// The officer's index, 1 to 255: the x of the polynomial.
    pub fn index(&self) -> NonZeroU8 {
        self.index
    }

    /// The value as a scalar (a copy; the caller wipes what it keeps).
    pub(crate) fn scalar(&self) -> Scalar {
        // Checked when the share was made or read.
        Option::from(Scalar::from_repr((*self.value).into())).unwrap_or(Scalar::ZERO)
    }

    /// The share as bytes, for a card to store: the index, then the value.
    pub fn to_bytes(&self) -> Zeroizing<[u8; SHARE_LEN]> {
        let mut bytes = Zeroizing::new([0; SHARE_LEN]);
        let (index, value) = bytes.split_at_mut(1);
        index.copy_from_slice(&[self.index.get()]);
        value.copy_from_slice(self.value.as_ref());
        bytes
    }

    /// Reads a share from its bytes.
    ///
    /// # Errors
    ///
    /// The length, the index or the value is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ShareFormatError> {
        let (&[index], value) = bytes
            .split_first_chunk::<1>()
            .filter(|(_, value)| value.len() == 32)
            .ok_or(ShareFormatError::Length(bytes.len()))?;
        let index = NonZeroU8::new(index).ok_or(ShareFormatError::ZeroIndex)?;
        let mut array = Zeroizing::new([0u8; 32]);
        array.copy_from_slice(value);
        let scalar: Option<Scalar> = Scalar::from_repr((*array).into()).into();
        match scalar {
            Some(scalar) if !bool::from(scalar.is_zero()) => Ok(Self::new(index, &scalar)),
            _ => Err(ShareFormatError::Value),
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        wipe("share", self.value.as_mut());
    }
}

/// The index only, never the value.
impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share {{ index: {}, value: <secret> }}", self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share() -> Share {
        Share::new(NonZeroU8::MIN.saturating_add(2), &Scalar::from(77u64))
    }

    #[test]
    fn bytes_read_back_and_bad_bytes_are_refused() {
        let bytes = share().to_bytes();
        let back = Share::from_bytes(bytes.as_ref()).expect("a share");
        assert_eq!(
            (back.index().get(), back.scalar()),
            (3, Scalar::from(77u64))
        );
        assert_eq!(
            Share::from_bytes(&bytes[..32]).err(),
            Some(ShareFormatError::Length(32))
        );
        let mut zero = *bytes;
        zero[0] = 0;
        assert_eq!(
            Share::from_bytes(&zero).err(),
            Some(ShareFormatError::ZeroIndex)
        );
        let mut big = *bytes;
        big[1..].fill(0xff);
        assert_eq!(Share::from_bytes(&big).err(), Some(ShareFormatError::Value));
    }

    #[test]
    fn debug_shows_the_index_only_and_drop_wipes() {
        crate::wipe::log::take();
        let share = share();
        assert_eq!(format!("{share:?}"), "Share { index: 3, value: <secret> }");
        drop(share);
        assert_eq!(crate::wipe::log::take(), [("share", true)]);
    }
}

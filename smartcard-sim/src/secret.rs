//! PINs and PUKs: validated digits, wiped on drop, never printed.

use std::fmt;

use zeroize::{Zeroize as _, Zeroizing};

use crate::apdu::SECRET_BLOCK;

/// Why a PIN or PUK is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {kind} is {min} to {max} digits")]
pub struct SecretFormatError {
    /// "PIN" or "PUK".
    pub kind: &'static str,
    /// The fewest digits.
    pub min: usize,
    /// The most digits.
    pub max: usize,
}

macro_rules! digits_secret {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $min:literal) => {
        $(#[$doc])*
        pub struct $name(Zeroizing<Vec<u8>>);

        impl $name {
            /// The fewest digits.
            pub const MIN: usize = $min;
            /// The most digits (a 16-byte block).
            pub const MAX: usize = SECRET_BLOCK;

            /// Takes the digits, which it then owns and wipes.
            ///
            /// # Errors
            ///
            /// Not all digits, or too few or too many.
            pub fn new(mut text: String) -> Result<Self, SecretFormatError> {
                let result = Self::from_digits(text.as_bytes());
                text.zeroize();
                result
            }

            /// Reads the digits from bytes (a block from an APDU: the digits,
            /// then 0xFF padding).
            pub(crate) fn from_block(block: &[u8]) -> Result<Self, SecretFormatError> {
                let end = block.iter().position(|byte| *byte == 0xFF).unwrap_or(block.len());
                if block.get(end..).is_some_and(|pad| pad.iter().any(|byte| *byte != 0xFF)) {
                    return Err(Self::format_error());
                }
                Self::from_digits(block.get(..end).unwrap_or_default())
            }

            fn from_digits(digits: &[u8]) -> Result<Self, SecretFormatError> {
                if (Self::MIN..=Self::MAX).contains(&digits.len())
                    && digits.iter().all(u8::is_ascii_digit)
                {
                    Ok(Self(Zeroizing::new(digits.to_vec())))
                } else {
                    Err(Self::format_error())
                }
            }

            fn format_error() -> SecretFormatError {
                SecretFormatError { kind: $kind, min: Self::MIN, max: Self::MAX }
            }

            /// The digits.
            pub(crate) fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The block for an APDU: the digits padded to 16 bytes with 0xFF.
            pub fn to_block(&self) -> Zeroizing<[u8; SECRET_BLOCK]> {
                let mut block = Zeroizing::new([0xFF; SECRET_BLOCK]);
                if let Some(head) = block.get_mut(..self.0.len()) {
                    head.copy_from_slice(&self.0);
                }
                block
            }
        }

        /// Never the digits.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!($kind, "(<secret>)"))
            }
        }
    };
}

digits_secret!(
    /// A card PIN: 6 to 16 digits.
    Pin,
    "PIN",
    6
);

digits_secret!(
    /// A card PUK (the unblocking key): 8 to 16 digits.
    Puk,
    "PUK",
    8
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_only_within_their_lengths() {
        assert!(Pin::new("483920".into()).is_ok());
        assert!(Pin::new("48392".into()).is_err());
        assert!(Pin::new("48392a".into()).is_err());
        assert!(Pin::new("1".repeat(17)).is_err());
        assert!(Puk::new("1234567".into()).is_err());
        assert!(Puk::new("12345678".into()).is_ok());
        let pin = Pin::new("483920".into()).unwrap_or_else(|_| unreachable!());
        assert_eq!(format!("{pin:?}"), "PIN(<secret>)");
        let block = pin.to_block();
        assert_eq!(
            Pin::from_block(block.as_ref()).map(|back| back.as_bytes().to_vec()),
            Ok(b"483920".to_vec())
        );
        let mut bad = *block;
        bad[15] = b'1';
        assert!(Pin::from_block(&bad).is_err());
    }
}

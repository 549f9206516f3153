//! The DNSKEY key tag (RFC 4034 Appendix B).

use std::fmt;

use serde::Serialize;

//------------ KeyTag --------------------------------------------------------

/// A DNSKEY key tag.
///
/// A hint, not an identity: two keys may share one, which is why the
/// documents also carry a key identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct KeyTag(u16);

impl KeyTag {
    /// Makes a key tag from its number.
    pub const fn from_int(value: u16) -> Self {
        Self(value)
    }

    /// Computes the tag of DNSKEY RDATA.
    ///
    /// RFC 4034 Appendix B: the RDATA is summed as big-endian 16-bit words
    /// (an odd last octet is the high octet of a last word), the carry is
    /// folded once, and the low 16 bits are the tag. Algorithm 1 uses
    /// another method (Appendix B.1); it is deprecated and rejected by
    /// policy, as kskm does too.
    pub fn of_rdata(rdata: &[u8]) -> Self {
        // RDATA is at most 65535 octets, whose sum fits a u32; a u64 keeps
        // an over-long input from overflowing rather than trusting callers.
        let mut sum: u64 = 0;
        let mut words = rdata.chunks_exact(2);
        for word in &mut words {
            if let [high, low] = word {
                sum += u64::from(u16::from_be_bytes([*high, *low]));
            }
        }
        if let [last] = words.remainder() {
            sum += u64::from(*last) << 8;
        }
        sum += (sum >> 16) & 0xFFFF;
        Self((sum & 0xFFFF) as u16)
    }

    /// Returns the tag as a number.
    pub const fn to_int(self) -> u16 {
        self.0
    }
}

//--- Display

impl fmt::Display for KeyTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_length_rdata_uses_high_octet() {
        assert_eq!(KeyTag::of_rdata(&[0x01]), KeyTag::from_int(0x0100));
        assert_eq!(
            KeyTag::of_rdata(&[0x01, 0x02, 0x03]),
            KeyTag::from_int(0x0402)
        );
    }

    #[test]
    fn carry_is_folded() {
        assert_eq!(
            KeyTag::of_rdata(&[0xFF, 0xFF, 0x00, 0x02]),
            KeyTag::from_int(0x0002)
        );
    }
}

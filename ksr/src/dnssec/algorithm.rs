//! DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers").

use std::fmt;

//------------ Algorithm -----------------------------------------------------

/// A DNSSEC algorithm number.
///
/// The set is open: unknown numbers parse and print, and it is policy that
/// decides which ones a document may use (`KSR-PARSE-ALG`, `KSR-POLICY-ALG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Algorithm(u8);

impl Algorithm {
    /// RSA/MD5, deprecated (RFC 8624 §3.1).
    pub const RSAMD5: Self = Self(1);
    /// DSA/SHA-1, deprecated.
    pub const DSA: Self = Self(3);
    /// RSA/SHA-1 (RFC 3110).
    pub const RSASHA1: Self = Self(5);
    /// DSA-NSEC3-SHA1, deprecated.
    pub const DSA_NSEC3_SHA1: Self = Self(6);
    /// RSASHA1-NSEC3-SHA1 (RFC 5155).
    pub const RSASHA1_NSEC3_SHA1: Self = Self(7);
    /// RSA/SHA-256 (RFC 5702).
    pub const RSASHA256: Self = Self(8);
    /// RSA/SHA-512 (RFC 5702).
    pub const RSASHA512: Self = Self(10);
    /// GOST R 34.10-2001, deprecated.
    pub const ECC_GOST: Self = Self(12);
    /// ECDSA P-256 with SHA-256 (RFC 6605).
    pub const ECDSAP256SHA256: Self = Self(13);
    /// ECDSA P-384 with SHA-384 (RFC 6605).
    pub const ECDSAP384SHA384: Self = Self(14);
    /// Ed25519 (RFC 8080).
    pub const ED25519: Self = Self(15);
    /// Ed448 (RFC 8080).
    pub const ED448: Self = Self(16);

    /// The algorithms the document format knows (`KSR-PARSE-ALG`).
    pub const KNOWN: [Self; 12] = [
        Self::RSAMD5,
        Self::DSA,
        Self::RSASHA1,
        Self::DSA_NSEC3_SHA1,
        Self::RSASHA1_NSEC3_SHA1,
        Self::RSASHA256,
        Self::RSASHA512,
        Self::ECC_GOST,
        Self::ECDSAP256SHA256,
        Self::ECDSAP384SHA384,
        Self::ED25519,
        Self::ED448,
    ];

    /// Makes an algorithm from its number.
    pub const fn from_int(value: u8) -> Self {
        Self(value)
    }

    /// Returns the algorithm number.
    pub const fn to_int(self) -> u8 {
        self.0
    }

    /// Returns whether the number is one of [`Algorithm::KNOWN`].
    pub fn is_known(self) -> bool {
        Self::KNOWN.contains(&self)
    }

    /// Returns the key family, or `None` for numbers outside the three
    /// families the document format describes (RSA, ECDSA, EdDSA).
    pub fn family(self) -> Option<AlgorithmFamily> {
        match self.0 {
            1 | 5 | 7 | 8 | 10 => Some(AlgorithmFamily::Rsa),
            13 | 14 => Some(AlgorithmFamily::Ecdsa),
            15 | 16 => Some(AlgorithmFamily::Eddsa),
            _ => None,
        }
    }

    /// Returns the registry mnemonic, such as `RSASHA256`, if the number is
    /// known.
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "RSAMD5",
            3 => "DSA",
            5 => "RSASHA1",
            6 => "DSA-NSEC3-SHA1",
            7 => "RSASHA1-NSEC3-SHA1",
            8 => "RSASHA256",
            10 => "RSASHA512",
            12 => "ECC-GOST",
            13 => "ECDSAP256SHA256",
            14 => "ECDSAP384SHA384",
            15 => "ED25519",
            16 => "ED448",
            _ => return None,
        })
    }
}

//--- Display

impl fmt::Display for Algorithm {
    /// Writes the number followed by the mnemonic, such as `8 (RSASHA256)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

//------------ AlgorithmFamily -----------------------------------------------

/// The kind of public key an algorithm uses, which decides the element of a
/// `SignatureAlgorithm` (`RSA`, `ECDSA` or `EdDSA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlgorithmFamily {
    /// RSA keys (RFC 3110 encoding).
    Rsa,
    /// ECDSA keys (RFC 6605 encoding, Q = x | y).
    Ecdsa,
    /// Edwards-curve keys (RFC 8080 encoding).
    Eddsa,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_numbers_print_without_mnemonic() {
        assert_eq!(Algorithm::from_int(200).to_string(), "200");
        assert_eq!(Algorithm::RSASHA256.to_string(), "8 (RSASHA256)");
        assert!(!Algorithm::from_int(2).is_known());
        assert_eq!(Algorithm::from_int(2).family(), None);
    }
}

//! Reading a KSK made elsewhere from its key file, for the soft HSM to
//! import.
//!
//! # Formats
//!
//! * PEM `PRIVATE KEY`: PKCS#8 (RFC 5208, RFC 5958), as `openssl genpkey`
//!   writes it, holding an RSA, P-256 or Ed25519 key. Knot DNS's keystore
//!   files are this too, written by GnuTLS, whose P-256 scalar may be 33
//!   octets with a leading zero: it is read, and normalized to 32.
//! * PEM `RSA PRIVATE KEY`: PKCS#1 (RFC 8017 §A.1.2).
//! * PEM `EC PRIVATE KEY`: SEC1 (RFC 5915), with or without the
//!   `EC PARAMETERS` block `openssl ecparam -genkey` writes before it.
//! * BIND's `K*.private` files (`Private-key-format: v1.2` or `v1.3`) of
//!   algorithm 8 (RSASHA256), 13 (ECDSAP256SHA256) or 15 (ED25519); their
//!   numbers are turned into PKCS#1 or RFC 5915 DER here.
//!
//! # What is checked
//!
//! The key must be one a [`KeySpec`] names: RSA of exactly 2048, 3072 or
//! 4096 bits with exponent 65537, P-256, or Ed25519. A public key that the
//! file carries must be the private key's. Every key then signs a test
//! message, verified by `ksr`'s verifier with the public key derived from
//! it, before it is returned. Encrypted keys, other algorithms and curves,
//! and anything before or after the key are refused; errors name the
//! format, the field or the line, never key bytes.
//!
//! # Limitations
//!
//! Binary DER files are not read (`openssl pkey -inform DER` makes PEM of
//! them), nor PKCS#12 or encrypted PEM: decrypt on the offline machine.
//!
//! Main types: [`ImportedKey`], [`KeyFileFormat`].

mod bind;
mod der;
mod pem;
mod pkcs;
#[cfg(test)]
mod tests;

use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{self, KeyPair as _};
use ksr::Dnskey;
use zeroize::Zeroizing;

use crate::error::{HsmError, KeyFileError};
use crate::soft::SoftKey;
use crate::spec::{KeySpec, RsaBits};

/// The largest key file read: a 4096-bit RSA key in PEM is about 3.3 kB.
pub const MAX_KEY_FILE: usize = 64 * 1024;

/// What a key's consistency test signs.
const TEST_MESSAGE: &[u8] = b"ceremony: the private key matches its public key";

//------------ KeyFileFormat -------------------------------------------------

/// The format a key file was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFileFormat {
    /// PEM `PRIVATE KEY` (PKCS#8).
    Pkcs8Pem,
    /// PEM `PRIVATE KEY` whose P-256 scalar is 33 octets with a leading
    /// zero, as GnuTLS writes it (Knot DNS's keystore).
    Pkcs8PemGnutls,
    /// PEM `RSA PRIVATE KEY` (PKCS#1).
    Pkcs1Pem,
    /// PEM `EC PRIVATE KEY` (SEC1).
    Sec1Pem,
    /// BIND's `K*.private`.
    Bind,
}

impl fmt::Display for KeyFileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pkcs8Pem => "PKCS#8 PEM",
            Self::Pkcs8PemGnutls => {
                "PKCS#8 PEM with a 33-byte P-256 scalar (GnuTLS, as in Knot DNS's keystore)"
            }
            Self::Pkcs1Pem => "PKCS#1 PEM (RSA PRIVATE KEY)",
            Self::Sec1Pem => "SEC1 PEM (EC PRIVATE KEY)",
            Self::Bind => "BIND private key file",
        })
    }
}

//------------ Material ------------------------------------------------------

/// A key as a file gives it, before AWS-LC has seen it. Secrets are wiped
/// on drop.
pub(crate) enum Material {
    /// An RSA key: its PKCS#1 DER, and its public numbers (big-endian,
    /// without leading zeros) to check its size and exponent.
    Rsa {
        pkcs1: Zeroizing<Vec<u8>>,
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// A P-256 key: the scalar, the public point if the file has one, and
    /// whether a leading zero octet was dropped from the scalar.
    P256 {
        scalar: Zeroizing<[u8; 32]>,
        public: Option<Vec<u8>>,
        leading_zero: bool,
    },
    /// An Ed25519 key: the RFC 8032 seed and the public key if the file
    /// has one.
    Ed25519 {
        seed: Zeroizing<[u8; 32]>,
        public: Option<Vec<u8>>,
    },
}

//------------ ImportedKey ---------------------------------------------------

/// A KSK read from a key file and checked: its kind, where it came from,
/// and the key itself (its PKCS#8 in wiped, locked memory, as the soft HSM
/// keeps its own keys). `Debug` shows the public side only.
pub struct ImportedKey {
    spec: KeySpec,
    format: KeyFileFormat,
    key: SoftKey,
}

/// Reads a key file, detecting its format: PEM `PRIVATE KEY` (PKCS#8,
/// including Knot DNS's keystore files with GnuTLS's 33-byte P-256
/// scalars), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1), or a
/// BIND `K*.private` file (v1.2 or v1.3). The key is loaded, its public
/// half compared with any the file carries, and a test signature verified,
/// before it is returned.
///
/// # Errors
///
/// [`HsmError::KeyFile`]: not a key file of these formats, encrypted, of
/// an algorithm, size or exponent no [`KeySpec`] holds, inconsistent, or
/// followed by anything else.
pub fn read_key_file(bytes: &[u8]) -> Result<ImportedKey, HsmError> {
    read(bytes).map_err(HsmError::KeyFile)
}

/// [`read_key_file`] with its own error.
fn read(bytes: &[u8]) -> Result<ImportedKey, KeyFileError> {
    if bytes.len() > MAX_KEY_FILE {
        return Err(KeyFileError::TooLarge {
            size: bytes.len(),
            limit: MAX_KEY_FILE,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| KeyFileError::UnknownFormat)?;
    let (material, format) = if bind::is_bind(text) {
        (bind::parse(text)?, KeyFileFormat::Bind)
    } else if pem::is_pem(text) {
        let block = pem::parse(text)?;
        let material = match block.label {
            pem::Label::Pkcs8 => pkcs::pkcs8(&block.der)?,
            pem::Label::Pkcs1 => pkcs::pkcs1(&block.der)?,
            pem::Label::Sec1 => pkcs::sec1(&block.der, block.parameters.as_deref())?,
        };
        let format = match (&material, block.label) {
            (
                Material::P256 {
                    leading_zero: true, ..
                },
                pem::Label::Pkcs8,
            ) => KeyFileFormat::Pkcs8PemGnutls,
            (_, label) => label.format(),
        };
        (material, format)
    } else {
        return Err(KeyFileError::UnknownFormat);
    };
    ImportedKey::load(material, format)
}

impl ImportedKey {
    /// Loads a key's material through AWS-LC into the soft HSM's form, and
    /// checks it.
    fn load(material: Material, format: KeyFileFormat) -> Result<Self, KeyFileError> {
        let rejected = |spec: KeySpec| {
            move |err: aws_lc_rs::error::KeyRejected| KeyFileError::Rejected {
                format,
                spec,
                reason: err.description_(),
            }
        };
        let unspecified = |spec: KeySpec| {
            move |_| KeyFileError::Rejected {
                format,
                spec,
                reason: "AWS-LC cannot write it as PKCS#8",
            }
        };
        let mismatch = KeyFileError::Inconsistent {
            format,
            what: "the public key in the file is not the private key's",
        };
        let (spec, pkcs8) = match material {
            Material::Rsa {
                pkcs1,
                modulus,
                exponent,
            } => {
                let bits = bit_length(&modulus);
                let spec = u32::try_from(bits)
                    .ok()
                    .and_then(RsaBits::from_bits)
                    .map(KeySpec::Rsa)
                    .ok_or(KeyFileError::RsaSize { format, bits })?;
                if exponent != [0x01, 0x00, 0x01] {
                    return Err(KeyFileError::RsaExponent {
                        format,
                        exponent: decimal(&exponent),
                    });
                }
                // AWS-LC checks the numbers (RSA_check_key) as it parses;
                // their DER was read above, so only they can be wrong.
                let pair = signature::RsaKeyPair::from_der(&pkcs1).map_err(|_| {
                    KeyFileError::Inconsistent {
                        format,
                        what: "its numbers do not make one RSA key (the modulus is not the product of the primes, or an exponent or the coefficient does not fit them)",
                    }
                })?;
                let public = pair.public_key();
                if public.modulus().big_endian_without_leading_zero() != modulus.as_slice() {
                    return Err(mismatch);
                }
                let der = pair.as_der().map_err(unspecified(spec))?;
                (spec, Zeroizing::new(der.as_ref().to_vec()))
            }
            Material::P256 { scalar, public, .. } => {
                let spec = KeySpec::EcdsaP256;
                // RFC 5915 without the public key, which AWS-LC derives.
                let version = der::unsigned(&[1]);
                let private = der::element(der::OCTET_STRING, &[scalar.as_slice()]);
                let curve = der::element(der::OID, &[pkcs::P256]);
                let parameters = der::element(der::CONTEXT_0, &[&curve]);
                let ec_private_key =
                    der::element(der::SEQUENCE, &[&version, &private, &parameters]);
                let pair = signature::EcdsaKeyPair::from_private_key_der(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &ec_private_key,
                )
                .map_err(|_| KeyFileError::Rejected {
                    format,
                    spec,
                    reason: "the private key is zero or not below the group order",
                })?;
                if let Some(given) = public
                    && !same_point(&given, pair.public_key().as_ref())
                {
                    return Err(mismatch);
                }
                let der = pair.to_pkcs8v1().map_err(unspecified(spec))?;
                (spec, Zeroizing::new(der.as_ref().to_vec()))
            }
            Material::Ed25519 { seed, public } => {
                let spec = KeySpec::Ed25519;
                let pair = signature::Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
                    .map_err(rejected(spec))?;
                if let Some(given) = public
                    && given.as_slice() != pair.public_key().as_ref()
                {
                    return Err(mismatch);
                }
                let der = pair.to_pkcs8().map_err(unspecified(spec))?;
                (spec, Zeroizing::new(der.as_ref().to_vec()))
            }
        };
        let key = SoftKey::from_pkcs8(spec, pkcs8).map_err(|_| KeyFileError::Rejected {
            format,
            spec,
            reason: "AWS-LC does not load the PKCS#8 it wrote",
        })?;
        // A pairwise consistency test, with the independent verifier: the
        // private key signs what its public half verifies.
        let inconsistent = KeyFileError::Inconsistent {
            format,
            what: "a test signature does not verify with the key's public half",
        };
        let signature = key.sign(TEST_MESSAGE).map_err(|_| inconsistent.clone())?;
        ksr::verify(&key.dnskey(), TEST_MESSAGE, &signature).map_err(|_| inconsistent)?;
        Ok(Self { spec, format, key })
    }

    /// The key's kind.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// The format its file was in.
    pub fn format(&self) -> KeyFileFormat {
        self.format
    }

    /// The public key as DNSKEY RDATA with Flags 257.
    pub fn dnskey(&self) -> Dnskey {
        self.key.dnskey()
    }

    /// The key, for the soft HSM to seal.
    pub(crate) fn into_key(self) -> SoftKey {
        self.key
    }
}

impl fmt::Debug for ImportedKey {
    /// The kind, the format and the key tag; nothing secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedKey")
            .field("spec", &self.spec)
            .field("format", &self.format)
            .field("key_tag", &self.dnskey().key_tag())
            .finish_non_exhaustive()
    }
}

//------------ Helpers -------------------------------------------------------

/// The number of bits of a big-endian number without leading zeros.
fn bit_length(number: &[u8]) -> usize {
    match number.first() {
        None => 0,
        Some(first) => {
            (number.len() - 1) * 8 + usize::try_from(8 - first.leading_zeros()).unwrap_or(8)
        }
    }
}

/// A public number in decimal when it fits 64 bits, else its size.
fn decimal(number: &[u8]) -> String {
    if number.len() <= 8 {
        let value = number
            .iter()
            .fold(0u64, |value, octet| (value << 8) | u64::from(*octet));
        value.to_string()
    } else {
        format!("of {} bits", bit_length(number))
    }
}

/// Whether a SEC1 point (uncompressed, or compressed) is this uncompressed
/// one.
fn same_point(given: &[u8], uncompressed: &[u8]) -> bool {
    match (given.first(), uncompressed) {
        (Some(0x04), _) => given == uncompressed,
        (Some(prefix @ (0x02 | 0x03)), [0x04, rest @ ..]) if rest.len() == 64 => {
            let (x, y) = rest.split_at(32);
            let parity = y.last().map_or(0, |last| last & 1);
            given.len() == 33 && *prefix == 0x02 + parity && given.get(1..) == Some(x)
        }
        _ => false,
    }
}

//! The DER private key structures inside PEM: PKCS#8 `PrivateKeyInfo`
//! (RFC 5208 §5; `OneAsymmetricKey`, RFC 5958 §2), PKCS#1
//! `RSAPrivateKey` (RFC 8017 §A.1.2) and SEC1 `ECPrivateKey` (RFC 5915
//! §3).
//!
//! Read to learn the key's kind and size before AWS-LC sees it, to
//! normalize a P-256 scalar, and to keep the public key a file carries, so
//! that it can be compared with the one the private key gives.

use zeroize::Zeroizing;

use crate::error::KeyFileError;
use crate::import::der::{self, DerError, Reader};
use crate::import::{KeyFileFormat, Material};

//------------ Object identifiers (contents only) ----------------------------

/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 §A.1).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 §2.1.1).
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// secp256r1 (P-256), 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1).
pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// id-Ed25519, 1.3.101.112 (RFC 8410 §3).
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Names of other algorithms and curves, for messages.
const NAMES: &[(&[u8], &str)] = &[
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
        "RSASSA-PSS",
    ),
    (&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01], "DSA"),
    (&[0x2b, 0x65, 0x6e], "X25519"),
    (&[0x2b, 0x65, 0x6f], "X448"),
    (&[0x2b, 0x65, 0x71], "Ed448"),
    (&[0x2b, 0x81, 0x04, 0x00, 0x22], "P-384"),
    (&[0x2b, 0x81, 0x04, 0x00, 0x23], "P-521"),
    (&[0x2b, 0x81, 0x04, 0x00, 0x0a], "secp256k1"),
    (
        &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07],
        "brainpoolP256r1",
    ),
];

/// An OID as a message names it: its name where known, and its number.
fn named(oid: &[u8]) -> String {
    let number = der::dotted(oid);
    match NAMES.iter().find(|(known, _)| *known == oid) {
        Some((_, name)) => format!("{name} ({number})"),
        None => format!("OID {number}"),
    }
}

//------------ PKCS#8 --------------------------------------------------------

/// Reads a PKCS#8 `PrivateKeyInfo` (or v2 `OneAsymmetricKey`).
pub(crate) fn pkcs8(input: &[u8]) -> Result<Material, KeyFileError> {
    let format = KeyFileFormat::Pkcs8Pem;
    let malformed = |err: DerError| KeyFileError::Der {
        format,
        problem: err.problem(),
    };
    let body = outermost(input, format, "a PrivateKeyInfo SEQUENCE")?;
    let mut info = Reader::new(body);
    if info.small("a version").map_err(malformed)? > 1 {
        return Err(malformed(DerError::Value(
            "a PrivateKeyInfo version that is neither 0 nor 1",
        )));
    }
    let algorithm = info
        .read(der::SEQUENCE, "an AlgorithmIdentifier SEQUENCE")
        .map_err(malformed)?;
    let private = info
        .read(der::OCTET_STRING, "the privateKey OCTET STRING")
        .map_err(malformed)?;
    // Attributes say nothing a KSK needs; RFC 5958's public key is kept
    // to be compared.
    info.optional(der::CONTEXT_0).map_err(malformed)?;
    let public = info
        .optional(der::IMPLICIT_1)
        .map_err(malformed)?
        .map(der::bit_string_octets)
        .transpose()
        .map_err(malformed)?;
    info.finish().map_err(malformed)?;

    let mut algorithm = Reader::new(algorithm);
    let oid = algorithm
        .read(der::OID, "the algorithm OBJECT IDENTIFIER")
        .map_err(malformed)?;
    let parameters = if algorithm.is_empty() {
        None
    } else {
        Some(algorithm.any().map_err(malformed)?)
    };
    algorithm.finish().map_err(malformed)?;

    match oid {
        RSA_ENCRYPTION => {
            if !matches!(parameters, None | Some((der::NULL, []))) {
                return Err(malformed(DerError::Value(
                    "rsaEncryption with parameters other than NULL",
                )));
            }
            rsa(private, format)
        }
        EC_PUBLIC_KEY => match parameters {
            Some((der::OID, curve)) => ec(private, format, Some(curve)),
            Some(_) => Err(KeyFileError::Algorithm {
                format,
                what: "an EC key with explicit curve parameters, not a named curve".into(),
            }),
            None => Err(malformed(DerError::Value(
                "an EC key whose AlgorithmIdentifier names no curve",
            ))),
        },
        ED25519 => {
            if parameters.is_some() {
                return Err(malformed(DerError::Value(
                    "an Ed25519 AlgorithmIdentifier with parameters",
                )));
            }
            // CurvePrivateKey ::= OCTET STRING (RFC 8410 §7).
            let mut inner = Reader::new(private);
            let seed = inner
                .read(der::OCTET_STRING, "the CurvePrivateKey OCTET STRING")
                .map_err(malformed)?;
            inner.finish().map_err(malformed)?;
            let seed: [u8; 32] = seed.try_into().map_err(|_| KeyFileError::PrivateLength {
                format,
                what: "Ed25519 private key",
                length: seed.len(),
                expected: "expected 32 (RFC 8410)",
            })?;
            Ok(Material::Ed25519 {
                seed: Zeroizing::new(seed),
                public: public.map(<[u8]>::to_vec),
            })
        }
        other => Err(KeyFileError::Algorithm {
            format,
            what: format!("a key of algorithm {}", named(other)),
        }),
    }
}

//------------ PKCS#1 --------------------------------------------------------

/// Reads a PKCS#1 `RSAPrivateKey` on its own (`RSA PRIVATE KEY`).
pub(crate) fn pkcs1(input: &[u8]) -> Result<Material, KeyFileError> {
    rsa(input, KeyFileFormat::Pkcs1Pem)
}

/// Reads an `RSAPrivateKey`; `format` is what holds it.
fn rsa(input: &[u8], format: KeyFileFormat) -> Result<Material, KeyFileError> {
    let malformed = |err: DerError| KeyFileError::Der {
        format,
        problem: err.problem(),
    };
    let body = outermost(input, format, "an RSAPrivateKey SEQUENCE")?;
    let mut key = Reader::new(body);
    match key.small("a version").map_err(malformed)? {
        0 => {}
        1 => {
            return Err(KeyFileError::Algorithm {
                format,
                what: "a multi-prime RSA key".into(),
            });
        }
        _ => {
            return Err(malformed(DerError::Value(
                "an RSAPrivateKey version that is neither 0 nor 1",
            )));
        }
    }
    let modulus = key.unsigned("the modulus INTEGER").map_err(malformed)?;
    let exponent = key
        .unsigned("the publicExponent INTEGER")
        .map_err(malformed)?;
    for what in [
        "the privateExponent INTEGER",
        "the prime1 INTEGER",
        "the prime2 INTEGER",
        "the exponent1 INTEGER",
        "the exponent2 INTEGER",
        "the coefficient INTEGER",
    ] {
        key.unsigned(what).map_err(malformed)?;
    }
    key.finish().map_err(malformed)?;
    Ok(Material::Rsa {
        pkcs1: Zeroizing::new(input.to_vec()),
        modulus: modulus.to_vec(),
        exponent: exponent.to_vec(),
    })
}

//------------ SEC1 ----------------------------------------------------------

/// Reads a SEC1 `ECPrivateKey` on its own (`EC PRIVATE KEY`), with the DER
/// of an `EC PARAMETERS` block that came before it, if any.
pub(crate) fn sec1(input: &[u8], parameters: Option<&[u8]>) -> Result<Material, KeyFileError> {
    let format = KeyFileFormat::Sec1Pem;
    let curve = match parameters {
        None => None,
        Some(parameters) => {
            let mut reader = Reader::new(parameters);
            let curve =
                reader
                    .read(der::OID, "a named curve")
                    .map_err(|_| KeyFileError::Algorithm {
                        format,
                        what: "EC PARAMETERS that do not name a curve".into(),
                    })?;
            reader.finish().map_err(|err| KeyFileError::Der {
                format,
                problem: err.problem(),
            })?;
            Some(curve)
        }
    };
    ec(input, format, curve)
}

/// Reads an `ECPrivateKey`; `outer` is the curve its container names.
fn ec(input: &[u8], format: KeyFileFormat, outer: Option<&[u8]>) -> Result<Material, KeyFileError> {
    let malformed = |err: DerError| KeyFileError::Der {
        format,
        problem: err.problem(),
    };
    let body = outermost(input, format, "an ECPrivateKey SEQUENCE")?;
    let mut key = Reader::new(body);
    if key.small("a version").map_err(malformed)? != 1 {
        return Err(malformed(DerError::Value(
            "an ECPrivateKey version that is not 1",
        )));
    }
    let scalar = key
        .read(der::OCTET_STRING, "the privateKey OCTET STRING")
        .map_err(malformed)?;
    let inner = match key.optional(der::CONTEXT_0).map_err(malformed)? {
        None => None,
        Some(parameters) => {
            let mut parameters = Reader::new(parameters);
            let curve = parameters.read(der::OID, "a named curve").map_err(|_| {
                KeyFileError::Algorithm {
                    format,
                    what: "an EC key with explicit curve parameters, not a named curve".into(),
                }
            })?;
            parameters.finish().map_err(malformed)?;
            Some(curve)
        }
    };
    let public = match key.optional(der::CONTEXT_1).map_err(malformed)? {
        None => None,
        Some(wrapped) => {
            let mut wrapped = Reader::new(wrapped);
            let bits = wrapped
                .read(der::BIT_STRING, "the publicKey BIT STRING")
                .map_err(malformed)?;
            wrapped.finish().map_err(malformed)?;
            Some(der::bit_string_octets(bits).map_err(malformed)?.to_vec())
        }
    };
    key.finish().map_err(malformed)?;
    let curve = match (outer, inner) {
        (Some(outer), Some(inner)) if outer != inner => {
            return Err(KeyFileError::Inconsistent {
                format,
                what: "the curve its container names is not the one in the ECPrivateKey",
            });
        }
        (Some(curve), _) | (None, Some(curve)) => curve,
        (None, None) => {
            return Err(malformed(DerError::Value("an EC key that names no curve")));
        }
    };
    if curve != P256 {
        return Err(KeyFileError::Algorithm {
            format,
            what: format!("an EC key on the curve {}", named(curve)),
        });
    }
    let (scalar, leading_zero) = p256_scalar(scalar, format)?;
    Ok(Material::P256 {
        scalar,
        public,
        leading_zero,
    })
}

/// A P-256 private scalar as 32 octets. RFC 5915 §3 wants exactly 32, but
/// GnuTLS (and so Knot DNS's keystore) writes it as a signed integer: 33
/// octets with a leading zero when its top bit is set. Shorter ones (a
/// writer that dropped leading zeros) are padded. Returns whether a
/// leading zero was dropped.
pub(crate) fn p256_scalar(
    octets: &[u8],
    format: KeyFileFormat,
) -> Result<(Zeroizing<[u8; 32]>, bool), KeyFileError> {
    let mut scalar = Zeroizing::new([0u8; 32]);
    match octets {
        [0, rest @ ..] if rest.len() == 32 => {
            scalar.copy_from_slice(rest);
            Ok((scalar, true))
        }
        [_, rest @ ..] if rest.len() == 32 => Err(KeyFileError::PrivateLength {
            format,
            what: "P-256 private key",
            length: octets.len(),
            expected: "33 bytes are read only with a leading zero (as GnuTLS writes it), and this one's first byte is not zero",
        }),
        // An encoder that strips leading zeros writes 31 bytes for one key
        // in 256, 28 for one in 2^32: anything shorter is no key a
        // generator made (a private key of 1 would pass the curve's own
        // checks).
        _ if octets.len() >= 28 && octets.len() <= 32 => {
            let start = 32 - octets.len();
            if let Some(tail) = scalar.get_mut(start..) {
                tail.copy_from_slice(octets);
            }
            Ok((scalar, false))
        }
        _ => Err(KeyFileError::PrivateLength {
            format,
            what: "P-256 private key",
            length: octets.len(),
            expected: "expected 32 (or 33 with a leading zero, as GnuTLS writes it)",
        }),
    }
}

/// The contents of the one SEQUENCE that is the whole input.
fn outermost<'a>(
    input: &'a [u8],
    format: KeyFileFormat,
    what: &'static str,
) -> Result<&'a [u8], KeyFileError> {
    let mut outer = Reader::new(input);
    let body = outer
        .read(der::SEQUENCE, what)
        .map_err(|err| KeyFileError::Der {
            format,
            problem: err.problem(),
        })?;
    if !outer.is_empty() {
        return Err(KeyFileError::Trailing {
            format,
            what: "bytes follow the key's DER structure",
        });
    }
    Ok(body)
}

//! Signature verification for the DNSSEC algorithms `ceremony` supports:
//! 8 and 10 (RFC 5702), 13 (RFC 6605) and 15 (RFC 8080).

use super::algorithm::Algorithm;
use super::dnskey::{Dnskey, PublicKey};

/// Checks that `signature` is `key`'s signature over `message` (the RRSIG
/// signing input).
///
/// * RSASHA256 and RSASHA512: RSASSA-PKCS1-v1_5 with the DigestInfo prefix
///   of the hash (RFC 5702 §3); moduli of 1024 to 4096 bits.
/// * ECDSAP256SHA256: r | s, 64 octets, over SHA-256 (RFC 6605 §4).
/// * ED25519: pure Ed25519 over the message itself, no pre-hash (RFC 8080
///   §4), with the strict checks of RFC 8032 §5.1.7.
///
/// # Errors
///
/// [`VerifyError::Unsupported`] for other algorithms, [`VerifyError::Key`]
/// for a key the algorithm cannot use, [`VerifyError::Invalid`] for a
/// signature that does not verify.
pub fn verify(key: &Dnskey, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let algorithm = key.algorithm();
    let public_key = key
        .decode_public_key()
        .map_err(|err| VerifyError::Key(err.to_string()))?;
    match (algorithm, public_key) {
        (Algorithm::RSASHA256 | Algorithm::RSASHA512, PublicKey::Rsa { exponent, modulus }) => {
            verify_rsa(algorithm, &exponent, &modulus, message, signature)
        }
        (Algorithm::ECDSAP256SHA256, PublicKey::Ecdsa { point, .. }) => {
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(0x04);
            sec1.extend_from_slice(&point);
            let verifying_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map_err(|_| VerifyError::Key("the point is not on the P-256 curve".into()))?;
            let signature =
                p256::ecdsa::Signature::from_slice(signature).map_err(|_| VerifyError::Invalid)?;
            p256::ecdsa::signature::Verifier::verify(&verifying_key, message, &signature)
                .map_err(|_| VerifyError::Invalid)
        }
        (Algorithm::ED25519, PublicKey::Eddsa { key }) => {
            let key: [u8; 32] = key
                .as_slice()
                .try_into()
                .map_err(|_| VerifyError::Key("an Ed25519 key has 32 octets".into()))?;
            let verifying_key = ed25519_dalek::VerifyingKey::from_bytes(&key)
                .map_err(|_| VerifyError::Key("not a valid Ed25519 point".into()))?;
            let signature = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| VerifyError::Invalid)?;
            verifying_key
                .verify_strict(message, &signature)
                .map_err(|_| VerifyError::Invalid)
        }
        (algorithm, _) => Err(VerifyError::Unsupported(algorithm)),
    }
}

/// RSASSA-PKCS1-v1_5 verification for algorithms 8 and 10, with ring.
///
/// RFC 5702 §2 allows moduli of 512 to 4096 bits for algorithm 8 (1024 to
/// 4096 for 10). ring verifies from 1024 bits on; keys under 1024 bits are
/// factorable today and their signatures are refused as unverifiable.
fn verify_rsa(
    algorithm: Algorithm,
    exponent: &[u8],
    modulus: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let strip = |octets: &[u8]| -> Vec<u8> {
        octets
            .iter()
            .copied()
            .skip_while(|octet| *octet == 0)
            .collect()
    };
    let (modulus, exponent) = (strip(modulus), strip(exponent));
    let bits = modulus.len() * 8
        - modulus
            .first()
            .map_or(8, |top| top.leading_zeros() as usize);
    if !(1024..=4096).contains(&bits) {
        return Err(VerifyError::Key(format!(
            "an RSA modulus of {bits} bits is outside the 1024 to 4096 bits that are verified"
        )));
    }
    let parameters = if algorithm == Algorithm::RSASHA512 {
        &ring::signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
    } else {
        &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
    };
    ring::signature::RsaPublicKeyComponents {
        n: &modulus,
        e: &exponent,
    }
    .verify(parameters, message, signature)
    .map_err(|_| VerifyError::Invalid)
}

//------------ VerifyError ---------------------------------------------------

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The algorithm is not one `ceremony` verifies.
    #[error("algorithm {0} is not supported for verification")]
    Unsupported(Algorithm),
    /// The key cannot be used with its algorithm.
    #[error("{0}")]
    Key(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Invalid,
}

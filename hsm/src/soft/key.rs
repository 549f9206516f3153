//! A KSK in the soft HSM: its PKCS#8 bytes (wiped on drop) and the AWS-LC
//! key made from them. AWS-LC wipes every allocation it frees
//! (`OPENSSL_free` cleanses), so the key object leaves nothing behind
//! either.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair as _};
use ksr::{Algorithm, Dnskey, Flags};
use zeroize::Zeroizing;

use crate::error::HsmError;
use crate::selftest::rsa_dnskey;
use crate::spec::{KeySpec, RsaBits};

/// The AWS-LC key.
enum Pair {
    Rsa(signature::RsaKeyPair),
    Ecdsa(signature::EcdsaKeyPair),
    Ed25519(signature::Ed25519KeyPair),
}

/// A usable key.
pub struct SoftKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Pair,
    /// The PKCS#8's pages locked in memory (never swapped out) while the
    /// key lives, where the platform allows it (`RLIMIT_MEMLOCK`); dropped
    /// after the bytes are wiped.
    _locked: Option<region::LockGuard>,
}

impl SoftKey {
    /// A new key of this kind, made from the operating system's random
    /// numbers.
    ///
    /// # Errors
    ///
    /// The library could not make the key.
    pub fn generate(spec: KeySpec) -> Result<Self, HsmError> {
        let failed = |what: &str| HsmError::Crypto(format!("cannot make the {spec} key: {what}"));
        let rng = SystemRandom::new();
        let pkcs8: Zeroizing<Vec<u8>> = match spec {
            KeySpec::Rsa(bits) => {
                let size = match bits {
                    RsaBits::B2048 => KeySize::Rsa2048,
                    RsaBits::B3072 => KeySize::Rsa3072,
                    RsaBits::B4096 => KeySize::Rsa4096,
                };
                let pair = signature::RsaKeyPair::generate(size).map_err(|_| failed("RSA"))?;
                let der = pair.as_der().map_err(|_| failed("PKCS#8"))?;
                Zeroizing::new(der.as_ref().to_vec())
            }
            KeySpec::EcdsaP256 => Zeroizing::new(
                signature::EcdsaKeyPair::generate_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &rng,
                )
                .map_err(|_| failed("P-256"))?
                .as_ref()
                .to_vec(),
            ),
            KeySpec::Ed25519 => Zeroizing::new(
                signature::Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| failed("Ed25519"))?
                    .as_ref()
                    .to_vec(),
            ),
        };
        Self::from_pkcs8(spec, pkcs8)
    }

    /// The key of these PKCS#8 bytes.
    ///
    /// # Errors
    ///
    /// The bytes are not a key of this kind.
    pub fn from_pkcs8(spec: KeySpec, pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, HsmError> {
        let rejected = |_| HsmError::Tampered(format!("a {spec} key does not load"));
        let pair = match spec {
            KeySpec::Rsa(bits) => {
                let pair = signature::RsaKeyPair::from_pkcs8(&pkcs8).map_err(rejected)?;
                if pair.public_modulus_len() * 8 != usize::try_from(bits.bits()).unwrap_or(0) {
                    return Err(HsmError::Tampered(format!(
                        "an RSA key is {} bits, not {}",
                        pair.public_modulus_len() * 8,
                        bits.bits()
                    )));
                }
                Pair::Rsa(pair)
            }
            KeySpec::EcdsaP256 => Pair::Ecdsa(
                signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &pkcs8,
                )
                .map_err(rejected)?,
            ),
            KeySpec::Ed25519 => {
                Pair::Ed25519(signature::Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(rejected)?)
            }
        };
        let locked = region::lock(pkcs8.as_ptr(), pkcs8.len()).ok();
        Ok(Self {
            pkcs8,
            pair,
            _locked: locked,
        })
    }

    /// The PKCS#8 bytes, to be sealed.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key as DNSKEY RDATA with Flags 257.
    pub fn dnskey(&self) -> Dnskey {
        match &self.pair {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                rsa_dnskey(
                    public.exponent().big_endian_without_leading_zero(),
                    public.modulus().big_endian_without_leading_zero(),
                )
            }
            Pair::Ecdsa(pair) => {
                // The uncompressed point without its 04 prefix (RFC 6605 §4).
                let point = pair.public_key().as_ref();
                Dnskey::new(
                    Flags::KSK,
                    3,
                    Algorithm::ECDSAP256SHA256,
                    point.get(1..).unwrap_or_default().to_vec(),
                )
            }
            Pair::Ed25519(pair) => Dnskey::new(
                Flags::KSK,
                3,
                Algorithm::ED25519,
                pair.public_key().as_ref().to_vec(),
            ),
        }
    }

    /// Signs in the DNSSEC encoding of the algorithm: RSASSA-PKCS1-v1_5
    /// with SHA-256 (RFC 5702), r‖s (RFC 6605), pure Ed25519 (RFC 8080).
    ///
    /// # Errors
    ///
    /// The library failed.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        let rng = SystemRandom::new();
        let failed = |_| HsmError::Crypto("the signature could not be made".into());
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, data, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            Pair::Ecdsa(pair) => Ok(pair.sign(&rng, data).map_err(failed)?.as_ref().to_vec()),
            Pair::Ed25519(pair) => Ok(pair.sign(data).as_ref().to_vec()),
        }
    }
}

impl Drop for SoftKey {
    fn drop(&mut self) {
        // Zeroizing wipes the bytes right after this; the hook records
        // what the wipe leaves, for the tests.
        let bytes = self.pkcs8.as_mut_slice();
        zeroize::Zeroize::zeroize(bytes);
        #[cfg(test)]
        crate::soft::wipe_log::record(!bytes.is_empty() && bytes.iter().all(|byte| *byte == 0));
    }
}

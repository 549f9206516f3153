//! Power-on self-tests: known answers for each signature algorithm, the
//! AEAD and the key derivation, run before any key is used. A failure
//! keeps the HSM sealed.
//!
//! The vectors are public: RFC 5869 test case 1 (HKDF-SHA-256), the
//! XChaCha20-Poly1305 vector of draft-irtf-cfrg-xchacha §A.3.1, RFC 8032
//! §7.1 test 1 (Ed25519), RFC 6979 §A.2.5 (P-256, SHA-256, "sample"), and
//! for RSA a 2048-bit test key made for these tests only, whose signature
//! was computed with OpenSSL (`openssl dgst -sha256 -sign`). Each
//! signature is checked twice: against the known answer with the signing
//! library (AWS-LC), and with the independent verifier of `ksr`.

use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};
use ksr::{Algorithm, Dnskey, Flags};

/// The self-tests, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kat {
    Hkdf,
    Aead,
    Rsa,
    Ecdsa,
    Ed25519,
}

impl Kat {
    pub(crate) const ALL: [Self; 5] = [
        Self::Hkdf,
        Self::Aead,
        Self::Rsa,
        Self::Ecdsa,
        Self::Ed25519,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Hkdf => "HKDF-SHA-256 (RFC 5869 test case 1)",
            Self::Aead => "XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha A.3.1)",
            Self::Rsa => "RSASHA256 (2048-bit test key)",
            Self::Ecdsa => "ECDSAP256SHA256 (RFC 6979 A.2.5)",
            Self::Ed25519 => "ED25519 (RFC 8032 7.1 test 1)",
        }
    }
}

/// Runs every self-test; `corrupt` (tests only) makes one of them see a
/// wrong known answer.
pub(crate) fn run(corrupt: Option<Kat>) -> Result<(), String> {
    for kat in Kat::ALL {
        let result = match kat {
            Kat::Hkdf => hkdf(corrupt == Some(kat)),
            Kat::Aead => aead(corrupt == Some(kat)),
            Kat::Rsa => rsa(corrupt == Some(kat)),
            Kat::Ecdsa => ecdsa(corrupt == Some(kat)),
            Kat::Ed25519 => ed25519(corrupt == Some(kat)),
        };
        if !result {
            return Err(format!("{} gave a wrong answer", kat.name()));
        }
    }
    Ok(())
}

fn bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_default()
}

/// Flips the first bit of a known answer, for the failure tests.
fn maybe_corrupt(mut expected: Vec<u8>, corrupt: bool) -> Vec<u8> {
    if corrupt && let Some(first) = expected.first_mut() {
        *first ^= 1;
    }
    expected
}

fn hkdf(corrupt: bool) -> bool {
    let ikm = [0x0b; 22];
    let salt = bytes("000102030405060708090a0b0c");
    let info = bytes("f0f1f2f3f4f5f6f7f8f9");
    let expected = maybe_corrupt(
        bytes(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        corrupt,
    );
    let mut okm = [0; 42];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), &ikm)
        .expand(&info, &mut okm)
        .is_ok()
        && okm.as_slice() == expected
}

fn aead(corrupt: bool) -> bool {
    let key = bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce = bytes("404142434445464748494a4b4c4d4e4f5051525354555657");
    let aad = bytes("50515253c0c1c2c3c4c5c6c7");
    let plaintext: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let expected = maybe_corrupt(
        bytes(concat!(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
            "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
            "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
            "21f9664c97637da9768812f615c68b13b52e",
            "c0875924c1c7987947deafd8780acf49"
        )),
        corrupt,
    );
    let (Ok(key), Ok(nonce)) = (<[u8; 32]>::try_from(key), <[u8; 24]>::try_from(nonce)) else {
        return false;
    };
    let cipher = XChaCha20Poly1305::new(&key.into());
    let nonce = XNonce::from(nonce);
    let sealed = cipher.encrypt(
        &nonce,
        Payload {
            msg: plaintext,
            aad: &aad,
        },
    );
    let mut forged = expected.clone();
    if let Some(last) = forged.last_mut() {
        *last ^= 0x80;
    }
    sealed.as_deref() == Ok(expected.as_slice())
        && cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &expected,
                    aad: &aad,
                },
            )
            .as_deref()
            == Ok(plaintext)
        && cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &forged,
                    aad: &aad,
                },
            )
            .is_err()
}

/// The RSA test key (PKCS#8): public test material that signs nothing real.
const RSA_TEST_KEY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQChnkirjesjzRS/vpB3T5S+x1b6LXmANDPi2CHkzXwcjoJXlAxda9wjMMSscvKQ/yH/Vponi1IgWnZ8Ba8AtzTtl9/W//6beePh9MUekbYApCPe5sAJYIHVjmLKOpJkPMWIw5cQoinTiO1p0djAn1KGhbHBs6nx1ic5qmbbGpFfs+94+jEWlJmuGS+jXuqUT4/KlQDW9iBQlSptzop8iuMPsT91ttJVEsxit+qWGyDRwtmbmvkNCbkJSxh/aXL6sxEVJBD85tEys8x8HFQnptOIqT8Lzb+QDyJGkkjW8H76OhiIuk2wMZ08wuRUoXCWtZcBXsYmLLqKtjTnTAQyYyw5AgMBAAECggEAGQTRAJetXyMr81vbbtDXuKnQpdVc0fMi1hq5snr528zW0hplyJ9+Gkd+Jqj7smUAfQ/JuNXpLn96iIvzsaNq0t34JYcHAcf+djfnPOp3F4XRVLv5Xeo95xKN6frjtxcuSBPpIobL/UZc5Ez7JiRzyMXRBOicZgbOFy/xELl96CfKVyn+6s+0n51rYuYGvILo8xTio0LM2iAt6QKgp490ffS+Vt+Id1vwPq/Lx0wseFJPMFjrUCCV5zrTipUb6tGjsG97iy1N62Mz6FDDBtu7j/t7A4kI2mhTMnm5dcr9QqgbicgseTshwB/pau5CcR/MLopNUn8Z7T5poRio8YIe5QKBgQDXE+TppdpFf+UmbFpMNmSA6/Dio29DDqDPXoUswbaxfNSxttutobQWZETLfIOL8pnFX6O/Z4J6vzGoZi9NguzAn7jKsX6vzD4sjoQKPH+xV82+j0JbMUA/5jg2k47g/2c/BTrrYWbX9htQADZBXxyWRWMRdGUlJ870zVczeYConQKBgQDAXnalj07HcF7lIRrfA5w0VdeILz0anV5KkJnWfhUzOO+ip6NczCOXsRH3lpmZij/B4xpw1l0sCaWymouBY5LmnwmO9oTTJxUePXrVJ2XHFhPKpbYyepksE2eA5IYL7lYdmkprNheWjlhbmkESrljByyFJzEH+PEGIXq9djwO5TQKBgGVHY/s2c3NYx4JxcZAD6Q3gjP1ccs9D+yvLWbD6w1oO62WIMygvRktpChA8YQGsywZrhANk7cd5cxvWip3Ycj4+uFkSfhKwffKjZcAgPw02yJbchSXGKngso/nnQFfpTSgbAWTH6BL4PGJOxz2/WQnWQNF+WwbFGSqj61U8+P3tAoGAMx7nWMfkn4t1LF7HzUwgTqghRseG7XO0gww6VY3cBGi1BfyWpSp6qu0bYThcSTk8CEJZ3HKbAADwT65SNGhJuY+58owAcDyKmCauZca6fVWYnNm8uV1rJxNhBhe0p6cGq4c9D5CoZBIf2Pf9IwHCBH3+sqXdQ7qvj5XZ9Hr0+mECgYEAjBspSOUVHQGBjjlI7tbXs82vT95ybvqbK0VgEi3EuaAUeooeRoFa0fWkHGGS43CGwqYw1RQQrhhnt7QabqY1OvCCOjH2dL6KTvvwowTIRJX2c73LXPVdWjrL1QByfxkxJsdvQHrK5kr0uhGPV1SsMbZAyKKgQiWRaV63KRUigH0=";

/// OpenSSL's RSASSA-PKCS1-v1_5 SHA-256 signature of [`MESSAGE`] with it.
const RSA_TEST_SIGNATURE: &str = "4a4393cd9d9944660c8f4a4c929a0b57b17b6d7a849f2c22865299f1f34d782aa05cd9687885dc9cd8be047b81e23945c98ecfdbf19a53214740b5f7e79e49601bfce4b958fba6e7215c8ea8662e11f58285348f66002af36ac6a865aea959c57530f261a55994ac90b376a4903e008772952740c369287976cc33b1d1e710106ca2bc31ed4c70f5bacfb7bc5502df3c5ab0bcc2d4c243f13c39a17a9f55a220ae0e058bbad16cb8b66e1e99c5bfb3c6140c0dae9887ba2a28006a4c6800a8db3c44af23fcab534e63714f3bb53d84ee89d887512c4b82f8e5bc7ac9f1ec10cee2800b6b71c3356f19c73cc18ce1897352260376248d27b2a02554a08e384265";

/// The message of the RSA test.
const MESSAGE: &[u8] = b"ceremony power-on self-test";

fn rsa(corrupt: bool) -> bool {
    let Ok(pkcs8) = base64::engine::general_purpose::STANDARD.decode(RSA_TEST_KEY) else {
        return false;
    };
    let Ok(pair) = signature::RsaKeyPair::from_pkcs8(&pkcs8) else {
        return false;
    };
    let mut made = vec![0; pair.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    if pair
        .sign(&signature::RSA_PKCS1_SHA256, &rng, MESSAGE, &mut made)
        .is_err()
    {
        return false;
    }
    let expected = maybe_corrupt(bytes(RSA_TEST_SIGNATURE), corrupt);
    let public = pair.public_key();
    let dnskey = rsa_dnskey(
        public.exponent().big_endian_without_leading_zero(),
        public.modulus().big_endian_without_leading_zero(),
    );
    made == expected && ksr::verify(&dnskey, MESSAGE, &made).is_ok()
}

/// A DNSKEY (Flags 257) for an RSA public key (RFC 3110 §2).
pub(crate) fn rsa_dnskey(exponent: &[u8], modulus: &[u8]) -> Dnskey {
    let mut public = Vec::with_capacity(3 + exponent.len() + modulus.len());
    match u8::try_from(exponent.len()) {
        Ok(length) => public.push(length),
        Err(_) => {
            public.push(0);
            public.extend_from_slice(
                &u16::try_from(exponent.len())
                    .unwrap_or(u16::MAX)
                    .to_be_bytes(),
            );
        }
    }
    public.extend_from_slice(exponent);
    public.extend_from_slice(modulus);
    Dnskey::new(Flags::KSK, 3, Algorithm::RSASHA256, public)
}

fn ecdsa(corrupt: bool) -> bool {
    // RFC 6979 A.2.5: x, the public point, and the deterministic (r, s)
    // for SHA-256 over "sample". AWS-LC signs with random k, so its own
    // signature is checked by verification, and the known one is verified.
    let pkcs8 = bytes(concat!(
        "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02",
        "01010420c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b",
        "120f6721a1440342000460fed4ba255a9d31c961eb74c6356d68c049b8923b61",
        "fa6ce669622e60f29fb67903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e",
        "9f5177a3c294d4462299"
    ));
    let known = maybe_corrupt(
        bytes(concat!(
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
            "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
        )),
        corrupt,
    );
    let Ok(pair) =
        signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
    else {
        return false;
    };
    let point = pair.public_key().as_ref().to_vec();
    let Some(xy) = point.get(1..) else {
        return false;
    };
    let dnskey = Dnskey::new(Flags::KSK, 3, Algorithm::ECDSAP256SHA256, xy.to_vec());
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let Ok(made) = pair.sign(&rng, b"sample") else {
        return false;
    };
    let verifier = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point);
    verifier.verify(b"sample", &known).is_ok()
        && ksr::verify(&dnskey, b"sample", &known).is_ok()
        && ksr::verify(&dnskey, b"sample", made.as_ref()).is_ok()
}

fn ed25519(corrupt: bool) -> bool {
    let seed = bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let expected = maybe_corrupt(
        bytes(concat!(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155",
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )),
        corrupt,
    );
    let Ok(pair) = signature::Ed25519KeyPair::from_seed_and_public_key(&seed, &public) else {
        return false;
    };
    let made = pair.sign(b"");
    let dnskey = Dnskey::new(Flags::KSK, 3, Algorithm::ED25519, public);
    made.as_ref() == expected.as_slice() && ksr::verify(&dnskey, b"", made.as_ref()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_self_test_passes_and_each_can_fail() {
        assert_eq!(run(None), Ok(()));
        for kat in Kat::ALL {
            let err = run(Some(kat)).unwrap_err();
            assert!(err.contains(kat.name()), "{err}");
        }
    }
}

//! Algorithms 13 (ECDSAP256SHA256) and 15 (ED25519) for a zone other than
//! the root: bundles signed here with RustCrypto keys must verify with our
//! code and with dnspython, and fail with both when tampered with.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use ed25519_dalek::Signer as _;

mod common;
use common::{TestKey, dnspython};
use ksr::{
    Algorithm, AlgorithmParameters, Bundle, CheckCode, Dnskey, DocumentRole, DomainName, Duration,
    Flags, Key, Policy, Rrsig, Signature, SignatureAlgorithm, Skr, Timestamp, check_skr, write_skr,
};

/// An SKR for `example.com.` with one bundle: a ZSK and a KSK of the
/// algorithm, signed by the KSK.
fn signed_skr(ksk: &TestKey, zsk_seed: u8) -> Skr {
    let zone: DomainName = "example.com.".parse().unwrap();
    let ksk_key = ksk.dnskey();
    let zsk = TestKey::new(ksk.dnskey().algorithm(), zsk_seed);
    let zsk_key = zsk.dnskey().with_flags(Flags::ZSK);
    let algorithm = ksk_key.algorithm();
    let inception = Timestamp::from_unix(1_700_000_000);
    let expiration = Timestamp::from_unix(1_701_814_400);
    let keys = vec![
        Key {
            identifier: "zsk".into(),
            key_tag: zsk_key.key_tag(),
            ttl: 3600,
            dnskey: zsk_key,
        },
        Key {
            identifier: "ksk".into(),
            key_tag: ksk_key.key_tag(),
            ttl: 3600,
            dnskey: ksk_key.clone(),
        },
    ];
    let mut rrsig = Rrsig {
        algorithm,
        labels: zone.rrsig_labels(),
        original_ttl: 3600,
        expiration,
        inception,
        key_tag: ksk_key.key_tag(),
        signer_name: zone.clone(),
        signature: Vec::new(),
    };
    rrsig.signature = ksk.sign(&rrsig.signing_input(&zone, keys.iter().map(|key| &key.dnskey)));
    let parameters = match algorithm {
        Algorithm::ED25519 => AlgorithmParameters::Eddsa { size: 256 },
        _ => AlgorithmParameters::Ecdsa { size: 256 },
    };
    let policy = Policy {
        publish_safety: Duration::from_seconds(0),
        retire_safety: Duration::from_seconds(86_400),
        max_signature_validity: Duration::from_seconds(1_814_400),
        min_signature_validity: Duration::from_seconds(1_814_400),
        max_validity_overlap: Duration::from_seconds(86_400),
        min_validity_overlap: Duration::from_seconds(3_600),
        signature_algorithms: vec![SignatureAlgorithm {
            algorithm,
            parameters,
        }],
    };
    Skr {
        id: "test".into(),
        serial: 1,
        domain: zone,
        timestamp: None,
        ksk_policy: policy.clone(),
        zsk_policy: policy,
        bundles: vec![Bundle {
            id: "bundle-1".into(),
            inception,
            expiration,
            signers: Vec::new(),
            keys,
            signatures: vec![Signature {
                key_identifier: "ksk".into(),
                ttl: 3600,
                rrsig,
            }],
        }],
    }
}

fn both_validators_agree(ksk: TestKey) {
    let dir = tempfile::tempdir().unwrap();
    let skr = signed_skr(&ksk, 7);
    assert!(
        check_skr(&skr, DocumentRole::NewSkr).is_empty(),
        "{:#?}",
        check_skr(&skr, DocumentRole::NewSkr)
    );
    let path = dir.path().join("good.xml");
    std::fs::write(&path, write_skr(&skr)).unwrap();
    let (ok, output) = dnspython(&[&path]);
    assert!(ok, "{output}");
    assert!(output.contains("3 passed, 0 failed"), "{output}");

    let mut tampered = skr.clone();
    tampered.bundles[0].signatures[0].rrsig.signature[10] ^= 1;
    let findings = check_skr(&tampered, DocumentRole::NewSkr);
    assert!(
        findings
            .iter()
            .any(|finding| finding.code == CheckCode::SkrSignatures),
        "{findings:#?}"
    );
    let path = dir.path().join("tampered.xml");
    std::fs::write(&path, write_skr(&tampered)).unwrap();
    let (ok, output) = dnspython(&[&path]);
    assert!(!ok, "{output}");

    // A signature over another RRset (the ZSK swapped for another) fails
    // too: the signing input covers every key of the bundle.
    let other = signed_skr(&ksk, 9);
    let mut mixed = skr.clone();
    mixed.bundles[0].keys[0] = other.bundles[0].keys[0].clone();
    assert!(!check_skr(&mixed, DocumentRole::NewSkr).is_empty());
}

#[test]
fn ecdsa_p256_bundles_verify_with_us_and_dnspython() {
    both_validators_agree(TestKey::Ecdsa(
        p256::ecdsa::SigningKey::from_slice(&[42; 32]).unwrap(),
    ));
}

#[test]
fn ed25519_bundles_verify_with_us_and_dnspython() {
    both_validators_agree(TestKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &[42; 32],
    )));
}

#[test]
fn ed25519_prehashed_signatures_are_refused() {
    // kskm signs SHA-512(signing input) with Ed25519; RFC 8080 signs the
    // input itself. A pre-hashed signature must not verify.
    use sha2::Digest as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let dnskey = TestKey::Ed25519(key.clone()).dnskey();
    let message = b"signing input";
    let prehashed = key.sign(&sha2::Sha512::digest(message)).to_bytes();
    assert!(ksr::verify(&dnskey, message, &prehashed).is_err());
    assert!(ksr::verify(&dnskey, message, &key.sign(message).to_bytes()).is_ok());
}

#[test]
fn small_rsa_moduli_are_not_verified() {
    let mut public_key = vec![3, 1, 0, 1];
    public_key.extend_from_slice(&[0xC5; 64]);
    let dnskey = Dnskey::new(Flags::ZSK, 3, Algorithm::RSASHA256, public_key);
    let err = ksr::verify(&dnskey, b"x", &[0; 64]).unwrap_err();
    assert!(err.to_string().contains("512 bits"), "{err}");
}

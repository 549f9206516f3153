//! The SKR builder: for algorithms 8, 13 and 15 and each of the seven
//! schemas, an SKR built from a generated KSR for `example.` passes our
//! checks and dnspython's, and revoked keys carry their revoked tags.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ksr::{
    Algorithm, AlgorithmParameters, BuildError, Bundle, BundleSigner, Config, DigestType, Dnskey,
    DocumentRole, DomainName, Ds, Duration, Flags, Key, KskConfig, Ksr, Policy, Rrsig, Signature,
    SignatureAlgorithm, SignerError, Timestamp, build_skr, builtin_schemas, check_skr,
};

mod common;
use common::{TestKey, dnspython};

/// A software signer with keys by label.
struct Signer(BTreeMap<String, TestKey>);

impl BundleSigner for Signer {
    fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
        self.0
            .get(label)
            .map(TestKey::dnskey)
            .ok_or_else(|| SignerError(format!("no key {label}")))
    }

    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0
            .get(label)
            .map(|key| key.sign(data))
            .ok_or_else(|| SignerError(format!("no key {label}")))
    }
}

const DAY: u32 = 86_400;

/// A 9-bundle KSR for `zone` with three ZSKs of the algorithm, the root's
/// cadence (10-day steps, 21-day validity), proofs of possession included.
fn generated_ksr(zone: &str, algorithm: Algorithm) -> Ksr {
    let domain: DomainName = zone.parse().unwrap();
    let zsks: Vec<TestKey> = (1..=3).map(|seed| TestKey::new(algorithm, seed)).collect();
    let start = 1_800_000_000;
    let bundles = (0..9u32)
        .map(|index| {
            let inception = Timestamp::from_unix(start + index * 10 * DAY);
            let expiration = Timestamp::from_unix(start + index * 10 * DAY + 21 * DAY);
            let members: Vec<usize> = match index {
                0 => vec![0, 1],
                8 => vec![1, 2],
                _ => vec![1],
            };
            let keys: Vec<Key> = members
                .iter()
                .map(|member| {
                    let dnskey = zsks[*member].dnskey().with_flags(Flags::ZSK);
                    Key {
                        identifier: format!("zsk-{member}"),
                        key_tag: dnskey.key_tag(),
                        ttl: 3600,
                        dnskey,
                    }
                })
                .collect();
            let signatures = members
                .iter()
                .zip(&keys)
                .map(|(member, key)| {
                    let mut rrsig = Rrsig {
                        algorithm,
                        labels: domain.rrsig_labels(),
                        original_ttl: 3600,
                        expiration: Timestamp::from_unix(start),
                        inception: Timestamp::from_unix(start - 30 * DAY),
                        key_tag: key.key_tag,
                        signer_name: domain.clone(),
                        signature: Vec::new(),
                    };
                    rrsig.signature = zsks[*member]
                        .sign(&rrsig.signing_input(&domain, keys.iter().map(|key| &key.dnskey)));
                    Signature {
                        key_identifier: key.identifier.clone(),
                        ttl: 3600,
                        rrsig,
                    }
                })
                .collect();
            Bundle {
                id: format!("bundle-{index}"),
                inception,
                expiration,
                signers: Vec::new(),
                keys,
                signatures,
            }
        })
        .collect();
    let parameters = match algorithm {
        Algorithm::ED25519 => AlgorithmParameters::Eddsa { size: 256 },
        Algorithm::RSASHA256 => AlgorithmParameters::Rsa {
            size: 2048,
            exponent: 65537,
        },
        _ => AlgorithmParameters::Ecdsa { size: 256 },
    };
    Ksr {
        id: "generated".into(),
        serial: 7,
        domain,
        timestamp: None,
        zsk_policy: Policy {
            publish_safety: Duration::from_seconds(10 * DAY),
            retire_safety: Duration::from_seconds(10 * DAY),
            max_signature_validity: Duration::from_seconds(21 * DAY),
            min_signature_validity: Duration::from_seconds(21 * DAY),
            max_validity_overlap: Duration::from_seconds(12 * DAY),
            min_validity_overlap: Duration::from_seconds(9 * DAY),
            signature_algorithms: vec![SignatureAlgorithm {
                algorithm,
                parameters,
            }],
        },
        bundles,
    }
}

/// A policy for `zone` with `ksk_current` and `ksk_next` of the algorithm,
/// pinned by tag and DS, and the signer that holds them.
fn setup(zone: &str, algorithm: Algorithm) -> (Config, Signer) {
    let domain: DomainName = zone.parse().unwrap();
    let mut config = Config::default();
    config.keys.clear();
    config.ksk_policy.ttl = 3600;
    config.ksk_policy.signers_name = zone.into();
    let mut keys = BTreeMap::new();
    for (name, label, seed) in [("ksk_current", "Kcurrent", 100), ("ksk_next", "Knext", 101)] {
        let key = TestKey::new(algorithm, seed);
        let dnskey = key.dnskey();
        config.keys.insert(
            name.into(),
            KskConfig {
                label: label.into(),
                algorithm: algorithm.mnemonic().unwrap().into(),
                rsa_size: None,
                rsa_exponent: None,
                valid_from: Timestamp::from_unix(1_262_304_000),
                valid_until: None,
                ds_sha256: Ds::compute(&domain, &dnskey, DigestType::Sha256).digest_hex(),
                key_tag: dnskey.key_tag().to_int(),
            },
        );
        keys.insert(label.to_owned(), key);
    }
    (config, Signer(keys))
}

#[test]
fn every_schema_and_algorithm_gives_an_skr_dnspython_accepts() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in [
        Algorithm::RSASHA256,
        Algorithm::ECDSAP256SHA256,
        Algorithm::ED25519,
    ] {
        for zone in ["example.", "co.uk."] {
            let ksr = generated_ksr(zone, algorithm);
            let (config, signer) = setup(zone, algorithm);
            for schema in builtin_schemas(9).keys() {
                let (skr, written) = build_skr(&ksr, &config, schema, &signer)
                    .unwrap_or_else(|err| panic!("{schema}: {err}"));
                assert!(check_skr(&skr, DocumentRole::NewSkr).is_empty());
                assert_eq!(skr.bundles.len(), 9);
                let path = dir
                    .path()
                    .join(format!("{}-{zone}{schema}.xml", algorithm.to_int()));
                std::fs::write(&path, &written).unwrap();
                let (ok, output) = dnspython(&[&path]);
                assert!(ok, "{schema} {algorithm}: {output}");
            }
        }
    }
}

#[test]
fn the_revoke_schema_publishes_revoked_tags_and_self_signatures() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, signer) = setup("example.", Algorithm::ED25519);
    let (skr, _) = build_skr(&ksr, &config, "revoke", &signer).unwrap();
    let current = signer.0["Kcurrent"].dnskey();
    let revoked_tag = current.with_flags(Flags::REVOKED_KSK).key_tag();
    assert_ne!(revoked_tag, current.key_tag());
    for (index, bundle) in skr.bundles.iter().enumerate() {
        let key = bundle.key("Kcurrent");
        match index {
            1..=7 => {
                let key = key.expect("revoked, still published");
                assert_eq!(key.dnskey.flags(), Flags::REVOKED_KSK);
                assert_eq!(key.key_tag, revoked_tag);
                let signature = bundle
                    .signatures
                    .iter()
                    .find(|s| s.key_identifier == "Kcurrent")
                    .expect("self-signed");
                assert_eq!(signature.rrsig.key_tag, revoked_tag);
                assert_eq!(bundle.signatures.len(), 2);
            }
            0 => assert_eq!(key.unwrap().dnskey.flags(), Flags::KSK),
            _ => assert!(key.is_none()),
        }
        for zsk in &ksr.bundles[index].keys {
            assert!(
                bundle
                    .keys
                    .iter()
                    .any(|key| key.dnskey == zsk.dnskey && key.ttl == 3600)
            );
        }
        assert_eq!(
            (bundle.inception, bundle.expiration),
            (ksr.bundles[index].inception, ksr.bundles[index].expiration)
        );
    }
}

#[test]
fn a_key_that_does_not_match_its_pin_is_refused() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (mut config, signer) = setup("example.", Algorithm::ED25519);
    config.keys.get_mut("ksk_current").unwrap().ds_sha256 = "00".repeat(32);
    let err = build_skr(&ksr, &config, "normal", &signer).unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::Key {
                code: "SIGN-KEY-DS",
                ..
            }
        ),
        "{err}"
    );
    let err = build_skr(&ksr, &config, "sideways", &signer).unwrap_err();
    assert!(matches!(err, BuildError::Schema(_)), "{err}");
}

#[test]
fn a_signer_that_signs_badly_is_caught() {
    struct Liar(Signer);
    impl BundleSigner for Liar {
        fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
            self.0.public_key(label)
        }
        fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
            let mut signature = self.0.sign(label, data)?;
            signature[0] ^= 1;
            Ok(signature)
        }
    }
    let ksr = generated_ksr("example.", Algorithm::ECDSAP256SHA256);
    let (config, signer) = setup("example.", Algorithm::ECDSAP256SHA256);
    let err = build_skr(&ksr, &config, "normal", &Liar(signer)).unwrap_err();
    assert!(matches!(err, BuildError::Verify { bundle: 1, .. }), "{err}");
}

#[test]
fn a_key_outside_its_validity_is_refused() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (mut config, signer) = setup("example.", Algorithm::ED25519);
    config.keys.get_mut("ksk_current").unwrap().valid_until =
        Some(Timestamp::from_unix(1_800_000_000 + 40 * DAY));
    let err = build_skr(&ksr, &config, "normal", &signer).unwrap_err();
    assert!(
        matches!(err, BuildError::Validity { bundle: 3, .. }),
        "{err}"
    );
}

#[test]
fn the_real_2017_q2_ksr_gives_the_real_skr_but_for_the_ksk() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let ksr = ksr::parse_ksr(
        &std::fs::read(vectors.join("ksr-root-2017-q2-0.xml")).unwrap(),
        DocumentRole::Ksr,
    )
    .unwrap();
    let real = ksr::parse_skr(
        &std::fs::read(vectors.join("skr-root-2017-q2-0.xml")).unwrap(),
        DocumentRole::PreviousSkr,
    )
    .unwrap();
    let (mut config, signer) = setup(".", Algorithm::RSASHA256);
    config.ksk_policy = Config::default().ksk_policy;
    let (ours, _) = build_skr(&ksr, &config, "normal", &signer).unwrap();
    assert_eq!(ours.id, real.id);
    assert_eq!(
        ours.ksk_policy, real.ksk_policy,
        "the root KSK policy and the derived algorithms"
    );
    assert_eq!(ours.zsk_policy, real.zsk_policy);
    for (a, b) in ours.bundles.iter().zip(&real.bundles) {
        assert_eq!(
            (a.id.as_str(), a.inception, a.expiration),
            (b.id.as_str(), b.inception, b.expiration)
        );
        let zsks = |bundle: &Bundle| {
            let mut keys: Vec<(String, Vec<u8>, u32)> = bundle
                .keys
                .iter()
                .filter(|key| key.dnskey.flags() == Flags::ZSK)
                .map(|key| (key.identifier.clone(), key.dnskey.rdata(), key.ttl))
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(zsks(a), zsks(b), "bundle {}", a.id);
        assert_eq!(a.keys.len(), b.keys.len(), "one KSK each");
        assert_eq!(a.signatures.len(), 1);
        let (ours, theirs) = (&a.signatures[0].rrsig, &b.signatures[0].rrsig);
        assert_eq!(
            (
                ours.inception,
                ours.expiration,
                ours.original_ttl,
                ours.labels
            ),
            (
                theirs.inception,
                theirs.expiration,
                theirs.original_ttl,
                theirs.labels
            )
        );
    }
}

#[test]
fn a_schema_from_the_configuration_is_used_and_checked() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (mut config, signer) = setup("example.", Algorithm::ED25519);
    let both = ksr::Action {
        publish: vec!["ksk_current".into(), "ksk_next".into()],
        revoke: Vec::new(),
        sign: vec!["ksk_current".into(), "ksk_next".into()],
    };
    let mine: BTreeMap<String, ksr::Action> = (1..=9)
        .map(|number| (number.to_string(), both.clone()))
        .collect();
    config.schemas.insert("double".into(), mine.clone());
    let (skr, _) = build_skr(&ksr, &config, "double", &signer).unwrap();
    assert!(
        skr.bundles
            .iter()
            .all(|bundle| bundle.signatures.len() == 2)
    );
    let mut short = mine;
    short.remove("9");
    config.schemas.insert("short".into(), short);
    let err = build_skr(&ksr, &config, "short", &signer).unwrap_err();
    assert!(err.to_string().contains("no action for bundle 9"), "{err}");
}

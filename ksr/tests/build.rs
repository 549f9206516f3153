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
    Algorithm, AlgorithmParameters, BuildError, Bundle, BundleSigner, CheckCode, CheckedKsr,
    Config, DigestType, Dnskey, DocumentRole, DomainName, Ds, Duration, Flags, Key, KeySource,
    KskConfig, Ksr, Policy, Request, Rrsig, Signature, SignatureAlgorithm, Signed, SignerError,
    Skr, Timestamp, build_skr, builtin_schemas, check_skr, plan_skr,
};

mod common;
use common::{TestKey, dnspython};

/// A software signer with keys by label.
struct Signer(BTreeMap<String, TestKey>);

impl KeySource for Signer {
    fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
        self.0
            .get(label)
            .map(TestKey::dnskey)
            .ok_or_else(|| SignerError::not_found(format!("no key {label}")))
    }
}

impl BundleSigner for Signer {
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0
            .get(label)
            .map(|key| key.sign(data))
            .ok_or_else(|| SignerError::not_found(format!("no key {label}")))
    }
}

const DAY: u32 = 86_400;

/// The first bundle's inception of the first generated quarter.
const START: u32 = 1_800_000_000;

/// A 9-bundle KSR for `zone` with ZSKs of the algorithm, the root's
/// cadence (10-day steps, 21-day validity), proofs of possession included.
fn generated_ksr(zone: &str, algorithm: Algorithm) -> Ksr {
    generated_quarter(zone, algorithm, 0)
}

/// Quarter `quarter` of a chain of generated KSRs, 90 days apart: ZSK
/// number `quarter` leaves in its first bundle and ZSK `quarter + 2`
/// arrives in its last, as the root's ZSK rolls go.
fn generated_quarter(zone: &str, algorithm: Algorithm, quarter: u32) -> Ksr {
    let domain: DomainName = zone.parse().unwrap();
    let first = usize::try_from(quarter).unwrap();
    let zsks: Vec<TestKey> = (0..first + 3)
        .map(|number| TestKey::new(algorithm, u8::try_from(number + 1).unwrap()))
        .collect();
    let start = START + quarter * 90 * DAY;
    let bundles = (0..9u32)
        .map(|index| {
            let inception = Timestamp::from_unix(start + index * 10 * DAY);
            let expiration = Timestamp::from_unix(start + index * 10 * DAY + 21 * DAY);
            let members: Vec<usize> = match index {
                0 => vec![first, first + 1],
                8 => vec![first + 1, first + 2],
                _ => vec![first + 1],
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
                id: format!("q{quarter}-bundle-{index}"),
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
        id: format!("generated-{quarter}"),
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
/// pinned by tag and DS, and the signer that holds them. The request
/// policy is the root's but for the zone and the algorithm.
fn setup(zone: &str, algorithm: Algorithm) -> (Config, Signer) {
    setup_with(zone, algorithm, |seed| TestKey::new(algorithm, seed))
}

/// [`setup`] with KSKs made by `make` from a seed.
fn setup_with(zone: &str, algorithm: Algorithm, make: impl Fn(u8) -> TestKey) -> (Config, Signer) {
    let domain: DomainName = zone.parse().unwrap();
    let mut config = Config::default();
    config.keys.clear();
    config.ksk_policy.ttl = 3600;
    config.ksk_policy.signers_name = zone.into();
    let policy = &mut config.request_policy;
    policy.acceptable_domains = vec![zone.into()];
    policy.approved_algorithms = vec![algorithm.mnemonic().unwrap().into()];
    policy.enable_unsupported_ecdsa = true;
    policy.enable_unsupported_edwards_dsa = true;
    let mut keys = BTreeMap::new();
    for (name, label, seed) in [("ksk_current", "Kcurrent", 100), ("ksk_next", "Knext", 101)] {
        let key = make(seed);
        let dnskey = key.dnskey();
        config.keys.insert(
            name.into(),
            KskConfig {
                label: label.into(),
                algorithm: dnskey.algorithm().mnemonic().unwrap().into(),
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

/// Runs stages 2 to 4 on a generated quarter as of 30 days before it
/// starts; they must pass.
fn checked<'a>(ksr: &'a Ksr, previous: Option<&'a Skr>, config: &'a Config) -> CheckedKsr<'a> {
    let first = ksr.bundles[0].inception.to_unix();
    CheckedKsr::check(&Request {
        ksr,
        previous,
        config,
        now: Timestamp::from_unix(first - 30 * DAY),
    })
    .unwrap_or_else(|findings| panic!("the generated KSR fails its checks: {findings:#?}"))
}

/// Builds with the schema, expecting success.
fn build(ksr: &Ksr, config: &Config, schema: &str, signer: &dyn BundleSigner) -> Signed {
    build_skr(&checked(ksr, None, config), schema, signer)
        .unwrap_or_else(|err| panic!("{schema}: {err}"))
}

/// Builds with the schema, expecting a rejection; returns its error codes.
fn rejected(ksr: &Ksr, config: &Config, schema: &str, signer: &dyn BundleSigner) -> Vec<CheckCode> {
    let err = build_skr(&checked(ksr, None, config), schema, signer).unwrap_err();
    assert!(matches!(err, BuildError::Rejected(_)), "{err}");
    err.findings()
        .iter()
        .filter(|f| f.severity == ksr::Severity::Error)
        .map(|f| f.code)
        .collect()
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
                let Signed { skr, xml, findings } = build(&ksr, &config, schema, &signer);
                assert_eq!(findings, []);
                assert!(check_skr(&skr, DocumentRole::NewSkr).is_empty());
                assert_eq!(skr.bundles.len(), 9);
                let path = dir
                    .path()
                    .join(format!("{}-{zone}{schema}.xml", algorithm.to_int()));
                std::fs::write(&path, &xml).unwrap();
                let (ok, output) = dnspython(&[&path]);
                assert!(ok, "{schema} {algorithm}: {output}");
            }
        }
    }
}

#[test]
fn rsa_ksks_of_3072_and_4096_bits_sign_what_dnspython_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let ksr = generated_ksr("example.", Algorithm::RSASHA256);
    for bits in [3072, 4096] {
        let (mut config, signer) =
            setup_with("example.", Algorithm::RSASHA256, |_| TestKey::rsa(bits));
        let Signed { skr, xml, .. } = build(&ksr, &config, "rollover", &signer);
        assert!(
            skr.ksk_policy
                .signature_algorithms
                .iter()
                .any(|algorithm| algorithm.parameters
                    == AlgorithmParameters::Rsa {
                        size: u32::try_from(bits).unwrap(),
                        exponent: 65537
                    })
        );
        let path = dir.path().join(format!("rsa-{bits}.xml"));
        std::fs::write(&path, &xml).unwrap();
        let (ok, output) = dnspython(&[&path]);
        assert!(ok, "{bits} bits: {output}");
        // The configured size is checked against the HSM's key.
        config.keys.get_mut("ksk_next").unwrap().rsa_size = Some(2048);
        assert_eq!(
            rejected(&ksr, &config, "rollover", &signer),
            [CheckCode::SignKeyType]
        );
    }
}

#[test]
fn the_revoke_schema_publishes_revoked_tags_and_self_signatures() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, signer) = setup("example.", Algorithm::ED25519);
    let skr = build(&ksr, &config, "revoke", &signer).skr;
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
fn a_key_that_does_not_match_its_configuration_is_refused() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, signer) = setup("example.", Algorithm::ED25519);
    let mut edited = config.clone();
    edited.keys.get_mut("ksk_current").unwrap().ds_sha256 = "00".repeat(32);
    assert_eq!(
        rejected(&ksr, &edited, "normal", &signer),
        [CheckCode::SignKeyDs]
    );
    let mut edited = config.clone();
    edited.keys.get_mut("ksk_current").unwrap().key_tag ^= 1;
    assert_eq!(
        rejected(&ksr, &edited, "normal", &signer),
        [CheckCode::SignKeyTag]
    );
    let mut edited = config.clone();
    edited.keys.get_mut("ksk_current").unwrap().algorithm = "ECDSAP256SHA256".into();
    assert_eq!(
        rejected(&ksr, &edited, "normal", &signer),
        [CheckCode::SignKeyType]
    );
    // Both keys at once: every key's finding is reported.
    let mut edited = config.clone();
    edited.keys.get_mut("ksk_current").unwrap().label = "Kgone".into();
    edited.keys.get_mut("ksk_next").unwrap().key_tag ^= 1;
    assert_eq!(
        rejected(&ksr, &edited, "rollover", &signer),
        [CheckCode::SignKeyLookup, CheckCode::SignKeyTag]
    );
    assert_eq!(
        rejected(&ksr, &config, "sideways", &signer),
        [CheckCode::SignSchema]
    );
}

#[test]
fn a_label_the_signer_finds_twice_is_refused() {
    struct Twice(Signer);
    impl KeySource for Twice {
        fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
            Err(SignerError::ambiguous(format!(
                "{label} is in slot 0 and slot 1"
            )))
        }
    }

    impl BundleSigner for Twice {
        fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
            self.0.sign(label, data)
        }
    }
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, signer) = setup("example.", Algorithm::ED25519);
    let err = build_skr(&checked(&ksr, None, &config), "normal", &Twice(signer)).unwrap_err();
    assert_eq!(err.findings()[0].code, CheckCode::SignKeyLabel);
    assert!(err.to_string().contains("slot 0 and slot 1"), "{err}");
}

#[test]
fn a_signer_that_signs_badly_is_caught() {
    struct Liar(Signer);
    impl KeySource for Liar {
        fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
            self.0.public_key(label)
        }
    }

    impl BundleSigner for Liar {
        fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
            let mut signature = self.0.sign(label, data)?;
            signature[0] ^= 1;
            Ok(signature)
        }
    }
    let ksr = generated_ksr("example.", Algorithm::ECDSAP256SHA256);
    let (config, signer) = setup("example.", Algorithm::ECDSAP256SHA256);
    let err = build_skr(&checked(&ksr, None, &config), "normal", &Liar(signer)).unwrap_err();
    let findings = err.findings();
    // Every bundle is reported, and nothing else.
    let bundles: Vec<(CheckCode, usize)> = findings
        .iter()
        .map(|f| (f.code, f.bundle.as_ref().unwrap().number))
        .collect();
    let expected: Vec<(CheckCode, usize)> = (1..=9).map(|n| (CheckCode::SkrVerify, n)).collect();
    assert_eq!(bundles, expected);
}

#[test]
fn a_signer_that_fails_stops_the_build() {
    struct Broken(Signer);
    impl KeySource for Broken {
        fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
            self.0.public_key(label)
        }
    }

    impl BundleSigner for Broken {
        fn sign(&self, _: &str, _: &[u8]) -> Result<Vec<u8>, SignerError> {
            Err(SignerError::failed("CKR_DEVICE_REMOVED"))
        }
    }
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, signer) = setup("example.", Algorithm::ED25519);
    let err = build_skr(&checked(&ksr, None, &config), "normal", &Broken(signer)).unwrap_err();
    assert!(
        matches!(&err, BuildError::Signer { label, .. } if label == "Kcurrent"),
        "{err}"
    );
}

#[test]
fn a_key_outside_its_validity_is_refused() {
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    let (mut config, signer) = setup("example.", Algorithm::ED25519);
    config.keys.get_mut("ksk_current").unwrap().valid_until =
        Some(Timestamp::from_unix(START + 40 * DAY));
    let err = build_skr(&checked(&ksr, None, &config), "normal", &signer).unwrap_err();
    // Bundles 3 to 9 end after 40 days: all of them are named.
    let bundles: Vec<usize> = err
        .findings()
        .iter()
        .map(|f| {
            assert_eq!(f.code, CheckCode::SignKeyValidity);
            f.bundle.as_ref().unwrap().number
        })
        .collect();
    assert_eq!(bundles, [3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn ksk_and_zsk_algorithms_must_match() {
    let ksr = generated_ksr("example.", Algorithm::ECDSAP256SHA256);
    let (config, signer) = setup_with("example.", Algorithm::ECDSAP256SHA256, |seed| {
        TestKey::new(Algorithm::ED25519, seed)
    });
    let codes = rejected(&ksr, &config, "normal", &signer);
    assert_eq!(codes, [CheckCode::SignAlgCoverage; 9]);
}

#[test]
fn a_quarter_chains_to_the_one_before_and_safety_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (config, signer) = setup("example.", Algorithm::ECDSAP256SHA256);
    let first = generated_quarter("example.", Algorithm::ECDSAP256SHA256, 0);
    let previous = build(&first, &config, "normal", &signer).skr;
    let second = generated_quarter("example.", Algorithm::ECDSAP256SHA256, 1);
    let checked = checked(&second, Some(&previous), &config);
    let Signed { xml, findings, .. } = build_skr(&checked, "normal", &signer).unwrap();
    assert_eq!(findings, []);
    let path = dir.path().join("q1.xml");
    std::fs::write(&path, &xml).unwrap();
    let (ok, output) = dnspython(&[&path]);
    assert!(ok, "{output}");
    // Signing the second quarter with the next KSK alone: it was never
    // published in the previous SKR (KSR-POLICY-SAFETY.1).
    let err = build_skr(&checked, "rollover+", &signer).unwrap_err();
    let codes: Vec<CheckCode> = err.findings().iter().map(|f| f.code).collect();
    assert_eq!(codes, [CheckCode::PolicySafetyPublishKeys], "{err}");
}

/// The public half of a signer, which cannot sign: what a sealed HSM is.
struct Sealed<'a>(&'a Signer);

impl KeySource for Sealed<'_> {
    fn public_key(&self, label: &str) -> Result<Dnskey, SignerError> {
        self.0.public_key(label)
    }
}

#[test]
fn a_plan_needs_only_public_keys_and_signs_what_it_planned() {
    let (config, signer) = setup("example.", Algorithm::ECDSAP256SHA256);
    let first = generated_quarter("example.", Algorithm::ECDSAP256SHA256, 0);
    let checked = checked(&first, None, &config);
    let plan = plan_skr(&checked, "pre-publish", &Sealed(&signer)).unwrap();
    // The key sets and signers are final; no signature bytes yet.
    assert_eq!(plan.bundles().len(), 9);
    assert!(plan.bundles().iter().all(|bundle| {
        bundle.signatures.iter().all(|signature| {
            signature.rrsig.signature.is_empty() && signature.key_identifier == "Kcurrent"
        })
    }));
    assert_eq!(
        plan.bundles()[0].keys.len(),
        3,
        "bundle 1: current + 2 ZSKs"
    );
    assert_eq!(
        plan.bundles()[1].keys.len(),
        3,
        "bundle 2: current, next, ZSK"
    );
    let signed = plan.sign(&signer).unwrap();
    assert_eq!(
        signed.skr,
        build_skr(&checked, "pre-publish", &signer).unwrap().skr
    );
    // A KSK replaced in the HSM between planning and signing is refused.
    let (_, other) = setup_with("example.", Algorithm::ECDSAP256SHA256, |seed| {
        TestKey::new(Algorithm::ECDSAP256SHA256, seed + 50)
    });
    let err = plan.sign(&other).unwrap_err();
    assert_eq!(err.findings()[0].code, CheckCode::SignKeyLookup, "{err}");
}

#[test]
fn a_previous_skr_signed_by_a_key_the_hsm_lacks_is_refused_when_planning() {
    let (config, signer) = setup("example.", Algorithm::ECDSAP256SHA256);
    let first = generated_quarter("example.", Algorithm::ECDSAP256SHA256, 0);
    let previous = build(&first, &config, "normal", &signer).skr;
    let second = generated_quarter("example.", Algorithm::ECDSAP256SHA256, 1);
    let checked = checked(&second, Some(&previous), &config);
    assert!(plan_skr(&checked, "normal", &Sealed(&signer)).is_ok());
    // An HSM without Kcurrent under that label, but with the same pins in
    // the policy: KSR-CHAIN-KEYS.1 against the HSM, before any signing.
    let (_, same_keys) = setup("example.", Algorithm::ECDSAP256SHA256);
    let relabelled = Signer(
        same_keys
            .0
            .into_iter()
            .map(|(label, key)| (format!("{label}-other"), key))
            .collect(),
    );
    let codes: Vec<CheckCode> = plan_skr(&checked, "normal", &Sealed(&relabelled))
        .unwrap_err()
        .iter()
        .filter(|f| f.is_error())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&CheckCode::ChainKeysHsm), "{codes:?}");
}

#[test]
fn a_ttl_no_resolver_keeps_is_refused_when_planning() {
    let (mut config, signer) = setup("example.", Algorithm::ED25519);
    let ksr = generated_ksr("example.", Algorithm::ED25519);
    config.ksk_policy.ttl = 1 << 31;
    let findings = plan_skr(&checked(&ksr, None, &config), "normal", &Sealed(&signer)).unwrap_err();
    assert!(
        findings.iter().all(|f| f.code == CheckCode::SignTtl),
        "{findings:#?}"
    );
    assert_eq!(findings.len(), 9);
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
    // As of its quarter, without the chain: the previous SKR was signed by
    // KSK-2010, which this test does not hold.
    let checked = CheckedKsr::check(&Request {
        ksr: &ksr,
        previous: None,
        config: &config,
        now: Timestamp::from_unix(1_489_968_000),
    })
    .unwrap();
    let ours = build_skr(&checked, "normal", &signer).unwrap().skr;
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
    let skr = build(&ksr, &config, "double", &signer).skr;
    assert!(
        skr.bundles
            .iter()
            .all(|bundle| bundle.signatures.len() == 2)
    );
    let mut short = mine;
    short.remove("9");
    config.schemas.insert("short".into(), short);
    let err = build_skr(&checked(&ksr, None, &config), "short", &signer).unwrap_err();
    assert!(err.to_string().contains("no action for bundle 9"), "{err}");
    assert_eq!(err.findings()[0].code, CheckCode::SignSchema);
}

#[test]
fn an_unchecked_ksr_cannot_be_signed() {
    // The only way to build_skr is through CheckedKsr::check; a KSR with a
    // broken proof of possession does not get there.
    let mut ksr = generated_ksr("example.", Algorithm::ED25519);
    let (config, _) = setup("example.", Algorithm::ED25519);
    ksr.bundles[4].signatures[0].rrsig.signature[5] ^= 0x10;
    let findings = CheckedKsr::check(&Request {
        ksr: &ksr,
        previous: None,
        config: &config,
        now: Timestamp::from_unix(START - 30 * DAY),
    })
    .unwrap_err();
    assert!(
        findings
            .iter()
            .any(|f| f.code == CheckCode::BundlePopSignature)
    );
}

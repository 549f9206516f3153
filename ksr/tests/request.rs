//! Stages 2 to 4 on the real root documents: the 2017-Q2 KSR passes
//! against the 2017-Q1 SKR as of its quarter, and the historic 2010 and
//! 2016 KSRs fail as `shared/vectors/README.md` says.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::PathBuf;

use ksr::{
    CheckCode, Config, DocumentRole, Finding, Request, Severity, Timestamp, parse_ksr, parse_skr,
    validate_request,
};

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors")
            .join(name),
    )
    .unwrap()
}

fn now(text: &str) -> Timestamp {
    Timestamp::parse_document(text).unwrap()
}

fn validate(ksr: &str, previous: Option<&str>, config: &Config, at: &str) -> Vec<Finding> {
    let ksr = parse_ksr(&vector(ksr), DocumentRole::Ksr).unwrap();
    let previous =
        previous.map(|name| parse_skr(&vector(name), DocumentRole::PreviousSkr).unwrap());
    validate_request(&Request {
        ksr: &ksr,
        previous: previous.as_ref(),
        config,
        now: now(at),
    })
}

fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .collect()
}

#[test]
fn the_2017_q2_ksr_passes_against_the_q1_skr() {
    let findings = validate(
        "ksr-root-2017-q2-0.xml",
        Some("skr-root-2017-q1-0.xml"),
        &Config::default(),
        "2017-03-20T00:00:00Z",
    );
    assert!(errors(&findings).is_empty(), "{findings:#?}");
    assert!(
        findings.iter().all(|f| f.code != CheckCode::StageSkipped),
        "{findings:#?}"
    );
}

#[test]
fn without_the_previous_skr_the_chain_is_reported_as_not_checked() {
    let findings = validate(
        "ksr-root-2017-q2-0.xml",
        None,
        &Config::default(),
        "2017-02-01T00:00:00Z",
    );
    assert!(errors(&findings).is_empty(), "{findings:#?}");
    assert!(
        findings
            .iter()
            .any(|f| f.code == CheckCode::ToolPrevSkr && f.severity == Severity::Warning)
    );
}

#[test]
fn the_horizon_window_of_the_vectors_readme() {
    // Passes in (2017-01-11T00:00:00Z, 2017-04-22T00:00:00Z].
    for (at, ok) in [
        ("2017-01-11T00:00:00Z", false),
        ("2017-01-11T00:00:01Z", true),
        ("2017-04-22T00:00:00Z", true),
        ("2017-04-22T00:00:01Z", false),
    ] {
        let findings = validate("ksr-root-2017-q2-0.xml", None, &Config::default(), at);
        assert_eq!(errors(&findings).is_empty(), ok, "{at}: {findings:#?}");
    }
}

fn codes(findings: &[Finding]) -> Vec<CheckCode> {
    errors(findings)
        .iter()
        .map(|finding| finding.code)
        .collect()
}

#[test]
fn the_2010_ksr_fails_as_documented() {
    let findings = validate(
        "ksr-root-2010-q1-0.xml",
        None,
        &Config::default(),
        "2009-12-01T00:00:00Z",
    );
    let codes = codes(&findings);
    for code in [
        CheckCode::PolicyAlgRsaSize,
        CheckCode::PolicyAlgRsaExponent,
        CheckCode::PolicyAlgKeyMatch,
        CheckCode::PolicySigOverlap,
        CheckCode::PolicySigValidityMin,
    ] {
        assert!(codes.contains(&code), "{code} missing: {findings:#?}");
    }
    let short: Vec<_> = findings
        .iter()
        .filter(|f| f.code == CheckCode::PolicySigValidityMin)
        .collect();
    assert_eq!(short.len(), 8, "bundles 1-8 last 14d23h59m59s: {short:#?}");
    // With rsa_exponent_match_zsk_policy = false the exponent mismatch is a warning.
    let mut config = Config::default();
    config.request_policy.rsa_exponent_match_zsk_policy = false;
    let findings = validate(
        "ksr-root-2010-q1-0.xml",
        None,
        &config,
        "2009-12-01T00:00:00Z",
    );
    assert!(
        !codes_of(&findings, Severity::Error).contains(&CheckCode::PolicyAlgKeyMatch),
        "{findings:#?}"
    );
    assert!(codes_of(&findings, Severity::Warning).contains(&CheckCode::PolicyAlgKeyMatch));
}

fn codes_of(findings: &[Finding], severity: Severity) -> Vec<CheckCode> {
    findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.code)
        .collect()
}

#[test]
fn the_2016_ksr_fails_as_documented_and_strictly_more_with_kskm() {
    let findings = validate(
        "ksr-root-2016-q3-0.xml",
        None,
        &Config::default(),
        "2016-06-01T00:00:00Z",
    );
    let codes = codes(&findings);
    for code in [
        CheckCode::PolicyAlgRsaSize,
        CheckCode::PolicySigOverlap,
        CheckCode::PolicySigValidityMin,
    ] {
        assert!(codes.contains(&code), "{code} missing: {findings:#?}");
    }
    let short = |findings: &[Finding]| {
        findings
            .iter()
            .filter(|f| f.code == CheckCode::PolicySigValidityMin)
            .count()
    };
    assert_eq!(short(&findings), 7, "bundles 1-7");
    let mut config = Config::default();
    config.request_policy.kskm_strict_validity = true;
    let strict = validate(
        "ksr-root-2016-q3-0.xml",
        None,
        &config,
        "2016-06-01T00:00:00Z",
    );
    assert_eq!(short(&strict), 9, "all 9 bundles with kskm_strict_validity");
}

#[test]
fn a_switched_off_check_is_reported() {
    let mut config = Config::default();
    config.request_policy.signature_check_expire_horizon = false;
    let findings = validate(
        "ksr-root-2017-q2-0.xml",
        None,
        &config,
        "2030-01-01T00:00:00Z",
    );
    assert!(errors(&findings).is_empty(), "{findings:#?}");
    let disabled: Vec<_> = findings
        .iter()
        .filter(|f| f.code == CheckCode::CheckDisabled)
        .collect();
    assert_eq!(disabled.len(), 1, "{disabled:#?}");
    assert!(disabled[0].message.contains("KSR-POLICY-SIG-HORIZON.1"));
    assert!(
        disabled[0]
            .message
            .contains("signature_check_expire_horizon")
    );
}

#[test]
fn unsorted_bundles_are_sorted_when_allowed() {
    let text = String::from_utf8(vector("ksr-root-2017-q2-0.xml")).unwrap();
    // Move bundle 2 after bundle 3.
    let starts: Vec<usize> = text
        .match_indices("<RequestBundle")
        .map(|(at, _)| at)
        .collect();
    let (second, third, fourth) = (starts[1], starts[2], starts[3]);
    let swapped = format!(
        "{}{}{}{}",
        &text[..second],
        &text[third..fourth],
        &text[second..third],
        &text[fourth..]
    );
    let ksr = parse_ksr(swapped.as_bytes(), DocumentRole::Ksr).unwrap();
    let previous = parse_skr(&vector("skr-root-2017-q1-0.xml"), DocumentRole::PreviousSkr).unwrap();
    let mut config = Config::default();
    let request = |config: &Config| {
        validate_request(&Request {
            ksr: &ksr,
            previous: Some(&previous),
            config,
            now: now("2017-03-20T00:00:00Z"),
        })
    };
    let strict = request(&config);
    assert!(
        codes(&strict).contains(&CheckCode::BundleOrder),
        "{strict:#?}"
    );
    config.request_policy.allow_unsorted_bundles = true;
    let lenient = request(&config);
    assert!(errors(&lenient).is_empty(), "{lenient:#?}");
    assert!(
        lenient
            .iter()
            .any(|f| f.code == CheckCode::BundleOrder && f.severity == Severity::Warning)
    );
}

fn documents() -> (ksr::Ksr, ksr::Skr, ksr::Skr) {
    let ksr = parse_ksr(&vector("ksr-root-2017-q2-0.xml"), DocumentRole::Ksr).unwrap();
    let answer = parse_skr(&vector("skr-root-2017-q2-0.xml"), DocumentRole::NewSkr).unwrap();
    let previous = parse_skr(&vector("skr-root-2017-q1-0.xml"), DocumentRole::PreviousSkr).unwrap();
    (ksr, answer, previous)
}

#[test]
fn the_real_answer_is_consistent_with_its_ksr_and_safe_after_q1() {
    let (ksr, answer, previous) = documents();
    let findings = ksr::check_response(&answer, &ksr, Some(&previous), &Config::default(), None);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn an_answer_that_drifts_from_its_ksr_or_its_predecessor_is_caught() {
    let (ksr, answer, previous) = documents();
    let config = Config::default();
    let check = |skr: &ksr::Skr| -> Vec<CheckCode> {
        ksr::check_response(skr, &ksr, Some(&previous), &config, None)
            .iter()
            .map(|f| f.code)
            .collect()
    };
    // A bundle id changed.
    let mut changed = answer.clone();
    changed.bundles[3].id = "other".into();
    assert!(check(&changed).contains(&CheckCode::SkrConsistencyBundles));
    // A ZSK dropped.
    let mut changed = answer.clone();
    changed.bundles[0]
        .keys
        .retain(|key| key.key_tag.to_int() != 61045);
    assert!(check(&changed).contains(&CheckCode::SkrConsistencyZsks));
    // A KSK under a label that is not configured.
    let mut changed = answer.clone();
    for key in &mut changed.bundles[2].keys {
        if key.identifier == "Kjqmt7v" {
            key.identifier = "Kstranger".into();
        }
    }
    assert!(check(&changed).contains(&CheckCode::SkrConsistencyKsks));
    // The signing KSK gone from a later bundle: retired too early, and
    // missing after it signed.
    let mut changed = answer.clone();
    changed.bundles[2]
        .keys
        .retain(|key| key.identifier != "Kjqmt7v");
    let codes = check(&changed);
    assert!(
        codes.contains(&CheckCode::PolicySafetyRetire)
            && codes.contains(&CheckCode::PolicySafetyLater),
        "{codes:?}"
    );
    // A first bundle signed by a key the previous SKR never published.
    let mut changed = answer.clone();
    changed.bundles[0].signatures[0].key_identifier = "Knew".into();
    assert!(check(&changed).contains(&CheckCode::PolicySafetyPublishKeys));
    // A first bundle that starts after the previous SKR ends.
    let mut changed = answer;
    changed.bundles[0].inception =
        Timestamp::from_unix(previous.bundles[8].expiration.to_unix() + 1);
    assert!(check(&changed).contains(&CheckCode::PolicySafetyPublishTime));
}

/// The schema of the root's normal quarters under the default key names:
/// KSK-2010 published and signing in every bundle.
fn root_normal(config: &mut Config) -> ksr::Schema {
    let action = ksr::Action {
        publish: vec!["ksk_2010".into()],
        revoke: Vec::new(),
        sign: vec!["ksk_2010".into()],
    };
    config.schemas.insert(
        "root-normal".into(),
        (1..=9).map(|n| (n.to_string(), action.clone())).collect(),
    );
    ksr::resolve_schema(config, "root-normal", 9).unwrap()
}

#[test]
fn the_real_answer_follows_the_schema_it_was_made_with() {
    let (ksr, answer, previous) = documents();
    let mut config = Config::default();
    let schema = root_normal(&mut config);
    let check = |skr: &ksr::Skr, schema: &ksr::Schema| -> Vec<CheckCode> {
        ksr::check_response(skr, &ksr, Some(&previous), &config, Some(schema))
            .iter()
            .map(|f| f.code)
            .collect()
    };
    assert_eq!(check(&answer, &schema), []);
    // A schema that revokes KSK-2010 in bundle 5: the answer's flags differ.
    let mut revoking = schema.clone();
    revoking[4].revoke = vec!["ksk_2010".into()];
    assert_eq!(check(&answer, &revoking), [CheckCode::SkrConsistencyKsks]);
    // A schema that also publishes and signs with KSK-2017 in bundle 9:
    // the key is missing, and so is its signature.
    let mut rolling = schema.clone();
    rolling[8].publish.push("ksk_2017".into());
    rolling[8].sign.push("ksk_2017".into());
    let codes = check(&answer, &rolling);
    assert!(
        codes.contains(&CheckCode::SkrConsistencyKsks)
            && codes.contains(&CheckCode::SkrSignatureFields),
        "{codes:?}"
    );
    // A signature repeated: exactly one per signing key.
    let mut doubled = answer.clone();
    let signature = doubled.bundles[2].signatures[0].clone();
    doubled.bundles[2].signatures.push(signature);
    assert!(check(&doubled, &schema).contains(&CheckCode::SkrSignatureFields));
    // The built-in schemas name ksk_current and ksk_next, which the root
    // defaults do not configure.
    let err = ksr::resolve_schema(&config, "normal", 9).unwrap_err();
    assert!(err.contains("ksk_current"), "{err}");
}

#[test]
fn the_previous_skr_ids_follow_the_ksr_id_rules() {
    let (ksr, _, mut previous) = documents();
    previous.bundles[2].id = "Q1-bundle-3".into();
    previous.bundles[4].id = String::new();
    let findings = validate_request(&Request {
        ksr: &ksr,
        previous: Some(&previous),
        config: &Config::default(),
        now: now("2017-03-20T00:00:00Z"),
    });
    let ids: Vec<(Severity, usize)> = findings
        .iter()
        .filter(|f| f.code == CheckCode::BundleId)
        .map(|f| {
            assert_eq!(f.document, DocumentRole::PreviousSkr);
            (f.severity, f.bundle.as_ref().unwrap().number)
        })
        .collect();
    assert_eq!(ids, [(Severity::Warning, 3), (Severity::Error, 5)]);
}

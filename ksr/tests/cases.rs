//! One failing case per check code (house rule 15), each made from the
//! real 2017-Q2 root KSR or SKR by one textual edit, and run through the
//! parser and the checks in process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::PathBuf;

use ksr::{CheckCode, DocumentRole, Finding, Severity, check_ksr, check_skr, parse_ksr, parse_skr};

/// Which document a case edits.
#[derive(Clone, Copy)]
enum Base {
    Ksr,
    Skr,
}

/// A case: replace the `nth` occurrence of `from` by `to`, then expect a
/// finding with this code and severity.
struct Case {
    name: &'static str,
    base: Base,
    from: &'static str,
    to: &'static str,
    nth: usize,
    code: CheckCode,
    severity: Severity,
}

const fn error(
    name: &'static str,
    base: Base,
    from: &'static str,
    to: &'static str,
    code: CheckCode,
) -> Case {
    Case {
        name,
        base,
        from,
        to,
        nth: 0,
        code,
        severity: Severity::Error,
    }
}

const CASES: &[Case] = &[
    error(
        "serial with a sign",
        Base::Ksr,
        r#"serial="1""#,
        r#"serial="+1""#,
        CheckCode::ParseValue,
    ),
    error(
        "TTL over 2^31-1",
        Base::Ksr,
        "<TTL>172800</TTL>",
        "<TTL>2147483648</TTL>",
        CheckCode::ParseValue,
    ),
    error(
        "bad base64",
        Base::Ksr,
        "<SignatureData>",
        "<SignatureData>*",
        CheckCode::ParseValue,
    ),
    error(
        "an unknown root attribute",
        Base::Ksr,
        r#"serial="1""#,
        r#"serial="1" version="2""#,
        CheckCode::ParseRoot,
    ),
    error(
        "a missing root attribute",
        Base::Ksr,
        r#" domain=".""#,
        "",
        CheckCode::ParseRoot,
    ),
    error(
        "two bodies",
        Base::Ksr,
        "</Request>",
        "</Request><Request/>",
        CheckCode::ParseRoot,
    ),
    error(
        "a missing element",
        Base::Ksr,
        "<Protocol>3</Protocol>",
        "",
        CheckCode::ParseStructure,
    ),
    error(
        "elements out of order",
        Base::Ksr,
        "<TTL>172800</TTL>\n        <Flags>256</Flags>",
        "<Flags>256</Flags>\n        <TTL>172800</TTL>",
        CheckCode::ParseStructure,
    ),
    error(
        "a repeated element",
        Base::Ksr,
        "<Protocol>3</Protocol>",
        "<Protocol>3</Protocol><Protocol>3</Protocol>",
        CheckCode::ParseStructure,
    ),
    error(
        "text in a container",
        Base::Ksr,
        "<RequestPolicy>",
        "<RequestPolicy>text",
        CheckCode::ParseStructure,
    ),
    error(
        "an element in a leaf",
        Base::Ksr,
        "<Labels>0</Labels>",
        "<Labels><b/>0</Labels>",
        CheckCode::ParseStructure,
    ),
    error(
        "an attribute on a leaf",
        Base::Ksr,
        "<Labels>",
        "<Labels x=\"1\">",
        CheckCode::ParseStructure,
    ),
    error(
        "a zone offset",
        Base::Ksr,
        "<Inception>2017-04-01T00:00:00</Inception>",
        "<Inception>2017-04-01T00:00:00+01:00</Inception>",
        CheckCode::ParseTime,
    ),
    error(
        "fractional seconds",
        Base::Ksr,
        "<Expiration>2017-04-22T00:00:00</Expiration>",
        "<Expiration>2017-04-22T00:00:00.5</Expiration>",
        CheckCode::ParseTime,
    ),
    error(
        "a month duration",
        Base::Ksr,
        "<PublishSafety>P10D</PublishSafety>",
        "<PublishSafety>P1M</PublishSafety>",
        CheckCode::ParseDuration,
    ),
    error(
        "a lenient duration",
        Base::Ksr,
        "<RetireSafety>P10D</RetireSafety>",
        "<RetireSafety>P1D5</RetireSafety>",
        CheckCode::ParseDuration,
    ),
    error(
        "an unknown algorithm",
        Base::Ksr,
        r#"<SignatureAlgorithm algorithm="8">"#,
        r#"<SignatureAlgorithm algorithm="9">"#,
        CheckCode::ParseAlgorithm,
    ),
    error(
        "parameters of another family",
        Base::Ksr,
        r#"<SignatureAlgorithm algorithm="8">"#,
        r#"<SignatureAlgorithm algorithm="13">"#,
        CheckCode::ParseAlgorithm,
    ),
    error(
        "flags 1",
        Base::Ksr,
        "<Flags>256</Flags>",
        "<Flags>1</Flags>",
        CheckCode::ParseFlags,
    ),
    error(
        "an RSA key read as ECDSA",
        Base::Ksr,
        "<Algorithm>8</Algorithm>\n        <PublicKey>",
        "<Algorithm>13</Algorithm>\n        <PublicKey>",
        CheckCode::ParsePublicKey,
    ),
    error(
        "TypeCovered not DNSKEY",
        Base::Ksr,
        "<TypeCovered>DNSKEY</TypeCovered>",
        "<TypeCovered>A</TypeCovered>",
        CheckCode::ParseRrsig,
    ),
    error(
        "a relative SignersName",
        Base::Ksr,
        "<SignersName>.</SignersName>",
        "<SignersName>example</SignersName>",
        CheckCode::ParseRrsig,
    ),
    error(
        "a wrong keyTag",
        Base::Ksr,
        r#"keyTag="14796""#,
        r#"keyTag="14797""#,
        CheckCode::BundleKeysTag,
    ),
    error(
        "a signature naming no key",
        Base::Ksr,
        r#"<Signature keyIdentifier="302e"#,
        r#"<Signature keyIdentifier="X302e"#,
        CheckCode::BundlePopShape,
    ),
    error(
        "a tampered signature",
        Base::Ksr,
        "<SignatureData>",
        "<SignatureData>AAAA",
        CheckCode::BundlePopSignature,
    ),
    error(
        "a Labels field for another zone",
        Base::Ksr,
        "<Labels>0</Labels>",
        "<Labels>1</Labels>",
        CheckCode::BundleSigFields,
    ),
    Case {
        name: "a Signer element",
        base: Base::Ksr,
        from: "</Expiration>",
        to: "</Expiration>\n      <Signer keyIdentifier=\"Kjqmt7v\"/>",
        nth: 0,
        code: CheckCode::BundleSigner,
        severity: Severity::Warning,
    },
    Case {
        name: "a key TTL other than the signature's",
        base: Base::Ksr,
        from: "<TTL>172800</TTL>",
        to: "<TTL>86400</TTL>",
        nth: 0,
        code: CheckCode::BundleSigFields,
        severity: Severity::Warning,
    },
    error(
        "a tampered SKR signature",
        Base::Skr,
        "<SignatureData>",
        "<SignatureData>AAAA",
        CheckCode::SkrSignatures,
    ),
    error(
        "an SKR signature outside its bundle",
        Base::Skr,
        "<SignatureInception>2017-04-01",
        "<SignatureInception>2017-03-31",
        CheckCode::SkrSignatureFields,
    ),
    error(
        "an SKR key TTL",
        Base::Skr,
        "<TTL>172800</TTL>",
        "<TTL>172801</TTL>",
        CheckCode::SkrSignatureFields,
    ),
];

/// The KSR's second Signature of bundle 1 removed: ZSK 61045 proves
/// nothing (`KSR-BUNDLE-POP.3`); and two Keys with the same identifier
/// (`KSR-BUNDLE-POP.1`).
fn structural_cases(ksr: &str) -> Vec<(&'static str, String, CheckCode)> {
    let first = ksr.find("<Signature ").unwrap();
    let second = first + 1 + ksr[first + 1..].find("<Signature ").unwrap();
    let end = second + ksr[second..].find("</Signature>").unwrap() + "</Signature>".len();
    let unsigned = format!("{}{}", &ksr[..second], &ksr[end..]);
    let zsk3 = "302e312c302a06035504031323566572695369676e20444e5353656320526f6f7420414c47382032303438205a534b33";
    let zsk2 = "302e312c302a06035504031323566572695369676e20444e5353656320526f6f7420414c47382032303438205a534b32";
    let key2 = ksr
        .find(&format!(r#"<Key keyIdentifier="{zsk2}""#))
        .unwrap();
    let same_id = format!("{}{}", &ksr[..key2], ksr[key2..].replacen(zsk2, zsk3, 1));
    vec![
        (
            "a key that signed nothing",
            unsigned,
            CheckCode::BundlePopEveryKey,
        ),
        (
            "two keys with one identifier",
            same_id,
            CheckCode::BundlePopShape,
        ),
    ]
}

fn findings_of(base: Base, text: &str) -> Vec<Finding> {
    match base {
        Base::Ksr => match parse_ksr(text.as_bytes(), DocumentRole::Ksr) {
            Ok(ksr) => check_ksr(&ksr, DocumentRole::Ksr),
            Err(findings) => findings,
        },
        Base::Skr => match parse_skr(text.as_bytes(), DocumentRole::PreviousSkr) {
            Ok(skr) => check_skr(&skr, DocumentRole::PreviousSkr),
            Err(findings) => findings,
        },
    }
}

fn vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn every_case_gives_its_code() {
    let ksr = vector("ksr-root-2017-q2-0.xml");
    let skr = vector("skr-root-2017-q2-0.xml");
    assert!(findings_of(Base::Ksr, &ksr).is_empty() && findings_of(Base::Skr, &skr).is_empty());
    for case in CASES {
        let base_text = match case.base {
            Base::Ksr => &ksr,
            Base::Skr => &skr,
        };
        let at = base_text
            .match_indices(case.from)
            .nth(case.nth)
            .unwrap_or_else(|| panic!("{}: no {:?}", case.name, case.from))
            .0;
        let text = format!(
            "{}{}{}",
            &base_text[..at],
            case.to,
            &base_text[at + case.from.len()..]
        );
        let findings = findings_of(case.base, &text);
        assert!(
            findings
                .iter()
                .any(|finding| finding.code == case.code && finding.severity == case.severity),
            "{}: expected {} ({:?}), got {findings:#?}",
            case.name,
            case.code,
            case.severity
        );
        // Every parse finding carries its place; every other one its bundle.
        for finding in &findings {
            if finding.code.stage() == 1 && finding.code != CheckCode::ParseSize {
                assert!(finding.position.is_some(), "{}: {finding:?}", case.name);
            } else if finding.code.stage() > 1 {
                assert!(finding.bundle.is_some(), "{}: {finding:?}", case.name);
            }
        }
    }
    for (name, text, code) in structural_cases(&ksr) {
        let findings = findings_of(Base::Ksr, &text);
        assert!(
            findings.iter().any(|finding| finding.code == code),
            "{name}: {findings:#?}"
        );
    }
}

#[test]
fn every_code_has_a_case() {
    let ksr = vector("ksr-root-2017-q2-0.xml");
    let mut covered: Vec<CheckCode> = CASES.iter().map(|case| case.code).collect();
    covered.extend(structural_cases(&ksr).into_iter().map(|(_, _, code)| code));
    // Covered by tests that need what an edit cannot make: a file over
    // 1 MiB, broken XML, the limits (tests/cli/hostile.rs) and the KSK
    // anchor (tests/cli/skr_check.rs).
    covered.extend([
        CheckCode::ParseSize,
        CheckCode::ParseXml,
        CheckCode::ParseLimits,
        CheckCode::SkrAnchor,
    ]);
    for code in CheckCode::ALL {
        assert!(covered.contains(code), "{code} has no failing case");
    }
}

#[test]
fn all_structure_errors_of_a_document_are_reported_together() {
    let ksr = vector("ksr-root-2017-q2-0.xml")
        .replacen(
            "<Inception>2017-04-01T00:00:00</Inception>",
            "<Inception>yesterday</Inception>",
            1,
        )
        .replacen(
            "<PublishSafety>P10D</PublishSafety>",
            "<PublishSafety>P1Y</PublishSafety>",
            1,
        )
        .replacen("<Flags>256</Flags>", "<Flags>7</Flags>", 1);
    let findings = findings_of(Base::Ksr, &ksr);
    let codes: Vec<CheckCode> = findings.iter().map(|finding| finding.code).collect();
    for code in [
        CheckCode::ParseTime,
        CheckCode::ParseDuration,
        CheckCode::ParseFlags,
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

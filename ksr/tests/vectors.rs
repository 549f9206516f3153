//! The published root-zone documents of `shared/vectors`: every one parses,
//! passes its checks, keeps its data through the writer, and the written
//! SKRs still validate with dnspython.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::PathBuf;

use ksr::{DigestType, DocumentRole, Ds, Flags, parse_ksr, parse_skr, write_skr};

/// The vectors folder beside the repository (in CI too).
fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors")
}

fn read(name: &str) -> Vec<u8> {
    let path = vectors().join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

mod common;
use common::dnspython;

const KSRS: [&str; 3] = [
    "ksr-root-2010-q1-0.xml",
    "ksr-root-2016-q3-0.xml",
    "ksr-root-2017-q2-0.xml",
];
const SKRS: [&str; 3] = [
    "skr-root-2017-q1-0.xml",
    "skr-root-2017-q2-0.xml",
    "skr-root-2017-q3-0-c_to_d.xml",
];

#[test]
fn every_ksr_parses_and_passes_its_checks() {
    for name in KSRS {
        let ksr =
            parse_ksr(&read(name), DocumentRole::Ksr).unwrap_or_else(|f| panic!("{name}: {f:#?}"));
        assert_eq!(ksr.bundles.len(), 9, "{name}");
        assert_eq!(ksr.domain.as_str(), ".");
        let signatures: usize = ksr.bundles.iter().map(|b| b.signatures.len()).sum();
        assert_eq!(
            signatures, 11,
            "{name}: the README counts 11 proofs of possession"
        );
        let findings = ksr::check_ksr(&ksr, DocumentRole::Ksr);
        assert!(findings.is_empty(), "{name}: {findings:#?}");
        for key in ksr.bundles.iter().flat_map(|b| &b.keys) {
            assert_eq!(
                key.dnskey.key_tag(),
                key.key_tag,
                "{name}: {}",
                key.identifier
            );
        }
    }
}

#[test]
fn every_skr_parses_and_passes_its_checks() {
    for name in SKRS {
        let skr = parse_skr(&read(name), DocumentRole::PreviousSkr)
            .unwrap_or_else(|f| panic!("{name}: {f:#?}"));
        assert_eq!(skr.bundles.len(), 9, "{name}");
        let findings = ksr::check_skr(&skr, DocumentRole::PreviousSkr);
        assert!(findings.is_empty(), "{name}: {findings:#?}");
    }
}

#[test]
fn a_ksr_is_not_an_skr() {
    let findings = parse_skr(&read(KSRS[2]), DocumentRole::PreviousSkr).unwrap_err();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, ksr::CheckCode::ParseRoot);
    assert!(
        findings[0].message.contains("this is a KSR"),
        "{}",
        findings[0].message
    );
    let findings = parse_ksr(&read(SKRS[0]), DocumentRole::Ksr).unwrap_err();
    assert!(
        findings[0].message.contains("this is an SKR"),
        "{}",
        findings[0].message
    );
}

#[test]
fn ksk_2017_has_the_published_ds_and_revoked_tag() {
    let skr = parse_skr(
        &read("skr-root-2017-q3-0-c_to_d.xml"),
        DocumentRole::PreviousSkr,
    )
    .unwrap();
    let ksk = skr
        .bundles
        .iter()
        .flat_map(|bundle| &bundle.keys)
        .find(|key| key.key_tag.to_int() == 20326)
        .expect("KSK-2017 is published in bundles 2-9");
    assert_eq!(ksk.identifier, "Klajeyz");
    assert_eq!(ksk.dnskey.flags(), Flags::KSK);
    let ds = Ds::compute(&skr.domain, &ksk.dnskey, DigestType::Sha256);
    assert_eq!(
        ds.digest_hex(),
        "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
    );
    assert_eq!(
        ds.rdata_text(),
        "20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
    );
    let revoked = ksk.dnskey.with_flags(ksk.dnskey.flags().with_revoke());
    assert_eq!(revoked.key_tag().to_int(), 20454);
    // The revoked key has another DS (ksr-skr-format.md §3.3).
    assert_eq!(
        Ds::compute(&skr.domain, &revoked, DigestType::Sha256).digest_hex(),
        "95F424C531B10E2BF303998EB6064C520694E6B1E356C957C4E8792A7F2BE217"
    );
}

#[test]
fn ksk_2010_has_the_published_ds_and_revoked_tag() {
    let skr = parse_skr(&read("skr-root-2017-q1-0.xml"), DocumentRole::PreviousSkr).unwrap();
    let ksk = skr.bundles[0]
        .key("Kjqmt7v")
        .expect("KSK-2010 signs every bundle");
    assert_eq!(ksk.key_tag.to_int(), 19036);
    assert_eq!(
        Ds::compute(&skr.domain, &ksk.dnskey, DigestType::Sha256).digest_hex(),
        "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5"
    );
    assert_eq!(
        ksk.dnskey.with_flags(Flags::REVOKED_KSK).key_tag().to_int(),
        19164
    );
}

#[test]
fn written_skrs_reparse_to_the_same_data_and_are_a_fixed_point() {
    for name in SKRS {
        let skr = parse_skr(&read(name), DocumentRole::PreviousSkr).unwrap();
        let written = write_skr(&skr);
        let again = parse_skr(written.as_bytes(), DocumentRole::NewSkr)
            .unwrap_or_else(|f| panic!("{name}: {f:#?}"));
        assert_eq!(write_skr(&again), written, "{name}");
        assert_eq!(again.id, skr.id);
        assert_eq!(again.ksk_policy, skr.ksk_policy);
        assert_eq!(again.zsk_policy, skr.zsk_policy);
        for (a, b) in again.bundles.iter().zip(&skr.bundles) {
            let mut keys_a: Vec<_> = a
                .keys
                .iter()
                .map(|k| (&k.identifier, k.dnskey.rdata()))
                .collect();
            let mut keys_b: Vec<_> = b
                .keys
                .iter()
                .map(|k| (&k.identifier, k.dnskey.rdata()))
                .collect();
            keys_a.sort();
            keys_b.sort();
            assert_eq!(keys_a, keys_b, "{name} bundle {}", a.id);
            assert_eq!(a.signatures, b.signatures);
            assert_eq!(
                (a.id.as_str(), a.inception, a.expiration),
                (b.id.as_str(), b.inception, b.expiration)
            );
        }
        assert!(ksr::check_skr(&again, DocumentRole::NewSkr).is_empty());
    }
}

#[test]
fn written_skr_follows_the_spec_layout() {
    // The annotated example of ksr-skr-format.md §2.4 is this document:
    // bundle 1 lists 14796, then KSK-2010 as 19036, then 61045.
    let skr = parse_skr(&read("skr-root-2017-q2-0.xml"), DocumentRole::PreviousSkr).unwrap();
    let written = write_skr(&skr);
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    assert_eq!(
        lines[1],
        r#"<KSR id="23e34059-7725-46a8-a7d2-662d657aab2b" domain="." serial="1">"#
    );
    assert_eq!(lines[2], "    <Response>");
    assert_eq!(lines[3], "        <ResponsePolicy>");
    assert_eq!(lines[4], "            <KSK>");
    assert_eq!(
        lines[5],
        "                <PublishSafety>PT0S</PublishSafety>"
    );
    assert_eq!(
        lines[11],
        r#"                <SignatureAlgorithm algorithm="8">"#
    );
    assert_eq!(
        lines[12],
        r#"                    <RSA size="2048" exponent="65537"/>"#
    );
    let bundle = lines
        .iter()
        .position(|l| l.contains("<ResponseBundle"))
        .unwrap();
    assert_eq!(
        lines[bundle],
        r#"        <ResponseBundle id="dc1bc68c-b1c1-46f8-817f-ec893549f2be">"#
    );
    assert_eq!(
        lines[bundle + 1],
        "            <Inception>2017-04-01T00:00:00+00:00</Inception>"
    );
    assert_eq!(
        lines[bundle + 2],
        "            <Expiration>2017-04-22T00:00:00+00:00</Expiration>"
    );
    let tags: Vec<&str> = lines[bundle..]
        .iter()
        .take_while(|l| !l.contains("</ResponseBundle>"))
        .filter(|l| l.trim_start().starts_with("<Key "))
        .copied()
        .collect();
    assert_eq!(tags.len(), 3);
    assert!(tags[0].ends_with(r#"keyTag="14796">"#));
    assert_eq!(
        tags[1],
        r#"            <Key keyIdentifier="Kjqmt7v" keyTag="19036">"#
    );
    assert!(tags[2].ends_with(r#"keyTag="61045">"#));
    let signature = lines
        .iter()
        .position(|l| l.contains("<Signature "))
        .unwrap();
    let children: Vec<&str> = lines[signature + 1..signature + 11]
        .iter()
        .map(|l| l.trim_start().split('>').next().unwrap())
        .collect();
    assert_eq!(
        children,
        [
            "<TTL",
            "<TypeCovered",
            "<Algorithm",
            "<Labels",
            "<OriginalTTL",
            "<SignatureExpiration",
            "<SignatureInception",
            "<KeyTag",
            "<SignersName",
            "<SignatureData"
        ]
    );
    assert_eq!(
        lines[signature + 6],
        "                <SignatureExpiration>2017-04-22T00:00:00+00:00</SignatureExpiration>"
    );
    assert!(written.ends_with("</KSR>\n") && !written.ends_with("\n\n"));
    assert!(written.lines().all(|l| !l.ends_with(' ') && !l.is_empty()));
    for line in &lines {
        let indent = line.len() - line.trim_start().len();
        assert_eq!(indent % 4, 0, "{line:?}");
    }
}

#[test]
fn dnspython_validates_the_vectors_and_what_the_writer_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = KSRS
        .iter()
        .chain(&SKRS)
        .map(|name| vectors().join(name))
        .collect();
    for name in SKRS {
        let skr = parse_skr(&read(name), DocumentRole::PreviousSkr).unwrap();
        let path = dir.path().join(format!("rewritten-{name}"));
        std::fs::write(&path, write_skr(&skr)).unwrap();
        files.push(path);
    }
    let (ok, output) = dnspython(&files);
    assert!(ok, "{output}");
    assert!(output.contains("\n256 passed, 0 failed"), "{output}");
}

#[test]
fn dnspython_rejects_a_tampered_signature() {
    // The independent validator must be able to fail, or its verdict on the
    // vectors means nothing.
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(read("skr-root-2017-q2-0.xml")).unwrap();
    let at = text.find("<SignatureData>").unwrap() + "<SignatureData>".len() + 20;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let path = dir.path().join("tampered.xml");
    std::fs::write(&path, bytes).unwrap();
    let (ok, output) = dnspython(&[&path]);
    assert!(!ok, "{output}");
    assert!(output.contains("1 failed"), "{output}");
}

#[test]
fn all_structure_errors_of_a_document_are_reported_together() {
    let text = String::from_utf8(read(KSRS[2]))
        .unwrap()
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
    let findings = parse_ksr(text.as_bytes(), DocumentRole::Ksr).unwrap_err();
    let codes: Vec<ksr::CheckCode> = findings.iter().map(|finding| finding.code).collect();
    for code in [
        ksr::CheckCode::ParseTime,
        ksr::CheckCode::ParseDuration,
        ksr::CheckCode::ParseFlags,
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(findings.iter().all(|finding| finding.position.is_some()));
}

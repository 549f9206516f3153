//! `ceremony skr check`.

use crate::harness::{SKRS, arg, run, vector, vector_public_key};
use crate::ksr_check::{Mutation, assert_caught};

/// KSK-2010 (19036), which signs every bundle of the SKR vectors, in
/// zone-file form with parentheses and a comment.
fn ksk_2010() -> String {
    let public_key = vector_public_key("skr-root-2017-q1-0.xml", "Kjqmt7v");
    format!("; KSK-2010\n. 172800 IN DNSKEY 257 3 8 ( {public_key} )\n")
}

#[test]
fn every_skr_vector_passes() {
    for name in SKRS {
        run(&["skr", "check", arg(&vector(name))])
            .expect_code(0)
            .expect_stdout("0 error(s), 0 warning(s)");
    }
}

#[test]
fn every_bundle_is_anchored_to_ksk_2010() {
    let dir = tempfile::tempdir().unwrap();
    let ksk = dir.path().join("ksk.zone");
    std::fs::write(&ksk, ksk_2010()).unwrap();
    for name in SKRS {
        run(&["skr", "check", arg(&vector(name)), "--ksk", arg(&ksk)])
            .expect_code(0)
            .expect_stdout("anchored to a trusted KSK (19036)");
    }
}

#[test]
fn an_skr_signed_by_another_key_is_not_anchored() {
    let dir = tempfile::tempdir().unwrap();
    let ksk = dir.path().join("other.zone");
    // KSK-2017 does not sign any bundle of the q1 SKR.
    let public_key = vector_public_key("skr-root-2017-q3-0-c_to_d.xml", "Klajeyz");
    std::fs::write(&ksk, format!(". 172800 IN DNSKEY 257 3 8 {public_key}\n")).unwrap();
    let result = run(&[
        "--json",
        "skr",
        "check",
        arg(&vector(SKRS[0])),
        "--ksk",
        arg(&ksk),
    ]);
    result.expect_code(3);
    let findings = result.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 9, "one finding per bundle");
    assert!(
        findings
            .iter()
            .all(|finding| finding["code"] == "SKR-ANCHOR")
    );
}

#[test]
fn a_bad_ksk_file_is_an_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let ksk = dir.path().join("bad.zone");
    std::fs::write(&ksk, "this is not a zone file\n").unwrap();
    run(&["skr", "check", arg(&vector(SKRS[0])), "--ksk", arg(&ksk)])
        .expect_code(1)
        .expect_stderr("error: ")
        .expect_stderr("hint: give DNSKEY records");
}

#[test]
fn a_changed_byte_in_a_signature_key_or_time_is_caught() {
    let mutations = [
        Mutation {
            marker: "<SignatureData>",
            offset: 40,
            code: "SKR-PREV-SIGS",
        },
        Mutation {
            marker: "<PublicKey>",
            offset: 30,
            code: "SKR-PREV-SIGS",
        },
        Mutation {
            marker: "<SignatureInception>",
            offset: 18,
            code: "SKR-PREV-SIGS",
        },
        Mutation {
            marker: "<SignatureExpiration>",
            offset: 18,
            code: "SKR-PREV-SIGS",
        },
        // Bundle times are not signed, but an SKR's signatures must cover
        // exactly its bundles (ksr-skr-format.md §1.7).
        Mutation {
            marker: "<Inception>",
            offset: 18,
            code: "SKR-CONSISTENCY.4",
        },
        Mutation {
            marker: "<Expiration>",
            offset: 18,
            code: "SKR-CONSISTENCY.4",
        },
        Mutation {
            marker: "<TTL>",
            offset: 5,
            code: "SKR-CONSISTENCY.4",
        },
        Mutation {
            marker: "keyTag=\"",
            offset: 2,
            code: "KSR-BUNDLE-KEYS.3",
        },
        Mutation {
            marker: "<Labels>",
            offset: 0,
            code: "SKR-PREV-SIGS",
        },
    ];
    for name in SKRS {
        assert_caught("skr", name, &mutations);
    }
}

#[test]
fn the_real_answer_passes_against_its_ksr_and_predecessor() {
    run(&[
        "skr",
        "check",
        arg(&vector("skr-root-2017-q2-0.xml")),
        "--ksr",
        arg(&vector("ksr-root-2017-q2-0.xml")),
        "--previous-skr",
        arg(&vector("skr-root-2017-q1-0.xml")),
    ])
    .expect_code(0)
    .expect_stdout("checked against its KSR and for safety after")
    .expect_stdout("0 error(s), 0 warning(s)");
}

#[test]
fn an_skr_that_answers_another_ksr_is_refused() {
    let result = run(&[
        "--json",
        "skr",
        "check",
        arg(&vector("skr-root-2017-q1-0.xml")),
        "--ksr",
        arg(&vector("ksr-root-2017-q2-0.xml")),
    ]);
    result.expect_code(3);
    let json = result.json();
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"SKR-CONSISTENCY.1") && codes.contains(&"SKR-CONSISTENCY.2"),
        "{codes:?}"
    );
}

#[test]
fn previous_skr_needs_the_ksr() {
    run(&[
        "skr",
        "check",
        arg(&vector(SKRS[1])),
        "--previous-skr",
        arg(&vector(SKRS[0])),
    ])
    .expect_code(2);
}

#[test]
fn the_real_answer_follows_a_schema_of_the_policy_file() {
    // The root's normal quarter under the default key names: KSK-2010
    // published and signing in every bundle; a second file revokes it in
    // bundle 5, which the real answer does not do.
    let dir = tempfile::tempdir().unwrap();
    let schema = |revoke_in_5: bool| {
        (1..=9)
            .map(|n| {
                let revoke = if revoke_in_5 && n == 5 {
                    "[\"ksk_2010\"]"
                } else {
                    "[]"
                };
                format!(
                    "[schemas.root-normal.{n}]\npublish = [\"ksk_2010\"]\nrevoke = {revoke}\nsign = [\"ksk_2010\"]\n"
                )
            })
            .collect::<String>()
    };
    let good = dir.path().join("good.toml");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&good, schema(false)).unwrap();
    std::fs::write(&bad, schema(true)).unwrap();
    let check = |config: &std::path::Path, name: &str| {
        run(&[
            "--json",
            "--config",
            arg(config),
            "skr",
            "check",
            arg(&vector("skr-root-2017-q2-0.xml")),
            "--ksr",
            arg(&vector("ksr-root-2017-q2-0.xml")),
            "--schema",
            name,
        ])
    };
    check(&good, "root-normal").expect_code(0);
    let result = check(&bad, "root-normal");
    result.expect_code(3);
    let json = result.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "SKR-CONSISTENCY.3");
    assert_eq!(findings[0]["bundle_number"], 5);
    // The built-in schemas use ksk_current and ksk_next, which the root
    // defaults do not define: a usage error, with a hint.
    check(&good, "normal")
        .expect_code(2)
        .expect_stderr("SIGN-SCHEMA");
}

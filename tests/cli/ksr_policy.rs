//! `ceremony ksr check` with the policy and the chain: the 2017-Q2 root
//! KSR against the 2017-Q1 SKR as of 2017-03-20, and a table of mutations
//! that must each fail (or warn) with their code.

use base64::Engine as _;

use crate::harness::{Run, arg, run, vector, vector_text};
use crate::ksr_check::as_in_production;

const KSR: &str = "ksr-root-2017-q2-0.xml";
const PREVIOUS: &str = "skr-root-2017-q1-0.xml";

/// Replaces the `nth` occurrence of `from`.
fn replace_nth(text: &str, from: &str, to: &str, nth: usize) -> String {
    let at = text
        .match_indices(from)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {from:?} #{nth}"))
        .0;
    format!("{}{to}{}", &text[..at], &text[at + from.len()..])
}

/// Removes the `nth` element that starts with `start` and ends with `end`.
fn remove_nth(text: &str, start: &str, end: &str, nth: usize) -> String {
    let from = text.match_indices(start).nth(nth).unwrap().0;
    let to = from + text[from..].find(end).unwrap() + end.len();
    format!("{}{}", &text[..from], &text[to..])
}

/// The first ResponseBundle id of the previous SKR.
fn previous_bundle_id() -> String {
    let text = vector_text(PREVIOUS);
    let start = text.find("<ResponseBundle id=\"").unwrap() + 20;
    text[start..start + 36].to_owned()
}

/// Makes the modulus of the `nth` PublicKey even (the RSA sanity check).
fn even_modulus(text: &str, nth: usize) -> String {
    let start = text.match_indices("<PublicKey>").nth(nth).unwrap().0 + "<PublicKey>".len();
    let end = start + text[start..].find('<').unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut key = engine.decode(&text[start..end]).unwrap();
    *key.last_mut().unwrap() ^= 1;
    format!("{}{}{}", &text[..start], engine.encode(key), &text[end..])
}

/// One case: edits of the KSR and of the previous SKR, optionally another
/// --now or a policy file, and the code that must appear.
struct Case {
    name: &'static str,
    ksr: fn(&str) -> String,
    previous: fn(&str) -> String,
    now: &'static str,
    config: &'static str,
    code: &'static str,
    severity: &'static str,
    exit: i32,
}

fn same(text: &str) -> String {
    text.to_owned()
}

const NOW: &str = "2017-03-20T00:00:00Z";

const fn ksr_case(name: &'static str, ksr: fn(&str) -> String, code: &'static str) -> Case {
    Case {
        name,
        ksr,
        previous: same,
        now: NOW,
        config: "",
        code,
        severity: "error",
        exit: 3,
    }
}

/// Cases of stage 1 (the document as read) and of the signature checks:
/// one edit each of the KSR or of the previous SKR.
fn parse_cases() -> Vec<Case> {
    vec![
        ksr_case(
            "a serial with a sign",
            |t| t.replacen(r#"serial="1""#, r#"serial="+1""#, 1),
            "KSR-PARSE-VALUE",
        ),
        ksr_case(
            "a TTL over 2^31-1",
            |t| t.replacen("<TTL>172800</TTL>", "<TTL>2147483648</TTL>", 1),
            "KSR-PARSE-VALUE",
        ),
        ksr_case(
            "bad base64",
            |t| t.replacen("<SignatureData>", "<SignatureData>*", 1),
            "KSR-PARSE-VALUE",
        ),
        ksr_case(
            "an unknown root attribute",
            |t| t.replacen(r#"serial="1""#, r#"serial="1" version="2""#, 1),
            "KSR-PARSE-ROOT",
        ),
        ksr_case(
            "a missing root attribute",
            |t| t.replacen(r#" domain=".""#, "", 1),
            "KSR-PARSE-ROOT",
        ),
        ksr_case(
            "two bodies",
            |t| t.replacen("</Request>", "</Request><Request/>", 1),
            "KSR-PARSE-ROOT",
        ),
        ksr_case(
            "a missing element",
            |t| t.replacen("<Protocol>3</Protocol>", "", 1),
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "elements out of order",
            |t| {
                t.replacen(
                    "<TTL>172800</TTL>\n        <Flags>256</Flags>",
                    "<Flags>256</Flags>\n        <TTL>172800</TTL>",
                    1,
                )
            },
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "a repeated element",
            |t| {
                t.replacen(
                    "<Protocol>3</Protocol>",
                    "<Protocol>3</Protocol><Protocol>3</Protocol>",
                    1,
                )
            },
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "text in a container",
            |t| t.replacen("<RequestPolicy>", "<RequestPolicy>text", 1),
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "an element in a leaf",
            |t| t.replacen("<Labels>0</Labels>", "<Labels><b/>0</Labels>", 1),
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "an attribute on a leaf",
            |t| t.replacen("<Labels>", "<Labels x=\"1\">", 1),
            "KSR-PARSE-STRUCTURE",
        ),
        ksr_case(
            "a zone offset",
            |t| {
                t.replacen(
                    "<Inception>2017-04-01T00:00:00</Inception>",
                    "<Inception>2017-04-01T00:00:00+01:00</Inception>",
                    1,
                )
            },
            "KSR-PARSE-TIME",
        ),
        ksr_case(
            "fractional seconds",
            |t| {
                t.replacen(
                    "<Expiration>2017-04-22T00:00:00</Expiration>",
                    "<Expiration>2017-04-22T00:00:00.5</Expiration>",
                    1,
                )
            },
            "KSR-PARSE-TIME",
        ),
        ksr_case(
            "a month duration",
            |t| {
                t.replacen(
                    "<PublishSafety>P10D</PublishSafety>",
                    "<PublishSafety>P1M</PublishSafety>",
                    1,
                )
            },
            "KSR-PARSE-DURATION",
        ),
        ksr_case(
            "a lenient duration",
            |t| {
                t.replacen(
                    "<RetireSafety>P10D</RetireSafety>",
                    "<RetireSafety>P1D5</RetireSafety>",
                    1,
                )
            },
            "KSR-PARSE-DURATION",
        ),
        ksr_case(
            "an unknown algorithm",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="9">"#,
                    1,
                )
            },
            "KSR-PARSE-ALG",
        ),
        ksr_case(
            "parameters of another family",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="13">"#,
                    1,
                )
            },
            "KSR-PARSE-ALG",
        ),
        ksr_case(
            "flags 1",
            |t| t.replacen("<Flags>256</Flags>", "<Flags>1</Flags>", 1),
            "KSR-PARSE-FLAGS",
        ),
        ksr_case(
            "an RSA key read as ECDSA",
            |t| {
                t.replacen(
                    "<Algorithm>8</Algorithm>\n        <PublicKey>",
                    "<Algorithm>13</Algorithm>\n        <PublicKey>",
                    1,
                )
            },
            "KSR-PARSE-PUBKEY",
        ),
        ksr_case(
            "TypeCovered not DNSKEY",
            |t| {
                t.replacen(
                    "<TypeCovered>DNSKEY</TypeCovered>",
                    "<TypeCovered>A</TypeCovered>",
                    1,
                )
            },
            "KSR-PARSE-RRSIG",
        ),
        ksr_case(
            "a relative SignersName",
            |t| {
                t.replacen(
                    "<SignersName>.</SignersName>",
                    "<SignersName>example</SignersName>",
                    1,
                )
            },
            "KSR-PARSE-RRSIG",
        ),
        ksr_case(
            "a signature naming no key",
            |t| {
                t.replacen(
                    r#"<Signature keyIdentifier="302e"#,
                    r#"<Signature keyIdentifier="X302e"#,
                    1,
                )
            },
            "KSR-BUNDLE-POP.1",
        ),
        ksr_case(
            "two keys with one identifier",
            |t| {
                let second = t.match_indices("<Key keyIdentifier=\"").nth(1).unwrap().0;
                format!(
                    "{}{}",
                    &t[..second],
                    t[second..].replacen("5a534b32\"", "5a534b33\"", 1)
                )
            },
            "KSR-BUNDLE-POP.1",
        ),
        ksr_case(
            "a key that signed nothing",
            |t| remove_nth(t, "<Signature ", "</Signature>", 1),
            "KSR-BUNDLE-POP.3",
        ),
        ksr_case(
            "a Labels field for another zone",
            |t| t.replacen("<Labels>0</Labels>", "<Labels>1</Labels>", 1),
            "KSR-BUNDLE-SIGFIELDS",
        ),
        Case {
            name: "a Signer element",
            severity: "warning",
            exit: 0,
            ..ksr_case(
                "",
                |t| {
                    t.replacen(
                        "</Expiration>",
                        "</Expiration>\n      <Signer keyIdentifier=\"Kjqmt7v\"/>",
                        1,
                    )
                },
                "KSR-BUNDLE-SIGNER",
            )
        },
        Case {
            name: "a previous SKR signature outside its bundle",
            previous: |t| {
                t.replacen(
                    "<SignatureInception>2017-01-01",
                    "<SignatureInception>2016-12-31",
                    1,
                )
            },
            ..ksr_case("", same, "SKR-CONSISTENCY.4")
        },
        Case {
            name: "a previous SKR that stops the chain checks",
            previous: |t| t.replacen("<SignatureData>", "<SignatureData>AAAA", 1),
            severity: "info",
            ..ksr_case("", same, "STAGE-SKIPPED")
        },
    ]
}

/// Cases of the policy, the previous SKR and the chain.
fn cases() -> Vec<Case> {
    vec![
        ksr_case(
            "a wrong key tag",
            |t| t.replacen(r#"keyTag="14796""#, r#"keyTag="14797""#, 1),
            "KSR-BUNDLE-KEYS.3",
        ),
        ksr_case(
            "swapped signatures",
            |t| {
                let first = t.find("<SignatureData>").unwrap() + 15;
                let first_end = first + t[first..].find('<').unwrap();
                let second = first_end + t[first_end..].find("<SignatureData>").unwrap() + 15;
                let second_end = second + t[second..].find('<').unwrap();
                format!(
                    "{}{}{}{}{}",
                    &t[..first],
                    &t[second..second_end],
                    &t[first_end..second],
                    &t[first..first_end],
                    &t[second_end..]
                )
            },
            "KSR-BUNDLE-POP.2",
        ),
        ksr_case(
            "a missing bundle",
            |t| remove_nth(t, "<RequestBundle", "</RequestBundle>", 4),
            "KSR-BUNDLE-COUNT",
        ),
        ksr_case(
            "a duplicated bundle id",
            |t| {
                t.replacen(
                    "3ea61ea1-43ca-47ce-a9c4-1e5799fb13b7",
                    "dc1bc68c-b1c1-46f8-817f-ec893549f2be",
                    1,
                )
            },
            "KSR-BUNDLE-UNIQUE.1",
        ),
        ksr_case(
            "an interval too long",
            |t| {
                t.replacen(
                    "<Inception>2017-06-10T00:00:00",
                    "<Inception>2017-06-12T00:00:00",
                    1,
                )
            },
            "KSR-POLICY-BUNDLE-INTERVALS",
        ),
        ksr_case(
            "a validity too short",
            |t| {
                t.replacen(
                    "<Expiration>2017-05-12T00:00:00",
                    "<Expiration>2017-05-11T00:00:00",
                    1,
                )
            },
            "KSR-POLICY-SIG-VALIDITY.1",
        ),
        ksr_case(
            "a validity too long",
            |t| {
                t.replacen(
                    "<Expiration>2017-05-12T00:00:00",
                    "<Expiration>2017-05-12T00:00:01",
                    1,
                )
            },
            "KSR-POLICY-SIG-VALIDITY.2",
        ),
        ksr_case(
            "an overlap too long",
            |t| {
                t.replacen(
                    "<Inception>2017-04-21T00:00:00",
                    "<Inception>2017-04-19T00:00:00",
                    1,
                )
            },
            "KSR-POLICY-SIG-OVERLAP",
        ),
        ksr_case(
            "a cycle too long",
            |t| {
                t.replacen(
                    "<Inception>2017-06-20T00:00:00",
                    "<Inception>2017-06-22T00:00:00",
                    1,
                )
            },
            "KSR-BUNDLE-CYCLE-DURATION",
        ),
        ksr_case(
            "bundles out of order",
            |t| {
                t.replacen(
                    "<Expiration>2017-04-22T00:00:00",
                    "<Expiration>2017-03-22T00:00:00",
                    1,
                )
            },
            "KSR-BUNDLE-ORDER",
        ),
        ksr_case(
            "an algorithm not approved",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="10">"#,
                    1,
                )
            },
            "KSR-POLICY-ALG.3",
        ),
        ksr_case(
            "a deprecated algorithm",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="1">"#,
                    1,
                )
            },
            "KSR-POLICY-ALG.1",
        ),
        ksr_case(
            "an unsupported algorithm",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="5">"#,
                    1,
                )
            },
            "KSR-POLICY-ALG.2",
        ),
        ksr_case(
            "an RSA size not approved",
            |t| t.replacen(r#"<RSA size="2048""#, r#"<RSA size="1024""#, 1),
            "KSR-POLICY-ALG.4",
        ),
        ksr_case(
            "an RSA exponent not approved",
            |t| t.replacen(r#"exponent="65537""#, r#"exponent="3""#, 1),
            "KSR-POLICY-ALG.5",
        ),
        ksr_case(
            "keys unlike the policy",
            |t| t.replacen(r#"exponent="65537""#, r#"exponent="3""#, 1),
            "KSR-POLICY-ALG.6",
        ),
        ksr_case(
            "ECDSA not enabled",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="13">"#,
                    1,
                )
                .replacen(
                    r#"<RSA size="2048" exponent="65537"/>"#,
                    r#"<ECDSA size="256"/>"#,
                    1,
                )
            },
            "KSR-POLICY-ALG.7",
        ),
        ksr_case(
            "EdDSA not enabled",
            |t| {
                t.replacen(
                    r#"<SignatureAlgorithm algorithm="8">"#,
                    r#"<SignatureAlgorithm algorithm="15">"#,
                    1,
                )
                .replacen(
                    r#"<RSA size="2048" exponent="65537"/>"#,
                    r#"<EdDSA size="256"/>"#,
                    1,
                )
            },
            "KSR-POLICY-ALG.8",
        ),
        ksr_case(
            "a KSK-flagged key in the request",
            |t| t.replacen("<Flags>256</Flags>", "<Flags>257</Flags>", 1),
            "KSR-BUNDLE-KEYS.2",
        ),
        ksr_case(
            "a Protocol other than 3",
            |t| t.replacen("<Protocol>3</Protocol>", "<Protocol>4</Protocol>", 1),
            "KSR-KEY-PROTOCOL",
        ),
        ksr_case("an even RSA modulus", |t| even_modulus(t, 0), "KSR-KEY-RSA"),
        ksr_case(
            "one identifier for two keys",
            |t| replace_nth(t, "<TTL>172800</TTL>", "<TTL>172801</TTL>", 4),
            "KSR-BUNDLE-KEYS.1",
        ),
        ksr_case(
            "a bundle with one key too few",
            |t| {
                remove_nth(
                    &remove_nth(t, "<Key ", "</Key>", 1),
                    "<Signature ",
                    "</Signature>",
                    1,
                )
            },
            "KSR-POLICY-KEYS.5",
        ),
        ksr_case(
            "a bundle id that is not an id",
            |t| t.replacen("dc1bc68c-b1c1-46f8-817f-ec893549f2be", "dc1bc68c b1c1", 1),
            "KSR-BUNDLE-ID",
        ),
        ksr_case(
            "a domain not accepted",
            |t| t.replacen(r#"domain=".""#, r#"domain="example.""#, 1),
            "KSR-DOMAIN",
        ),
        ksr_case(
            "a replayed KSR id",
            |t| {
                t.replacen(
                    "23e34059-7725-46a8-a7d2-662d657aab2b",
                    "122992ea-297d-4f12-845b-0fb448c33ccb",
                    1,
                )
            },
            "KSR-ID",
        ),
        ksr_case(
            "a bundle id reused from the previous SKR",
            |t| {
                t.replacen(
                    "dbd2a673-5ec5-4a72-9c02-11d48d27dc43",
                    &previous_bundle_id(),
                    1,
                )
            },
            "KSR-BUNDLE-UNIQUE.2",
        ),
        Case {
            name: "a first key set not in the previous SKR",
            // The ZSK keeps its key but loses its place in SKR(n-1)'s last
            // bundle under the same identifier.
            previous: |t| {
                let last = t.rfind("<ResponseBundle").unwrap();
                format!("{}{}", &t[..last], t[last..].replacen("302e312c302a06035504031323566572695369676e20444e5353656320526f6f7420414c47382032303438205a534b33", "renamed-zsk", 2))
            },
            ..ksr_case("", same, "KSR-CHAIN-KEYS.2")
        },
        ksr_case(
            "a chain overlap out of range",
            |t| {
                t.replacen(
                    "<MinValidityOverlap>P9D</MinValidityOverlap>",
                    "<MinValidityOverlap>P10DT1S</MinValidityOverlap>",
                    1,
                )
            },
            "KSR-CHAIN-OVERLAP",
        ),
        Case {
            name: "a horizon too far",
            now: "2016-10-01T00:00:00Z",
            ..ksr_case("", same, "KSR-POLICY-SIG-HORIZON.1")
        },
        Case {
            name: "an expired bundle",
            now: "2017-07-12T00:00:00Z",
            ..ksr_case("", same, "KSR-POLICY-SIG-HORIZON.2")
        },
        Case {
            name: "a ZSK tag reserved",
            config: "[request_policy]\nreserved_key_tags = [14796]\n",
            ..ksr_case("", same, "KSR-KEYTAG-CLASH")
        },
        Case {
            name: "another number of distinct keys",
            config: "[request_policy]\nnum_different_keys_in_all_bundles = 4\n",
            ..ksr_case("", same, "KSR-POLICY-KEYS.6")
        },
        Case {
            name: "another number of bundles in the key list",
            config: "[request_policy]\nnum_keys_per_bundle = [2, 1, 1, 1, 1, 1, 1, 2]\n",
            ..ksr_case("", same, "KSR-POLICY-KEYS.4")
        },
        Case {
            name: "a previous SKR signed by a KSK not pinned",
            config: "[keys.other]\nlabel = \"Kother\"\nalgorithm = \"RSASHA256\"\nvalid_from = \"2017-01-01T00:00:00Z\"\nds_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nkey_tag = 1\n",
            ..ksr_case("", same, "KSR-CHAIN-KEYS.1")
        },
        Case {
            name: "a previous SKR with a bundle too few",
            previous: |t| remove_nth(t, "<ResponseBundle", "</ResponseBundle>", 3),
            ..ksr_case("", same, "SKR-PREV-COUNT")
        },
        Case {
            name: "a previous SKR with a bad signature",
            previous: |t| t.replacen("<SignatureData>", "<SignatureData>AAAA", 1),
            ..ksr_case("", same, "SKR-PREV-SIGS")
        },
        Case {
            name: "a KSR TTL other than the KSK policy's",
            config: "[ksk_policy]\nttl = 86400\n",
            severity: "warning",
            exit: 0,
            ..ksr_case("", same, "KSR-POLICY-TTL")
        },
        Case {
            name: "a switched-off check",
            config: "[request_policy]\ncheck_cycle_length = false\n",
            severity: "warning",
            exit: 0,
            ..ksr_case("", same, "CHECK-DISABLED")
        },
    ]
}

/// Runs one case and returns the run.
fn run_case(case: &Case, dir: &std::path::Path) -> Run {
    let ksr = dir.join("ksr.xml");
    let previous = dir.join("previous.xml");
    std::fs::write(&ksr, (case.ksr)(&vector_text(KSR))).unwrap();
    std::fs::write(&previous, (case.previous)(&vector_text(PREVIOUS))).unwrap();
    let mut args = vec![
        "--json",
        "ksr",
        "check",
        arg(&ksr),
        "--previous-skr",
        arg(&previous),
        "--now",
        case.now,
    ];
    let config = dir.join("ceremony.toml");
    if !case.config.is_empty() {
        std::fs::write(&config, case.config).unwrap();
        args.extend(["--config", arg(&config)]);
    }
    run(&args)
}

#[test]
fn every_mutation_fails_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 25);
    for case in cases.iter().chain(&parse_cases()) {
        let result = run_case(case, dir.path());
        assert_eq!(
            result.code, case.exit,
            "{}: exit\n{}",
            case.name, result.stdout
        );
        let json = result.json();
        let found = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == case.code && f["severity"] == case.severity);
        assert!(
            found,
            "{}: no {} {} in\n{}",
            case.name, case.severity, case.code, result.stdout
        );
        // A parse finding carries its place; every other one of a
        // document, its bundle when it is about one.
        for finding in json["findings"].as_array().unwrap() {
            let code = finding["code"].as_str().unwrap();
            if code.starts_with("KSR-PARSE-") && code != "KSR-PARSE-SIZE" {
                assert!(
                    finding["line"].is_u64() && finding["column"].is_u64(),
                    "{}: {finding}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn every_check_code_has_a_failing_case() {
    let mut covered: Vec<String> = cases()
        .iter()
        .chain(&parse_cases())
        .map(|case| case.code.to_owned())
        .collect();
    // What a one-file edit of a KSR cannot show, shown elsewhere:
    // hostile.rs (size, well-formedness, limits), skr_check.rs (the anchor,
    // consistency with the KSR), this file (the policy file), ksr_check.rs
    // (no previous SKR, the clock), ksr/tests/request.rs (stage 6 on
    // edited SKR models: safety and KSK consistency), and
    // ksr/tests/build.rs with the unit tests of ksr/src/response/build.rs
    // (stage 5: the builder and its signer; the `sign` command comes with
    // the ceremony issue).
    covered.extend(
        [
            "KSR-PARSE-SIZE",
            "KSR-PARSE-XML",
            "KSR-PARSE-LIMITS",
            "SKR-ANCHOR",
            "TOOL-CONFIG",
            "TOOL-PREV-SKR",
            "TOOL-NOW",
            "SKR-CONSISTENCY.1",
            "SKR-CONSISTENCY.2",
            "SKR-CONSISTENCY.3",
            "KSR-POLICY-SAFETY.1",
            "KSR-POLICY-SAFETY.2",
            "KSR-POLICY-SAFETY.3",
            "KSR-POLICY-SAFETY.4",
            "SIGN-SCHEMA",
            "SIGN-KEY-VALIDITY",
            "SIGN-KEY-LOOKUP",
            "SIGN-KEY-LABEL",
            "SIGN-KEY-TYPE",
            "SIGN-KEY-DS",
            "SIGN-KEY-TAG",
            "SIGN-TTL",
            "SKR-VERIFY",
            "SIGN-ALG-COVERAGE",
            "SIGN-BUNDLE-SIGS",
            "SKR-REREAD",
            // The text format's, in tests/cli/knot.rs (and the parser's
            // unit tests in ksr/src/text/parse.rs).
            "TXT-PARSE-HEADER",
            "TXT-PARSE-RR",
            "TXT-KSR-ZSK-ONLY",
            "TXT-KSR-UNAUTHENTICATED",
            "TXT-CHAIN-GAP",
            "TXT-SKR-GAP",
        ]
        .map(String::from),
    );
    for code in ksr::CheckCode::ALL {
        assert!(
            covered.iter().any(|c| c == code.as_str()),
            "{code} has no failing case"
        );
    }
}

#[test]
fn the_unmutated_case_passes() {
    // The harness itself, with no edit, is the production verdict.
    let dir = tempfile::tempdir().unwrap();
    let result = run_case(&ksr_case("none", same, "TOOL-NOW"), dir.path());
    assert_eq!(result.code, 0, "{}", result.stdout);
}

#[test]
fn an_invalid_policy_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ceremony.toml");
    std::fs::write(&config, "[request_policy]\nnum_bundels = 9\n").unwrap();
    let mut args = as_in_production(arg(&vector(KSR)));
    args.extend(["--config".into(), arg(&config).into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
        .expect_code(2)
        .expect_stderr("TOOL-CONFIG")
        .expect_stderr("line 2, column 1")
        .expect_stderr("num_bundels")
        .expect_stderr("hint: `ceremony policy show`");
}

#[test]
fn a_bad_now_is_a_usage_error() {
    run(&["ksr", "check", arg(&vector(KSR)), "--now", "yesterday"])
        .expect_code(2)
        .expect_stderr("--now \"yesterday\"");
}

#[test]
fn the_policy_shows_as_toml_and_reads_back() {
    let shown = run(&["policy", "show"]);
    shown
        .expect_code(0)
        .expect_stdout("[request_policy]")
        .expect_stdout("num_keys_per_bundle = [2, 1, 1, 1, 1, 1, 1, 1, 2]")
        .expect_stdout("min_bundle_interval = \"P9D\"")
        .expect_stdout(
            "ds_sha256 = \"E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\"",
        );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ceremony.toml");
    std::fs::write(&config, &shown.stdout).unwrap();
    let again = run(&["--config", arg(&config), "policy", "show"]);
    again.expect_code(0);
    assert_eq!(
        again.stdout.lines().skip(1).collect::<Vec<_>>(),
        shown.stdout.lines().skip(1).collect::<Vec<_>>()
    );
}

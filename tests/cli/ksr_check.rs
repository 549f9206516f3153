//! `ceremony ksr check`.

use crate::harness::{KSRS, arg, run, vector, vector_text};

/// The arguments that judge the 2017-Q2 KSR as in production: against the
/// 2017-Q1 SKR, as of a day in its submission window.
pub fn as_in_production(ksr: &str) -> Vec<String> {
    vec![
        "ksr".into(),
        "check".into(),
        ksr.into(),
        "--previous-skr".into(),
        arg(&vector("skr-root-2017-q1-0.xml")).into(),
        "--now".into(),
        "2017-03-20T00:00:00Z".into(),
    ]
}

/// Runs with owned arguments.
pub fn run_owned(args: &[String]) -> crate::harness::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

#[test]
fn the_2017_q2_ksr_passes_as_in_production() {
    run_owned(&as_in_production(arg(&vector(KSRS[2]))))
        .expect_code(0)
        .expect_stdout("TOOL-NOW")
        .expect_stdout("as of 2017-03-20T00:00:00Z: chained to")
        .expect_stdout("0 error(s), 0 warning(s)");
}

#[test]
fn the_historic_ksrs_fail_their_policy_as_documented() {
    for (name, now, codes) in [
        (
            KSRS[0],
            "2009-12-01T00:00:00Z",
            &[
                "KSR-POLICY-ALG.4",
                "KSR-POLICY-ALG.5",
                "KSR-POLICY-ALG.6",
                "KSR-POLICY-SIG-OVERLAP",
                "KSR-POLICY-SIG-VALIDITY.1",
            ][..],
        ),
        (
            KSRS[1],
            "2016-06-01T00:00:00Z",
            &[
                "KSR-POLICY-ALG.4",
                "KSR-POLICY-SIG-OVERLAP",
                "KSR-POLICY-SIG-VALIDITY.1",
            ][..],
        ),
    ] {
        let result = run(&["--json", "ksr", "check", arg(&vector(name)), "--now", now]);
        result.expect_code(3);
        let json = result.json();
        for code in codes {
            assert!(
                json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["code"] == *code && f["severity"] == "error"),
                "{name}: {code} missing"
            );
        }
    }
}

#[test]
fn without_now_the_system_clock_judges_and_the_vectors_have_expired() {
    run(&["ksr", "check", arg(&vector(KSRS[2]))])
        .expect_code(3)
        .expect_stdout("KSR-POLICY-SIG-HORIZON.2")
        .expect_stdout("(the system clock)");
}

#[test]
fn json_lists_no_errors_or_warnings_for_a_good_ksr() {
    let mut args = vec!["--json".to_owned()];
    args.extend(as_in_production(arg(&vector(KSRS[2]))));
    let result = run_owned(&args);
    result.expect_code(0);
    let json = result.json();
    let findings = json["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["severity"] == "info"),
        "{findings:#?}"
    );
    assert_eq!(json["passed"], true);
    assert!(
        json["previous_skr"]
            .as_str()
            .unwrap()
            .ends_with("skr-root-2017-q1-0.xml")
    );
}

/// Where in a document to change one byte, and which check must notice.
pub struct Mutation {
    /// The element or attribute text to find, such as `<SignatureData>`.
    pub marker: &'static str,
    /// How far past the end of the marker the byte is.
    pub offset: usize,
    /// The check code the finding must carry.
    pub code: &'static str,
}

/// Changes one byte into another of the same kind, so the document stays
/// well-formed: a digit into another digit, a letter into another letter.
pub fn flip(byte: u8) -> u8 {
    match byte {
        b'9' => b'0',
        b'0'..=b'8' => byte + 1,
        b'z' | b'Z' => byte - 1,
        b'a'..=b'y' | b'A'..=b'Y' => byte + 1,
        b'+' => b'/',
        _ => b'A',
    }
}

/// Applies a mutation at the `occurrence`-th marker and returns the text.
pub fn mutate(text: &str, mutation: &Mutation, occurrence: usize) -> Option<String> {
    let start = text.match_indices(mutation.marker).nth(occurrence)?.0
        + mutation.marker.len()
        + mutation.offset;
    let mut bytes = text.as_bytes().to_vec();
    bytes[start] = flip(bytes[start]);
    Some(String::from_utf8(bytes).expect("an ASCII byte was replaced"))
}

/// Runs a check on every occurrence (first, middle, last) of each
/// mutation and asserts exit 3 with the expected code.
pub fn assert_caught(command: &str, name: &str, mutations: &[Mutation]) {
    let text = vector_text(name);
    let dir = tempfile::tempdir().unwrap();
    for mutation in mutations {
        let count = text.matches(mutation.marker).count();
        assert!(count > 0, "{name} has no {}", mutation.marker);
        for occurrence in [0, count / 2, count - 1] {
            let changed = mutate(&text, mutation, occurrence).unwrap();
            let path = dir.path().join(format!("{occurrence}-{name}"));
            std::fs::write(&path, changed).unwrap();
            let result = run(&["--json", command, "check", arg(&path)]);
            result.expect_code(3);
            let json = result.json();
            let codes: Vec<&str> = json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|finding| finding["code"].as_str().unwrap())
                .collect();
            assert!(
                codes.contains(&mutation.code),
                "{name}: a byte changed at {} #{occurrence} gave {codes:?}, expected {}",
                mutation.marker,
                mutation.code
            );
        }
    }
}

#[test]
fn a_changed_byte_in_a_signature_key_or_time_is_caught() {
    let mutations = [
        Mutation {
            marker: "<SignatureData>",
            offset: 40,
            code: "KSR-BUNDLE-POP.2",
        },
        Mutation {
            marker: "<PublicKey>",
            offset: 30,
            code: "KSR-BUNDLE-POP.2",
        },
        // The last digit of the seconds of the RRSIG times.
        Mutation {
            marker: "<SignatureInception>",
            offset: 18,
            code: "KSR-BUNDLE-POP.2",
        },
        Mutation {
            marker: "<SignatureExpiration>",
            offset: 18,
            code: "KSR-BUNDLE-POP.2",
        },
        Mutation {
            marker: "<OriginalTTL>",
            offset: 5,
            code: "KSR-BUNDLE-POP.2",
        },
        Mutation {
            marker: "<KeyTag>",
            offset: 4,
            code: "KSR-BUNDLE-POP.2",
        },
        Mutation {
            marker: "<Flags>",
            offset: 0,
            code: "KSR-PARSE-FLAGS",
        },
        Mutation {
            marker: "keyTag=\"",
            offset: 1,
            code: "KSR-BUNDLE-KEYS.3",
        },
        Mutation {
            marker: "<Algorithm>",
            offset: 0,
            code: "KSR-PARSE-ALG",
        },
    ];
    for name in KSRS {
        assert_caught("ksr", name, &mutations);
    }
}

#[test]
fn swapped_signatures_of_a_bundle_fail_pop() {
    // The README of the vectors: swap the two SignatureData values of a
    // bundle and KSR-BUNDLE-POP.2 fails.
    let text = vector_text(KSRS[2]);
    let data: Vec<(usize, usize)> = text
        .match_indices("<SignatureData>")
        .take(2)
        .map(|(start, marker)| {
            let from = start + marker.len();
            (from, from + text[from..].find('<').unwrap())
        })
        .collect();
    let (first, second) = (&text[data[0].0..data[0].1], &text[data[1].0..data[1].1]);
    let swapped = format!(
        "{}{second}{}{first}{}",
        &text[..data[0].0],
        &text[data[0].1..data[1].0],
        &text[data[1].1..]
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("swapped.xml");
    std::fs::write(&path, swapped).unwrap();
    let result = run(&["ksr", "check", arg(&path)]);
    result.expect_code(3).expect_stdout("KSR-BUNDLE-POP.2");
    assert_eq!(
        result.stdout.matches("KSR-BUNDLE-POP.2").count(),
        2,
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("bundle 1 dc1bc68c-b1c1-46f8-817f-ec893549f2be"),
        "{}",
        result.stdout
    );
}

#[test]
fn findings_in_json_carry_code_severity_bundle_and_message() {
    let text = vector_text(KSRS[2]);
    let changed = mutate(
        &text,
        &Mutation {
            marker: "keyTag=\"",
            offset: 1,
            code: "",
        },
        2,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tag.xml");
    std::fs::write(&path, changed).unwrap();
    let result = run(&["--json", "ksr", "check", arg(&path)]);
    result.expect_code(3);
    let finding = result.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["code"] == "KSR-BUNDLE-KEYS.3")
        .cloned()
        .expect("a key-tag finding");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["bundle"], "3ea61ea1-43ca-47ce-a9c4-1e5799fb13b7");
    assert_eq!(finding["bundle_number"], 2);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("RFC 4034 Appendix B")
    );
}

#[test]
fn a_structure_error_names_line_column_and_code() {
    let text = vector_text(KSRS[2]).replacen(
        "<Protocol>3</Protocol>",
        "<Protocol>3</Protocol><Extra/>",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extra.xml");
    std::fs::write(&path, text).unwrap();
    let result = run(&["ksr", "check", arg(&path)]);
    result
        .expect_code(3)
        .expect_stdout("KSR-PARSE-STRUCTURE")
        .expect_stdout("extra.xml:22:")
        .expect_stdout("unknown element <Extra> in <Key>");
}

#[test]
fn an_skr_given_as_ksr_is_named_as_such() {
    run(&["ksr", "check", arg(&vector("skr-root-2017-q2-0.xml"))])
        .expect_code(3)
        .expect_stdout("KSR-PARSE-ROOT")
        .expect_stdout("this is an SKR");
}

#[test]
fn a_missing_file_exits_1() {
    run(&["ksr", "check", "/nonexistent/ksr.xml"])
        .expect_code(1)
        .expect_stderr("error: cannot read /nonexistent/ksr.xml");
}

//! Every refusal that needs no private key comes before the first card:
//! one row per code, each driven through the binary with cards at hand.
//! For each: a nonzero exit, no SKR, no card read (every card file byte for
//! byte as it was: no counter moved), no card or HSM entry in the audit
//! log after the operation opened, and its closing entry names the code.

use std::path::Path;

use crate::ceremony::{Ceremony, now_for};
use crate::harness::Run;

/// The bytes of every card of a ceremony.
fn cards(ceremony: &Ceremony) -> Vec<Vec<u8>> {
    (1..=5)
        .map(|number| std::fs::read(ceremony.card(&format!("CO-{number}"))).unwrap())
        .collect()
}

/// Signs `ksr` as of `now` with two cards and every other argument given;
/// asserts that the refusal came before any card, and returns the run.
fn refused(ceremony: &Ceremony, ksr: &str, now: &str, out: &str, extra: &[&str]) -> Run {
    let before = cards(ceremony);
    let log_before = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let config = ceremony.path("c/ceremony.toml");
    let (one, two, pins) = (
        ceremony.card("CO-1"),
        ceremony.card("CO-2"),
        ceremony.path("pins.toml"),
    );
    let mut args = vec![
        "--config",
        &config,
        "--now",
        now,
        "sign",
        ksr,
        "-o",
        out,
        "--pin-file",
        &pins,
        "--yes",
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--previous-skr") {
        args.push("--no-previous-skr");
    }
    args.extend(["--cards", &one, &two]);
    let run = ceremony.run(&args);
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!Path::new(out).exists(), "an SKR was written");
    assert!(
        cards(ceremony) == before,
        "a card was read: its file changed"
    );
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let added = &log[log_before.len()..];
    assert!(added.contains("\"event\":\"sign-begin\""), "{added}");
    for event in [
        "card-inserted",
        "card-accepted",
        "card-refused",
        "wrong-pin",
        "hsm-activated",
    ] {
        assert!(
            !added.contains(&format!("\"event\":\"{event}\"")),
            "{event} after the refusal:\n{added}"
        );
    }
    let closing = added.lines().last().unwrap();
    assert!(closing.contains("\"event\":\"sign-refused\""), "{added}");
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    run
}

/// Asserts the refusal names a code, on the screen and in the closing
/// audit entry.
fn names(ceremony: &Ceremony, run: &Run, code: &str, exit: i32) {
    assert_eq!(run.code, exit, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(code) || run.stderr.contains(code),
        "{code} not shown:\n{}{}",
        run.stdout,
        run.stderr
    );
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    assert!(log.lines().last().unwrap().contains(code), "{log}");
}

/// A first-quarter KSR with the first bundle at `inception`.
fn ksr_at(ceremony: &Ceremony, name: &str, inception: &str, extra: &[&str]) -> String {
    let out = ceremony.path(name);
    let (config, dir) = (ceremony.path("c/ceremony.toml"), ceremony.path("zsk-other"));
    let mut args = vec![
        "--config",
        &config,
        "zsk",
        "make-ksr",
        "--dir",
        &dir,
        "--domain",
        "example.",
        "--out",
        &out,
        "--inception",
        inception,
    ];
    args.extend_from_slice(extra);
    ceremony.run(&args).expect_code(0);
    out
}

/// Rewrites the ceremony's policy, and approves it with a quorum.
fn edit_policy(ceremony: &Ceremony, from: &str, to: &str) {
    let path = ceremony.path("c/ceremony.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    ceremony
        .approve_policy()
        .expect_code(0)
        .expect_stdout("is approved");
}

#[test]
fn a_policy_edited_without_a_quorum_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ksr_at(&ceremony, "q1.xml", "2030-01-10T00:00:00Z", &[]);
    let path = ceremony.path("c/ceremony.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(
            "max_signature_validity = \"P21D\"",
            "max_signature_validity = \"P365D\"",
            1,
        ),
    )
    .unwrap();
    assert_ne!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the edit took"
    );
    let out = ceremony.path("skr.xml");
    let run = refused(&ceremony, &ksr, &now_for(1), &out, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the policy changed since the quorum approved it"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_ksr_before_the_ksk_is_valid_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    // The KSK is valid from init (2029-12-01) less an hour; this KSR starts
    // a month earlier.
    let ksr = ksr_at(&ceremony, "early.xml", "2029-11-01T00:00:00Z", &[]);
    let out = ceremony.path("skr.xml");
    let run = refused(&ceremony, &ksr, "2029-10-20T00:00:00Z", &out, &[]);
    names(&ceremony, &run, "SIGN-KEY-VALIDITY", 3);
}

#[test]
fn an_output_in_a_missing_directory_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ceremony.make_ksr(1);
    let out = ceremony.path("absent/skr.xml");
    let run = refused(&ceremony, &ksr, &now_for(1), &out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("absent/skr.xml"), "{}", run.stderr);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("tmp-"),
        "a temporary's name: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("ceremony-tmp"), "{}", run.stderr);
}

#[test]
fn zsks_of_another_algorithm_are_refused_before_any_card() {
    // An ECDSA ceremony; the ZSKs are RSA.
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ksr_at(
        &ceremony,
        "rsa.xml",
        "2030-01-10T00:00:00Z",
        &["--algorithm", "rsasha256"],
    );
    let out = ceremony.path("skr.xml");
    let run = refused(&ceremony, &ksr, &now_for(1), &out, &[]);
    names(&ceremony, &run, "SIGN-ALG-COVERAGE", 3);
    // In words, not Rust's debug syntax.
    assert!(!run.stdout.contains("{\""), "{}", run.stdout);
}

#[test]
fn an_unknown_schema_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ceremony.make_ksr(1);
    let out = ceremony.path("skr.xml");
    let run = refused(
        &ceremony,
        &ksr,
        &now_for(1),
        &out,
        &["--schema", "nonsense"],
    );
    names(&ceremony, &run, "SIGN-SCHEMA", 2);
}

#[test]
fn a_ksk_the_hsm_lacks_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ceremony.make_ksr(1);
    edit_policy(&ceremony, "label = \"ksk-1\"", "label = \"ksk-9\"");
    let out = ceremony.path("skr.xml");
    let run = refused(&ceremony, &ksr, &now_for(1), &out, &[]);
    names(&ceremony, &run, "SIGN-KEY-LOOKUP", 3);
}

#[test]
fn a_ttl_no_resolver_keeps_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ceremony.make_ksr(1);
    edit_policy(&ceremony, "\nttl = 3600\n", "\nttl = 2147483648\n");
    let out = ceremony.path("skr.xml");
    let run = refused(&ceremony, &ksr, &now_for(1), &out, &[]);
    names(&ceremony, &run, "SIGN-TTL", 3);
}

/// A ceremony that signed its first quarter; the KSR of the second.
fn second_quarter() -> (Ceremony, String) {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let config = ceremony.path("c/ceremony.toml");
    let (ksr, skr, pins) = (
        ceremony.path("ksr-1.xml"),
        ceremony.path("skr-1.xml"),
        ceremony.path("pins.toml"),
    );
    let (one, two) = (ceremony.card("CO-1"), ceremony.card("CO-2"));
    ceremony
        .run(&[
            "--config",
            &config,
            "--now",
            &now_for(1),
            "sign",
            &ksr,
            "--no-previous-skr",
            "-o",
            &skr,
            "--pin-file",
            &pins,
            "--yes",
            "--cards",
            &one,
            &two,
        ])
        .expect_code(0);
    let next = ceremony.make_ksr(2);
    (ceremony, next)
}

#[test]
fn a_damaged_previous_skr_is_refused_before_any_card() {
    let (ceremony, ksr) = second_quarter();
    let previous = ceremony.path("skr-1.xml");
    let text = std::fs::read_to_string(&previous).unwrap();
    let at = text.find("<SignatureData>").unwrap() + "<SignatureData>".len() + 6;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let damaged = ceremony.path("damaged.xml");
    std::fs::write(&damaged, bytes).unwrap();
    let out = ceremony.path("skr-2.xml");
    let run = refused(
        &ceremony,
        &ksr,
        &now_for(2),
        &out,
        &["--previous-skr", &damaged],
    );
    names(&ceremony, &run, "SKR-PREV-SIGS", 3);
}

#[test]
fn a_ksr_that_does_not_continue_the_chain_is_refused_before_any_card() {
    let (ceremony, _) = second_quarter();
    // A quarter made from other ZSKs: its first bundle is not the previous
    // SKR's last.
    let ksr = ksr_at(&ceremony, "unchained.xml", "2030-04-10T00:00:00Z", &[]);
    let previous = ceremony.path("skr-1.xml");
    let out = ceremony.path("skr-2.xml");
    let run = refused(
        &ceremony,
        &ksr,
        &now_for(2),
        &out,
        &["--previous-skr", &previous],
    );
    names(&ceremony, &run, "KSR-CHAIN-KEYS.2", 3);
}

#[test]
fn a_previous_skr_signed_by_a_key_this_hsm_lacks_is_refused_before_any_card() {
    // Another ceremony signed the first quarter; this one pins that KSK in
    // its policy (so the DS pins pass) but its HSM does not hold it.
    let (other, ksr) = second_quarter();
    let ceremony = Ceremony::new("soft", "2");
    let theirs = std::fs::read_to_string(other.path("c/ceremony.toml")).unwrap();
    let start = theirs.find("[keys.ksk_current]").unwrap();
    let block: String = theirs[start..]
        .lines()
        .take_while(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("[keys.ksk_current]", "[keys.ksk_other]")
        .replace("label = \"ksk-1\"", "label = \"ksk-other\"");
    let path = ceremony.path("c/ceremony.toml");
    let mut ours = std::fs::read_to_string(&path).unwrap();
    ours.push_str(&format!("\n{block}\n"));
    std::fs::write(&path, ours).unwrap();
    ceremony
        .approve_policy()
        .expect_code(0)
        .expect_stdout("+ [keys.ksk_other]");
    let previous = other.path("skr-1.xml");
    let out = ceremony.path("skr-2.xml");
    let run = refused(
        &ceremony,
        &ksr,
        &now_for(2),
        &out,
        &["--previous-skr", &previous],
    );
    names(&ceremony, &run, "KSR-CHAIN-KEYS.1", 3);
}

#[test]
fn signing_with_a_key_the_previous_skr_never_published_is_refused_before_any_card() {
    let (ceremony, ksr) = second_quarter();
    let config = ceremony.path("c/ceremony.toml");
    let (three, four, pins) = (
        ceremony.card("CO-3"),
        ceremony.card("CO-4"),
        ceremony.path("pins.toml"),
    );
    ceremony
        .run(&[
            "--config",
            &config,
            "--now",
            &now_for(2),
            "keygen",
            "--algorithm",
            "ecdsap256sha256",
            "--label",
            "ksk-2",
            "--cards",
            &three,
            &four,
            "--pin-file",
            &pins,
            "--yes",
        ])
        .expect_code(0);
    let previous = ceremony.path("skr-1.xml");
    let out = ceremony.path("skr-2.xml");
    let run = refused(
        &ceremony,
        &ksr,
        &now_for(2),
        &out,
        &["--previous-skr", &previous, "--schema", "rollover+"],
    );
    names(&ceremony, &run, "KSR-POLICY-SAFETY.1", 3);
}

#[test]
fn a_switched_off_check_is_shown_in_json_and_recorded() {
    let (ceremony, ksr) = second_quarter();
    edit_policy(
        &ceremony,
        "check_keys_retire_safety = true",
        "check_keys_retire_safety = false",
    );
    let config = ceremony.path("c/ceremony.toml");
    let (one, two, pins) = (
        ceremony.card("CO-1"),
        ceremony.card("CO-2"),
        ceremony.path("pins.toml"),
    );
    let previous = ceremony.path("skr-1.xml");
    let out = ceremony.path("skr-2.xml");
    let signed = ceremony.run(&[
        "--json",
        "--config",
        &config,
        "--now",
        &now_for(2),
        "sign",
        &ksr,
        "--previous-skr",
        &previous,
        "-o",
        &out,
        "--pin-file",
        &pins,
        "--yes",
        "--cards",
        &one,
        &two,
    ]);
    signed.expect_code(0);
    let warnings = signed.json()["warnings"].to_string();
    assert!(
        warnings.contains("CHECK-DISABLED") && warnings.contains("KSR-POLICY-SAFETY.3"),
        "{warnings}"
    );
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let confirmed = log
        .lines()
        .rfind(|line| line.contains("\"event\":\"sign-confirmed\""))
        .unwrap();
    assert!(confirmed.contains("CHECK-DISABLED"), "{confirmed}");
    // Without --json the summary shows it before the confirmation.
    let out = ceremony.path("skr-2b.xml");
    let shown = ceremony.run(&[
        "--config",
        &config,
        "--now",
        &now_for(2),
        "sign",
        &ksr,
        "--previous-skr",
        &previous,
        "-o",
        &out,
        "--pin-file",
        &pins,
        "--yes",
        "--cards",
        &one,
        &two,
    ]);
    shown.expect_code(0).expect_stdout("warning CHECK-DISABLED");
}

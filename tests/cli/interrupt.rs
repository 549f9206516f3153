//! Interruptions leave a log that ends with the operation's closing entry
//! (or, after a SIGKILL, one the next command writes) and verifies: Ctrl-C
//! at the confirmation and at a PIN prompt, typed on a real pseudo-terminal;
//! a SIGKILL while signing; an SKR that cannot be written after signing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ceremony::{Ceremony, now_for};

/// The last audit entry of a ceremony.
fn last_entry(ceremony: &Ceremony) -> serde_json::Value {
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    serde_json::from_str(log.lines().last().unwrap()).unwrap()
}

/// Runs `ceremony ARGS` on a pseudo-terminal, types Ctrl-C once it printed
/// `prompt`; returns what it printed and its exit code.
fn interrupt_at(ceremony: &Ceremony, prompt: &str, args: &[&str]) -> (String, i32) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/pty/interrupt.py");
    let output = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(prompt)
        .arg(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .current_dir(ceremony.path(""))
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let code = text
        .lines()
        .last()
        .and_then(|line| line.strip_prefix("EXIT "))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no exit code:\n{text}"));
    (text, code)
}

fn sign_args(ceremony: &Ceremony) -> Vec<String> {
    [
        "--config",
        &ceremony.path("c/ceremony.toml"),
        "--now",
        &now_for(1),
        "sign",
        &ceremony.path("ksr-1.xml"),
        "--no-previous-skr",
        "-o",
        &ceremony.path("skr-1.xml"),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn ctrl_c_at_the_confirmation_closes_the_operation_as_aborted() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let args = sign_args(&ceremony);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (text, code) = interrupt_at(&ceremony, "Type yes", &args);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("interrupted by SIGINT"), "{text}");
    let last = last_entry(&ceremony);
    assert_eq!(last["event"], "sign-aborted", "{last}");
    assert_eq!(last["details"]["reason"], "SIGINT", "{last}");
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
    assert!(!Path::new(&ceremony.path("c/ceremony.lock")).exists());
}

#[test]
fn ctrl_c_at_a_pin_prompt_closes_the_operation_as_aborted() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let before = std::fs::read(ceremony.card("CO-1")).unwrap();
    let card = ceremony.card("CO-1");
    let mut args = sign_args(&ceremony);
    args.extend(["--yes".into(), "--cards".into(), card]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (text, code) = interrupt_at(&ceremony, "PIN of CO-1's card", &args);
    assert_eq!(code, 1, "{text}");
    let last = last_entry(&ceremony);
    assert_eq!(last["event"], "sign-aborted", "{last}");
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    // No try was spent, and the card's lock went with the process.
    assert_eq!(std::fs::read(ceremony.card("CO-1")).unwrap(), before);
    assert!(!Path::new(&format!("{}.lock", ceremony.card("CO-1"))).exists());
    assert!(!Path::new(&ceremony.path("c/ceremony.lock")).exists());
}

/// `sign` with two cards, each signature taking a while, not waited for.
fn slow_sign(ceremony: &Ceremony, out: &str) -> std::process::Child {
    let mut args = sign_args(ceremony);
    args.retain(|arg| !arg.ends_with("skr-1.xml"));
    args.extend([
        out.to_owned(),
        "--yes".into(),
        "--pin-file".into(),
        ceremony.path("pins.toml"),
        "--cards".into(),
        ceremony.card("CO-1"),
        ceremony.card("CO-2"),
    ]);
    Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .env("CEREMONY_TEST_STALL_MS", "400")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the audit log has an entry of this event in the signing
/// operation.
fn wait_for_event(ceremony: &Ceremony, event: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let needle = format!("\"event\":\"{event}\"");
    let seen = || {
        let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
        log.rfind("\"event\":\"sign-begin\"")
            .is_some_and(|begin| log[begin..].contains(&needle))
    };
    while !seen() {
        assert!(Instant::now() < deadline, "no {event}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_sigkill_while_signing_is_recorded_as_interrupted_by_the_next_command() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let out = ceremony.path("skr-1.xml");
    let mut child = slow_sign(&ceremony, &out);
    wait_for_event(&ceremony, "hsm-activated");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    // The log verifies, and the operation is open.
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    assert_eq!(last_entry(&ceremony)["event"], "hsm-activated");
    // A torn card write of the killed run, and one beside the output.
    let stale = [
        ceremony.path("c/cards/.CO-1.card.AbCdEfGh.ceremony-tmp"),
        ceremony.path(".skr-1.xml.AbCdEfGh.ceremony-tmp"),
    ];
    for path in &stale {
        std::fs::write(path, b"torn").unwrap();
    }
    // The next command records the interruption before anything else.
    let config = ceremony.path("c/ceremony.toml");
    ceremony
        .run(&["--config", &config, "inventory"])
        .expect_code(0)
        .expect_stderr("interrupted");
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let events: Vec<String> = log
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let tail: Vec<&str> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["sign-interrupted", "stale-files-removed"], "{log}");
    for path in &stale {
        assert!(!Path::new(path).exists(), "{path} is left");
    }
    assert!(!Path::new(&out).exists());
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    // Every card is whole, and the ceremony still signs.
    for number in 1..=5 {
        ceremony
            .run(&["card", "status", &ceremony.card(&format!("CO-{number}"))])
            .expect_code(0);
    }
    let again = slow_sign(&ceremony, &out);
    let output = again.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_skr_that_cannot_be_written_closes_the_operation_as_failed() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let dir = ceremony.path("out");
    std::fs::create_dir(&dir).unwrap();
    let out = format!("{dir}/skr-1.xml");
    let child = slow_sign(&ceremony, &out);
    wait_for_event(&ceremony, "hsm-activated");
    // The output's directory goes away while the HSM signs.
    std::fs::remove_dir(&dir).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("skr-1.xml"), "{stderr}");
    let last = last_entry(&ceremony);
    assert_eq!(last["event"], "sign-failed", "{last}");
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    assert!(log.contains("\"event\":\"hsm-deactivated\""), "{log}");
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
}

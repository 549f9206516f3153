//! The printed script and record in headless Chromium: `ceremony script`
//! from a real transfer set shows the values the ceremony compares (the
//! KSR's words as `ceremony hash` gives them, the audit head, every
//! officer's card serial); after a signing with a refused card and a wrong
//! PIN, `ceremony record` shows the hashes of the audit log and of the
//! medium — computed here with sha2 — and every refusal. Both pages print
//! on A4 without overflow.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::airgap::{Intake, words_file};
use crate::browser::check_printable;
use crate::ceremony::{Ceremony, now_for};

/// The most pages either document may print on.
const MAX_PAGES: usize = 14;

/// SHA-256 of bytes, hex.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A hash as the pages show it: eight groups of eight hex digits.
fn grouped(hex: &str) -> String {
    hex.as_bytes()
        .chunks(8)
        .map(|group| std::str::from_utf8(group).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 32 PGP words of a hash in numbered groups of four, as the pages'
/// text reads: "1. w w w w", …
fn numbered(words: &[String]) -> Vec<String> {
    words
        .chunks(4)
        .enumerate()
        .map(|(index, group)| format!("{}. {}", index + 1, group.join(" ")))
        .collect()
}

/// The audit log's lines.
fn log_lines(ceremony: &Ceremony) -> Vec<String> {
    std::fs::read_to_string(ceremony.path("c/audit.log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The last line of the log naming `event`, parsed, and its own hash.
fn last_entry(lines: &[String], event: &str) -> (serde_json::Value, String) {
    let line = lines
        .iter()
        .rev()
        .find(|line| line.contains(&format!("\"event\":\"{event}\"")))
        .unwrap_or_else(|| panic!("no {event} in the log"));
    (serde_json::from_str(line).unwrap(), sha256(line.as_bytes()))
}

/// A rehearsal ceremony with the intake pinned and one transfer set
/// exported to `media`; answers the set's folder.
fn exported(ceremony: &Ceremony, intake: &mut Intake<'_>) -> String {
    intake.pin();
    intake.start(&now_for(1));
    let id = intake.submit(&ceremony.make_ksr(1));
    intake.export(&id, &ceremony.path("media"))
}

#[test]
fn the_script_and_the_record_carry_the_ceremonys_real_values_and_print_on_a4() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    let set = exported(&ceremony, &mut intake);
    let config = ceremony.path("c/ceremony.toml");
    let heard = ceremony.path("heard.txt");
    let ksr_words = words_file(&ceremony, &format!("{set}/ksr.xml"), &heard);
    let ksr_sha256 = sha256(&std::fs::read(format!("{set}/ksr.xml")).unwrap());

    // The values, each from its own command or computed here.
    let shown = ceremony.run(&["--json", "--config", &config, "audit", "show"]);
    shown.expect_code(0);
    let entries = shown.json();
    let last_seq = entries.as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    let lines = log_lines(&ceremony);
    let head_before = sha256(lines.last().unwrap().as_bytes());
    let serials: Vec<(String, String)> = (1..=5)
        .map(|number| {
            let officer = format!("CO-{number}");
            let status = ceremony.run(&["--json", "card", "status", &ceremony.card(&officer)]);
            status.expect_code(0);
            (
                officer,
                status.json()["serial"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    // The script.
    let script = ceremony.path("script.html");
    let run = ceremony.run(&[
        "--json", "--config", &config, "script", "--media", &set, "--out", &script,
    ]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["ksr_sha256"], ksr_sha256.as_str(), "{report}");
    assert_eq!(report["previous_audit_head"], head_before.as_str());
    assert_eq!(report["officers"], 5);
    assert_eq!(report["threshold"], 3);
    let printed = check_printable(Path::new(&script), "script");
    eprintln!(
        "script: {} page(s), {}, {}",
        printed.pages,
        printed.pdf.display(),
        printed.screenshot.display()
    );
    assert!(std::fs::metadata(&printed.screenshot).unwrap().len() > 0);
    assert!(
        (1..=MAX_PAGES).contains(&printed.pages),
        "the script prints on {} pages",
        printed.pages
    );
    let text = printed.text;
    for group in numbered(&ksr_words) {
        assert!(
            text.contains(&group),
            "the script lacks the KSR's {group:?}"
        );
    }
    assert!(text.contains(&grouped(&ksr_sha256)), "no KSR hash in hex");
    assert!(
        text.contains(&grouped(&head_before)),
        "no previous audit head"
    );
    assert!(
        text.contains(&format!("audit entry {last_seq}")),
        "the head's entry {last_seq} is not named"
    );
    assert!(
        text.contains(&format!("audit verify --head {head_before}")),
        "no audit verify command with the head"
    );
    assert!(
        text.contains(&format!(
            "ceremony --config {config} sign --media {set} --no-previous-skr"
        )),
        "no sign command for a first quarter"
    );
    for (officer, serial) in &serials {
        assert!(
            text.contains(&format!("{officer} presents card {serial}")),
            "no step for {officer}'s card {serial}"
        );
    }
    for role in ["CA", "IW", "SA", "SSC-1", "SSC-2"] {
        assert!(text.contains(role), "no role {role}");
    }
    // Numbered steps with boxes for initials and times.
    let html = std::fs::read_to_string(&script).unwrap();
    let steps = report["steps"].as_u64().unwrap();
    assert!(steps >= 12, "{steps} steps");
    assert_eq!(
        html.matches("<div class=\"box\">initials</div>").count(),
        usize::try_from(steps).unwrap()
    );
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));

    // The signing: CO-1, CO-1's card again (refused: one card per
    // officer, already in use), CO-2 with a wrong PIN, CO-3, CO-4.
    std::fs::write(
        ceremony.path("pins-wrong.toml"),
        "CO-1 = \"111111\"\nCO-2 = \"999999\"\nCO-3 = \"333333\"\nCO-4 = \"444444\"\n",
    )
    .unwrap();
    let now = now_for(1);
    let pins = ceremony.path("pins-wrong.toml");
    let cards: Vec<String> = ["CO-1", "CO-1", "CO-2", "CO-3", "CO-4"]
        .iter()
        .map(|officer| ceremony.card(officer))
        .collect();
    let mut args = vec![
        "--config",
        &config,
        "--now",
        &now,
        "sign",
        "--media",
        &set,
        "--oob-words",
        &heard,
        "--pin-file",
        &pins,
        "--yes",
        "--no-previous-skr",
        "--cards",
    ];
    args.extend(cards.iter().map(String::as_str));
    ceremony
        .run(&args)
        .expect_code(0)
        .expect_stdout("written to the medium and read back");

    // The record, and the values it must show, computed here.
    let lines = log_lines(&ceremony);
    let (written, _) = last_entry(&lines, "skr-written");
    let (_, done_hash) = last_entry(&lines, "sign-done");
    let (wrong_pin, wrong_pin_hash) = last_entry(&lines, "wrong-pin");
    let (refused, _) = last_entry(&lines, "card-refused");
    let head_after = sha256(lines.last().unwrap().as_bytes());
    let skr_sha256 = sha256(&std::fs::read(format!("{set}/skr.xml")).unwrap());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{set}/manifest-skr.json")).unwrap())
            .unwrap();
    assert_eq!(written["details"]["skr_sha256"], skr_sha256.as_str());
    assert_eq!(written["details"]["ksr_sha256"], ksr_sha256.as_str());
    assert_eq!(manifest["audit_head"], done_hash.as_str());
    let skr_words: Vec<String> = ksr::pgp_words(&hex::decode(&skr_sha256).unwrap())
        .split(' ')
        .map(str::to_owned)
        .collect();

    let record = ceremony.path("record.html");
    let run = ceremony.run(&[
        "--json", "--config", &config, "record", "--media", &set, "--out", &record,
    ]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["skr_sha256"], skr_sha256.as_str(), "{report}");
    assert_eq!(report["ksr_sha256"], ksr_sha256.as_str());
    assert_eq!(report["audit_head"], done_hash.as_str());
    assert_eq!(report["previous_audit_head"], head_before.as_str());
    assert_eq!(report["outcome"], "done");
    // The wrong PIN, the card refused after it, and the card in use.
    assert_eq!(report["refusals"], 3, "{report}");
    let printed = check_printable(Path::new(&record), "record");
    eprintln!(
        "record: {} page(s), {}, {}",
        printed.pages,
        printed.pdf.display(),
        printed.screenshot.display()
    );
    assert!(std::fs::metadata(&printed.screenshot).unwrap().len() > 0);
    assert!(
        (1..=MAX_PAGES).contains(&printed.pages),
        "the record prints on {} pages",
        printed.pages
    );
    let text = printed.text;
    for (label, hash) in [
        ("the KSR's", &ksr_sha256),
        ("the SKR's", &skr_sha256),
        ("the closing entry's", &done_hash),
        ("the wrong PIN entry's", &wrong_pin_hash),
        ("the log's head", &head_after),
        ("the previous head", &head_before),
    ] {
        assert!(
            text.contains(&grouped(hash)),
            "the record lacks {label} hash {hash}"
        );
    }
    for group in numbered(&skr_words) {
        assert!(
            text.contains(&group),
            "the record lacks the SKR's {group:?}"
        );
    }
    // The log and the medium agree on each of the three.
    assert_eq!(text.matches("\tequal").count(), 3, "{text}");
    assert!(!text.contains("DIFFERENT"), "{text}");
    // Every refusal, with its entry.
    assert!(text.contains("wrong PIN, 2 tries left"), "{text}");
    assert!(
        text.contains(refused["details"]["reason"].as_str().unwrap()),
        "{text}"
    );
    let in_use = lines
        .iter()
        .find(|line| line.contains("card-refused") && line.contains("in use"))
        .expect("the second CO-1 card was refused as in use");
    let in_use: serde_json::Value = serde_json::from_str(in_use).unwrap();
    assert!(
        text.contains(in_use["details"]["reason"].as_str().unwrap()),
        "{text}"
    );
    assert!(
        text.contains(&format!("entry {} at", wrong_pin["seq"])),
        "{text}"
    );
    // Who did what: CO-2 refused, CO-5 never presented, three counted.
    assert!(text.contains("CO-1 (card "), "{text}");
    assert!(text.contains("no card presented"), "{text}");
    assert!(text.contains("refused or failed"), "{text}");
    // Never over an existing file.
    let again = ceremony.run(&["--config", &config, "record", "--out", &record]);
    again.expect_code(2).expect_stderr("never overwritten");
}

#[test]
fn a_tampered_medium_an_existing_page_or_no_signing_is_refused_and_nothing_is_written() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    let set = exported(&ceremony, &mut intake);
    let config = ceremony.path("c/ceremony.toml");

    // A KSR changed on the medium after export: refused by name.
    let tampered = ceremony.path("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    let copy = format!(
        "{tampered}/{}",
        Path::new(&set).file_name().unwrap().to_str().unwrap()
    );
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&set).unwrap().flatten() {
        std::fs::copy(entry.path(), Path::new(&copy).join(entry.file_name())).unwrap();
    }
    let ksr = format!("{copy}/ksr.xml");
    let text = std::fs::read_to_string(&ksr).unwrap();
    std::fs::write(
        &ksr,
        text.replacen("<Request", "<!-- changed --><Request", 1),
    )
    .unwrap();
    let out = ceremony.path("script.html");
    ceremony
        .run(&[
            "--config", &config, "script", "--media", &copy, "--out", &out,
        ])
        .expect_code(3)
        .expect_stderr("MEDIA-HASH");
    assert!(
        !Path::new(&out).exists(),
        "a page was written for a tampered set"
    );

    // An existing page is never overwritten.
    std::fs::write(&out, "kept").unwrap();
    ceremony
        .run(&[
            "--config", &config, "script", "--media", &set, "--out", &out,
        ])
        .expect_code(2)
        .expect_stderr("never overwritten");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept");

    // No signing in the log yet, and an entry that opens none.
    let record = ceremony.path("record.html");
    ceremony
        .run(&["--config", &config, "record", "--out", &record])
        .expect_code(2)
        .expect_stderr("no signing yet");
    ceremony
        .run(&[
            "--config",
            &config,
            "record",
            "--operation",
            "1",
            "--out",
            &record,
        ])
        .expect_code(2)
        .expect_stderr("sign-begin");
    assert!(!Path::new(&record).exists());

    // A refused signing is recorded as refused, with its code.
    ceremony
        .run(&[
            "--config",
            &config,
            "--now",
            &now_for(1),
            "sign",
            "--media",
            &copy,
            "--yes",
            "--no-previous-skr",
        ])
        .expect_code(3)
        .expect_stderr("MEDIA-HASH");
    let run = ceremony.run(&["--json", "--config", &config, "record", "--out", &record]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["outcome"], "refused", "{report}");
    assert!(report["skr_sha256"].is_null(), "{report}");
    let page = std::fs::read_to_string(&record).unwrap();
    assert!(
        page.contains("MEDIA-HASH"),
        "the refusal's code is not in the record"
    );
}

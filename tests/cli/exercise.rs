//! Tabletop exercises end to end: every built-in scenario on autopilot,
//! with each injected fault found at the step and by the role the
//! scenario expects and every SKR validated by dnspython; a scenario run
//! by people at a pseudo-terminal who make a wrong call; the power cut;
//! scenario files with errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::ceremony::dnspython;
use crate::harness::{arg, run};

/// Runs a scenario on autopilot in a new directory; returns the
/// directory and the JSON transcript.
fn autopilot(scenario: &str) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("x");
    let done = run(&[
        "--json",
        "exercise",
        "run",
        scenario,
        "--autopilot",
        "--dir",
        arg(&exercise),
    ]);
    done.expect_code(0);
    let transcript = done.json();
    // The three files hold the same transcript.
    let written: Value =
        serde_json::from_slice(&std::fs::read(exercise.join("transcript.json")).unwrap()).unwrap();
    assert_eq!(written["score"], transcript["score"]);
    for name in ["transcript.md", "transcript.html"] {
        let text = std::fs::read_to_string(exercise.join(name)).unwrap();
        assert!(text.contains("Score: "), "{name}");
    }
    (dir, transcript)
}

/// The KSK tags of every key the exercise's HSM holds.
fn tags(exercise: &Path) -> Vec<String> {
    let config = exercise.join("ceremony/ceremony.toml");
    let inventory = run(&["--json", "--config", arg(&config), "inventory"]);
    inventory.expect_code(0);
    inventory
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["key_tag"].to_string())
        .collect()
}

/// The faults of a transcript: name, injected at, detected at and by.
fn faults(transcript: &Value) -> Vec<(String, u64, u64, String)> {
    transcript["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fault| {
            (
                fault["fault"].as_str().unwrap().to_owned(),
                fault["injected_at"].as_u64().unwrap(),
                fault["detected"][0].as_u64().unwrap_or(0),
                fault["detected"][1].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The step of a transcript with this id.
fn step_with_id(transcript: &Value, id: &str) -> u64 {
    transcript["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"))["number"]
        .as_u64()
        .unwrap()
}

/// The number of the `n`th step (from 1) doing `action`.
fn nth_step(transcript: &Value, action: &str, n: usize) -> u64 {
    transcript["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|step| step["action"] == action)
        .nth(n - 1)
        .unwrap_or_else(|| panic!("no {action} number {n}"))["number"]
        .as_u64()
        .unwrap()
}

/// Every step and fault as expected, every SKR valid and anchored, the
/// exercise's audit log intact.
fn check_clean_run(dir: &tempfile::TempDir, transcript: &Value, skrs: usize) {
    let exercise = dir.path().join("x");
    let score = &transcript["score"];
    assert_eq!(score["points"], score["possible"], "{score}");
    assert_eq!(score["percent"], 100);
    for step in transcript["steps"].as_array().unwrap() {
        assert_eq!(step["as_expected"], true, "{step}");
    }
    let files: Vec<&str> = transcript["skrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skr| skr.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), skrs, "{files:?}");
    dnspython(&files, &tags(&exercise));
    let config = exercise.join("ceremony/ceremony.toml");
    run(&["--config", arg(&config), "audit", "verify"]).expect_code(0);
    let head = transcript["audit_head"]["sha256"].as_str().unwrap();
    run(&["--config", arg(&config), "audit", "verify", "--head", head]).expect_code(0);
}

#[test]
fn the_built_in_scenarios_are_listed() {
    let listed = run(&["--json", "exercise", "list"]);
    listed.expect_code(0);
    let names: Vec<String> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|scenario| scenario["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "normal-quarter",
            "first-ceremony",
            "ksk-roll",
            "lost-card",
            "tampered-ksr",
            "power-cut",
            "everything-goes-wrong"
        ]
    );
}

#[test]
fn a_normal_quarter_on_autopilot() {
    let (dir, transcript) = autopilot("normal-quarter");
    check_clean_run(&dir, &transcript, 1);
    assert!(faults(&transcript).is_empty());
    // The SKR went back through the intake to the ZSK operator intact.
    let fetched = dir.path().join("x/zsk/skr-1.xml");
    let skr = transcript["skrs"][0].as_str().unwrap();
    assert_eq!(std::fs::read(fetched).unwrap(), std::fs::read(skr).unwrap());
}

#[test]
fn a_first_ceremony_on_autopilot_gives_the_ds_for_the_parent() {
    let (dir, transcript) = autopilot("first-ceremony");
    check_clean_run(&dir, &transcript, 1);
    // The DS read out for the parent is that of the KSK that signed,
    // recomputed by dnspython from the DNSKEY in the SKR.
    let inventory = nth_step(&transcript, "inventory", 1);
    let output =
        transcript["steps"][usize::try_from(inventory).unwrap() - 1]["commands"][0]["output"]
            .as_str()
            .unwrap()
            .to_owned();
    let ds = output
        .lines()
        .find(|line| line.contains(" DS "))
        .unwrap_or_else(|| panic!("no DS in {output}"))
        .trim()
        .to_owned();
    let skr = transcript["skrs"][0].as_str().unwrap();
    let script = r#"
import sys, xml.etree.ElementTree as ET
import dns.dnssec, dns.name, dns.rdata, dns.rdataclass, dns.rdatatype
root = ET.parse(sys.argv[1]).getroot()
for key in root.iter("Key"):
    if key.findtext("Flags") != "257":
        continue
    text = "257 3 %s %s" % (key.findtext("Algorithm"), key.findtext("PublicKey"))
    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, text)
    print(dns.dnssec.make_ds(dns.name.root, dnskey, "SHA256").to_text().upper())
    break
"#;
    let output = Command::new("/usr/bin/python3")
        .args(["-c", script, skr])
        .output()
        .unwrap();
    let expected = String::from_utf8(output.stdout).unwrap();
    let expected = expected.trim();
    assert!(
        !expected.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: String = ds
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    assert!(
        shown.ends_with(&expected.split_whitespace().collect::<Vec<_>>().join(" ")),
        "DS {shown} is not dnspython's {expected}"
    );
}

#[test]
fn a_ksk_roll_over_four_quarters_on_autopilot() {
    let (dir, transcript) = autopilot("ksk-roll");
    check_clean_run(&dir, &transcript, 4);
    assert_eq!(tags(&dir.path().join("x")).len(), 2);
}

#[test]
fn a_lost_card_then_a_new_card_set_on_autopilot() {
    let (dir, transcript) = autopilot("lost-card");
    check_clean_run(&dir, &transcript, 2);
    let reshare = step_with_id(&transcript, "new-cards");
    let expired = nth_step(&transcript, "sign", 1);
    let forged = nth_step(&transcript, "sign", 2);
    let retired = nth_step(&transcript, "sign", 3);
    assert_eq!(
        faults(&transcript),
        [
            ("lost-card".into(), 4, reshare, "ceremony".into()),
            (
                "attempt-expires".into(),
                expired,
                expired,
                "ceremony".into()
            ),
            ("forged-card".into(), forged, forged, "ceremony".into()),
            ("retired-card".into(), retired, retired, "ceremony".into()),
        ]
    );
    // The forgery carried CO-5's serial: only the enrolled key told it.
    let refusal = transcript["steps"][usize::try_from(forged).unwrap() - 1]["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|signal| signal["sign"].as_str().unwrap().to_owned())
        .find(|sign| sign.contains("does not verify with its enrolled key"))
        .unwrap();
    let real = run(&[
        "--json",
        "card",
        "status",
        arg(&dir.path().join("x/ceremony/cards/CO-5.card")),
    ]);
    real.expect_code(0);
    let serial = real.json()["serial"].as_str().unwrap().to_owned();
    assert!(
        refusal.starts_with(&format!("card {serial} (CO-5")),
        "{refusal} (CO-5's card is {serial})"
    );
}

#[test]
fn a_tampered_and_a_swapped_ksr_are_found_by_the_ca() {
    let (dir, transcript) = autopilot("tampered-ksr");
    check_clean_run(&dir, &transcript, 1);
    let (first, second) = (
        step_with_id(&transcript, "words-1"),
        step_with_id(&transcript, "words-2"),
    );
    let found = faults(&transcript);
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].0.as_str(), found[0].2, found[0].3.as_str()),
        ("tampered-ksr", first, "CA")
    );
    assert_eq!(
        (found[1].0.as_str(), found[1].2, found[1].3.as_str()),
        ("swapped-ksr", second, "CA")
    );
    // Refused before any card: no card was inserted at either.
    for number in [first, second] {
        let step = &transcript["steps"][usize::try_from(number).unwrap() - 1];
        assert!(step["commands"].as_array().unwrap().is_empty(), "{step}");
    }
}

#[test]
fn everything_goes_wrong_and_each_fault_is_found_where_expected() {
    let (dir, transcript) = autopilot("everything-goes-wrong");
    check_clean_run(&dir, &transcript, 1);
    let found = faults(&transcript);
    let names: Vec<&str> = found.iter().map(|fault| fault.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "blocked-card",
            "swapped-ksr",
            "clock-skew",
            "hsm-self-test",
            "foreign-card"
        ]
    );
    let words = step_with_id(&transcript, "words");
    for (name, injected, detected, by) in &found {
        match name.as_str() {
            "swapped-ksr" => assert_eq!((*detected, by.as_str()), (words, "CA")),
            _ => assert_eq!((detected, by.as_str()), (injected, "ceremony"), "{name}"),
        }
    }
    // The blocked card was unblocked with its PUK and signed afterwards.
    let log = std::fs::read_to_string(dir.path().join("x/ceremony/audit.log")).unwrap();
    assert!(log.contains("\"event\":\"puk-used\""), "{log}");
}

#[test]
fn a_power_cut_mid_signing_tears_nothing_and_the_next_step_signs() {
    let (dir, transcript) = autopilot("power-cut");
    check_clean_run(&dir, &transcript, 1);
    let exercise = dir.path().join("x");
    let cut = nth_step(&transcript, "sign", 1);
    let again = step_with_id(&transcript, "again");
    let step = &transcript["steps"][usize::try_from(cut).unwrap() - 1];
    let command = &step["commands"][0];
    assert_eq!(command["killed"], true, "{step}");
    assert_eq!(command["exit"], Value::Null, "{step}");
    // The HSM was active, the SKR not yet written, when the power failed.
    let events: Vec<&str> = step["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"hsm-activated"), "{events:?}");
    assert!(!events.contains(&"skr-written"), "{events:?}");
    assert_eq!(
        faults(&transcript),
        [("power-cut".into(), cut, again, "ceremony".into())]
    );
    // The log records the interruption of exactly that signing.
    let entries: Vec<Value> = std::fs::read_to_string(exercise.join("ceremony/audit.log"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let begun = entries
        .iter()
        .filter(|entry| entry["event"] == "sign-begin")
        .map(|entry| entry["seq"].as_u64().unwrap())
        .next()
        .unwrap();
    let interrupted = entries
        .iter()
        .find(|entry| entry["event"] == "sign-interrupted")
        .expect("the interruption is recorded");
    assert_eq!(interrupted["details"]["begun"], begun);
    // Nothing torn or half-written anywhere: no temporary, every card
    // opens, every KSR and SKR parses (dnspython read the SKR above).
    let mut pending = vec![exercise.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains(".ceremony-tmp"),
                "{} is left",
                path.display()
            );
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".card") {
                run(&["card", "status", arg(&path)]).expect_code(0);
            } else if name.ends_with(".skr.xml") || name.starts_with("skr") {
                run(&["skr", "show", arg(&path)]).expect_code(0);
            } else if name.starts_with("ksr") && name.ends_with(".xml") {
                run(&["ksr", "show", arg(&path)]).expect_code(0);
            }
        }
    }
}

//------------ People at a terminal ------------------------------------------

/// A small scenario for people to play: a swapped medium, then the right
/// one.
const SWAP: &str = r#"
title = "Swapped medium, played by people"

[ceremony]
officers = 3
threshold = 2

[[participant]]
role = "CA"
name = "Carla"
[[participant]]
role = "ZSK"
name = "Zoe"
[[participant]]
role = "CO-1"
name = "Olga"
[[participant]]
role = "CO-2"
name = "Omar"
[[participant]]
role = "CO-3"
name = "Oona"

[[step]]
role = "CA"
say = "Make the ceremony."
action = "init"
[[step]]
role = "CA"
say = "Make the intake."
action = "intake-init"
[[step]]
role = ["CA", "CO-1", "CO-2"]
say = "Pin the intake."
action = "intake-pin"
officers = ["CO-1", "CO-2"]
[[step]]
role = "ZSK"
say = "Make the KSR."
action = "make-ksr"
[[step]]
role = "ZSK"
say = "Submit it."
action = "submit"
[[step]]
role = "CA"
say = "Export it."
action = "export"
[[step]]
role = "ZSK"
say = "Read the words."
action = "read-words"
[[step]]
role = "CA"
say = "The medium is swapped."
action = "swap-ksr"
detected = { at = "words", by = "CA", sign = "OOB-WORDS", check = "the out-of-band word check" }
[[step]]
id = "words"
role = ["CA", "CO-1", "CO-2"]
say = "Compare the words and sign."
action = "sign"
officers = ["CO-1", "CO-2"]
expect = { exit = 3, signs = ["OOB-WORDS"] }
"#;

#[test]
fn people_at_a_terminal_confirm_a_swapped_ksr_and_the_score_drops() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("swap.toml");
    std::fs::write(&scenario, SWAP).unwrap();
    let exercise = dir.path().join("x");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/pty/exercise.py");
    // What each person types, in order, when the tool asks: Enter when
    // ready, the PINs they choose and type, and the CA's "yes" to words
    // that do not match (the wrong call).
    let answers = [
        "ready:",
        "pin:111111",
        "pin:111111",
        "pin:222222",
        "pin:222222",
        "pin:333333",
        "pin:333333", // init: each officer chooses a PIN, typed twice
        "ready:",     // intake-init
        "ready:",
        "pin:111111",
        "pin:222222", // intake-pin
        "ready:",
        "ready:",
        "ready:",
        "ready:",
        "ready:", // make, submit, export, words, swap
        "ready:",
        "words:yes",
        "pin:111111",
        "pin:222222", // sign
    ];
    let output = Command::new("/usr/bin/python3")
        .arg(script)
        .args(answers)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_ceremony"))
        .args(["exercise", "run"])
        .arg(&scenario)
        .arg("--dir")
        .arg(&exercise)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("EXIT 0"), "{text}");
    // The tool asked each role in turn.
    assert!(
        text.contains("CO-2: insert your card and type your PIN"),
        "{text}"
    );
    assert!(text.contains("do the words on the screen match"), "{text}");
    let transcript: Value =
        serde_json::from_slice(&std::fs::read(exercise.join("transcript.json")).unwrap()).unwrap();
    assert_eq!(transcript["mode"], "interactive");
    // The CA's wrong call is recorded as a missed fault, caught by the
    // tool's own word check; the score drops; nothing is signed.
    let fault = &transcript["faults"][0];
    assert_eq!(fault["fault"], "swapped-ksr");
    assert_eq!(fault["as_expected"], false, "{fault}");
    assert_eq!(fault["detected"], serde_json::json!([9, "ceremony"]));
    assert!(
        fault["verdict"].as_str().unwrap().contains("missed by CA"),
        "{fault}"
    );
    let score = &transcript["score"];
    assert!(
        score["points"].as_u64() < score["possible"].as_u64(),
        "{score}"
    );
    let sign = &transcript["steps"][8];
    assert!(
        sign["decisions"][0].as_str().unwrap().contains("match"),
        "{sign}"
    );
    assert_eq!(sign["commands"][0]["exit"], 3, "{sign}");
    assert!(transcript["skrs"].as_array().unwrap().is_empty());
    let log = std::fs::read_to_string(exercise.join("ceremony/audit.log")).unwrap();
    assert!(!log.contains("\"event\":\"skr-written\""), "{log}");
    let events: Vec<&str> = sign["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"sign-refused"), "{events:?}");
    assert!(!events.contains(&"card-inserted"), "{events:?}");
    let html = std::fs::read_to_string(exercise.join("transcript.html")).unwrap();
    assert!(html.contains("missed by CA"), "the page lacks the verdict");
    // The PINs people chose are nowhere in what the exercise leaves: not
    // on the terminal, not in a file of its folder.
    let pins = ["111111", "222222", "333333"];
    for pin in pins {
        assert!(!text.contains(pin), "the terminal showed a PIN");
    }
    let mut pending = vec![exercise.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for pin in pins {
                assert!(
                    !bytes
                        .windows(pin.len())
                        .any(|window| window == pin.as_bytes()),
                    "{} holds a PIN",
                    path.display()
                );
            }
        }
    }
}

//------------ Scenario files with errors ------------------------------------

/// The line and column of the first `needle` in `text`, counted here.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap();
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}

#[test]
fn scenario_files_with_errors_are_refused_with_line_and_column_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("unknown role", SWAP.replace("role = \"ZSK\"\nsay = \"Submit it.\"", "role = \"ZZK\"\nsay = \"Submit it.\""), "\"ZZK\"", "unknown role"),
        ("unknown action", SWAP.replace("action = \"export\"", "action = \"exportt\""), "\"exportt\"", "unknown action"),
        ("unknown fault", SWAP.replace("officers = [\"CO-1\", \"CO-2\"]\nexpect", "officers = [\"CO-1\", \"CO-2\"]\nfault = \"gremlins\"\nexpect"), "\"gremlins\"", "unknown fault"),
        ("absent officer", SWAP.replace(
            "[[step]]\nrole = \"ZSK\"\nsay = \"Make the KSR.\"",
            "[[step]]\nrole = \"CO-2\"\nsay = \"Lost.\"\naction = \"lose-card\"\nofficer = \"CO-2\"\ndetected = { sign = \"generation-committed\" }\n[[step]]\nrole = \"ZSK\"\nsay = \"Make the KSR.\"",
        ), "[\"CA\", \"CO-1\", \"CO-2\"]\nsay = \"Compare", "CO-2 is absent"),
        ("bad TOML", SWAP.replace("[ceremony]", "[ceremony"), "[ceremony", ""),
        (
            "out of order",
            SWAP.replace("action = \"read-words\"", "action = \"audit-verify\""),
            "\"sign\"\nofficers",
            "sign needs a read-words this quarter first",
        ),
        (
            "empty sign",
            SWAP.replace("sign = \"OOB-WORDS\", check", "sign = \"\", check"),
            "{ at = \"words\"",
            "too short to mean anything",
        ),
    ];
    for (name, text, at, message) in cases {
        let file = dir.path().join(format!("{}.toml", name.replace(' ', "-")));
        std::fs::write(&file, &text).unwrap();
        let exercise = dir.path().join(format!("never-{}", name.replace(' ', "-")));
        let refused = run(&[
            "exercise",
            "run",
            arg(&file),
            "--autopilot",
            "--dir",
            arg(&exercise),
        ]);
        refused.expect_code(2);
        let (line, column) = position_of(&text, at);
        // The TOML parser says where in the line it gave up; the others
        // point at the value.
        let prefix = if name == "bad TOML" {
            format!("{}:{line}:", file.display())
        } else {
            format!("{}:{line}:{column}: ", file.display())
        };
        assert!(
            refused.stderr.contains(&prefix),
            "{name}: wants {prefix}\n{}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains(message),
            "{name}:\n{}",
            refused.stderr
        );
        assert!(
            !exercise.exists(),
            "{name}: the exercise made its directory"
        );
        // `check` finds the same.
        run(&["exercise", "check", arg(&file)]).expect_code(2);
    }
    run(&["exercise", "run", "no-such-scenario", "--autopilot"]).expect_code(1);
    // A scenario that is no regular file, a transcript that would replace
    // a file or goes to no folder: refused before anything is made.
    run(&["exercise", "check", arg(dir.path())])
        .expect_code(1)
        .expect_stderr("is not a regular file");
    let never = dir.path().join("never");
    let taken = dir.path().join("taken");
    std::fs::write(dir.path().join("taken.html"), "kept").unwrap();
    for (transcript, expected) in [
        (taken.clone(), "never overwritten"),
        (
            dir.path().join("no/such/folder/out"),
            "in a folder that exists",
        ),
    ] {
        let refused = run(&[
            "exercise",
            "run",
            "normal-quarter",
            "--autopilot",
            "--dir",
            arg(&never),
            "--transcript",
            arg(&transcript),
        ]);
        assert_ne!(refused.code, 0, "{}", refused.stderr);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
        assert!(!never.exists(), "the exercise made its directory");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.html")).unwrap(),
        "kept"
    );
}

//------------ The transcript on paper ---------------------------------------

#[test]
fn the_transcript_page_renders_and_prints_in_chromium() {
    let (dir, transcript) = autopilot("everything-goes-wrong");
    let page = dir.path().join("x/transcript.html");
    let printed = crate::browser::check_printable(&page, "exercise-transcript");
    assert!((2..=60).contains(&printed.pages), "{} pages", printed.pages);
    // What the browser shows is the transcript's: the score, each
    // fault's verdict, the audit head in groups of eight.
    let score = &transcript["score"];
    assert!(
        printed.text.contains(&format!(
            "Score: {} of {} ({}%)",
            score["points"], score["possible"], score["percent"]
        )),
        "{}",
        printed.text
    );
    for fault in transcript["faults"].as_array().unwrap() {
        assert!(
            printed.text.contains(fault["verdict"].as_str().unwrap()),
            "{fault}"
        );
    }
    let head = transcript["audit_head"]["sha256"].as_str().unwrap();
    assert!(printed.text.contains(&head[..8]), "no audit head");
    assert!(printed.screenshot.is_file());
}

//------------ Through the room's service, and on a token --------------------

#[test]
fn an_exercise_signs_through_the_rooms_service_with_officers_presenting() {
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("x");
    let done = run(&[
        "--json",
        "exercise",
        "run",
        "lost-card",
        "--autopilot",
        "--serve",
        "127.0.0.1:0",
        "--dir",
        arg(&exercise),
    ]);
    done.expect_code(0);
    let transcript = done.json();
    check_clean_run(&dir, &transcript, 2);
    // The signings without a fault of the flow went through the service:
    // the administrator's `sign --server`, then each officer's `present`.
    let served: Vec<&Value> = transcript["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|step| {
            step["commands"][0]["line"]
                .as_str()
                .is_some_and(|line| line.contains(" sign --media ") && line.contains(" --server "))
        })
        .collect();
    assert_eq!(served.len(), 2, "{transcript}");
    for step in &served {
        let presents = step["commands"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|command| {
                command["line"]
                    .as_str()
                    .unwrap()
                    .starts_with("ceremony present ")
            })
            .count();
        assert!(presents >= 3, "{step}");
    }
    // The retired card was refused by the service, by name.
    let log = std::fs::read_to_string(exercise.join("ceremony/audit.log")).unwrap();
    assert!(log.contains("a retired card of card set 1"), "{log}");
    assert!(log.contains("\"event\":\"service-started\""), "{log}");
}

#[test]
fn a_power_cut_on_a_softhsm2_token_and_the_next_step_signs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("power-cut-token.toml");
    let listed = run(&["exercise", "check", "power-cut"]);
    listed.expect_code(0);
    // The built-in scenario, on a SoftHSM2 token of the exercise's own.
    let text = include_str!("../../cli/src/exercise/scenarios/power-cut.toml")
        .replace("backend = \"soft\"", "backend = \"softhsm2\"");
    assert!(text.contains("softhsm2"));
    std::fs::write(&file, text).unwrap();
    let exercise = dir.path().join("x");
    let done = run(&[
        "--json",
        "exercise",
        "run",
        arg(&file),
        "--autopilot",
        "--dir",
        arg(&exercise),
    ]);
    done.expect_code(0);
    let transcript = done.json();
    assert!(
        transcript["ceremony"]
            .as_str()
            .unwrap()
            .contains("softhsm2")
    );
    let files: Vec<&str> = transcript["skrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skr| skr.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        transcript["score"]["percent"], 100,
        "{}",
        transcript["score"]
    );
    let config = exercise.join("ceremony/ceremony.toml");
    let inventory = crate::harness::run_env(
        &["--json", "--config", arg(&config), "inventory"],
        &[("SOFTHSM2_CONF", &exercise.join("softhsm2.conf"))],
    );
    inventory.expect_code(0);
    let tags: Vec<String> = inventory
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["key_tag"].to_string())
        .collect();
    dnspython(&files, &tags);
}

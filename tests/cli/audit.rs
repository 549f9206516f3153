//! `ceremony audit show|verify` on a log written here.

use std::path::{Path, PathBuf};

use crate::harness::{arg, run};

fn log(dir: &Path) -> (PathBuf, Vec<String>) {
    let path = dir.join("audit.log");
    let mut log = hsm::AuditLog::open(&path).unwrap();
    for (number, event) in ["init", "activation", "skr-written", "deactivation"]
        .into_iter()
        .enumerate()
    {
        let mut details = serde_json::Map::new();
        details.insert("step".into(), (number + 1).into());
        let actor = (event == "activation").then(|| hsm::Actor {
            card: "070001".into(),
            officer: "CO-1".into(),
        });
        log.append("2026-11-28T06:00:00Z", event, actor, details)
            .unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text.lines().map(str::to_owned).collect())
}

#[test]
fn show_and_verify_an_intact_log() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = log(dir.path());
    run(&["audit", "show", arg(&path)])
        .expect_code(0)
        .expect_stdout("   2  2026-11-28T06:00:00Z  activation  card 070001 (CO-1)  step=2");
    let result = run(&["audit", "verify", arg(&path)]);
    result
        .expect_code(0)
        .expect_stdout("4 entries, the chain is intact");
    let json = run(&["--json", "audit", "verify", arg(&path)]).json();
    let head = json["head"].as_str().unwrap().to_owned();
    run(&["audit", "verify", arg(&path), "--head", &head]).expect_code(0);
    run(&["audit", "verify", arg(&path), "--head", &"0".repeat(64)])
        .expect_code(3)
        .expect_stderr("witnessed head");
    // The log grows after the witnesses wrote the head down: that head is
    // still found, as the hash of entry 4 (computed here from the line),
    // with the two entries that followed it counted.
    let text = std::fs::read_to_string(&path).unwrap();
    let fourth = text.lines().nth(3).unwrap();
    let witnessed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(fourth.as_bytes()));
    assert_eq!(witnessed, head);
    let mut log = hsm::AuditLog::open(&path).unwrap();
    for event in ["later", "later still"] {
        log.append("2026-11-29T06:00:00Z", event, None, serde_json::Map::new())
            .unwrap();
    }
    drop(log);
    run(&["audit", "verify", arg(&path), "--head", &witnessed])
        .expect_code(0)
        .expect_stdout("the witnessed head is the hash of entry 4; 2 entries followed it");
    let json = run(&[
        "--json",
        "audit",
        "verify",
        arg(&path),
        "--head",
        &witnessed,
    ])
    .json();
    assert_eq!(json["entries_after_witnessed"], 2);
    // The 16-digit short form is refused as not a head, not as tampering
    // found at an entry.
    run(&["audit", "verify", arg(&path), "--head", &witnessed[..16]])
        .expect_code(3)
        .expect_stderr("64 hex digits");
}

#[test]
fn verify_names_the_entry_of_an_edit_a_deletion_and_a_swap() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log(dir.path());
    let write = |lines: &[String]| {
        std::fs::write(
            &path,
            lines
                .iter()
                .map(|line| format!("{line}\n"))
                .collect::<String>(),
        )
        .unwrap();
    };
    let mut edited = lines.clone();
    edited[1] = edited[1].replace("CO-1", "CO-2");
    write(&edited);
    let result = run(&["--json", "audit", "verify", arg(&path)]);
    result.expect_code(3);
    assert_eq!(result.json()["entry"], 2);
    let mut deleted = lines.clone();
    deleted.remove(2);
    write(&deleted);
    run(&["audit", "verify", arg(&path)])
        .expect_code(3)
        .expect_stderr("entry 3 (line 3)");
    let mut swapped = lines.clone();
    swapped.swap(0, 1);
    write(&swapped);
    run(&["audit", "verify", arg(&path)])
        .expect_code(3)
        .expect_stderr("entry 1 (line 1)");
    run(&["audit", "verify", arg(&dir.path().join("none.log"))]).expect_code(1);
}

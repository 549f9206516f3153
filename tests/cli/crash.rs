//! A crash at every durable step. For each quorum operation, card command
//! and media hop, a first run counts the operation's durable steps (the
//! test build's fault hook in `durable` logs them); then, from the same
//! state each time, the operation is run again and the process is ended
//! at step 1, 2, … N, losing what it had not synced, as a power cut
//! would. After each crash:
//!
//! * every file is its old version, its new version, or a whole file of
//!   its kind (a card that opens, a log whose chain verifies, JSON and
//!   TOML that parse, an SKR that parses) — never torn;
//! * no PIN or PUK try was regained;
//! * the next command completes the operation or refuses it by name;
//! * then the audit log verifies and records the interruption, no card
//!   and no key is gone, and no temporary or lock file is left.
//!
//! `a_missing_fsync_is_caught` runs the same harness on a build step that
//! renames a file into place without syncing it first, and sees it fail.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::airgap::{Intake, sign_media, words_file};
use crate::ceremony::{Ceremony, now_for};

/// A folder's files (relative path → bytes and mode) and folders.
#[derive(Clone, Default)]
struct Snapshot {
    files: BTreeMap<PathBuf, (Vec<u8>, u32)>,
    folders: BTreeSet<PathBuf>,
}

impl Snapshot {
    fn take(root: &Path) -> Self {
        let mut snapshot = Self::default();
        let mut pending = vec![root.to_owned()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let entry = entry.unwrap();
                let path = entry.path();
                let relative = path.strip_prefix(root).unwrap().to_owned();
                let kind = entry.file_type().unwrap();
                if kind.is_dir() {
                    snapshot.folders.insert(relative);
                    pending.push(path);
                } else if kind.is_file() {
                    let mode = entry.metadata().unwrap().permissions().mode();
                    snapshot
                        .files
                        .insert(relative, (std::fs::read(&path).unwrap(), mode));
                }
            }
        }
        snapshot
    }

    /// Puts `root` back as it was when the snapshot was taken.
    fn restore(&self, root: &Path) {
        let now = Self::take(root);
        for file in now.files.keys() {
            if !self.files.contains_key(file) {
                std::fs::remove_file(root.join(file)).unwrap();
            }
        }
        for folder in now.folders.iter().rev() {
            if !self.folders.contains(folder) {
                std::fs::remove_dir_all(root.join(folder)).ok();
            }
        }
        for folder in &self.folders {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        for (file, (bytes, mode)) in &self.files {
            if now.files.get(file) != Some(&(bytes.clone(), *mode)) {
                let path = root.join(file);
                std::fs::write(&path, bytes).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
            }
        }
    }
}

/// Whether a file that is neither its old nor its new version is a whole
/// file of its kind; `Err` says what is torn.
fn whole(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let text = || std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned());
    if name.ends_with(".card") {
        return smartcard_sim::SimulatedCard::open(Memory(bytes.to_vec()))
            .map(drop)
            .map_err(|err| format!("not a card: {err}"));
    }
    if name == "audit.log" {
        return hsm::parse_audit_log(text()?)
            .map(drop)
            .map_err(|err| format!("the log does not verify: {err}"));
    }
    if name.ends_with(".json") {
        return serde_json::from_slice::<serde_json::Value>(bytes)
            .map(drop)
            .map_err(|err| format!("not JSON: {err}"));
    }
    if name.ends_with(".toml") {
        return text()?
            .parse::<toml::Table>()
            .map(drop)
            .map_err(|err| format!("not TOML: {err}"));
    }
    if name.ends_with(".xml") {
        let ksr = ksr::parse_ksr(bytes, ksr::DocumentRole::Ksr);
        let skr = ksr::parse_skr(bytes, ksr::DocumentRole::PreviousSkr);
        return match (ksr, skr) {
            (Err(findings), Err(_)) => Err(format!("neither a KSR nor an SKR: {findings:?}")),
            _ => Ok(()),
        };
    }
    if bytes.is_empty() {
        return Err("empty".into());
    }
    Ok(())
}

/// A card file's bytes, as a card's storage.
struct Memory(Vec<u8>);

impl smartcard_sim::Storage for Memory {
    fn load(&self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(Some(self.0.clone()))
    }

    fn store(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        bytes.clone_into(&mut self.0);
        Ok(())
    }
}

/// How a run of the binary ended.
struct Ended {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// One operation under the harness.
struct Operation<'a> {
    name: &'static str,
    /// The folder holding everything the operation may touch.
    root: &'a Path,
    args: Vec<String>,
    /// Whether the operation succeeds (a wrong PIN exits 4).
    succeeds: bool,
    /// The command run after a crash (usually the operation again).
    next: Vec<String>,
    /// What the next command may say when it refuses (by name).
    refusals: Vec<&'static str>,
    /// What the refusal tells the operator to do, done; then the next
    /// command must complete.
    remedy: Option<fn(&Path)>,
    /// Environment for every run (SOFTHSM2_CONF).
    env: Vec<(String, PathBuf)>,
    /// The ceremony or intake folder whose audit log must verify.
    audit: Option<PathBuf>,
    /// A card whose PIN and PUK tries must never rise.
    card: Option<PathBuf>,
    /// Commands of which one at least must succeed after the next
    /// command, each time: the cards and keys are all there.
    probes: Vec<Vec<Vec<String>>>,
}

/// What the harness found.
struct Report {
    steps: usize,
    violations: Vec<String>,
}

impl Operation<'_> {
    fn run(&self, args: &[String], fault: &[(&str, String)]) -> Ended {
        let output = Command::new(env!("CARGO_BIN_EXE_ceremony"))
            .args(args)
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .envs(fault.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts");
        Ended {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The card's PIN and PUK tries left, if the operation has a card;
    /// `Err` if its status cannot be read.
    fn tries(&self) -> Result<Option<(u64, u64)>, String> {
        let Some(card) = self.card.as_ref() else {
            return Ok(None);
        };
        let ended = self.run(
            &[
                "--json".into(),
                "card".into(),
                "status".into(),
                card.display().to_string(),
            ],
            &[],
        );
        if !ended.status.success() {
            return Err(format!("card status: {}", ended.stderr));
        }
        let json: serde_json::Value = serde_json::from_str(&ended.stdout).unwrap();
        Ok(Some((
            json["pin_tries_left"].as_u64().unwrap(),
            json["puk_tries_left"].as_u64().unwrap(),
        )))
    }

    /// Counts the steps, then crashes at each; `extra` goes into the
    /// environment of the crashing runs (the broken-write switch).
    fn crash_everywhere(&self, extra: &[(&str, String)]) -> Report {
        let before = Snapshot::take(self.root);
        let scratch = tempfile::tempdir().unwrap();
        let log = scratch.path().join("steps");
        let mut counting = vec![("CEREMONY_FAULT_LOG", log.display().to_string())];
        counting.extend(extra.iter().cloned());
        let counted = self.run(&self.args, &counting);
        assert_eq!(
            counted.status.code(),
            Some(if self.succeeds { 0 } else { 4 }),
            "{}: without a crash:\n{}{}",
            self.name,
            counted.stdout,
            counted.stderr
        );
        let kinds: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|line| line.split(' ').nth(1).unwrap_or("").to_owned())
            .collect();
        let steps = kinds.len();
        assert!(steps > 0, "{}: no durable step was counted", self.name);
        let failing = extra
            .iter()
            .any(|(key, value)| *key == "CEREMONY_FAULT_MODE" && value == "fail");
        let after = Snapshot::take(self.root);
        let tries_before = {
            before.restore(self.root);
            self.tries().unwrap()
        };
        let mut violations = Vec::new();
        for step in 1..=steps {
            before.restore(self.root);
            let mut violation =
                |what: String| violations.push(format!("{} step {step}: {what}", self.name));
            let mut fault = vec![("CEREMONY_FAULT_AT", step.to_string())];
            fault.extend(extra.iter().cloned());
            let crashed = self.run(&self.args, &fault);
            if failing {
                // The step failed with an I/O error: the command must
                // fail, or finish and say what failed; never carry on as
                // if it had worked (a removal that fails is only a
                // leftover, swept later).
                let kind = kinds.get(step - 1).map_or("", String::as_str);
                if crashed.status.code().is_none() || crashed.stderr.contains("panicked") {
                    violation(format!(
                        "the failed step ended the process badly ({:?}):\n{}",
                        crashed.status, crashed.stderr
                    ));
                } else if crashed.status.success() == self.succeeds
                    && kind != "Remove"
                    && !crashed.stderr.contains("injected fault")
                    && !crashed.stderr.contains("warning: card")
                {
                    violation(format!(
                        "a failed {kind} step went unnoticed:\n{}",
                        crashed.stderr
                    ));
                }
            } else if crashed.status.signal() != Some(6) {
                violation(format!(
                    "the process was not ended at the step ({:?}):\n{}",
                    crashed.status, crashed.stderr
                ));
                continue;
            }
            let state = Snapshot::take(self.root);
            for (file, (bytes, _)) in &state.files {
                if file
                    .iter()
                    .any(|part| part.to_string_lossy().ends_with(".ceremony-tmp"))
                {
                    // A temporary is no file of its own: the next command
                    // removes it (checked below).
                    continue;
                }
                let old = before.files.get(file).map(|(old, _)| old);
                let new = after.files.get(file).map(|(new, _)| new);
                if old != Some(bytes)
                    && new != Some(bytes)
                    && let Err(torn) = whole(file, bytes)
                {
                    violation(format!("{} is torn: {torn}", file.display()));
                }
            }
            for file in before.files.keys() {
                if !state.files.contains_key(file) && after.files.contains_key(file) {
                    violation(format!("{} is gone", file.display()));
                }
            }
            match (tries_before, self.tries()) {
                (Some((pin, puk)), Ok(Some((pin_now, puk_now))))
                    if pin_now > pin || puk_now > puk =>
                {
                    violation(format!(
                        "tries regained: PIN {pin} → {pin_now}, PUK {puk} → {puk_now}"
                    ));
                }
                (_, Err(unreadable)) => violation(unreadable),
                _ => {}
            }
            let open_before = self.audit.as_ref().is_some_and(|dir| open_operation(dir));
            let next = self.run(&self.next, &[]);
            let named = self
                .refusals
                .iter()
                .any(|refusal| next.stderr.contains(refusal));
            let refused_by_name = named && !next.stderr.contains("panicked");
            if !next.status.success() && !refused_by_name {
                violation(format!(
                    "the next command neither completed nor refused by name ({:?}):\n{}{}",
                    next.status, next.stdout, next.stderr
                ));
            }
            if let (false, Some(remedy)) = (next.status.success(), self.remedy) {
                remedy(self.root);
                let again = self.run(&self.next, &[]);
                if !again.status.success() {
                    violation(format!(
                        "after the remedy the next command fails:\n{}{}",
                        again.stdout, again.stderr
                    ));
                }
            }
            if let Some(dir) = &self.audit {
                let verified = self.run(
                    &[
                        "audit".into(),
                        "verify".into(),
                        dir.join("audit.log").display().to_string(),
                    ],
                    &[],
                );
                if !verified.status.success() {
                    violation(format!(
                        "the audit log does not verify: {}",
                        verified.stderr
                    ));
                }
                let text = std::fs::read_to_string(dir.join("audit.log")).unwrap_or_default();
                if open_before && !text.contains("-interrupted\"") {
                    violation("the interruption is not recorded".into());
                }
            }
            // A next command that completed has used the cards and keys
            // already; after a refusal, the probes show they are there.
            let probes = if next.status.success() {
                &[][..]
            } else {
                &self.probes[..]
            };
            for alternatives in probes {
                let mut failures = Vec::new();
                for probe in alternatives {
                    let probed = self.run(probe, &[]);
                    if probed.status.success() {
                        failures.clear();
                        break;
                    }
                    failures.push(format!("{probe:?}:\n{}{}", probed.stdout, probed.stderr));
                }
                if !failures.is_empty() {
                    violation(format!("after the next command, {}", failures.join("\n")));
                }
            }
            for file in Snapshot::take(self.root).files.keys() {
                let name = file.to_string_lossy();
                if name.ends_with(".ceremony-tmp") || name.ends_with(".lock") {
                    violation(format!("{name} is left after the next command"));
                }
            }
        }
        before.restore(self.root);
        let line = format!(
            "{}: {steps} crash points, {} violations\n",
            self.name,
            violations.len()
        );
        print!("{line}");
        // The figures CI keeps, one line per operation.
        let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ci-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        let mut report = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(artifacts.join("crash-points.txt"))
            .unwrap();
        std::io::Write::write_all(&mut report, line.as_bytes()).unwrap();
        Report { steps, violations }
    }
}

/// Whether a log's last operation was begun and not closed.
fn open_operation(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("audit.log")) else {
        return false;
    };
    let mut open = false;
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let event = entry["event"].as_str().unwrap_or("");
        if event.ends_with("-begin") {
            open = true;
        } else if ["-done", "-refused", "-failed", "-aborted", "-interrupted"]
            .iter()
            .any(|end| event.ends_with(end))
        {
            open = false;
        }
    }
    open
}

#[track_caller]
fn assert_clean(report: &Report, at_least: usize) {
    assert!(
        report.steps >= at_least,
        "only {} durable steps counted",
        report.steps
    );
    assert!(
        report.violations.is_empty(),
        "{} violations:\n{}",
        report.violations.len(),
        report.violations.join("\n")
    );
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

/// A rehearsal ceremony, quarter 1's KSR made.
fn ceremony() -> Ceremony {
    let ceremony = Ceremony::new("soft", "3");
    ceremony.make_ksr(1);
    ceremony
}

fn root(ceremony: &Ceremony) -> PathBuf {
    PathBuf::from(ceremony.path(""))
}

fn inventory(ceremony: &Ceremony) -> Vec<String> {
    strings(&["--config", &ceremony.path("c/ceremony.toml"), "inventory"])
}

/// A quorum operation's arguments: `--config`, the command, then the
/// pin file, `--yes` and these officers' cards.
fn quorum(ceremony: &Ceremony, command: &[&str], officers: &[&str]) -> Vec<String> {
    let mut args = strings(&["--config", &ceremony.path("c/ceremony.toml")]);
    args.extend(strings(command));
    args.extend(strings(&[
        "--pin-file",
        &ceremony.path("pins.toml"),
        "--yes",
        "--cards",
    ]));
    args.extend(officers.iter().map(|officer| ceremony.card(officer)));
    args
}

/// Signing quarter 1 with CO-1..CO-3: the probe that the cards and the
/// KSK are all there.
fn sign_args(ceremony: &Ceremony, out: &str) -> Vec<String> {
    quorum(
        ceremony,
        &[
            "--now",
            &now_for(1),
            "sign",
            &ceremony.path("ksr-1.xml"),
            "-o",
            &ceremony.path(out),
            "--no-previous-skr",
        ],
        &["CO-1", "CO-2", "CO-3"],
    )
}

fn operation<'a>(
    ceremony: &'a Ceremony,
    root: &'a Path,
    name: &'static str,
    args: Vec<String>,
) -> Operation<'a> {
    Operation {
        name,
        root,
        next: args.clone(),
        args,
        succeeds: true,
        refusals: vec!["exists"],
        remedy: None,
        env: Vec::new(),
        audit: Some(PathBuf::from(ceremony.path("c"))),
        card: None,
        probes: vec![vec![inventory(ceremony)]],
    }
}

#[test]
fn a_crash_at_every_step_of_init() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().to_owned();
    std::fs::write(
        root.join("pins.toml"),
        "CO-1 = \"111111\"\nCO-2 = \"222222\"\nCO-3 = \"333333\"\n",
    )
    .unwrap();
    let path = |name: &str| root.join(name).display().to_string();
    let args = strings(&[
        "init",
        "--rehearsal",
        "--dir",
        &path("c"),
        "--cards",
        "3",
        "--threshold",
        "2",
        "--algorithm",
        "ecdsap256sha256",
        "--domain",
        "example.",
        "--pin-file",
        &path("pins.toml"),
        "--puk-file",
        &path("puks.toml"),
        "--kdf",
        "light",
    ]);
    let operation = Operation {
        name: "init",
        root: &root,
        next: args.clone(),
        args,
        succeeds: true,
        // A half-made ceremony is named as one, with what to do.
        refusals: vec!["from an init that was interrupted"],
        remedy: Some(|root| {
            std::fs::remove_dir_all(root.join("c")).unwrap();
            std::fs::remove_file(root.join("puks.toml")).ok();
        }),
        env: Vec::new(),
        audit: None,
        card: None,
        probes: Vec::new(),
    };
    assert_clean(&operation.crash_everywhere(&[]), 10);
}

#[test]
fn a_crash_at_every_step_of_sign() {
    let ceremony = ceremony();
    let root = root(&ceremony);
    let mut operation = operation(&ceremony, &root, "sign", sign_args(&ceremony, "skr-1.xml"));
    operation
        .probes
        .push(vec![sign_args(&ceremony, "probe.xml")]);
    assert_clean(&operation.crash_everywhere(&[]), 20);
}

#[test]
fn a_crash_at_every_step_of_keygen() {
    let ceremony = ceremony();
    let root = root(&ceremony);
    let args = quorum(
        &ceremony,
        &[
            "--now",
            &now_for(1),
            "keygen",
            "--algorithm",
            "ecdsap256sha256",
            "--label",
            "ksk-2",
        ],
        &["CO-3", "CO-4", "CO-5"],
    );
    let mut operation = operation(&ceremony, &root, "keygen", args);
    // Killed once the policy names the new key: it is the next KSK.
    operation
        .refusals
        .push("the policy already has a next KSK (ksk-2)");
    // Killed after the key was made, before the policy named it.
    operation.refusals.push("label \"ksk-2\" is taken");
    operation
        .probes
        .push(vec![sign_args(&ceremony, "probe.xml")]);
    assert_clean(&operation.crash_everywhere(&[]), 20);
}

/// `reshare` or `rekey` to four new cards, two of which will do.
fn new_cards(command: &'static str) {
    let ceremony = ceremony();
    let root = root(&ceremony);
    std::fs::write(
        ceremony.path("new-pins.toml"),
        "CO-1 = \"121212\"\nCO-2 = \"232323\"\nCO-3 = \"343434\"\nCO-4 = \"454545\"\n",
    )
    .unwrap();
    let args = quorum(
        &ceremony,
        &[
            command,
            "--new-cards",
            "4",
            "--threshold",
            "2",
            "--new-pin-file",
            &ceremony.path("new-pins.toml"),
            "--puk-file",
            &ceremony.path("puks-2.toml"),
            "--kdf",
            "light",
        ],
        &["CO-1", "CO-2", "CO-3"],
    );
    let mut operation = operation(&ceremony, &root, command, args);
    // The old cards presented are erased once the new generation is
    // committed: then the new cards sign, and the old ones say why not.
    operation.refusals.push("erased");
    let mut new_cards = sign_args(&ceremony, "probe.xml");
    new_cards.truncate(new_cards.len() - 3);
    new_cards.extend(
        ["CO-1", "CO-2"]
            .map(|officer| ceremony.path(&format!("c/cards/generation-2/{officer}.card"))),
    );
    let mut new_pins = new_cards.clone();
    let at = new_pins.iter().position(|arg| arg == "--pin-file").unwrap() + 1;
    new_pins[at] = ceremony.path("new-pins.toml");
    operation
        .probes
        .push(vec![sign_args(&ceremony, "probe.xml"), new_pins]);
    assert_clean(&operation.crash_everywhere(&[]), 20);
}

#[test]
fn a_crash_at_every_step_of_reshare() {
    new_cards("reshare");
}

#[test]
fn a_crash_at_every_step_of_rekey() {
    new_cards("rekey");
}

#[test]
fn a_crash_at_every_step_of_policy_approve() {
    let ceremony = ceremony();
    let root = root(&ceremony);
    let path = ceremony.path("c/ceremony.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("ksk_policy"), "{text}");
    std::fs::write(&path, format!("{text}\n# reviewed for quarter 1\n")).unwrap();
    let args = quorum(&ceremony, &["policy", "approve"], &["CO-1", "CO-2", "CO-3"]);
    let mut operation = operation(&ceremony, &root, "policy approve", args);
    // Killed once the approval was sealed.
    operation.refusals.push("there is nothing to approve");
    assert_clean(&operation.crash_everywhere(&[]), 10);
}

/// A card command on CO-1's card, with a pin file of `[pin]`, `[puk]`
/// and `[new-pin]` tables.
fn card_operation<'a>(
    ceremony: &'a Ceremony,
    root: &'a Path,
    name: &'static str,
    pins: &str,
    wrong: bool,
) -> Operation<'a> {
    let file = ceremony.path("card-pins.toml");
    std::fs::write(&file, pins).unwrap();
    let card = ceremony.card("CO-1");
    let args = strings(&[
        "card",
        name.rsplit(' ').next().unwrap(),
        &card,
        "--pin-file",
        &file,
    ]);
    Operation {
        name,
        root,
        next: args.clone(),
        args,
        succeeds: !wrong,
        refusals: vec!["wrong PIN", "wrong PUK", "blocked"],
        remedy: None,
        env: Vec::new(),
        audit: None,
        card: Some(PathBuf::from(&card)),
        probes: vec![vec![strings(&["card", "status", &card])]],
    }
}

#[test]
fn a_crash_at_every_step_of_the_card_commands() {
    let ceremony = Ceremony::new("soft", "3");
    let root = root(&ceremony);
    let puks: toml::Table = std::fs::read_to_string(ceremony.path("puks.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let puk = puks["puk"]["CO-1"].as_str().unwrap().to_owned();
    for (name, pins, wrong) in [
        ("card verify", "CO-1 = \"111111\"\n", false),
        ("card verify", "CO-1 = \"000000\"\n", true),
        (
            "card change-pin",
            "CO-1 = \"111111\"\n[new-pin]\nCO-1 = \"171717\"\n",
            false,
        ),
        (
            "card change-pin",
            "CO-1 = \"000000\"\n[new-pin]\nCO-1 = \"171717\"\n",
            true,
        ),
        (
            "card unblock",
            "[puk]\nCO-1 = \"00000000\"\n[new-pin]\nCO-1 = \"171717\"\n",
            true,
        ),
        (
            "card unblock",
            &format!("[puk]\nCO-1 = \"{puk}\"\n[new-pin]\nCO-1 = \"171717\"\n"),
            false,
        ),
    ] {
        let operation = card_operation(&ceremony, &root, name, pins, wrong);
        assert_clean(&operation.crash_everywhere(&[]), 2);
    }
}

#[test]
fn a_crash_at_every_step_of_the_media_hops() {
    let ceremony = Ceremony::new("soft", "3");
    let root = root(&ceremony);
    let ksr = ceremony.make_ksr(1);
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    intake.start(&now_for(1));
    let id = intake.submit(&ksr);
    intake.stop();
    let media = ceremony.path("media");
    std::fs::create_dir_all(&media).unwrap();
    let export_args = strings(&[
        "--now",
        &now_for(1),
        "intake",
        "export",
        "--dir",
        &intake.dir,
        &id,
        "--to",
        &media,
    ]);
    let mut export = operation(&ceremony, &root, "intake export", export_args);
    export.audit = Some(PathBuf::from(&intake.dir));
    export.probes = Vec::new();
    assert_clean(&export.crash_everywhere(&[]), 5);

    let set = intake.export(&id, &media);
    let words = ceremony.path("words.txt");
    words_file(&ceremony, &ksr, &words);
    sign_media(&ceremony, &set, &words, &now_for(1), &["--no-previous-skr"]).expect_code(0);
    let import_args = strings(&["intake", "import", "--dir", &intake.dir, &set]);
    let mut import = operation(&ceremony, &root, "intake import", import_args);
    // Killed once the intake kept the SKR.
    import.refusals.push("MEDIA-REPLAY: ");
    import.audit = Some(PathBuf::from(&intake.dir));
    import.probes = Vec::new();
    assert_clean(&import.crash_everywhere(&[]), 5);
}

#[test]
fn a_missing_fsync_is_caught() {
    let ceremony = Ceremony::new("soft", "3");
    let root = root(&ceremony);
    let mut operation = card_operation(
        &ceremony,
        &root,
        "card change-pin",
        "CO-1 = \"111111\"\n[new-pin]\nCO-1 = \"171717\"\n",
        false,
    );
    operation.name = "card change-pin, the fsync skipped (violations expected)";
    let report = operation.crash_everywhere(&[("CEREMONY_FAULT_SKIP_FSYNC", "1".into())]);
    assert!(
        report
            .violations
            .iter()
            .any(|violation| violation.contains("CO-1.card is torn")),
        "the harness did not see the torn card: {:?}",
        report.violations
    );
}

#[test]
fn the_binary_users_build_has_no_fault_hook() {
    // scripts/test builds it before the tests (`cargo build`, copied to
    // target/built/): the features of dev-dependencies are not in it.
    let release = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/built/ceremony");
    let bytes = std::fs::read(&release)
        .unwrap_or_else(|err| panic!("{}: {err} (scripts/test builds it)", release.display()));
    let test_build = std::fs::read(env!("CARGO_BIN_EXE_ceremony")).unwrap();
    let has = |binary: &[u8], needle: &str| {
        let needle = needle.as_bytes();
        (0..binary.len().saturating_sub(needle.len()))
            .any(|at| binary[at] == needle[0] && binary.get(at..at + needle.len()) == Some(needle))
    };
    for switch in [
        "CEREMONY_FAULT_AT",
        "CEREMONY_FAULT_LOG",
        "CEREMONY_FAULT_SKIP_FSYNC",
    ] {
        assert!(has(&test_build, switch), "the test build lacks {switch}");
        assert!(!has(&bytes, switch), "the binary users build has {switch}");
    }
}

#[test]
fn a_crash_at_every_step_of_ksk_promote() {
    // A KSK roll up to its revoke quarter, as in ceremony.rs.
    let ceremony = Ceremony::new("soft", "2");
    let root = root(&ceremony);
    let (config, pins) = (ceremony.path("c/ceremony.toml"), ceremony.path("pins.toml"));
    let (card_3, card_4) = (ceremony.card("CO-3"), ceremony.card("CO-4"));
    ceremony.make_ksr(1);
    ceremony.sign(1, &["CO-1", "CO-2"], &[]).expect_code(0);
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
            &card_3,
            &card_4,
            "--pin-file",
            &pins,
            "--yes",
        ])
        .expect_code(0);
    for (quarter, schema) in [(2, "pre-publish"), (3, "rollover"), (4, "revoke")] {
        ceremony.make_ksr(quarter);
        ceremony
            .sign(quarter, &["CO-2", "CO-5"], &["--schema", schema])
            .expect_code(0);
    }
    let args = strings(&[
        "--config",
        &config,
        "ksk",
        "promote",
        "--revoke-skr",
        &ceremony.path("skr-4.xml"),
        "--cards",
        &card_3,
        &card_4,
        "--pin-file",
        &pins,
        "--yes",
    ]);
    let mut operation = operation(&ceremony, &root, "ksk promote", args);
    // Killed once the policy names ksk-2 the current KSK.
    operation.refusals.push("the policy has no next KSK");
    assert_clean(&operation.crash_everywhere(&[]), 20);
}

#[test]
fn a_crash_at_every_step_of_intake_pin_and_signing_from_the_medium() {
    let ceremony = Ceremony::new("soft", "3");
    let root = root(&ceremony);
    let ksr = ceremony.make_ksr(1);
    let mut intake = Intake::init(&ceremony, "intake", None);
    let args = quorum(
        &ceremony,
        &["intake", "pin", &format!("{}/intake.pub", intake.dir)],
        &["CO-1", "CO-2", "CO-3"],
    );
    let mut pin = operation(&ceremony, &root, "intake pin", args);
    // Killed once the key was sealed.
    pin.refusals.push("is the one pinned already");
    assert_clean(&pin.crash_everywhere(&[]), 10);

    intake.pin();
    intake.start(&now_for(1));
    let id = intake.submit(&ksr);
    intake.stop();
    let set = intake.export(&id, &ceremony.path("media"));
    let words = ceremony.path("words.txt");
    words_file(&ceremony, &ksr, &words);
    let args = quorum(
        &ceremony,
        &[
            "--now",
            &now_for(1),
            "sign",
            "--media",
            &set,
            "--oob-words",
            &words,
            "--no-previous-skr",
        ],
        &["CO-1", "CO-2", "CO-4"],
    );
    let mut sign = operation(&ceremony, &root, "sign --media", args);
    // Killed after the SKR was written: the set was signed; killed after
    // the signing was sealed, before the manifest: `--rewrite` finishes.
    sign.refusals.push("MEDIA-REPLAY: ");
    assert_clean(&sign.crash_everywhere(&[]), 20);
}

#[test]
fn a_failing_write_at_every_step_of_sign_and_of_a_card_command() {
    let fail = [("CEREMONY_FAULT_MODE", "fail".to_owned())];
    let ceremony = ceremony();
    let root = root(&ceremony);
    let mut sign = operation(
        &ceremony,
        &root,
        "sign (failing writes)",
        sign_args(&ceremony, "skr-1.xml"),
    );
    sign.probes.push(vec![sign_args(&ceremony, "probe.xml")]);
    assert_clean(&sign.crash_everywhere(&fail), 20);
    let change = card_operation(
        &ceremony,
        &root,
        "card change-pin",
        "CO-1 = \"111111\"\n[new-pin]\nCO-1 = \"171717\"\n",
        false,
    );
    assert_clean(&change.crash_everywhere(&fail), 5);
}

//! The review's attacks on the quorum, replayed through the binary, each
//! shown defeated by its outcome: no SKR and no activation of the HSM
//! without the state the quorum sealed, every rollback and log edit
//! refused by name, no core dump while the HSM is active.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::Digest as _;

use crate::ceremony::Ceremony;
use crate::harness::Run;

/// The audit log's text.
fn log(ceremony: &Ceremony) -> String {
    std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap()
}

/// `--config … --now … sign ksr-1.xml --no-previous-skr -o OUT` with CO-1's
/// and CO-2's cards, confirmed: the first quarter signed at one terminal.
fn first_quarter(ceremony: &Ceremony, out: &str) -> Vec<String> {
    [
        "--config",
        &ceremony.path("c/ceremony.toml"),
        "--now",
        &crate::ceremony::now_for(1),
        "sign",
        &ceremony.path("ksr-1.xml"),
        "--no-previous-skr",
        "-o",
        out,
        "--pin-file",
        &ceremony.path("pins.toml"),
        "--yes",
        "--cards",
        &ceremony.card("CO-1"),
        &ceremony.card("CO-2"),
    ]
    .map(String::from)
    .to_vec()
}

/// Copies what an insider would restore of a ceremony directory: the
/// policy, the log and everything in `hsm/` (state, store or token record,
/// counters), consistent with one another.
fn copy_state(from: &Path, to: &Path) {
    for name in ["ceremony.toml", "audit.log"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    std::fs::create_dir_all(to.join("hsm")).unwrap();
    for entry in std::fs::read_dir(from.join("hsm")).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join("hsm").join(entry.file_name())).unwrap();
    }
}

/// Waits until the signing that opened last has activated the HSM.
fn wait_until_active(ceremony: &Ceremony) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let active = || {
        let text = log(ceremony);
        text.rfind("\"event\":\"sign-begin\"")
            .is_some_and(|begun| text[begun..].contains("\"event\":\"hsm-activated\""))
    };
    while !active() {
        assert!(Instant::now() < deadline, "the HSM was never activated");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that a signing was refused by name, wrote no SKR, and never
/// activated the HSM.
fn refused_without_activation(ceremony: &Ceremony, run: &Run, quarter: u32, message: &str) {
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(message) || run.stderr.contains(message),
        "{message:?} not said:\n{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !Path::new(&ceremony.path(&format!("skr-{quarter}.xml"))).exists(),
        "an SKR was written"
    );
    let text = log(ceremony);
    let begun = text
        .rfind("\"event\":\"sign-begin\"")
        .expect("the operation opened");
    assert!(
        !text[begun..].contains("\"event\":\"hsm-activated\""),
        "the HSM was activated:\n{}",
        &text[begun..]
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("\"event\":\"sign-refused\""),
        "{text}"
    );
}

#[test]
fn a_forged_state_is_refused_after_the_cards_and_before_the_hsm_is_activated() {
    // The insider edits the policy (a one-year signature validity) and, so
    // that the sealed check passes, the state's record of it too; only the
    // MAC, which needs the quorum's secret, is left as it was.
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let policy = ceremony.path("c/ceremony.toml");
    let text = std::fs::read_to_string(&policy).unwrap().replacen(
        "max_signature_validity = \"P21D\"",
        "max_signature_validity = \"P365D\"",
        1,
    );
    std::fs::write(&policy, &text).unwrap();
    let state_path = ceremony.path("c/hsm/state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state["state"]["policy"] = text.clone().into();
    state["state"]["policy_sha256"] = hex::encode(sha2::Sha256::digest(text.as_bytes())).into();
    std::fs::write(&state_path, state.to_string()).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(
        &ceremony,
        &run,
        1,
        "does not verify under the quorum's secret",
    );
}

#[test]
fn a_deleted_state_is_refused_before_any_card() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    std::fs::remove_file(ceremony.path("c/hsm/state.json")).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "sealed state was deleted");
    assert!(!log(&ceremony).contains("card-accepted"));
}

/// Reshares to a new set of four cards (new PINs in `new-pins.toml`).
fn reshare(ceremony: &Ceremony) {
    std::fs::write(
        ceremony.path("new-pins.toml"),
        "CO-1 = \"121212\"\nCO-2 = \"232323\"\nCO-3 = \"343434\"\nCO-4 = \"454545\"\n",
    )
    .unwrap();
    let (config, pins, new_pins, puks) = (
        ceremony.path("c/ceremony.toml"),
        ceremony.path("pins.toml"),
        ceremony.path("new-pins.toml"),
        ceremony.path("puks-2.toml"),
    );
    let (one, two) = (ceremony.card("CO-1"), ceremony.card("CO-2"));
    ceremony
        .run(&[
            "--config",
            &config,
            "reshare",
            "--cards",
            &one,
            &two,
            "--pin-file",
            &pins,
            "--new-cards",
            "4",
            "--threshold",
            "2",
            "--new-pin-file",
            &new_pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
            "--yes",
        ])
        .expect_code(0)
        .expect_stdout("a new secret");
}

#[test]
fn a_key_store_restored_after_a_reshare_is_refused_by_name() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let store = ceremony.path("c/hsm/keystore.json");
    let state = ceremony.path("c/hsm/state.json");
    let (old_store, old_state) = (
        std::fs::read(&store).unwrap(),
        std::fs::read(&state).unwrap(),
    );
    reshare(&ceremony);
    assert_ne!(
        std::fs::read(&store).unwrap(),
        old_store,
        "the store moved on"
    );
    // The old key store alone: its roster is not the sealed one.
    let new_store = std::fs::read(&store).unwrap();
    std::fs::write(&store, &old_store).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "is not the one the quorum sealed");
    assert!(
        !log(&ceremony)[log(&ceremony).rfind("sign-begin").unwrap()..].contains("card-accepted")
    );
    // The old store and the old state together, and the old cards: the
    // log records a later epoch.
    std::fs::write(&state, &old_state).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "is older than the audit log");
    // Put back, the current cards sign.
    std::fs::write(&store, &new_store).unwrap();
    let state_now = std::fs::read(&state).unwrap();
    assert_eq!(state_now, old_state);
}

/// Rewrites a log line by line with `edit` and chains it again, as an
/// insider who knows the format would.
fn rechain(text: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let mut prev = "0".repeat(64);
    let mut out = String::new();
    for line in text.lines() {
        let mut entry: serde_json::Value = serde_json::from_str(line).unwrap();
        edit(&mut entry);
        entry["prev"] = prev.clone().into();
        let line = entry.to_string();
        prev = hex::encode(sha2::Sha256::digest(line.as_bytes()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn a_cut_deleted_or_rewritten_log_is_refused_by_name() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let path = ceremony.path("c/audit.log");
    let original = log(&ceremony);
    // Rewritten, every hash chained again: `audit verify` alone passes it,
    // the state's anchor does not.
    let rewritten = rechain(&original, |entry| {
        if entry["event"] == "init-begin" {
            entry["time"] = "2029-11-30T00:00:00Z".into();
        }
    });
    std::fs::write(&path, &rewritten).unwrap();
    ceremony.run(&["audit", "verify", &path]).expect_code(0);
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "the log was cut or rewritten");
    // Cut before the anchor.
    let cut: String = original
        .lines()
        .take(3)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&path, &cut).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "the log was cut");
    // Deleted: the next command starts a new log, which has no init.
    std::fs::remove_file(&path).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "has no init entry");
}

#[test]
fn a_redefined_built_in_schema_is_refused_by_every_command() {
    // The review's attack: `normal` redefined to revoke the live KSK.
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let policy = ceremony.path("c/ceremony.toml");
    let mut text = std::fs::read_to_string(&policy).unwrap();
    for bundle in 1..=9 {
        text.push_str(&format!(
            "\n[schemas.normal.{bundle}]\npublish = [\"ksk_current\"]\nrevoke = [\"ksk_current\"]\nsign = [\"ksk_current\"]\n"
        ));
    }
    std::fs::write(&policy, text).unwrap();
    ceremony
        .approve_policy()
        .expect_code(2)
        .expect_stderr("\"normal\" is a built-in schema and cannot be redefined");
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
}

#[test]
fn ceremony_files_others_may_write_are_refused_and_init_ignores_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    // init under umask 000: the folders 0700, the files 0600 all the same.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pins.toml"),
        "CO-1 = \"111111\"\nCO-2 = \"222222\"\n",
    )
    .unwrap();
    let script = format!(
        "umask 000 && exec '{}' init --rehearsal --dir c --cards 2 --threshold 2 --algorithm ecdsap256sha256 --domain example. --pin-file pins.toml --puk-file puks.toml --kdf light",
        env!("CARGO_BIN_EXE_ceremony")
    );
    let made = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    for folder in ["c", "c/hsm", "c/cards"] {
        assert_eq!(mode(folder), 0o700, "{folder}");
    }
    for file in [
        "c/audit.log",
        "c/ceremony.toml",
        "c/hsm/keystore.json",
        "c/hsm/state.json",
    ] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    // A policy the group may write is refused before it is read.
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let policy = ceremony.path("c/ceremony.toml");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o620)).unwrap();
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("writable by group or others")
            || run.stderr.contains("writable by group or others"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
}

#[test]
fn sigquit_while_the_hsm_is_active_dumps_no_core() {
    // The control: on this machine, under this core pattern, a process
    // killed by SIGQUIT with the limit raised leaves a core.
    let control = tempfile::tempdir().unwrap();
    let mut sleeper = Command::new("sh")
        .args(["-c", "ulimit -c unlimited && exec sleep 30"])
        .current_dir(control.path())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-QUIT", &sleeper.id().to_string()])
        .status()
        .unwrap();
    sleeper.wait().unwrap();
    assert!(
        has_core(control.path()),
        "the control left no core: the test cannot show anything"
    );

    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let cwd = tempfile::tempdir().unwrap();
    let args: Vec<String> = first_quarter(&ceremony, &ceremony.path("skr-1.xml"))
        .iter()
        .map(|arg| format!("'{arg}'"))
        .collect();
    let script = format!(
        "ulimit -c unlimited && exec '{}' {}",
        env!("CARGO_BIN_EXE_ceremony"),
        args.join(" ")
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("CEREMONY_TEST_STALL_MS", "400")
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_active(&ceremony);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core = limits
        .lines()
        .find(|line| line.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
    assert_eq!(core.split_whitespace().nth(5), Some("0"), "{core}");
    Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        !has_core(cwd.path()),
        "a core was dumped while the HSM was active"
    );
    assert!(!has_core(Path::new(&ceremony.path(""))));
}

fn has_core(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with("core"))
}

#[test]
fn the_so_pin_given_at_init_no_longer_opens_the_token() {
    // The review's attack: the SO resets the user PIN and signs alone. With
    // the SO PIN file's PIN, SoftHSM's own tool cannot even re-initialize
    // the token (which needs the SO PIN); the quorum still signs.
    let ceremony = Ceremony::new("pkcs11", "2");
    ceremony.make_ksr(1);
    let conf = ceremony.softhsm_conf().unwrap().to_owned();
    let so_pin = std::fs::read_to_string(ceremony.path("so-pin")).unwrap();
    let reset = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--token",
            "ceremony",
            "--label",
            "ceremony",
            "--so-pin",
        ])
        .arg(so_pin.trim())
        .args(["--pin", "999999"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(
        !reset.status.success(),
        "the old SO PIN re-initialized the token"
    );
    let said = String::from_utf8_lossy(&reset.stderr).to_lowercase()
        + &String::from_utf8_lossy(&reset.stdout).to_lowercase();
    assert!(said.contains("so pin"), "{said}");
    ceremony.sign(1, &["CO-1", "CO-2"], &[]).expect_code(0);
}

#[test]
fn a_swapped_pin_is_named_by_inventory_and_refused_by_trust_anchor() {
    let ceremony = Ceremony::new("soft", "2");
    let config = ceremony.path("c/ceremony.toml");
    ceremony
        .run(&["--config", &config, "inventory"])
        .expect_code(0)
        .expect_stdout("the policy's ksk_current (matches its pin)")
        .expect_stdout("not verified until the next activation");
    // The policy now pins another DS for ksk_current (an insider's edit).
    let text = std::fs::read_to_string(&config).unwrap();
    let start = text.find("ds_sha256 = \"").unwrap() + "ds_sha256 = \"".len();
    let mut edited = text.clone();
    edited.replace_range(start..start + 64, &"ab".repeat(32));
    std::fs::write(&config, edited).unwrap();
    ceremony
        .run(&["--config", &config, "inventory"])
        .expect_code(0)
        .expect_stdout("NOT the key the policy pins as ksk_current");
    let anchor = ceremony.run(&["--config", &config, "trust-anchor"]);
    assert_eq!(anchor.code, 2, "{}{}", anchor.stdout, anchor.stderr);
    assert!(
        anchor.stderr.contains("it was swapped"),
        "{}",
        anchor.stderr
    );
    assert!(!anchor.stdout.contains("<TrustAnchor"), "{}", anchor.stdout);
}

/// `ceremony ARGS` in `dir`.
fn in_dir(dir: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[test]
fn a_production_ceremony_refuses_what_only_a_rehearsal_allows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pins.toml"),
        "CO-1 = \"111111\"\nCO-2 = \"222222\"\n",
    )
    .unwrap();
    let init = |extra: &[&str]| {
        let mut args = vec![
            "init",
            "--dir",
            "c",
            "--cards",
            "2",
            "--threshold",
            "2",
            "--algorithm",
            "ecdsap256sha256",
            "--domain",
            "example.",
            "--pin-file",
            "pins.toml",
        ];
        args.extend_from_slice(extra);
        in_dir(dir.path(), &args)
    };
    // What a rehearsal allows, refused before anything is made.
    init(&[
        "--kdf",
        "light",
        "--cards-dir",
        "officers",
        "--puk-file",
        "p1.toml",
    ])
    .expect_code(2)
    .expect_stderr("strong PIN derivation");
    init(&["--puk-file", "p2.toml"])
        .expect_code(2)
        .expect_stderr("--cards-dir");
    init(&["--cards-dir", "c/cards", "--puk-file", "p3.toml"])
        .expect_code(2)
        .expect_stderr("inside the ceremony directory");
    assert!(!dir.path().join("c/ceremony.toml").exists());
    // A production ceremony: strong cards, kept outside it.
    let made = init(&["--cards-dir", "officers", "--puk-file", "puks.toml"]);
    made.expect_code(0);
    assert!(!made.stdout.contains("REHEARSAL"), "{}", made.stdout);
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "zsk",
            "make-ksr",
            "--dir",
            "zsk",
            "--domain",
            "example.",
            "--out",
            "ksr.xml",
        ],
    )
    .expect_code(0);
    // Its KSRs come through an intake whose key the officers pin.
    in_dir(
        dir.path(),
        &[
            "intake",
            "init",
            "--dir",
            "intake",
            "--policy",
            "c/ceremony.toml",
        ],
    )
    .expect_code(0);
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "intake",
            "pin",
            "intake/intake.pub",
            "--pin-file",
            "pins.toml",
            "--yes",
            "--cards",
            "officers/CO-1.card",
            "officers/CO-2.card",
        ],
    )
    .expect_code(0);
    // An exercise's fault is a rehearsal's only: refused before any card.
    let log_before = std::fs::read_to_string(dir.path().join("c/audit.log")).unwrap();
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "keygen",
            "--algorithm",
            "ecdsap256sha256",
            "--label",
            "ksk-2",
            "--exercise-fault",
            "hsm-self-test",
            "--pin-file",
            "pins.toml",
            "--yes",
            "--cards",
            "officers/CO-1.card",
            "officers/CO-2.card",
        ],
    )
    .expect_code(2)
    .expect_stderr("only a rehearsal ceremony");
    let log = std::fs::read_to_string(dir.path().join("c/audit.log")).unwrap();
    let added = log.strip_prefix(log_before.as_str()).unwrap();
    assert!(added.contains("\"event\":\"keygen-refused\""), "{added}");
    assert!(!added.contains("card-inserted"), "{added}");
    assert!(!added.contains("exercise-fault-injected"), "{added}");
    // Nor does its room's service show an exercise.
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "serve",
            "--init-tls",
            "room-tls",
        ],
    )
    .expect_code(0);
    std::fs::write(dir.path().join("status.json"), "{}").unwrap();
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "serve",
            "--tls-dir",
            "room-tls",
            "--listen",
            "127.0.0.1:0",
            "--exercise",
            "status.json",
        ],
    )
    .expect_code(2)
    .expect_stderr("only a rehearsal ceremony runs one");
    let (mut intake, url) = crate::harness::spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_ceremony"))
            .current_dir(dir.path())
            .args([
                "intake",
                "serve",
                "--dir",
                "intake",
                "--listen",
                "127.0.0.1:0",
            ]),
    );
    let submitted = in_dir(
        dir.path(),
        &[
            "--json",
            "ksr",
            "submit",
            "ksr.xml",
            "--server",
            &url,
            "--tls-dir",
            "intake/tls",
            "--as",
            "zsk-operator",
        ],
    );
    crate::harness::stop(&mut intake);
    submitted.expect_code(0);
    let id = submitted.json()["ksr"]["id"].as_str().unwrap().to_owned();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    in_dir(
        dir.path(),
        &["intake", "export", "--dir", "intake", &id, "--to", "media"],
    )
    .expect_code(0);
    let set = format!("media/{id}");
    let hash = in_dir(dir.path(), &["--json", "hash", &format!("{set}/ksr.xml")]);
    std::fs::write(
        dir.path().join("heard.txt"),
        hash.json()[0]["file_pgp_words"].as_str().unwrap(),
    )
    .unwrap();
    // A KSR file, not a transfer set: a rehearsal's way, refused.
    in_dir(
        dir.path(),
        &[
            "--config",
            "c/ceremony.toml",
            "sign",
            "ksr.xml",
            "--no-previous-skr",
            "-o",
            "skr.xml",
            "--pin-file",
            "pins.toml",
            "--yes",
            "--cards",
            "officers/CO-1.card",
            "officers/CO-2.card",
        ],
    )
    .expect_code(2)
    .expect_stderr("transfer set");
    assert!(!dir.path().join("skr.xml").exists());
    let card =
        |name: &str| std::fs::read(dir.path().join(format!("officers/{name}.card"))).unwrap();
    let before = (card("CO-1"), card("CO-2"));
    let sign = |extra: &[&str], cards: &[&str]| {
        let mut args = vec!["--config", "c/ceremony.toml"];
        args.extend_from_slice(extra);
        args.extend([
            "sign",
            "--media",
            &set,
            "--oob-words",
            "heard.txt",
            "--no-previous-skr",
            "--pin-file",
            "pins.toml",
            "--yes",
            "--cards",
        ]);
        args.extend_from_slice(cards);
        in_dir(dir.path(), &args)
    };
    let production = ["officers/CO-1.card", "officers/CO-2.card"];
    // --now far from the clock: refused before any card.
    sign(&["--now", "2030-01-01T00:00:00Z"], &production)
        .expect_code(2)
        .expect_stderr("from this machine's clock");
    assert!((card("CO-1"), card("CO-2")) == before, "a card was read");
    // A card beside the key store, and a light-KDF card (a rehearsal's):
    // each refused by name, so the quorum is not met.
    std::fs::copy(
        dir.path().join("officers/CO-2.card"),
        dir.path().join("c/CO-2.card"),
    )
    .unwrap();
    let rehearsal = Ceremony::new("soft", "2");
    let light = rehearsal.card("CO-1");
    let run = sign(&[], &["officers/CO-1.card", "c/CO-2.card", &light]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("stored inside the ceremony directory"),
        "{said}"
    );
    assert!(said.contains("PIN derivation is the light one"), "{said}");
    assert!(!dir.path().join(format!("{set}/skr.xml")).exists());
    // The officers' own cards, the machine's clock, the set from the
    // intake: signed, into the set.
    sign(&[], &production)
        .expect_code(0)
        .expect_stdout("SKR written");
    assert!(dir.path().join(format!("{set}/skr.xml")).is_file());
    let log = std::fs::read_to_string(dir.path().join("c/audit.log")).unwrap();
    assert!(log.contains("\"rehearsal\":false"), "{log}");
}

#[test]
fn a_rehearsal_says_so_on_its_screens_and_in_its_records() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let args = first_quarter(&ceremony, &ceremony.path("skr-1.xml"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony
        .run(&args)
        .expect_code(0)
        .expect_stdout("REHEARSAL: an exercise, not a production ceremony");
    let text = log(&ceremony);
    let begin = text
        .lines()
        .rev()
        .find(|line| line.contains("\"event\":\"sign-begin\""))
        .unwrap();
    assert!(begin.contains("\"rehearsal\":true"), "{begin}");
    // The flag is sealed: set to false on disk, the MAC no longer holds.
    let state_path = ceremony.path("c/hsm/state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    assert_eq!(state["state"]["rehearsal"], true);
    state["state"]["rehearsal"] = false.into();
    std::fs::write(&state_path, state.to_string()).unwrap();
    ceremony.make_ksr(2);
    let run = ceremony.sign(2, &["CO-1", "CO-2"], &[]);
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// The bytes of an ECDSA P-256 private key's encoding around the KSK's
/// public key: RFC 5915's `[1] publicKey BIT STRING` (a1 44 03 42 00 04
/// X Y), which the PKCS#8 of the key holds right after the private scalar.
fn pkcs8_tail(ceremony: &Ceremony) -> Vec<u8> {
    use base64::Engine as _;
    let config = ceremony.path("c/ceremony.toml");
    let keys = ceremony
        .run(&["--json", "--config", &config, "inventory"])
        .json();
    let dnskey = keys[0]["dnskey"].as_str().unwrap();
    let public = base64::engine::general_purpose::STANDARD
        .decode(dnskey.split_whitespace().last().unwrap())
        .unwrap();
    assert_eq!(public.len(), 64, "{dnskey}");
    let mut tail = vec![0xa1, 0x44, 0x03, 0x42, 0x00, 0x04];
    tail.extend_from_slice(&public);
    tail
}

/// Dumps a running process with gcore; whether its memory holds `needle`.
fn core_holds(pid: u32, needle: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("core");
    let dumped = Command::new("gcore")
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .output()
        .expect("gcore runs; the test command installs gdb");
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let core = std::fs::read(dir.path().join(format!("core.{pid}"))).unwrap();
    core.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn a_service_dumped_after_deactivation_holds_no_ksk_private_key() {
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let tail = pkcs8_tail(&ceremony);
    // The control: while the HSM is active (a signing slowed down at one
    // terminal), the dump does hold the KSK's PKCS#8.
    let mut signing = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(first_quarter(&ceremony, &ceremony.path("skr-control.xml")))
        .env("CEREMONY_TEST_STALL_MS", "1000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_active(&ceremony);
    assert!(
        core_holds(signing.id(), &tail),
        "the control found no key while active: the scan cannot show anything"
    );
    signing.kill().unwrap();
    signing.wait().unwrap();
    // The service, after signing through it: the HSM sealed, no key left.
    let server = crate::service::Server::start(&ceremony, &[]);
    let id = server.submit(&ceremony.path("ksr-1.xml"));
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    server.present("CO-1").expect_code(0);
    server.present("CO-2").expect_code(0);
    assert_eq!(crate::service::finish(admin).code, 0);
    assert_eq!(server.status()["hsm_active"], false);
    assert!(
        !core_holds(server.pid(), &tail),
        "the service's memory holds the KSK's private key after deactivation"
    );
}

#[test]
fn a_directory_restored_as_a_whole_is_refused_by_the_token() {
    // The insider copies the whole ceremony directory after init (state,
    // token record, log, policy: all consistent), lets a quarter be signed,
    // and puts the copy back. Every file agrees with every other; only the
    // token, which keeps the state's MAC where only the quorum reaches,
    // knows the state moved on.
    let ceremony = Ceremony::new("pkcs11", "2");
    ceremony.make_ksr(1);
    let saved = tempfile::tempdir().unwrap();
    copy_state(Path::new(&ceremony.path("c")), saved.path());
    ceremony.sign(1, &["CO-1", "CO-2"], &[]).expect_code(0);
    std::fs::remove_file(ceremony.path("skr-1.xml")).unwrap();
    copy_state(saved.path(), Path::new(&ceremony.path("c")));
    // Two cards that did not sign, so were not told the new epoch (those
    // that did refuse the older state themselves: the next test).
    let run = ceremony.sign(1, &["CO-3", "CO-4"], &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("not the one the token keeps"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
    let text = log(&ceremony);
    let begun = text.rfind("\"event\":\"sign-begin\"").unwrap();
    assert!(!text[begun..].contains("skr-written"), "{}", &text[begun..]);
}

#[test]
fn a_swapped_pkcs11_module_is_never_loaded_even_by_inventory() {
    // The review's attack: pkcs11.json made to name a wrapper module, which
    // then ran inside `inventory` (no quorum). Planted here as a file of
    // another hash; `inventory` and `sign` refuse it before dlopen.
    use std::os::unix::fs::PermissionsExt as _;
    let ceremony = Ceremony::new("pkcs11", "2");
    ceremony.make_ksr(1);
    let record = ceremony.path("c/hsm/pkcs11.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let planted = ceremony.path("wrapper.so");
    std::fs::write(&planted, b"\x7fELF a wrapper that would log the PIN").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).unwrap();
    json["module"] = planted.clone().into();
    std::fs::write(&record, json.to_string()).unwrap();
    let config = ceremony.path("c/ceremony.toml");
    let listed = ceremony.run(&["--config", &config, "inventory"]);
    assert_eq!(listed.code, 3, "{}{}", listed.stdout, listed.stderr);
    assert!(
        listed.stderr.contains("is not the module pinned at init"),
        "{}",
        listed.stderr
    );
    let signed = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    assert_eq!(signed.code, 3, "{}{}", signed.stdout, signed.stderr);
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
    // The pinned hash changed along with it: the sealed state still binds
    // the module the quorum saw, and a writable file is refused outright.
    json["module_sha256"] =
        hex::encode(sha2::Sha256::digest(std::fs::read(&planted).unwrap())).into();
    std::fs::write(&record, json.to_string()).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    ceremony
        .run(&["--config", &config, "inventory"])
        .expect_code(3)
        .expect_stderr("writable by group or others");
}

#[test]
fn a_token_record_restored_after_a_reshare_is_refused_by_name() {
    let ceremony = Ceremony::new("pkcs11", "2");
    ceremony.make_ksr(1);
    let record = ceremony.path("c/hsm/pkcs11.json");
    let old = std::fs::read(&record).unwrap();
    reshare(&ceremony);
    std::fs::write(&record, &old).unwrap();
    // The old cards, with the old roster back in the record: refused before
    // any card, by the sealed roster.
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    refused_without_activation(&ceremony, &run, 1, "is not the one the quorum sealed");
}

#[test]
fn the_cards_refuse_a_directory_rolled_back_behind_them() {
    // The soft HSM: a copy of the whole directory, consistent in every
    // file, put back after a signing. The two cards that signed were told
    // the new epoch; each now refuses the older state by itself.
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let saved = tempfile::tempdir().unwrap();
    let dir = std::path::PathBuf::from(ceremony.path("c"));
    copy_state(&dir, saved.path());
    let signed = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    signed.expect_code(0);
    let text = log(&ceremony);
    let done = text
        .lines()
        .rev()
        .find(|line| line.contains("\"event\":\"sign-done\""))
        .unwrap();
    assert!(done.contains("\"cards_told_epoch\":["), "{done}");
    std::fs::remove_file(ceremony.path("skr-1.xml")).unwrap();
    copy_state(saved.path(), &dir);
    let run = ceremony.sign(1, &["CO-1", "CO-2"], &[]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    for index in 0..2 {
        let reason = json["refused"][index]["reason"].as_str().unwrap();
        assert!(
            reason.contains("this card has seen epoch 2") && reason.contains("rolled back"),
            "{json}"
        );
    }
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
}

#[test]
fn a_state_put_back_after_the_sealed_check_changes_nothing() {
    // The red team's attack: a forged state (the edited policy recorded as
    // approved) passes the sealed check; while the officers present, the
    // genuine file goes back so that its MAC verifies. The state is read
    // once, when the ceremony opens, and that read is what the MAC check
    // authenticates: the signing is refused.
    use std::io::Write as _;
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    let policy = ceremony.path("c/ceremony.toml");
    let text = std::fs::read_to_string(&policy)
        .unwrap()
        .replacen("ttl = 3600", "ttl = 7200", 1);
    assert!(text.contains("ttl = 7200"), "{text}");
    std::fs::write(&policy, &text).unwrap();
    let state_path = ceremony.path("c/hsm/state.json");
    let genuine = std::fs::read(&state_path).unwrap();
    let mut forged: serde_json::Value = serde_json::from_slice(&genuine).unwrap();
    forged["state"]["policy"] = text.clone().into();
    forged["state"]["policy_sha256"] = hex::encode(sha2::Sha256::digest(text.as_bytes())).into();
    std::fs::write(&state_path, forged.to_string()).unwrap();
    let mut args = first_quarter(&ceremony, &ceremony.path("skr-1.xml"));
    args.retain(|arg| arg != "--yes");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log(&ceremony).contains("\"event\":\"sign-begin\"") {
        assert!(Instant::now() < deadline, "the signing never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The sealed check passed on the forged file; now the genuine one.
    std::fs::write(&state_path, &genuine).unwrap();
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{said}");
    assert!(
        said.contains("does not verify under the quorum's secret"),
        "{said}"
    );
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
}

#[test]
fn a_reshare_killed_after_the_hsm_moved_is_picked_up_by_the_new_cards() {
    // The red team's lock-out: killed between the HSM's move to the new
    // card set and the sealing of the state. The pending state, written
    // before the move under the new secret, lets the new cards go on.
    let ceremony = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    std::fs::write(
        ceremony.path("new-pins.toml"),
        "CO-1 = \"121212\"\nCO-2 = \"232323\"\nCO-3 = \"343434\"\n",
    )
    .unwrap();
    let (config, pins, new_pins, puks) = (
        ceremony.path("c/ceremony.toml"),
        ceremony.path("pins.toml"),
        ceremony.path("new-pins.toml"),
        ceremony.path("puks-2.toml"),
    );
    let (one, two) = (ceremony.card("CO-1"), ceremony.card("CO-2"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args([
            "--config",
            &config,
            "reshare",
            "--cards",
            &one,
            &two,
            "--pin-file",
            &pins,
            "--new-cards",
            "3",
            "--threshold",
            "2",
            "--new-pin-file",
            &new_pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
            "--yes",
        ])
        .env("CEREMONY_TEST_STALL_AFTER_COMMIT_MS", "5000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log(&ceremony).contains("\"event\":\"generation-committed\"") {
        assert!(Instant::now() < deadline, "the HSM never moved");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(Path::new(&ceremony.path("c/hsm/state.pending.json")).exists());
    // The new cards sign; the pending state is sealed and gone.
    std::fs::write(&pins, std::fs::read_to_string(&new_pins).unwrap()).unwrap();
    let new_card = |officer: &str| ceremony.path(&format!("c/cards/generation-2/{officer}.card"));
    ceremony
        .sign(1, &[&new_card("CO-1"), &new_card("CO-3")], &[])
        .expect_code(0);
    assert!(!Path::new(&ceremony.path("c/hsm/state.pending.json")).exists());
    assert!(log(&ceremony).contains("\"event\":\"reshare-interrupted\""));
}

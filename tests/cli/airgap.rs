//! The air gap through the binary: an intake directory and a signer
//! directory with a media folder between them, the intake running as its
//! own `ceremony intake serve` over mTLS on 127.0.0.1; the ZSK operator
//! submits, the intake exports, the signer signs with cards and the words
//! read over the phone, the intake imports, the ZSK operator fetches; and
//! every bad input refused at the hop where it appears, recorded there.

use std::path::Path;
use std::process::{Child, Command};

use crate::ceremony::{Ceremony, dnspython, now_for};
use crate::harness::Run;

/// An intake folder beside a ceremony, and its server while it runs.
pub struct Intake<'a> {
    ceremony: &'a Ceremony,
    pub dir: String,
    server: Option<(Child, String)>,
    now: String,
}

impl<'a> Intake<'a> {
    /// `intake init` in `CEREMONY/name` with the ceremony's policy.
    pub fn init(ceremony: &'a Ceremony, name: &str, previous: Option<&str>) -> Self {
        let dir = ceremony.path(name);
        let policy = ceremony.path("c/ceremony.toml");
        let mut args = vec!["intake", "init", "--dir", &dir, "--policy", &policy];
        if let Some(previous) = previous {
            args.extend(["--previous-skr", previous]);
        }
        ceremony
            .run(&args)
            .expect_code(0)
            .expect_stdout("intake key fingerprint");
        Self {
            ceremony,
            dir,
            server: None,
            now: now_for(1),
        }
    }

    /// The intake already made in `CEREMONY/name`.
    pub fn existing(ceremony: &'a Ceremony, name: &str) -> Self {
        Self {
            ceremony,
            dir: ceremony.path(name),
            server: None,
            now: now_for(1),
        }
    }

    /// `intake serve`, judging as of `now`.
    pub fn start(&mut self, now: &str) {
        self.stop();
        now.clone_into(&mut self.now);
        self.server = Some(crate::harness::spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_ceremony"))
                .args(["--now", now, "intake", "serve", "--dir", &self.dir])
                .args(["--listen", "127.0.0.1:0"]),
        ));
    }

    pub fn stop(&mut self) {
        if let Some((mut child, _)) = self.server.take() {
            crate::harness::stop(&mut child);
        }
    }

    /// The intake's URL.
    pub fn url(&self) -> &str {
        &self.server.as_ref().expect("the intake runs").1
    }

    /// The ZSK operator's client arguments.
    fn remote(&self) -> Vec<String> {
        let url = &self.server.as_ref().expect("the intake runs").1;
        [
            "--server",
            url,
            "--tls-dir",
            &format!("{}/tls", self.dir),
            "--as",
            "zsk-operator",
        ]
        .map(String::from)
        .to_vec()
    }

    /// The binary with the ZSK operator's remote arguments after `args`.
    pub fn client(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        all.extend(self.remote());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.ceremony.run(&all)
    }

    /// The ZSK operator submits; returns the intake's id.
    pub fn submit(&self, ksr: &str) -> String {
        let mut args = vec![
            "--json".to_owned(),
            "ksr".into(),
            "submit".into(),
            ksr.into(),
        ];
        args.extend(self.remote());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = self.ceremony.run(&args);
        run.expect_code(0);
        run.json()["ksr"]["id"].as_str().unwrap().to_owned()
    }

    /// The ZSK operator fetches an SKR.
    pub fn fetch(&self, id: &str, out: &str) -> Run {
        let mut args = vec![
            "skr".to_owned(),
            "fetch".into(),
            id.into(),
            "-o".into(),
            out.into(),
        ];
        args.extend(self.remote());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ceremony.run(&args)
    }

    /// `intake export ID --to MEDIA`; returns MEDIA/ID.
    pub fn export(&self, id: &str, media: &str) -> String {
        std::fs::create_dir_all(media).unwrap();
        self.ceremony
            .run(&[
                "--now", &self.now, "intake", "export", "--dir", &self.dir, id, "--to", media,
            ])
            .expect_code(0)
            .expect_stdout("read back");
        format!("{media}/{id}")
    }

    /// `intake import SET`.
    pub fn import(&self, set: &str) -> Run {
        self.ceremony
            .run(&["intake", "import", "--dir", &self.dir, set])
    }

    /// The intake's audit log.
    pub fn audit(&self) -> String {
        std::fs::read_to_string(format!("{}/audit.log", self.dir)).unwrap()
    }

    /// `intake pin` on the signer with CO-1..CO-3 (a quorum).
    pub fn pin(&self) {
        let (config, pins) = (
            self.ceremony.path("c/ceremony.toml"),
            self.ceremony.path("pins.toml"),
        );
        let key = format!("{}/intake.pub", self.dir);
        let cards: Vec<String> = ["CO-1", "CO-2", "CO-3"]
            .iter()
            .map(|officer| self.ceremony.card(officer))
            .collect();
        let mut args = vec![
            "--config",
            &config,
            "intake",
            "pin",
            &key,
            "--pin-file",
            &pins,
            "--yes",
            "--cards",
        ];
        args.extend(cards.iter().map(String::as_str));
        self.ceremony
            .run(&args)
            .expect_code(0)
            .expect_stdout("pinned");
    }
}

impl Drop for Intake<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The 32 words of a file's SHA-256 as the ZSK operator reads them out,
/// written to `out` (one per line, numbered as a listener might).
pub fn words_file(ceremony: &Ceremony, file: &str, out: &str) -> Vec<String> {
    let hash = ceremony.run(&["--json", "hash", file]);
    hash.expect_code(0);
    let words: Vec<String> = hash.json()[0]["file_pgp_words"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert_eq!(words.len(), 32);
    let text: String = words
        .iter()
        .enumerate()
        .map(|(index, word)| format!("{}: {word}\n", index + 1))
        .collect();
    std::fs::write(out, text).unwrap();
    words
}

/// `sign --media SET` at the signer with CO-1, CO-2 and CO-4 and the words
/// in `words`, as of `now`.
pub fn sign_media(ceremony: &Ceremony, set: &str, words: &str, now: &str, extra: &[&str]) -> Run {
    let (config, pins) = (ceremony.path("c/ceremony.toml"), ceremony.path("pins.toml"));
    let cards: Vec<String> = ["CO-1", "CO-2", "CO-4"]
        .iter()
        .map(|officer| ceremony.card(officer))
        .collect();
    let mut args = vec![
        "--config",
        &config,
        "--now",
        now,
        "sign",
        "--media",
        set,
        "--oob-words",
        words,
        "--pin-file",
        &pins,
        "--yes",
    ];
    args.extend(extra);
    args.push("--cards");
    args.extend(cards.iter().map(String::as_str));
    ceremony.run(&args)
}

fn skr_in(set: &str) -> String {
    format!("{set}/skr.xml")
}

/// A copy of a transfer set's folder (without what the signer added).
fn copy_set(from: &str, to: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        let name = name.to_str().unwrap();
        if !name.starts_with("skr.") && name != "manifest-skr.json" {
            std::fs::copy(entry.path(), Path::new(to).join(name)).unwrap();
        }
    }
}

fn signer_log(ceremony: &Ceremony) -> String {
    std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap()
}

/// The last line of a log naming `event`.
fn last<'l>(log: &'l str, event: &str) -> &'l str {
    log.lines()
        .rev()
        .find(|line| line.contains(&format!("\"event\":\"{event}\"")))
        .unwrap_or_else(|| panic!("no {event} in the log"))
}

//------------ The whole quarter, twice --------------------------------------

#[test]
fn two_quarters_cross_the_air_gap_and_chain_through_the_signers_record() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    let media = ceremony.path("media");
    let words = ceremony.path("heard.txt");
    for quarter in [1, 2] {
        let now = now_for(quarter);
        intake.start(&now);
        let ksr = ceremony.make_ksr(quarter);
        let id = intake.submit(&ksr);
        let set = intake.export(&id, &media);
        // The medium holds exactly the set's files.
        let mut names: Vec<String> = std::fs::read_dir(&set)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut expected = vec!["ksr.xml", "manifest.json", "manifest.sig"];
        if quarter > 1 {
            expected.push("previous-skr.xml");
        }
        expected.sort_unstable();
        assert_eq!(names, expected);
        words_file(&ceremony, &format!("{set}/ksr.xml"), &words);
        // The second quarter also gets its emergency SKR, rolling to a
        // standby made after the first.
        let first = if quarter == 1 {
            vec!["--no-previous-skr"]
        } else {
            vec!["--emergency-standby", "standby"]
        };
        sign_media(&ceremony, &set, &words, &now, &first)
            .expect_code(0)
            .expect_stdout("written to the medium and read back");
        if quarter == 1 {
            let (config, pins) = (ceremony.path("c/ceremony.toml"), ceremony.path("pins.toml"));
            let (one, two, three) = (
                ceremony.card("CO-1"),
                ceremony.card("CO-2"),
                ceremony.card("CO-3"),
            );
            ceremony
                .run(&[
                    "--config",
                    &config,
                    "--now",
                    &now,
                    "keygen",
                    "--algorithm",
                    "ecdsap256sha256",
                    "--label",
                    "standby",
                    "--cards",
                    &one,
                    &two,
                    &three,
                    "--pin-file",
                    &pins,
                    "--yes",
                ])
                .expect_code(0);
        } else {
            // It stays on the signer's side: the medium holds only the
            // set and its SKR (the intake's import below takes no extra
            // file), and dnspython finds every bundle signed by the standby.
            let kept: Vec<String> = std::fs::read_dir(ceremony.path("c"))
                .unwrap()
                .flatten()
                .map(|entry| entry.path().display().to_string())
                .filter(|path| path.ends_with(".emergency-standby.xml"))
                .collect();
            assert_eq!(kept.len(), 1, "{kept:?}");
            let standby = ceremony.ksk_tags().last().unwrap().clone();
            dnspython(&[&kept[0]], &[standby]);
        }
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{set}/manifest-skr.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            manifest["officers"],
            serde_json::json!(["CO-1", "CO-2", "CO-4"])
        );
        let hash = ceremony.run(&["--json", "hash", &skr_in(&set)]);
        assert_eq!(manifest["skr_sha256"], hash.json()[0]["file_sha256"]);
        intake
            .import(&set)
            .expect_code(0)
            .expect_stdout("SKR imported")
            .expect_stdout("manifest-skr.json states (unsigned");
        let fetched = ceremony.path(&format!("skr-{quarter}.xml"));
        intake.fetch(&id, &fetched).expect_code(0);
        assert_eq!(
            std::fs::read(&fetched).unwrap(),
            std::fs::read(skr_in(&set)).unwrap(),
            "the SKR fetched is not the one on the medium"
        );
        dnspython(&[&fetched], &ceremony.ksk_tags());
    }
    // The second set carried the first SKR, which is the signer's own.
    let log = signer_log(&ceremony);
    let verified: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("\"event\":\"transfer-verified\""))
        .collect();
    assert_eq!(verified.len(), 2);
    let first_skr = ceremony.run(&["--json", "hash", &ceremony.path("skr-1.xml")]);
    let first_sha = first_skr.json()[0]["file_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(verified[1].contains(&first_sha), "{}", verified[1]);
    assert!(log.contains("\"event\":\"oob-checked\""));
    for log_file in [
        ceremony.path("c/audit.log"),
        format!("{}/audit.log", intake.dir),
    ] {
        ceremony.run(&["audit", "verify", &log_file]).expect_code(0);
    }
    let intake_log = intake.audit();
    for event in [
        "ksr-submitted",
        "transfer-exported",
        "skr-imported",
        "skr-fetched",
    ] {
        assert!(
            intake_log.contains(&format!("\"event\":\"{event}\"")),
            "{event}"
        );
    }
}

#[test]
fn a_knot_text_ksr_crosses_the_air_gap() {
    let ceremony = Ceremony::with("soft", "3", "ed25519", "example.com.", None);
    let conf = crate::knot::knot(&ceremony_path(&ceremony, "zsk"), "ed25519");
    let ksr = ceremony.path("ksr.txt");
    crate::knot::knot_ksr(&conf, &ksr);
    let now = crate::harness::clock_now();
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    intake.start(&now);
    let id = intake.submit(&ksr);
    let set = intake.export(&id, &ceremony.path("media"));
    assert!(Path::new(&format!("{set}/ksr.txt")).is_file());
    let words = ceremony.path("heard.txt");
    words_file(&ceremony, &format!("{set}/ksr.txt"), &words);
    sign_media(&ceremony, &set, &words, &now, &["--no-previous-skr"]).expect_code(0);
    intake.import(&set).expect_code(0);
    let fetched = ceremony.path("skr.txt");
    intake.fetch(&id, &fetched).expect_code(0);
    assert_eq!(
        std::fs::read(&fetched).unwrap(),
        std::fs::read(format!("{set}/skr.txt")).unwrap()
    );
    dnspython(&[&fetched], &ceremony.ksk_tags());
    let (code, stdout, stderr) = crate::knot::keymgr(&conf, &["import-skr", &fetched]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
}

fn ceremony_path(ceremony: &Ceremony, name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(ceremony.path(name))
}

//------------ Bad input at every hop ---------------------------------------

/// Signs a tampered copy of a set; expects the refusal `code` before any
/// card, recorded at the signer, and nothing written to the medium.
fn refused_at_signer(ceremony: &Ceremony, set: &str, words: &str, now: &str, code: &str) {
    let before = signer_log(ceremony).lines().count();
    let run = sign_media(ceremony, set, words, now, &["--no-previous-skr"]);
    assert_eq!(run.code, 3, "{code}: {}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(code), "{code}: {}", run.stderr);
    assert!(
        !Path::new(&skr_in(set)).exists(),
        "{code}: an SKR was written"
    );
    assert!(!Path::new(&format!("{set}/manifest-skr.json")).exists());
    let log = signer_log(ceremony);
    let new: Vec<&str> = log.lines().skip(before).collect();
    assert!(
        new.iter()
            .any(|line| line.contains("\"event\":\"sign-refused\"") && line.contains(code)),
        "{code}: not recorded: {new:?}"
    );
    assert!(
        !new.iter()
            .any(|line| line.contains("card-accepted") || line.contains("card-inserted")),
        "{code}: a card was read"
    );
}

#[test]
fn every_bad_transfer_is_refused_by_name_where_it_appears() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    let now = now_for(1);
    intake.start(&now);
    let ksr = ceremony.make_ksr(1);
    let id = intake.submit(&ksr);
    let media = ceremony.path("media");
    let set = intake.export(&id, &media);
    let words = ceremony.path("heard.txt");
    let heard = words_file(&ceremony, &format!("{set}/ksr.xml"), &words);
    let tampered = |name: &str| -> String {
        let copy = ceremony.path(&format!("bad/{name}/{id}"));
        copy_set(&set, &copy);
        copy
    };

    // A second intake's key signs a set of the same KSR: not the pinned one.
    let mut other = Intake::init(&ceremony, "other-intake", None);
    other.start(&now);
    let other_id = other.submit(&ksr);
    let foreign = other.export(&other_id, &ceremony.path("other-media"));
    refused_at_signer(&ceremony, &foreign, &words, &now, "MEDIA-SIGNATURE");
    drop(other);

    // The KSR swapped after export (another valid KSR of the zone).
    let swapped = tampered("swapped");
    let second = ceremony.path("other-ksr.xml");
    std::fs::copy(&ksr, &second).unwrap();
    let mut text = std::fs::read_to_string(&second).unwrap();
    text = text.replacen("<Request", "<!-- swapped --><Request", 1);
    std::fs::write(format!("{swapped}/ksr.xml"), text).unwrap();
    refused_at_signer(&ceremony, &swapped, &words, &now, "MEDIA-HASH");

    // An extra file.
    let extra = tampered("extra");
    std::fs::write(format!("{extra}/notes.txt"), "hello").unwrap();
    refused_at_signer(&ceremony, &extra, &words, &now, "MEDIA-EXTRA");

    // A symlink in place of the KSR.
    let linked = tampered("symlink");
    std::fs::remove_file(format!("{linked}/ksr.xml")).unwrap();
    std::os::unix::fs::symlink(format!("{set}/ksr.xml"), format!("{linked}/ksr.xml")).unwrap();
    refused_at_signer(&ceremony, &linked, &words, &now, "MEDIA-ENTRY");

    // A truncated KSR.
    let truncated = tampered("truncated");
    let bytes = std::fs::read(format!("{set}/ksr.xml")).unwrap();
    std::fs::write(format!("{truncated}/ksr.xml"), &bytes[..bytes.len() / 2]).unwrap();
    refused_at_signer(&ceremony, &truncated, &words, &now, "MEDIA-HASH");

    // A manifest edited to name a file twice: its signature no longer
    // verifies (a set so made by a key holder is refused by the reader's
    // own rule; see the media unit tests).
    let twice = tampered("twice");
    let manifest = std::fs::read_to_string(format!("{twice}/manifest.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let first = value["files"][0].clone();
    value["files"].as_array_mut().unwrap().push(first);
    std::fs::write(
        format!("{twice}/manifest.json"),
        serde_json::to_vec_pretty(&value).unwrap(),
    )
    .unwrap();
    refused_at_signer(&ceremony, &twice, &words, &now, "MEDIA-SIGNATURE");

    // A wrong word read over the phone: refused before any card.
    let mut wrong = heard.clone();
    wrong[9] = if wrong[9] == "aardvark" {
        "absurd".into()
    } else {
        "aardvark".into()
    };
    let wrong_words = ceremony.path("wrong.txt");
    std::fs::write(&wrong_words, wrong.join(" ")).unwrap();
    refused_at_signer(&ceremony, &set, &wrong_words, &now, "OOB-WORDS");
    assert!(last(&signer_log(&ceremony), "sign-refused").contains("word 10"));

    // The genuine set signs; replayed afterwards, it is refused.
    sign_media(&ceremony, &set, &words, &now, &["--no-previous-skr"]).expect_code(0);
    let replayed = tampered("replayed");
    refused_at_signer(&ceremony, &replayed, &words, &now, "MEDIA-REPLAY");

    // Back at the intake: an SKR for another KSR.
    std::fs::copy(skr_in(&set), ceremony.path("skr-1.xml")).unwrap();
    let ksr2 = ceremony.make_ksr(2);
    intake.start(&now_for(2));
    let before = intake.audit().lines().count();
    let wrong_skr = tampered("wrong-skr");
    let other_skr = ceremony.path("skr-other.xml");
    // An SKR the signer made for another KSR (a rehearsal file signing).
    ceremony
        .run(&[
            "--config",
            &ceremony.path("c/ceremony.toml"),
            "--now",
            &now_for(2),
            "sign",
            &ksr2,
            "--previous-skr",
            &skr_in(&set),
            "-o",
            &other_skr,
            "--pin-file",
            &ceremony.path("pins.toml"),
            "--yes",
            "--cards",
            &ceremony.card("CO-1"),
            &ceremony.card("CO-2"),
            &ceremony.card("CO-3"),
        ])
        .expect_code(0);
    std::fs::copy(&other_skr, skr_in(&wrong_skr)).unwrap();
    let mut skr_manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{set}/manifest-skr.json")).unwrap())
            .unwrap();
    let hash = ceremony.run(&["--json", "hash", &other_skr]);
    skr_manifest["skr_sha256"] = hash.json()[0]["file_sha256"].clone();
    skr_manifest["skr_size"] = std::fs::metadata(&other_skr).unwrap().len().into();
    std::fs::write(
        format!("{wrong_skr}/manifest-skr.json"),
        serde_json::to_vec_pretty(&skr_manifest).unwrap(),
    )
    .unwrap();
    let run = intake.import(&wrong_skr);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("SKR-CONSISTENCY"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // An SKR whose file changed after its manifest was written.
    let changed = tampered("changed-skr");
    std::fs::copy(&other_skr, skr_in(&changed)).unwrap();
    std::fs::copy(
        format!("{set}/manifest-skr.json"),
        format!("{changed}/manifest-skr.json"),
    )
    .unwrap();
    let run = intake.import(&changed);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("MEDIA-HASH"), "{}", run.stderr);
    let log = intake.audit();
    let refusals: Vec<&str> = log
        .lines()
        .skip(before)
        .filter(|line| line.contains("\"event\":\"import-refused\""))
        .collect();
    assert_eq!(refusals.len(), 2, "{log}");
    assert!(refusals[0].contains("SKR-CONSISTENCY") && refusals[1].contains("MEDIA-HASH"));
    // Neither became the intake's last SKR, nor fetchable.
    assert!(!Path::new(&format!("{}/last-skr.xml", intake.dir)).exists());
    intake
        .fetch(&id, &ceremony.path("not-yet.xml"))
        .expect_stderr("not signed yet");
    // The genuine one imports, once; again is a replay.
    intake.import(&set).expect_code(0);
    intake
        .import(&set)
        .expect_code(3)
        .expect_stderr("MEDIA-REPLAY");
    ceremony
        .run(&["audit", "verify", &format!("{}/audit.log", intake.dir)])
        .expect_code(0);
}

//------------ The words typed at the terminal -------------------------------

/// `sign --media` at a terminal: answers each "word N: " prompt on stderr
/// with `answer(N)`; returns the run.
fn sign_typing(ceremony: &Ceremony, set: &str, answer: impl Fn(usize) -> String) -> Run {
    use std::io::{Read as _, Write as _};
    let (config, pins) = (ceremony.path("c/ceremony.toml"), ceremony.path("pins.toml"));
    let cards: Vec<String> = ["CO-1", "CO-2", "CO-4"]
        .iter()
        .map(|officer| ceremony.card(officer))
        .collect();
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args([
            "--config",
            &config,
            "--now",
            &now_for(1),
            "sign",
            "--media",
            set,
        ])
        .args(["--no-previous-skr", "--pin-file", &pins, "--cards"])
        .args(&cards)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stdout).read_to_string(&mut text);
        text
    });
    let mut said = String::new();
    let mut answered = 0;
    let mut buffer = [0_u8; 256];
    loop {
        let read = stderr.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        said.push_str(&String::from_utf8_lossy(&buffer[..read]));
        // Each prompt is "word N: ", and the N are the tool's choice.
        let asked: Vec<usize> = said
            .match_indices("word ")
            .filter_map(|(at, _)| {
                let rest = &said[at + 5..];
                let (number, _) = rest.split_once(": ")?;
                number.parse().ok()
            })
            .collect();
        while answered < asked.len() {
            // A refusal that names a word ends the run: its pipe may be
            // gone by then.
            let _ = writeln!(stdin, "{}", answer(asked[answered]));
            answered += 1;
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: said,
        elapsed: started.elapsed(),
    }
}

#[test]
fn the_administrator_types_the_words_at_the_positions_the_tool_chooses() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    intake.start(&now_for(1));
    let id = intake.submit(&ceremony.make_ksr(1));
    let set = intake.export(&id, &ceremony.path("media"));
    let words = words_file(
        &ceremony,
        &format!("{set}/ksr.xml"),
        &ceremony.path("heard.txt"),
    );

    // A word misheard: refused, nothing signed.
    let run = sign_typing(&ceremony, &set, |_| "aardvark".to_owned());
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("OOB-WORDS"), "{}", run.stderr);
    assert!(!Path::new(&skr_in(&set)).exists());

    // The words as heard: four asked, distinct, each from 1 to 32; the
    // KSR's words are not on the screen before they match.
    let run = sign_typing(&ceremony, &set, |position| words[position - 1].clone());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let asked: Vec<&str> = run.stderr.matches("word ").collect();
    assert_eq!(asked.len(), 4, "{}", run.stderr);
    let matched = run
        .stdout
        .find("the words read over the phone match")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let first_group = format!(" 1. {}", words[..4].join(" "));
    assert!(
        run.stdout.find(&first_group).is_some_and(|at| at > matched),
        "the KSR's words were on the screen before the check:\n{}",
        run.stdout
    );
    assert!(Path::new(&skr_in(&set)).is_file());
    let log = signer_log(&ceremony);
    assert!(last(&log, "oob-checked").contains("\"how\":\"typed\""));
}

//------------ The intake as a server ----------------------------------------

#[test]
fn the_intake_serves_its_zsk_operator_only_within_its_limits() {
    use crate::service::{agent, answer, ksr_max};
    let ceremony = Ceremony::new("soft", "2");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.start(&now_for(1));
    let url = intake.url().to_owned();
    let tls = std::path::PathBuf::from(format!("{}/tls", intake.dir));
    // Its PKI has the ZSK operator only: no officer, no administrator.
    for name in ["CO-1", "admin"] {
        assert!(!tls.join(format!("clients/{name}")).exists(), "{name}");
    }
    let anonymous = agent(&tls, None);
    assert_eq!(answer(anonymous.get(format!("{url}/")).call()).0, 401);
    assert_eq!(
        answer(anonymous.post(format!("{url}/ksrs")).send("<x/>")).0,
        401
    );
    // The operator's page lists their KSRs and where each stands.
    let id = intake.submit(&ceremony.make_ksr(1));
    let zsk = agent(&tls, Some("zsk-operator"));
    let (status, page) = answer(zsk.get(format!("{url}/")).call());
    assert_eq!(status, 200);
    let page = page.as_str().unwrap().to_owned();
    assert!(page.contains(&id) && page.contains(">accepted<"), "{page}");
    intake.export(&id, &ceremony.path("media"));
    let (_, page) = answer(zsk.get(format!("{url}/")).call());
    assert!(page.as_str().unwrap().contains(">exported<"), "{page}");
    // Not signed yet: nothing to fetch.
    assert_eq!(
        answer(zsk.get(format!("{url}/ksrs/{id}/skr")).call()).0,
        409
    );
    // An id that is not one, and a body over the limit.
    assert_eq!(
        answer(zsk.get(format!("{url}/ksrs/..%2f..%2fintake.key")).call()).0,
        404
    );
    let huge = vec![b' '; ksr_max() + 1];
    match zsk.post(format!("{url}/ksrs")).send(&huge[..]) {
        Ok(response) => assert_eq!(response.status(), 413),
        Err(err) => assert!(matches!(err, ureq::Error::Io(_)), "{err}"),
    }
    // Malformed KSRs: the findings, nothing kept.
    let (status, refused) = answer(
        zsk.post(format!("{url}/ksrs"))
            .content_type("application/xml")
            .send("<KSR"),
    );
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["report"]["errors"].as_u64().unwrap() >= 1,
        "{refused}"
    );
    assert!(intake.audit().contains("\"event\":\"ksr-refused\""));
    ceremony
        .run(&["audit", "verify", &format!("{}/audit.log", intake.dir)])
        .expect_code(0);
}

#[test]
fn the_zsk_operator_reads_out_the_hash_of_their_own_file_not_the_intakes_answer() {
    // An insider who holds IDIR has the intake's server key: it can answer
    // a submission with the record of another KSR it submitted itself. The
    // ZSK operator's tool prints its file's own hash and refuses the lie,
    // so the words read over the phone are never the other KSR's.
    let ceremony = Ceremony::new("soft", "2");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.start(&now_for(1));
    let honest = ceremony.make_ksr(1);
    let evil = ceremony.path("evil.xml");
    std::fs::write(
        &evil,
        std::fs::read_to_string(&honest).unwrap().replacen(
            "<Request",
            "<!-- not the operator's --><Request",
            1,
        ),
    )
    .unwrap();
    let submitted = intake.client(&["--json", "ksr", "submit", &evil]);
    submitted.expect_code(0);
    let answer = ceremony.path("evil-answer.json");
    std::fs::write(&answer, &submitted.stdout).unwrap();
    let port_file = ceremony.path("fake.port");
    let tls = format!("{}/tls", intake.dir);
    let mut fake = Command::new("/usr/bin/python3")
        .arg(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fake/intake.py"))
        .args([
            &format!("{tls}/server.pem"),
            &format!("{tls}/server.key"),
            &port_file,
            &answer,
        ])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !Path::new(&port_file).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the fake intake never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let port = std::fs::read_to_string(&port_file).unwrap();
    let run = ceremony.run(&[
        "ksr",
        "submit",
        &honest,
        "--server",
        &format!("https://127.0.0.1:{port}"),
        "--tls-dir",
        &format!("{tls}/clients/zsk-operator"),
        "--as",
        "zsk-operator",
    ]);
    let _ = fake.wait();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("did not store this KSR"),
        "{}",
        run.stderr
    );
    let evil_words = submitted.json()["ksr"]["ksr_pgp_words"]
        .as_str()
        .unwrap()
        .to_owned();
    let first: Vec<&str> = evil_words.split(' ').take(4).collect();
    assert!(!run.stdout.contains(&first.join(" ")), "{}", run.stdout);
}

#[test]
fn a_medium_that_lost_the_skr_after_the_signing_is_written_again_without_a_quorum() {
    let ceremony = Ceremony::new("soft", "3");
    let mut intake = Intake::init(&ceremony, "intake", None);
    intake.pin();
    intake.start(&now_for(1));
    let id = intake.submit(&ceremony.make_ksr(1));
    let set = intake.export(&id, &ceremony.path("media"));
    let words = ceremony.path("heard.txt");
    words_file(&ceremony, &format!("{set}/ksr.xml"), &words);
    sign_media(&ceremony, &set, &words, &now_for(1), &["--no-previous-skr"]).expect_code(0);
    let skr = std::fs::read(skr_in(&set)).unwrap();
    let manifest = std::fs::read(format!("{set}/manifest-skr.json")).unwrap();
    // The medium failed after the signing: its manifest is gone.
    std::fs::remove_file(format!("{set}/manifest-skr.json")).unwrap();
    intake
        .import(&set)
        .expect_code(3)
        .expect_stderr("MEDIA-MISSING");
    // Signing again is a replay, which says what to do.
    sign_media(&ceremony, &set, &words, &now_for(1), &["--no-previous-skr"])
        .expect_code(3)
        .expect_stderr("--rewrite");
    let config = ceremony.path("c/ceremony.toml");
    let rewrite =
        |dir: &str| ceremony.run(&["--config", &config, "sign", "--media", dir, "--rewrite"]);
    rewrite(&set)
        .expect_code(0)
        .expect_stdout("written to the medium again");
    assert_eq!(
        std::fs::read(format!("{set}/manifest-skr.json")).unwrap(),
        manifest
    );
    // And the SKR too, from a fresh copy of the set that has neither.
    let copy = ceremony.path(&format!("copy/{id}"));
    copy_set(&set, &copy);
    rewrite(&copy).expect_code(0);
    assert_eq!(std::fs::read(skr_in(&copy)).unwrap(), skr);
    intake.import(&copy).expect_code(0);
    let log = signer_log(&ceremony);
    assert!(last(&log, "skr-written-to-media").contains("\"again\":true"));
    assert!(
        !log.lines()
            .skip_while(|line| !line.contains("\"again\":true"))
            .any(|line| line.contains("card-accepted"))
    );
    // Another set is not the one signed last: nothing to write.
    intake.start(&now_for(2));
    std::fs::copy(skr_in(&set), ceremony.path("skr-1.xml")).unwrap();
    let id2 = intake.submit(&ceremony.make_ksr(2));
    let set2 = intake.export(&id2, &ceremony.path("media"));
    rewrite(&set2).expect_code(3).expect_stderr("MEDIA-CHAIN");
}

#[test]
fn the_intake_takes_only_a_policy_that_continues_its_ksks() {
    let ceremony = Ceremony::new("soft", "3");
    let intake = Intake::init(&ceremony, "intake", None);
    let policy = |ceremony: &Ceremony| ceremony.path("c/ceremony.toml");
    let replace = |file: &str| ceremony.run(&["intake", "policy", "--dir", &intake.dir, file]);
    // The same file: nothing to do.
    replace(&policy(&ceremony)).expect_code(2);
    // Another ceremony's policy for the same zone: its current KSK is not
    // one this intake pins.
    let other = Ceremony::new("soft", "2");
    replace(&policy(&other))
        .expect_code(2)
        .expect_stderr("neither the current nor the next KSK this intake pins");
    // Another zone's.
    let elsewhere = Ceremony::with("soft", "2", "ecdsap256sha256", "example.org.", None);
    replace(&policy(&elsewhere))
        .expect_code(2)
        .expect_stderr("it is the policy of example.org.");
    let kept = std::fs::read(format!("{}/ceremony.toml", intake.dir)).unwrap();
    assert_eq!(kept, std::fs::read(policy(&ceremony)).unwrap());
    assert!(!intake.audit().contains("\"event\":\"policy-written\""));
}

//! Whole ceremonies through the binary: init, the ZSK side, sign with a
//! quorum of cards, quarter after quarter, on the soft HSM and on a
//! SoftHSM2 token; every SKR validated by dnspython anchored to the KSK.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Run, arg, run_env};

/// A ceremony in a temporary directory: 3 of 5 officers, light card KDF.
pub struct Ceremony {
    dir: tempfile::TempDir,
    /// SOFTHSM2_CONF for a token backend.
    pub softhsm: Option<PathBuf>,
}

/// The module of Debian's softhsm2 (the test command installs it).
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

impl Ceremony {
    /// 3 or 2 of 5 officers, ECDSA P-256, `example.`, made as of
    /// 2029-12-01.
    pub fn new(backend: &str, threshold: &str) -> Self {
        Self::with(
            backend,
            threshold,
            "ecdsap256sha256",
            "example.",
            Some("2029-12-01T00:00:00Z"),
        )
    }

    /// A ceremony of 5 officers for a zone and algorithm, made as of `now`
    /// (the clock without it).
    pub fn with(
        backend: &str,
        threshold: &str,
        algorithm: &str,
        domain: &str,
        now: Option<&str>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pins.toml"),
            "CO-1 = \"111111\"\nCO-2 = \"222222\"\nCO-3 = \"333333\"\nCO-4 = \"444444\"\nCO-5 = \"555555\"\n",
        )
        .unwrap();
        let mut ceremony = Self { dir, softhsm: None };
        let mut args: Vec<String> = now
            .map(|now| vec!["--now".to_owned(), now.to_owned()])
            .unwrap_or_default();
        args.extend([
            "init".to_owned(),
            "--rehearsal".to_owned(),
            "--dir".to_owned(),
            ceremony.path("c"),
            "--cards".to_owned(),
            "5".to_owned(),
            "--threshold".to_owned(),
            threshold.to_owned(),
            "--algorithm".to_owned(),
            algorithm.to_owned(),
            "--domain".to_owned(),
            domain.to_owned(),
            "--pin-file".to_owned(),
            ceremony.path("pins.toml"),
            "--puk-file".to_owned(),
            ceremony.path("puks.toml"),
            "--kdf".to_owned(),
            "light".to_owned(),
        ]);
        if backend == "pkcs11" {
            ceremony.token();
            args.extend(
                [
                    "--backend",
                    "pkcs11",
                    "--module",
                    MODULE,
                    "--token",
                    "ceremony",
                    "--so-pin-file",
                ]
                .map(String::from),
            );
            args.push(ceremony.path("so-pin"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let made = ceremony.run(&args);
        made.expect_code(0);
        if backend == "pkcs11" {
            made.expect_stdout("the token's SO PIN is now one only the quorum derives");
        }
        ceremony
    }

    /// The SoftHSM2 configuration of a pkcs11 ceremony.
    pub fn softhsm_conf(&self) -> Option<&std::path::Path> {
        self.softhsm.as_deref()
    }

    /// A SoftHSM2 token labelled "ceremony" in a token directory of this
    /// ceremony's own.
    fn token(&mut self) {
        self.softhsm = Some(softhsm_token(
            self.dir.path(),
            "ceremony",
            "officers-never-know",
        ));
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    pub fn card(&self, officer: &str) -> String {
        self.path(&format!("c/cards/{officer}.card"))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        match &self.softhsm {
            Some(conf) => run_env(args, &[("SOFTHSM2_CONF", conf.as_path())]),
            None => run_env(args, &[]),
        }
    }

    /// Approves the edited policy with CO-1's and CO-2's cards.
    pub fn approve_policy(&self) -> Run {
        let (config, pins, one, two) = (
            self.path("c/ceremony.toml"),
            self.path("pins.toml"),
            self.card("CO-1"),
            self.card("CO-2"),
        );
        self.run(&[
            "--config",
            &config,
            "policy",
            "approve",
            "--pin-file",
            &pins,
            "--yes",
            "--cards",
            &one,
            &two,
        ])
    }

    /// The KSR of quarter `n` (1, 2, …), continuing from the SKR before.
    pub fn make_ksr(&self, quarter: u32) -> String {
        let out = self.path(&format!("ksr-{quarter}.xml"));
        let config = self.path("c/ceremony.toml");
        let dir = self.path("zsk");
        let mut args = vec![
            "--config", &config, "zsk", "make-ksr", "--dir", &dir, "--domain", "example.", "--out",
            &out,
        ];
        let previous = self.path(&format!("skr-{}.xml", quarter - 1));
        if quarter == 1 {
            args.extend(["--inception", "2030-01-10T00:00:00Z"]);
        } else {
            args.extend(["--previous-skr", &previous]);
        }
        self.run(&args).expect_code(0);
        out
    }

    /// Signs quarter `n` with these officers' cards, as of ten days before
    /// it starts.
    pub fn sign(&self, quarter: u32, officers: &[&str], extra: &[&str]) -> Run {
        let ksr = self.path(&format!("ksr-{quarter}.xml"));
        let out = self.path(&format!("skr-{quarter}.xml"));
        let previous = self.path(&format!("skr-{}.xml", quarter - 1));
        let now = now_for(quarter);
        let config = self.path("c/ceremony.toml");
        let pins = self.path("pins.toml");
        let mut args: Vec<String> = [
            "--json",
            "--config",
            &config,
            "--now",
            &now,
            "sign",
            &ksr,
            "-o",
            &out,
            "--pin-file",
            &pins,
            "--yes",
        ]
        .map(String::from)
        .to_vec();
        if quarter == 1 {
            args.push("--no-previous-skr".into());
        } else {
            args.extend(["--previous-skr".to_owned(), previous]);
        }
        args.extend(extra.iter().map(|extra| (*extra).to_owned()));
        args.push("--cards".into());
        args.extend(officers.iter().map(|officer| {
            if officer.contains('/') {
                (*officer).to_owned()
            } else {
                self.card(officer)
            }
        }));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }

    /// The KSK tag from the policy.
    pub fn ksk_tags(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.path("c/ceremony.toml")).unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix("key_tag = "))
            .map(str::to_owned)
            .collect()
    }
}

/// The evaluation instant for signing quarter `n`: 20 days before it
/// starts (quarter 1 starts 2030-01-10, each later one 90 days on).
pub fn now_for(quarter: u32) -> String {
    let start = 1_894_233_600 + (quarter - 1) * 90 * 86_400 - 20 * 86_400;
    let output = Command::new("date")
        .args(["-u", "-d", &format!("@{start}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// dnspython, anchored to the tags.
pub fn dnspython(files: &[&str], tags: &[String]) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/dnspython/validate.py");
    let output = Command::new("/usr/bin/python3")
        .arg(script)
        .args(["--ksk-tags", &tags.join(",")])
        .args(files)
        .output()
        .expect("/usr/bin/python3 runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains(" 0 failed"), "{text}");
}

fn two_quarters(backend: &str) {
    let ceremony = Ceremony::new(backend, "3");
    ceremony.make_ksr(1);
    let first = ceremony.sign(1, &["CO-1", "CO-3", "CO-5"], &[]);
    first.expect_code(0);
    assert_eq!(first.json()["accepted"].as_array().unwrap().len(), 3);
    ceremony.make_ksr(2);
    ceremony
        .sign(2, &["CO-2", "CO-4", "CO-5"], &[])
        .expect_code(0);
    let tags = ceremony.ksk_tags();
    dnspython(
        &[&ceremony.path("skr-1.xml"), &ceremony.path("skr-2.xml")],
        &tags,
    );
    // The audit log records it all and verifies.
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
    // Too few cards: exit 4, nothing written.
    ceremony.make_ksr(3);
    let refused = ceremony.sign(3, &["CO-1", "CO-2"], &[]);
    refused
        .expect_code(4)
        .expect_stderr("the quorum was not met: 2 of 3");
    assert!(!Path::new(&ceremony.path("skr-3.xml")).exists());
}

#[test]
fn two_quarters_in_a_row_and_too_few_cards() {
    two_quarters("soft");
}

#[test]
fn two_quarters_in_a_row_and_too_few_cards_on_a_softhsm2_token() {
    two_quarters("pkcs11");
}

fn bad_cards(backend: &str) {
    let ceremony = Ceremony::new(backend, "2");
    let other = Ceremony::new("soft", "2");
    ceremony.make_ksr(1);
    // CO-1 of another ceremony, a blocked CO-2, a damaged CO-3; CO-4 and
    // CO-5 still activate.
    let wrong = ceremony.path("wrong.toml");
    std::fs::write(&wrong, "CO-2 = \"999999\"\n").unwrap();
    for _ in 0..3 {
        ceremony
            .run(&[
                "card",
                "verify",
                &ceremony.card("CO-2"),
                "--pin-file",
                &wrong,
            ])
            .expect_code(4);
    }
    let damaged = ceremony.card("CO-3");
    let text = std::fs::read_to_string(&damaged).unwrap();
    let (_, body) = text.split_once('\n').unwrap();
    let mut json: serde_json::Value = serde_json::from_str(body).unwrap();
    let sealed = json["secrets"]["ciphertext"].as_str().unwrap().to_owned();
    let flipped = format!(
        "{}{}",
        if sealed.starts_with('0') { "1" } else { "0" },
        &sealed[1..]
    );
    json["secrets"]["ciphertext"] = flipped.into();
    let body = serde_json::to_vec_pretty(&json).unwrap();
    let digest = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&body)?;
            child.wait_with_output()
        })
        .unwrap();
    let digest = String::from_utf8(digest.stdout).unwrap();
    let mut file = format!("ceremony-card 1 sha256:{}\n", &digest[..64]).into_bytes();
    file.extend_from_slice(&body);
    file.push(b'\n');
    std::fs::write(&damaged, file).unwrap();
    let signed = ceremony.sign(
        1,
        &[&other.card("CO-1"), "CO-2", "CO-3", "CO-4", "CO-5"],
        &[],
    );
    signed.expect_code(0);
    let json = signed.json();
    let refused = json["refused"].as_array().unwrap();
    let reasons: Vec<String> = refused
        .iter()
        .map(|refusal| format!("{} {}", refusal["officer"], refusal["reason"]))
        .collect();
    assert_eq!(refused.len(), 3, "{reasons:?}");
    assert!(reasons[0].contains("not enrolled"), "{reasons:?}");
    assert!(
        reasons[1].contains("CO-2") && reasons[1].contains("blocked"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("CO-3") && reasons[2].contains("damaged"),
        "{reasons:?}"
    );
    let accepted: Vec<&str> = json["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|card| card["officer"].as_str().unwrap())
        .collect();
    assert_eq!(accepted, ["CO-4", "CO-5"]);
    dnspython(&[&ceremony.path("skr-1.xml")], &ceremony.ksk_tags());
}

#[test]
fn foreign_blocked_and_damaged_cards_are_named_and_the_rest_activate() {
    bad_cards("soft");
}

#[test]
fn foreign_blocked_and_damaged_cards_on_a_softhsm2_token() {
    bad_cards("pkcs11");
}

#[test]
fn the_demo_runs_and_its_skr_validates() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let result = run_env(&["--json", "demo", "--dir", arg(&demo_dir)], &[]);
    result.expect_code(0);
    let json = result.json();
    let skr = json["skr"].as_str().unwrap();
    assert!(Path::new(json["ksr"].as_str().unwrap()).exists());
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(json["score"], 100, "{json}");
    assert_eq!(
        json["officers"],
        serde_json::json!(["CO-2", "CO-4", "CO-5"])
    );
    assert!(
        steps
            .iter()
            .any(|step| step["output"].as_str().unwrap().contains("3 of 3"))
    );
    dnspython(&[skr], &[json["ksk_tag"].to_string()]);
}

fn ksk_roll(backend: &str) {
    let ceremony = Ceremony::new(backend, "2");
    let config = ceremony.path("c/ceremony.toml");
    let pins = ceremony.path("pins.toml");
    let current = ceremony.ksk_tags();
    assert_eq!(current.len(), 1);
    ceremony.make_ksr(1);
    ceremony.sign(1, &["CO-1", "CO-2"], &[]).expect_code(0);
    // A new KSK, made with a quorum; the policy now names it the next KSK.
    let now = now_for(2);
    let (card_3, card_4) = (ceremony.card("CO-3"), ceremony.card("CO-4"));
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
            "ksk-2",
            "--cards",
            &card_3,
            &card_4,
            "--pin-file",
            &pins,
            "--yes",
        ])
        .expect_code(0)
        .expect_stdout("it is the next KSK of the policy");
    let both = ceremony.ksk_tags();
    assert_eq!(both.len(), 2);
    let next = vec![both[1].clone()];
    for (quarter, schema) in [(2, "pre-publish"), (3, "rollover"), (4, "revoke")] {
        ceremony.make_ksr(quarter);
        let mut extra = vec!["--schema", schema];
        // With the new KSK as the standby, the pre-publish quarter also
        // gets its emergency SKR, chained to the previous SKR like the
        // quarter's own (only the publish-safety rule is off for it).
        if quarter == 2 {
            extra.extend(["--emergency-standby", "ksk-2"]);
        }
        ceremony
            .sign(quarter, &["CO-2", "CO-5"], &extra)
            .expect_code(0);
    }
    // Every bundle of the emergency SKR carries a valid signature by the
    // standby alone (dnspython).
    dnspython(&[&ceremony.path("skr-2.emergency-ksk-2.xml")], &next);
    // Promotion changes what the quorum signs: it takes a quorum too, and
    // the evidence that the roll happened, checked before any card: the
    // rollover quarter's SKR does not show the current KSK revoked.
    let (rollover, revoke) = (ceremony.path("skr-3.xml"), ceremony.path("skr-4.xml"));
    ceremony
        .run(&[
            "--config",
            &config,
            "ksk",
            "promote",
            "--revoke-skr",
            &rollover,
            "--cards",
            &card_3,
            &card_4,
            "--pin-file",
            &pins,
            "--yes",
        ])
        .expect_code(2)
        .expect_stderr("does not show the roll");
    ceremony
        .run(&[
            "--config",
            &config,
            "ksk",
            "promote",
            "--revoke-skr",
            &revoke,
            "--yes",
        ])
        .expect_code(4);
    ceremony
        .run(&[
            "--config",
            &config,
            "ksk",
            "promote",
            "--revoke-skr",
            &revoke,
            "--cards",
            &card_3,
            &card_4,
            "--pin-file",
            &pins,
            "--yes",
        ])
        .expect_code(0);
    assert_eq!(ceremony.ksk_tags(), next);
    ceremony.make_ksr(5);
    ceremony.sign(5, &["CO-1", "CO-4"], &[]).expect_code(0);
    let skr = |quarter: u32| ceremony.path(&format!("skr-{quarter}.xml"));
    dnspython(&[&skr(1), &skr(2)], &current);
    dnspython(&[&skr(3)], &both);
    dnspython(&[&skr(4), &skr(5)], &next);
    // The pre-publish quarter publishes the next KSK from bundle 2; the
    // revoke quarter revokes the old one in bundles 2 to 8.
    let count = |quarter: u32, needle: &str| {
        std::fs::read_to_string(skr(quarter))
            .unwrap()
            .matches(needle)
            .count()
    };
    assert_eq!(count(1, "<Flags>257</Flags>"), 9);
    assert_eq!(count(2, "<Flags>257</Flags>"), 17);
    assert_eq!(count(4, "<Flags>385</Flags>"), 7);
}

#[test]
fn a_ksk_roll_over_four_quarters() {
    ksk_roll("soft");
}

#[test]
fn a_ksk_roll_over_four_quarters_on_a_softhsm2_token() {
    ksk_roll("pkcs11");
}

#[test]
fn inventory_and_the_trust_anchor_agree_with_dnspython() {
    let ceremony = Ceremony::new("soft", "2");
    let config = ceremony.path("c/ceremony.toml");
    let inventory = ceremony.run(&["--json", "--config", &config, "inventory"]);
    inventory.expect_code(0);
    let keys = inventory.json();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["key_tag"].to_string(), ceremony.ksk_tags()[0]);
    assert_eq!(keys[0]["policy_name"], "ksk_current");
    let anchor = ceremony.run(&["--config", &config, "trust-anchor"]);
    anchor.expect_code(0);
    // dnspython recomputes each KeyDigest's tag and DS from its key.
    let script = r#"
import sys, xml.etree.ElementTree as ET
import dns.dnssec, dns.name, dns.rdata, dns.rdataclass, dns.rdatatype
root = ET.fromstring(sys.stdin.read())
zone = dns.name.from_text(root.find("Zone").text)
for digest in root.findall("KeyDigest"):
    f = lambda name: digest.find(name).text
    key = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, "%s 3 %s %s" % (f("Flags"), f("Algorithm"), f("PublicKey")))
    assert dns.dnssec.key_id(key) == int(f("KeyTag")), "tag"
    ds = dns.dnssec.make_ds(zone, key, "SHA256")
    assert ds.digest.hex().upper() == f("Digest"), "digest"
    print("ok", f("KeyTag"))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(anchor.stdout.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(text.trim(), format!("ok {}", ceremony.ksk_tags()[0]));
}

fn new_generations(backend: &str) {
    let ceremony = Ceremony::new(backend, "3");
    let config = ceremony.path("c/ceremony.toml");
    let pins = ceremony.path("pins.toml");
    ceremony.make_ksr(1);
    ceremony
        .sign(1, &["CO-1", "CO-2", "CO-3"], &[])
        .expect_code(0);
    // Reshare: three current cards authorize four new ones, two of which
    // will do; the secret and the KSK stay.
    let new_pins = ceremony.path("new-pins.toml");
    std::fs::write(
        &new_pins,
        "CO-1 = \"121212\"\nCO-2 = \"232323\"\nCO-3 = \"343434\"\nCO-4 = \"454545\"\n",
    )
    .unwrap();
    let (one, two, three) = (
        ceremony.card("CO-1"),
        ceremony.card("CO-2"),
        ceremony.card("CO-3"),
    );
    let generation_2 =
        |officer: &str| ceremony.path(&format!("c/cards/generation-2/{officer}.card"));
    let resharing = ceremony.run(&[
        "--config",
        &config,
        "reshare",
        "--cards",
        &one,
        &two,
        &three,
        "--pin-file",
        &pins,
        "--new-cards",
        "4",
        "--threshold",
        "2",
        "--new-pin-file",
        &new_pins,
        "--puk-file",
        &ceremony.path("puks-2.toml"),
        "--kdf",
        "light",
        "--yes",
    ]);
    resharing
        .expect_code(0)
        .expect_stdout("generation 2: 2 of 4 new cards");
    ceremony.make_ksr(2);
    // The old cards, with their right PINs, are refused by name: the
    // three presented for the reshare were erased by it, the others are
    // named as retired cards of card set 1 (the log issued them), before
    // their PIN costs a try; the new ones sign.
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    assert_eq!(log.matches("\"event\":\"card-erased\"").count(), 3, "{log}");
    let refused = ceremony.sign(2, &["CO-1", "CO-4", "CO-5"], &[]);
    refused.expect_code(4);
    let json = refused.json();
    let reason = |index: usize| {
        json["refused"][index]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason(0).contains("the card was erased"), "{json}");
    for index in [1, 2] {
        assert!(
            reason(index).contains("a retired card of card set 1; card set 2 replaced it"),
            "{json}"
        );
    }
    let status = ceremony.run(&["--json", "card", "status", &ceremony.card("CO-4")]);
    status.expect_code(0);
    assert_eq!(
        status.json()["pin_tries_left"],
        3,
        "a retired card's PIN was tried"
    );
    ceremony
        .run(&["card", "status", &ceremony.card("CO-2")])
        .expect_code(0)
        .expect_stdout("erased (retired by a new card set)");
    std::fs::write(&pins, std::fs::read_to_string(&new_pins).unwrap()).unwrap();
    ceremony
        .sign(2, &[&generation_2("CO-4"), &generation_2("CO-2")], &[])
        .expect_code(0);
    // Rekey: a new secret for three new cards, any two of them.
    let generation_3 =
        |officer: &str| ceremony.path(&format!("c/cards/generation-3/{officer}.card"));
    let (g2_one, g2_three) = (generation_2("CO-1"), generation_2("CO-3"));
    ceremony
        .run(&[
            "--config",
            &config,
            "rekey",
            "--cards",
            &g2_one,
            &g2_three,
            "--pin-file",
            &pins,
            "--new-cards",
            "3",
            "--threshold",
            "2",
            "--new-pin-file",
            &new_pins,
            "--puk-file",
            &ceremony.path("puks-3.toml"),
            "--kdf",
            "light",
            "--yes",
        ])
        .expect_code(0)
        .expect_stdout("(new secret)");
    ceremony.make_ksr(3);
    ceremony
        .sign(3, &[&generation_2("CO-1"), &generation_2("CO-4")], &[])
        .expect_code(4);
    ceremony
        .sign(3, &[&generation_3("CO-2"), &generation_3("CO-3")], &[])
        .expect_code(0);
    let skr = |quarter: u32| ceremony.path(&format!("skr-{quarter}.xml"));
    dnspython(&[&skr(1), &skr(2), &skr(3)], &ceremony.ksk_tags());
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
}

#[test]
fn reshare_and_rekey_retire_the_old_cards() {
    new_generations("soft");
}

#[test]
fn reshare_and_rekey_on_a_softhsm2_token() {
    new_generations("pkcs11");
}

#[test]
fn a_failing_ksr_is_refused_before_any_card_and_nothing_is_written() {
    let ceremony = Ceremony::new("soft", "2");
    let config = ceremony.path("c/ceremony.toml");
    let ksr = ceremony.make_ksr(1);
    // One byte of a signature changed: KSR-BUNDLE-POP.2.
    let text = std::fs::read_to_string(&ksr).unwrap();
    let at = text.find("<SignatureData>").unwrap() + "<SignatureData>".len() + 4;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&ksr, bytes).unwrap();
    let out = ceremony.path("skr-1.xml");
    // No --cards: had the check passed, the cards would be asked for.
    let refused = ceremony.run(&[
        "--config",
        &config,
        "--now",
        &now_for(1),
        "sign",
        &ksr,
        "--no-previous-skr",
        "-o",
        &out,
        "--yes",
    ]);
    refused.expect_code(3).expect_stdout("KSR-BUNDLE-POP.2");
    assert!(!refused.stderr.contains("card 1"), "{}", refused.stderr);
    assert!(!Path::new(&out).exists());
    // The refusal closes the operation in the audit log, with its code.
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let closing = log.lines().last().unwrap();
    assert!(
        closing.contains("\"sign-refused\"") && closing.contains("KSR-BUNDLE-POP.2"),
        "{log}"
    );
    // Neither the previous SKR nor the waiver: a usage error.
    ceremony
        .run(&["--config", &config, "sign", &ksr, "-o", &out])
        .expect_code(2);
}

#[test]
fn init_refuses_an_existing_puk_file_before_making_anything() {
    let dir = tempfile::tempdir().unwrap();
    let puks = dir.path().join("puks.toml");
    std::fs::write(&puks, "kept").unwrap();
    let pins = dir.path().join("pins.toml");
    std::fs::write(&pins, "CO-1 = \"111111\"\nCO-2 = \"222222\"\n").unwrap();
    let ceremony = dir.path().join("c");
    run_env(
        &[
            "init",
            "--rehearsal",
            "--dir",
            arg(&ceremony),
            "--cards",
            "2",
            "--threshold",
            "2",
            "--algorithm",
            "ed25519",
            "--pin-file",
            arg(&pins),
            "--puk-file",
            arg(&puks),
            "--kdf",
            "light",
        ],
        &[],
    )
    .expect_code(2)
    .expect_stderr("never overwritten");
    assert!(!ceremony.exists());
    assert_eq!(std::fs::read_to_string(&puks).unwrap(), "kept");
}

#[test]
fn a_failing_token_leaves_no_card_behind() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.toml");
    std::fs::write(&pins, "CO-1 = \"111111\"\nCO-2 = \"222222\"\n").unwrap();
    let so_pin = dir.path().join("so-pin");
    std::fs::write(&so_pin, "no-such-pin\n").unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::create_dir_all(dir.path().join("tokens")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\n",
            dir.path().join("tokens").display()
        ),
    )
    .unwrap();
    let ceremony = dir.path().join("c");
    let result = run_env(
        &[
            "init",
            "--rehearsal",
            "--dir",
            arg(&ceremony),
            "--cards",
            "2",
            "--threshold",
            "2",
            "--algorithm",
            "ed25519",
            "--pin-file",
            arg(&pins),
            "--puk-file",
            arg(&dir.path().join("puks.toml")),
            "--kdf",
            "light",
            "--backend",
            "pkcs11",
            "--module",
            MODULE,
            "--token",
            "absent",
            "--so-pin-file",
            arg(&so_pin),
        ],
        &[("SOFTHSM2_CONF", conf.as_path())],
    );
    result.expect_code(1).expect_stderr("no initialized token");
    let cards: Vec<_> = std::fs::read_dir(ceremony.join("cards"))
        .map(|entries| entries.collect())
        .unwrap_or_default();
    assert!(cards.is_empty(), "{cards:?}");
    assert!(!ceremony.join("hsm").exists());
    assert!(!dir.path().join("puks.toml").exists());
    // The failed init is in the log, which a new init continues.
    let log = std::fs::read_to_string(ceremony.join("audit.log")).unwrap();
    assert!(
        log.lines().last().unwrap().contains("\"init-failed\""),
        "{log}"
    );
}

#[test]
fn a_zone_other_than_the_root_gets_its_own_dnskey_ttl_and_no_ttl_warning() {
    // The root keeps its two days; another zone gets Knot DNS's and
    // BIND's 3600 (or --ttl), and `zsk make-ksr` follows the policy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pins.toml"),
        "CO-1 = \"111111\"\nCO-2 = \"222222\"\n",
    )
    .unwrap();
    let init = |name: &str, domain: &str, extra: &[&str]| {
        let ceremony = dir.path().join(name);
        let puks = dir.path().join(format!("{name}-puks.toml"));
        let pins = dir.path().join("pins.toml");
        let mut args = vec![
            "init",
            "--rehearsal",
            "--dir",
            arg(&ceremony),
            "--cards",
            "2",
            "--threshold",
            "2",
            "--algorithm",
            "ecdsap256sha256",
            "--domain",
            domain,
            "--pin-file",
            arg(&pins),
            "--puk-file",
            arg(&puks),
            "--kdf",
            "light",
        ];
        args.extend_from_slice(extra);
        run_env(&args, &[]).expect_code(0);
        let policy = std::fs::read_to_string(ceremony.join("ceremony.toml")).unwrap();
        let table: toml::Table = toml::from_str(&policy).unwrap();
        (ceremony, table["ksk_policy"]["ttl"].as_integer().unwrap())
    };
    assert_eq!(init("root", ".", &[]).1, 172_800);
    assert_eq!(init("long", "example.", &["--ttl", "86400"]).1, 86_400);
    let (zone, ttl) = init("zone", "example.", &[]);
    assert_eq!(ttl, 3600);
    let config = zone.join("ceremony.toml");
    let ksr = dir.path().join("ksr.xml");
    let zsk = dir.path().join("zsk");
    run_env(
        &[
            "--config",
            arg(&config),
            "zsk",
            "make-ksr",
            "--dir",
            arg(&zsk),
            "--domain",
            "example.",
            "--out",
            arg(&ksr),
        ],
        &[],
    )
    .expect_code(0);
    let text = std::fs::read_to_string(&ksr).unwrap();
    assert!(!text.contains("<TTL>172800</TTL>"), "{text}");
    assert!(text.matches("<TTL>3600</TTL>").count() >= 9, "{text}");
    let checked = run_env(
        &[
            "--json",
            "--config",
            arg(&config),
            "ksr",
            "check",
            arg(&ksr),
        ],
        &[],
    );
    checked.expect_code(0);
    assert!(
        !checked.stdout.contains("KSR-POLICY-TTL"),
        "{}",
        checked.stdout
    );
    // A TTL of zero is refused before anything is made.
    let refused = run_env(
        &[
            "init",
            "--rehearsal",
            "--dir",
            arg(&dir.path().join("zero")),
            "--cards",
            "2",
            "--threshold",
            "2",
            "--algorithm",
            "rsasha256",
            "--ttl",
            "0",
        ],
        &[],
    );
    refused.expect_code(2);
    assert!(!dir.path().join("zero").exists());
}

#[test]
fn inventorys_dnskey_records_feed_ds_and_skr_check() {
    let ceremony = Ceremony::new("soft", "2");
    let config = ceremony.path("c/ceremony.toml");
    let listed = ceremony.run(&["--config", &config, "inventory", "--dnskey"]);
    listed.expect_code(0);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", listed.stdout);
    assert!(
        lines[0].starts_with("example. 3600 IN DNSKEY 257 3 13 "),
        "{}",
        lines[0]
    );
    let keys = ceremony.path("ksks.zone");
    std::fs::write(&keys, &listed.stdout).unwrap();
    // ds reads it, and gives the DS dnspython computes from the record.
    let ds = ceremony.run(&["ds", &keys]);
    ds.expect_code(0);
    let script = r#"
import sys
import dns.dnssec, dns.name, dns.rdata, dns.rdataclass, dns.rdatatype
name, ttl, _, _, rdata = open(sys.argv[1]).read().split(None, 4)
key = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, rdata)
print(dns.dnssec.make_ds(dns.name.from_text(name), key, "SHA256").to_text().upper())
"#;
    let python = Command::new("/usr/bin/python3")
        .args(["-c", script, &keys])
        .output()
        .unwrap();
    let expected = String::from_utf8(python.stdout).unwrap();
    assert!(
        !expected.trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    assert!(
        ds.stdout.to_uppercase().contains(expected.trim()),
        "{} vs {expected}",
        ds.stdout
    );
    // skr check anchors an SKR to it.
    ceremony.make_ksr(1);
    ceremony.sign(1, &["CO-1", "CO-2"], &[]).expect_code(0);
    let skr = ceremony.path("skr-1.xml");
    ceremony
        .run(&["skr", "check", &skr, "--ksk", &keys])
        .expect_code(0);
}

/// A SoftHSM2 token with this label and user PIN in `dir/tokens`, its SO
/// PIN in `dir/so-pin` (so-pin-1234); returns the SoftHSM2 configuration
/// that names it (`SOFTHSM2_CONF`).
pub fn softhsm_token(dir: &std::path::Path, label: &str, user_pin: &str) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("so-pin"), "so-pin-1234\n").unwrap();
    let status = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "so-pin-1234",
            "--pin",
            user_pin,
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util runs; the test command installs softhsm2");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    conf
}

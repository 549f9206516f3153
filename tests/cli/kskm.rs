//! Taking over the KSKs of an existing signer: kskm's published test keys,
//! imported into the soft HSM (`--import`) and adopted from a SoftHSM2
//! token they were imported into with SoftHSM's own tool (`--adopt
//! --accept-imported`), sign the 2017-Q2 root KSR into the very bytes
//! kskm wrote with them (`../shared/vectors/kskm/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Run, arg, run_env, vector};

/// kskm's labels (its configuration takes only word characters) and the
/// DS digests its README gives for the keys.
const KEY_A: (&str, &str, &str) = (
    "fixture_ksk_a",
    "fixture-ksk-a.pem",
    "82EBEDBEB1C5B94C5F175EFE2F2973D88E3B7E3CD33CFB05B834F611BB2467E8",
);
const KEY_B: (&str, &str, &str) = (
    "fixture_ksk_b",
    "fixture-ksk-b.pem",
    "8275EB3462A9D74E9DD2AE4747E188F784791778FED33FAE4345BD7F89D2BD07",
);
const SCHEMAS: [&str; 4] = ["normal", "pre-publish", "rollover", "revoke"];

fn kskm(name: &str) -> PathBuf {
    vector(&format!("kskm/{name}"))
}

/// A ceremony directory beside a PIN file, and the SoftHSM2 token
/// directory when there is one.
struct Site {
    dir: tempfile::TempDir,
    softhsm: Option<PathBuf>,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pins.toml"),
            "CO-1 = \"111111\"\nCO-2 = \"222222\"\n",
        )
        .unwrap();
        Self { dir, softhsm: None }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `ceremony` with these environment variables too.
    fn run_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut all = env.to_vec();
        if let Some(conf) = &self.softhsm {
            all.push(("SOFTHSM2_CONF", conf.as_path()));
        }
        run_env(args, &all)
    }

    /// `init` of the root as of 2017-03-01 with two cards, plus `extra`.
    fn init(&self, extra: &[&str]) -> Run {
        self.init_for(".", extra)
    }

    /// `init` of a zone as of 2017-03-01 with two cards, plus `extra`.
    fn init_for(&self, domain: &str, extra: &[&str]) -> Run {
        self.init_env(domain, extra, &[])
    }

    /// `init`, with these environment variables too.
    fn init_env(&self, domain: &str, extra: &[&str], env: &[(&str, &Path)]) -> Run {
        let (c, pins, puks) = (
            self.path("c"),
            self.path("pins.toml"),
            self.path("puks.toml"),
        );
        let mut args = vec![
            "--now",
            "2017-03-01T00:00:00Z",
            "init",
            "--rehearsal",
            "--dir",
            &c,
            "--cards",
            "2",
            "--threshold",
            "2",
            "--domain",
            domain,
            "--pin-file",
            &pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
        ];
        args.extend_from_slice(extra);
        self.run_env(&args, env)
    }

    /// A quorum command as of `now`: both cards, PINs from the file.
    fn quorum(&self, now: &str, args: &[&str]) -> Run {
        let (config, pins) = (self.path("c/ceremony.toml"), self.path("pins.toml"));
        let (one, two) = (
            self.path("c/cards/CO-1.card"),
            self.path("c/cards/CO-2.card"),
        );
        let mut all = vec!["--config", &config, "--now", now];
        all.extend_from_slice(args);
        all.extend(["--pin-file", &pins, "--yes", "--cards", &one, &two]);
        self.run(&all)
    }

    /// Signs the 2017-Q2 KSR with each schema; each SKR must be kskm's
    /// bytes (revoke: once the signatures within each bundle are sorted,
    /// as kskm's README says, its order being Python's set order).
    fn signs_what_kskm_signed(&self) {
        let ksr = vector("ksr-root-2017-q2-0.xml");
        for schema in SCHEMAS {
            let out = self.path(&format!("skr-{schema}.xml"));
            self.quorum(
                "2017-03-20T00:00:00Z",
                &[
                    "sign",
                    arg(&ksr),
                    "--no-previous-skr",
                    "--schema",
                    schema,
                    "-o",
                    &out,
                ],
            )
            .expect_code(0);
            let ours = std::fs::read_to_string(&out).unwrap();
            let theirs =
                std::fs::read_to_string(kskm(&format!("skr-kskm-2017-q2-{schema}.xml"))).unwrap();
            // Compared whole; only whether they differ is printed.
            let same = |one: &str, other: &str| one == other;
            if schema == "revoke" {
                assert!(
                    !same(&theirs, &sorted(&theirs)),
                    "kskm's revoke SKR is in tag order already: the sorting would prove nothing"
                );
                assert!(
                    same(&ours, &sorted(&theirs)),
                    "revoke: ours is not kskm's SKR with its signatures in tag order"
                );
            } else {
                assert!(same(&ours, &theirs), "{schema}: ours is not kskm's SKR");
            }
        }
    }
}

/// Whether a line opens a `<Signature>` element.
fn is_signature(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("<Signature>") || line.starts_with("<Signature ")
}

/// `xml` with the `<Signature>` elements of each `<ResponseBundle>` in
/// ascending `<KeyTag>` order, each moved whole with its lines.
fn sorted(xml: &str) -> String {
    let lines: Vec<&str> = xml.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut index = 0;
    while index < lines.len() {
        if !is_signature(lines[index]) {
            out.push_str(lines[index]);
            index += 1;
            continue;
        }
        // A run of signatures: each from <Signature> to </Signature>.
        let mut signatures: Vec<(u16, String)> = Vec::new();
        while index < lines.len() && is_signature(lines[index]) {
            let mut element = String::new();
            loop {
                element.push_str(lines[index]);
                index += 1;
                if element.trim_end().ends_with("</Signature>") {
                    break;
                }
            }
            let tag = element
                .split("<KeyTag>")
                .nth(1)
                .and_then(|rest| rest.split("</KeyTag>").next())
                .unwrap()
                .parse()
                .unwrap();
            signatures.push((tag, element));
        }
        signatures.sort_by_key(|(tag, _)| *tag);
        for (_, element) in signatures {
            out.push_str(&element);
        }
    }
    out
}

/// Both kskm keys imported into a soft HSM: A current, B next.
fn soft_site() -> Site {
    let site = Site::new();
    site.init(&["--import", arg(&kskm(KEY_A.1)), "--label", KEY_A.0])
        .expect_code(0);
    site.quorum(
        "2017-03-01T00:00:00Z",
        &[
            "keygen",
            "--import",
            arg(&kskm(KEY_B.1)),
            "--label",
            KEY_B.0,
        ],
    )
    .expect_code(0);
    site
}

#[test]
fn an_emergency_skr_rolls_to_the_standby_in_the_same_activation() {
    let site = soft_site();
    let ksr = vector("ksr-root-2017-q2-0.xml");
    let (skr, emergency) = (
        site.path("skr.xml"),
        site.path("skr.emergency-fixture_ksk_b.xml"),
    );
    let sign = |extra: &[&str]| {
        let mut args = vec!["sign", arg(&ksr), "--no-previous-skr", "-o", &skr];
        args.extend_from_slice(extra);
        site.quorum("2017-03-20T00:00:00Z", &args)
    };
    // Refused before any card: the emergency SKR where the SKR goes (the
    // same file spelt another way), the current KSK, or a key the policy
    // lacks.
    let spelt = format!("{}/./skr.xml", site.dir.path().display());
    let same = sign(&["--emergency-standby", KEY_B.0, "--emergency-out", &spelt]);
    same.expect_code(2)
        .expect_stderr("cannot go where the SKR goes");
    assert!(!same.stderr.contains("accepted: card"), "{}", same.stderr);
    for (standby, said) in [
        (KEY_A.0, "is the current KSK"),
        ("ksk-nowhere", "is not a KSK of the policy"),
    ] {
        sign(&["--emergency-standby", standby])
            .expect_code(2)
            .expect_stderr(said);
        assert!(!Path::new(&skr).exists());
    }
    let log = || std::fs::read_to_string(site.path("c/audit.log")).unwrap();
    let activations = log().matches("\"hsm-activated\"").count();
    let signed = sign(&["--emergency-standby", KEY_B.0]);
    signed
        .expect_code(0)
        .expect_stdout("and an EMERGENCY SKR to")
        .expect_stdout("emergency SKR written:")
        .expect_stdout("emergency SKR SHA-256");
    // One activation signed both.
    assert_eq!(log().matches("\"hsm-activated\"").count(), activations + 1);
    assert_eq!(log().matches("\"emergency-skr-written\"").count(), 1);
    // The quarter's SKR is kskm's own, emergency or not.
    let theirs = std::fs::read_to_string(kskm("skr-kskm-2017-q2-normal.xml")).unwrap();
    assert!(
        std::fs::read_to_string(&skr).unwrap() == theirs,
        "the SKR changed"
    );
    // dnspython: every bundle of the emergency SKR carries a valid
    // signature by the standby (55934) alone, and the current KSK is
    // published revoked (tag 10294) in every bundle.
    crate::ceremony::dnspython(&[&emergency], &["55934".to_owned()]);
    let text = std::fs::read_to_string(&emergency).unwrap();
    assert_eq!(text.matches("<ResponseBundle ").count(), 9);
    assert_eq!(
        text.matches("keyTag=\"10294\"").count(),
        9,
        "revoked in every bundle"
    );
    assert_eq!(
        text.matches("keyTag=\"10166\"").count(),
        0,
        "never published unrevoked"
    );
    // skr check recognizes it, and finds it in the audit log.
    let config = site.path("c/ceremony.toml");
    site.run(&["--config", &config, "skr", "check", &emergency])
        .expect_code(0)
        .expect_stdout(
            "an EMERGENCY SKR: every bundle publishes KSK 10294 revoked and is signed by 55934",
        )
        .expect_stdout("this ceremony's audit log, read as it is, records it");
    let plain = site.run(&["--config", &config, "skr", "check", &skr]);
    plain.expect_code(0);
    assert!(!plain.stdout.contains("EMERGENCY"), "{}", plain.stdout);
    // Never over a file: the emergency SKR exists now, so a second
    // signing to it is refused before any card, and writes no SKR either.
    let other = site.path("other.xml");
    site.quorum(
        "2017-03-20T00:00:00Z",
        &[
            "sign",
            arg(&ksr),
            "--no-previous-skr",
            "-o",
            &other,
            "--emergency-standby",
            KEY_B.0,
            "--emergency-out",
            &emergency,
        ],
    )
    .expect_code(2)
    .expect_stderr("exists");
    assert!(!Path::new(&other).exists());
}

#[test]
fn keys_imported_into_the_soft_hsm_sign_what_kskm_signed() {
    let site = Site::new();
    // A DS that is not the key's is refused before anything is made.
    site.init(&[
        "--import",
        arg(&kskm(KEY_A.1)),
        "--label",
        KEY_A.0,
        "--expect-ds",
        KEY_B.2,
    ])
    .expect_code(2)
    .expect_stderr("not the key the parent's DS points to");
    assert!(!Path::new(&site.path("c/ceremony.toml")).exists());
    site.init(&[
        "--import",
        arg(&kskm(KEY_A.1)),
        "--label",
        KEY_A.0,
        "--expect-ds",
        KEY_A.2,
    ])
    .expect_code(0)
    .expect_stdout(&format!(". IN DS 10166 8 2 {}", KEY_A.2));
    // The same key again, under another label: refused before any card.
    let again = site.quorum(
        "2017-03-01T00:00:00Z",
        &[
            "keygen",
            "--import",
            arg(&kskm(KEY_A.1)),
            "--label",
            "again",
        ],
    );
    again
        .expect_code(2)
        .expect_stderr("this key is in the HSM already, labelled \"fixture_ksk_a\"");
    assert!(!again.stderr.contains("accepted: card"), "{}", again.stderr);
    site.quorum(
        "2017-03-01T00:00:00Z",
        &[
            "keygen",
            "--import",
            arg(&kskm(KEY_B.1)),
            "--label",
            KEY_B.0,
        ],
    )
    .expect_code(0)
    .expect_stdout("imported from")
    .expect_stdout(&format!(
        "its DS, to compare with the parent's: . IN DS 55934 8 2 {}",
        KEY_B.2
    ));
    let log = std::fs::read_to_string(site.path("c/audit.log")).unwrap();
    assert_eq!(log.matches("\"key-taken\"").count(), 2, "{log}");
    site.signs_what_kskm_signed();
}

/// A SoftHSM2 token labelled "kskm" with user PIN 123456 and SO PIN
/// so-pin-1234, holding kskm's two keys imported by SoftHSM's own tool
/// with kskm's labels and ids, and one more key made on the token.
fn token_with_kskm_keys(site: &mut Site) {
    let conf = crate::ceremony::softhsm_token(site.dir.path(), "kskm", "123456");
    let softhsm = |args: &[&str]| {
        let output = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "softhsm2-util {args:?}: {output:?}"
        );
    };
    for ((label, file, _), id) in [(KEY_A, "01"), (KEY_B, "02")] {
        softhsm(&[
            "--import",
            arg(&kskm(file)),
            "--token",
            "kskm",
            "--label",
            label,
            "--id",
            id,
            "--pin",
            "123456",
        ]);
    }
    site.softhsm = Some(conf);
}

#[test]
fn keys_imported_into_a_token_are_adopted_only_when_accepted_and_sign_what_kskm_signed() {
    let mut site = Site::new();
    token_with_kskm_keys(&mut site);
    let so_pin = site.path("so-pin");
    let pkcs11 = [
        "--backend",
        "pkcs11",
        "--module",
        "/usr/lib/softhsm/libsofthsm2.so",
        "--token",
        "kskm",
        "--so-pin-file",
        &so_pin,
    ];
    // softhsm2-util --import made the key outside the token: refused, and
    // the token is left to its security officer (the SO PIN still works).
    let mut args = pkcs11.to_vec();
    args.extend(["--adopt", KEY_A.0]);
    site.init(&args)
        .expect_code(2)
        .expect_stderr("CKA_LOCAL")
        .expect_stderr("--accept-imported");
    assert!(!Path::new(&site.path("c/ceremony.toml")).exists());
    args.extend([
        "--accept-imported",
        "kskm's published test key, imported with softhsm2-util",
        "--expect-ds",
        KEY_A.2,
    ]);
    site.init(&args).expect_code(0).expect_stdout(KEY_A.2);
    site.quorum("2017-03-01T00:00:00Z", &["keygen", "--adopt", KEY_B.0])
        .expect_code(2)
        .expect_stderr("--accept-imported");
    site.quorum(
        "2017-03-01T00:00:00Z",
        // By its CKA_ID this time, as softhsm2-util set it.
        &[
            "keygen",
            "--adopt-id",
            "02",
            "--accept-imported",
            "kskm's test key",
        ],
    )
    .expect_code(0)
    .expect_stdout(&format!(". IN DS 55934 8 2 {}", KEY_B.2));
    let log = std::fs::read_to_string(site.path("c/audit.log")).unwrap();
    for reason in [
        "kskm's published test key, imported with softhsm2-util",
        "kskm's test key",
    ] {
        assert!(
            log.contains(&format!("\"accept_imported\":\"{reason}\"")),
            "{log}"
        );
    }
    site.signs_what_kskm_signed();
}

/// A key made on the token (by OpenSC's `pkcs11-tool`, before the ceremony
/// takes the token over) is adopted without more, and signs: dnspython
/// validates the SKR against the public key the token gave pkcs11-tool.
#[test]
fn a_key_made_on_the_token_is_adopted_and_signs() {
    let mut site = Site::new();
    let conf = crate::ceremony::softhsm_token(site.dir.path(), "made", "123456");
    let tool = |args: &[&str]| {
        let output = Command::new("pkcs11-tool")
            .args([
                "--module",
                "/usr/lib/softhsm/libsofthsm2.so",
                "--token-label",
                "made",
            ])
            .args(args)
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("pkcs11-tool runs; the test command installs opensc");
        assert!(output.status.success(), "pkcs11-tool {args:?}: {output:?}");
        output.stdout
    };
    tool(&[
        "--login",
        "--pin",
        "123456",
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "ksk_made_here",
        "--id",
        "05",
        "--usage-sign",
    ]);
    // The public key as the token gives it to another program.
    let public = site.dir.path().join("public.der");
    tool(&[
        "--read-object",
        "--type",
        "pubkey",
        "--label",
        "ksk_made_here",
        "-o",
        arg(&public),
    ]);
    site.softhsm = Some(conf);
    let so_pin = site.path("so-pin");
    site.init_for(
        "example.",
        &[
            "--backend",
            "pkcs11",
            "--module",
            "/usr/lib/softhsm/libsofthsm2.so",
            "--token",
            "made",
            "--so-pin-file",
            &so_pin,
            "--adopt",
            "ksk_made_here",
        ],
    )
    .expect_code(0)
    .expect_stdout("KSK ksk_made_here");
    let log = std::fs::read_to_string(site.path("c/audit.log")).unwrap();
    assert!(log.contains("\"key-taken\""), "{log}");
    assert!(!log.contains("\"accept_imported\""), "{log}");
    // The DNSKEY the ceremony holds is the token's public key, read by
    // python3-cryptography from what pkcs11-tool exported.
    let config = site.path("c/ceremony.toml");
    let ours = site.run(&["--config", &config, "trust-anchor", "--format", "dnskey"]);
    ours.expect_code(0);
    let script = "import sys, base64, dns.dnssec, dns.rdata, dns.rdataclass, dns.rdatatype\n\
        from cryptography.hazmat.primitives.serialization import load_der_public_key, Encoding, PublicFormat\n\
        point = load_der_public_key(open(sys.argv[1], 'rb').read()).public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)\n\
        key = base64.b64encode(point[1:]).decode()\n\
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, '257 3 13 ' + key)\n\
        print(dns.dnssec.key_id(rdata), key)\n";
    let output = Command::new("/usr/bin/python3")
        .args(["-c", script, arg(&public)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let (tag, key) = printed.trim().split_once(' ').unwrap();
    assert!(
        ours.stdout.contains(&format!("DNSKEY 257 3 13 {key}")),
        "{}",
        ours.stdout
    );
    // A quarter signed with it, checked by dnspython against that tag.
    let (zsk, ksr, skr) = (site.path("zsk"), site.path("ksr.xml"), site.path("skr.xml"));
    site.run(&[
        "--config",
        &config,
        "zsk",
        "make-ksr",
        "--dir",
        &zsk,
        "--domain",
        "example.",
        "--out",
        &ksr,
        "--inception",
        "2017-03-10T00:00:00Z",
    ])
    .expect_code(0);
    site.quorum(
        "2017-03-01T00:00:00Z",
        &["sign", &ksr, "--no-previous-skr", "-o", &skr],
    )
    .expect_code(0);
    crate::ceremony::dnspython(&[&skr], &[tag.to_owned()]);
}

/// Site A backs up; site B restores with a quorum of the same cards and
/// signs the same KSR into the same bytes (RSA signatures are
/// deterministic): kskm's own.
#[test]
fn a_backup_restored_at_site_b_signs_the_same_bytes() {
    let site_a = soft_site();
    let ksr = vector("ksr-root-2017-q2-0.xml");
    let (config_a, backup) = (site_a.path("c/ceremony.toml"), site_a.path("backup"));
    let at_a = site_a.path("skr-a.xml");
    site_a
        .quorum(
            "2017-03-20T00:00:00Z",
            &[
                "sign",
                arg(&ksr),
                "--no-previous-skr",
                "--schema",
                "rollover",
                "-o",
                &at_a,
            ],
        )
        .expect_code(0);
    site_a
        .quorum("2017-03-20T00:00:00Z", &["hsm", "backup", "--to", &backup])
        .expect_code(0)
        .expect_stdout("backup written to")
        .expect_stdout(&format!(
            "ksk_next fixture_ksk_b tag 55934: . IN DS 55934 8 2 {}",
            KEY_B.2
        ));
    let log_a = std::fs::read_to_string(site_a.path("c/audit.log")).unwrap();
    assert!(log_a.contains("\"backup-written\""), "{log_a}");
    // Site B: a folder of its own; the officers bring the same cards.
    let site_b = tempfile::tempdir().unwrap();
    let dir_b = site_b.path().join("c");
    let (one, two) = (
        site_a.path("c/cards/CO-1.card"),
        site_a.path("c/cards/CO-2.card"),
    );
    let restore = |from: &str, dir: &Path, cards: [&str; 2]| {
        site_a.run(&[
            "hsm",
            "restore",
            "--from",
            from,
            "--dir",
            arg(dir),
            "--pin-file",
            &site_a.path("pins.toml"),
            "--yes",
            "--cards",
            cards[0],
            cards[1],
        ])
    };
    restore(&backup, &dir_b, [&one, &two])
        .expect_code(0)
        .expect_stdout("is a ceremony in");
    let config_b = dir_b.join("ceremony.toml");
    let at_b = site_b.path().join("skr-b.xml");
    site_a
        .run(&[
            "--config",
            arg(&config_b),
            "--now",
            "2017-03-20T00:00:00Z",
            "sign",
            arg(&ksr),
            "--no-previous-skr",
            "--schema",
            "rollover",
            "-o",
            arg(&at_b),
            "--pin-file",
            &site_a.path("pins.toml"),
            "--yes",
            "--cards",
            &one,
            &two,
        ])
        .expect_code(0);
    let (a, b) = (std::fs::read(&at_a).unwrap(), std::fs::read(&at_b).unwrap());
    assert!(a == b, "site B's SKR is not site A's");
    assert!(
        b == std::fs::read(kskm("skr-kskm-2017-q2-rollover.xml")).unwrap(),
        "site B's SKR is not kskm's"
    );
    let log_b = std::fs::read_to_string(dir_b.join("audit.log")).unwrap();
    assert!(log_b.contains("\"backup-restored\""), "{log_b}");
    // Site B signed since: site A's state is older than the cards know,
    // and so is the backup: both refused before any PIN.
    site_a
        .quorum(
            "2017-03-20T00:00:00Z",
            &[
                "sign",
                arg(&ksr),
                "--no-previous-skr",
                "-o",
                &site_a.path("again.xml"),
            ],
        )
        .expect_code(4)
        .expect_stderr("this card has seen epoch");
    let older = site_b.path().join("older");
    restore(&backup, &older, [&one, &two])
        .expect_code(4)
        .expect_stderr("this card has seen epoch");
    assert!(!older.exists(), "a refused restore left files");
    // Site A's own record of the backup is intact.
    site_a
        .run(&["--config", &config_a, "audit", "verify"])
        .expect_code(0);
}

#[test]
fn a_backup_opens_only_for_its_own_cards_and_unchanged() {
    let site_a = soft_site();
    let backup = site_a.path("backup");
    site_a
        .quorum("2017-03-20T00:00:00Z", &["hsm", "backup", "--to", &backup])
        .expect_code(0);
    // Never over a file.
    site_a
        .quorum("2017-03-20T00:00:00Z", &["hsm", "backup", "--to", &backup])
        .expect_code(2)
        .expect_stderr("never written over");
    // Another ceremony's cards: refused before any PIN, nothing left.
    let other = soft_site();
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("c");
    site_a
        .run(&[
            "hsm",
            "restore",
            "--from",
            &backup,
            "--dir",
            arg(&dir),
            "--pin-file",
            &other.path("pins.toml"),
            "--yes",
            "--cards",
            &other.path("c/cards/CO-1.card"),
            &other.path("c/cards/CO-2.card"),
        ])
        .expect_code(4)
        .expect_stderr("not enrolled");
    assert!(!dir.exists(), "a refused restore left files");
    // A changed byte in the sealed store: refused before anything is laid out.
    let store = Path::new(&backup).join("hsm/keystore.json");
    let mut bytes = std::fs::read(&store).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&store, bytes).unwrap();
    site_a
        .run(&[
            "hsm",
            "restore",
            "--from",
            &backup,
            "--dir",
            arg(&dir),
            "--pin-file",
            &site_a.path("pins.toml"),
            "--yes",
            "--cards",
            &site_a.path("c/cards/CO-1.card"),
            &site_a.path("c/cards/CO-2.card"),
        ])
        .expect_code(2)
        .expect_stderr("its SHA-256 is not the one the manifest gives");
    assert!(!dir.exists());
    // Restoring into a ceremony: refused, naming both epochs.
    site_a
        .run(&[
            "hsm",
            "restore",
            "--from",
            &other_backup(&other),
            "--dir",
            &site_a.path("c"),
            "--pin-file",
            &site_a.path("pins.toml"),
            "--yes",
            "--cards",
            &site_a.path("c/cards/CO-1.card"),
            &site_a.path("c/cards/CO-2.card"),
        ])
        .expect_code(2)
        .expect_stderr("it holds a ceremony at epoch");
}

/// A fresh backup of a site.
fn other_backup(site: &Site) -> String {
    let backup = site.path("backup");
    site.quorum("2017-03-20T00:00:00Z", &["hsm", "backup", "--to", &backup])
        .expect_code(0);
    backup
}

/// A token's keys do not leave it: `hsm backup` says so before any card.
#[test]
fn a_token_is_not_backed_up_as_files() {
    let mut site = Site::new();
    token_with_kskm_keys(&mut site);
    let so_pin = site.path("so-pin");
    site.init(&[
        "--backend",
        "pkcs11",
        "--module",
        "/usr/lib/softhsm/libsofthsm2.so",
        "--token",
        "kskm",
        "--so-pin-file",
        &so_pin,
        "--adopt",
        KEY_A.0,
        "--accept-imported",
        "a test key",
    ])
    .expect_code(0);
    let log = || std::fs::read_to_string(site.path("c/audit.log")).unwrap();
    let activations = log().matches("\"hsm-activated\"").count();
    let backup = site.path("backup");
    site.quorum("2017-03-20T00:00:00Z", &["hsm", "backup", "--to", &backup])
        .expect_code(2)
        .expect_stderr("non-extractable")
        .expect_stderr("init --adopt");
    assert!(!Path::new(&backup).exists());
    // Refused before any card: the token was not even activated.
    assert_eq!(log().matches("\"hsm-activated\"").count(), activations);
}

/// An init that fails after it began taking the token over (here: a fault
/// injected where the policy is written) leaves the token to its security
/// officer: the SO PIN the operator gave still works, so the existing KSK
/// the parent's DS points to is not lost, and init can run again.
#[test]
fn an_init_that_fails_late_leaves_the_token_to_its_officer() {
    let mut site = Site::new();
    token_with_kskm_keys(&mut site);
    let conf = site.softhsm.clone().unwrap();
    // A second token with the same key, to count init's durable steps on.
    let softhsm = |args: &[&str]| {
        let output = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "softhsm2-util {args:?}: {output:?}"
        );
    };
    softhsm(&[
        "--init-token",
        "--free",
        "--label",
        "count",
        "--so-pin",
        "so-pin-1234",
        "--pin",
        "123456",
    ]);
    softhsm(&[
        "--import",
        arg(&kskm(KEY_A.1)),
        "--token",
        "count",
        "--label",
        KEY_A.0,
        "--id",
        "01",
        "--pin",
        "123456",
    ]);
    let so_pin = site.path("so-pin");
    let init = |token: &str, env: &[(&str, &Path)]| {
        site.init_env(
            ".",
            &[
                "--backend",
                "pkcs11",
                "--module",
                "/usr/lib/softhsm/libsofthsm2.so",
                "--token",
                token,
                "--so-pin-file",
                &so_pin,
                "--adopt",
                KEY_A.0,
                "--accept-imported",
                "a test key",
            ],
            env,
        )
    };
    let log = site.dir.path().join("steps.log");
    init("count", &[("CEREMONY_FAULT_LOG", &log)]).expect_code(0);
    let steps = std::fs::read_to_string(&log).unwrap();
    let policy_step = steps
        .lines()
        .find(|line| line.contains(" Rename ") && line.ends_with("ceremony.toml"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap()
        .to_owned();
    std::fs::remove_dir_all(site.path("c")).unwrap();
    std::fs::remove_file(site.path("puks.toml")).unwrap();
    let (mode, at) = (Path::new("fail"), Path::new(&policy_step));
    init(
        "kskm",
        &[("CEREMONY_FAULT_MODE", mode), ("CEREMONY_FAULT_AT", at)],
    )
    .expect_code(1)
    .expect_stderr("injected fault");
    // The officer's SO PIN still opens the token and sets a user PIN.
    let reset = Command::new("pkcs11-tool")
        .args([
            "--module",
            "/usr/lib/softhsm/libsofthsm2.so",
            "--token-label",
            "kskm",
            "--login",
            "--login-type",
            "so",
            "--so-pin",
            "so-pin-1234",
            "--init-pin",
            "--new-pin",
            "123456",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("pkcs11-tool runs; the test command installs opensc");
    assert!(reset.status.success(), "{reset:?}");
    // And init runs again, as the interrupted init's message says.
    std::fs::remove_dir_all(site.path("c")).unwrap();
    std::fs::remove_file(site.path("puks.toml")).ok();
    init("kskm", &[])
        .expect_code(0)
        .expect_stdout("KSK fixture_ksk_a tag 10166");
}

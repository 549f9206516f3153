//! The KSK side of Knot DNS and BIND: a real Knot ZSK side (Debian's
//! `knot` package, `keymgr` with `offline-ksk: on`) asks for a year of
//! signatures, `ceremony sign` answers, and `keymgr import-skr` takes the
//! answer; Knot's own SKRs, tampered, are caught by `ceremony skr check`
//! where `keymgr validate-skr` lets them through; a BIND-dialect KSR is
//! answered in its dialect. Every SKR is validated by dnspython.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ceremony::dnspython;
use crate::harness::{Run, arg, run};

/// A ceremony for a zone: 2 of 3 officers, light card KDF.
struct Zone {
    dir: tempfile::TempDir,
}

impl Zone {
    /// A ceremony for a zone, made as of `now` (the clock without it).
    fn new(domain: &str, algorithm: &str, now: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pins.toml"),
            "CO-1 = \"111111\"\nCO-2 = \"222222\"\nCO-3 = \"333333\"\n",
        )
        .unwrap();
        let zone = Self { dir };
        let mut args = now.map_or_else(Vec::new, |now| vec!["--now", now]);
        let (c, pins, puks) = (
            zone.path("c"),
            zone.path("pins.toml"),
            zone.path("puks.toml"),
        );
        args.extend([
            "init",
            "--rehearsal",
            "--dir",
            &c,
            "--cards",
            "3",
            "--threshold",
            "2",
            "--algorithm",
            algorithm,
            "--domain",
            domain,
            "--pin-file",
            &pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
        ]);
        run(&args).expect_code(0);
        zone
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn ceremony(&self, args: &[&str]) -> Run {
        let config = self.path("c/ceremony.toml");
        let mut all = vec!["--config", &config];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Edits the policy (`from` must be in it) and approves the edit with
    /// CO-1's and CO-3's cards; the approval shows the new text.
    fn approve_edit(&self, from: &str, to: &str) {
        let config = self.path("c/ceremony.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(&config, text.replacen(from, to, 1)).unwrap();
        let (pins, one, two) = (
            self.path("pins.toml"),
            self.path("c/cards/CO-1.card"),
            self.path("c/cards/CO-3.card"),
        );
        let shown = to.lines().last().unwrap_or(to);
        self.ceremony(&[
            "policy",
            "approve",
            "--pin-file",
            &pins,
            "--yes",
            "--cards",
            &one,
            &two,
        ])
        .expect_code(0)
        .expect_stdout(shown);
    }

    fn sign(&self, ksr: &str, out: &str, extra: &[&str]) -> Run {
        let (pins, one, two) = (
            self.path("pins.toml"),
            self.path("c/cards/CO-1.card"),
            self.path("c/cards/CO-3.card"),
        );
        let mut args = vec![
            "sign",
            ksr,
            "--no-previous-skr",
            "-o",
            out,
            "--pin-file",
            &pins,
            "--yes",
        ];
        args.extend_from_slice(extra);
        args.extend(["--cards", &one, &two]);
        self.ceremony(&args)
    }

    fn ksk_tags(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.path("c/ceremony.toml")).unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix("key_tag = "))
            .map(str::to_owned)
            .collect()
    }
}

/// A Knot DNS KASP for `example.com.` in `dir`: the ZSK side (offline-ksk)
/// or, with `ksk_side`, a KSK side that signs with `keymgr sign-ksr`.
pub fn knot(dir: &Path, algorithm: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let conf = dir.join("knot.conf");
    let size = if algorithm == "rsasha256" {
        "    zsk-size: 2048\n    ksk-size: 2048\n"
    } else {
        ""
    };
    std::fs::write(
        &conf,
        format!(
            "server:\n    rundir: {d}\ndatabase:\n    storage: {d}\nkeystore:\n  - id: default\n    backend: pem\n    config: {d}/keys\n\
             policy:\n  - id: offline\n    algorithm: {algorithm}\n{size}    manual: on\n    offline-ksk: on\n    zsk-lifetime: 30d\n    rrsig-lifetime: 14d\n    rrsig-refresh: 7d\n    dnskey-ttl: 3600\n    zone-max-ttl: 3600\n\
             zone:\n  - domain: example.com.\n    storage: {d}\n    dnssec-signing: on\n    dnssec-policy: offline\n",
            d = dir.display()
        ),
    )
    .unwrap();
    conf
}

/// Runs keymgr on a configuration; returns (exit code, stdout, stderr).
pub fn keymgr(conf: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new("keymgr")
        .arg("-c")
        .arg(conf)
        .arg("example.com.")
        .args(args)
        .output()
        .expect("keymgr runs; the test command installs Debian's knot");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A year of ZSKs from a Knot ZSK side, as its KSR.
pub fn knot_ksr(conf: &Path, out: &str) {
    let (code, _, stderr) = keymgr(conf, &["pregenerate", "+365d"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, ksr, stderr) = keymgr(conf, &["generate-ksr", "+0", "+365d"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(ksr.starts_with(";; KeySigningRequest 1.0 "), "{ksr}");
    std::fs::write(out, ksr).unwrap();
}

fn headers(text: &str, kind: &str) -> usize {
    text.lines()
        .filter(|line| {
            line.starts_with(&format!(";; {kind} 1.0 ")) && !line.contains(" generated at ")
        })
        .count()
}

fn round_trip(algorithm: &str, knot_algorithm: &str, cds: bool) {
    // Right after init, with no --now anywhere: the KSK is valid from
    // early enough for the first RRSIG of a KSR made now (backdated by
    // text_rrsig_backdate).
    let zone = Zone::new("example.com.", algorithm, None);
    if cds {
        zone.approve_edit("[text]\n", "[text]\ntext_cds = \"both\"\n");
    }
    let conf = knot(&zone.dir.path().join("zsk"), knot_algorithm);
    let ksr = zone.path("ksr.txt");
    knot_ksr(&conf, &ksr);
    zone.ceremony(&["ksr", "check", &ksr])
        .expect_code(0)
        .expect_stdout("TXT-KSR-UNAUTHENTICATED")
        .expect_stdout("ZSK set SHA-256");
    let skr = zone.path("skr.txt");
    zone.sign(&ksr, &skr, &[])
        .expect_code(0)
        .expect_stdout("ZSK set SHA-256");
    let text = std::fs::read_to_string(&skr).unwrap();
    // Knot's dialect: Unix seconds in the headers.
    assert!(
        text.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(3)
            .unwrap()
            .len()
            <= 10,
        "{text}"
    );
    zone.ceremony(&["skr", "check", &skr, "--ksr", &ksr])
        .expect_code(0);
    dnspython(&[&skr], &zone.ksk_tags());
    let records = text
        .lines()
        .filter(|line| line.contains(" IN CDS ") || line.contains(" IN CDNSKEY "))
        .count();
    if cds {
        // One CDNSKEY and one CDS per bundle, each signed; a flipped byte
        // in a CDS signature is caught.
        assert_eq!(records, 2 * headers(&text, "SignedKeyResponse"));
        let at = text.find(" IN RRSIG CDS ").unwrap();
        let end = at + text[at..].find('\n').unwrap() - 8;
        let mut bytes = text.clone().into_bytes();
        bytes[end] = if bytes[end] == b'A' { b'B' } else { b'A' };
        let bad = zone.path("bad-cds.txt");
        std::fs::write(&bad, bytes).unwrap();
        zone.ceremony(&["skr", "check", &bad])
            .expect_code(3)
            .expect_stdout("the RRSIG over CDS");
    } else {
        assert_eq!(records, 0);
    }

    // Knot takes it, and lists every bundle.
    let (code, stdout, stderr) = keymgr(&conf, &["import-skr", &skr]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let (code, offline, stderr) = keymgr(&conf, &["show-offline"]);
    assert_eq!(code, 0, "{stderr}");
    let listed = offline
        .lines()
        .filter(|line| line.starts_with(";; Offline records for "))
        .count();
    let bundles = headers(&text, "SignedKeyResponse");
    assert!(bundles > headers(&std::fs::read_to_string(&ksr).unwrap(), "KeySigningRequest"));
    assert_eq!(listed, bundles, "{offline}");
    // A year ahead: the last bundle is about 365 days after the first.
    let times: Vec<u64> = text
        .lines()
        .filter(|line| line.starts_with(";; SignedKeyResponse 1.0 ") && !line.contains("generated"))
        .map(|line| line.split_whitespace().nth(3).unwrap().parse().unwrap())
        .collect();
    let days = (times[times.len() - 1] - times[0]) / 86_400;
    assert!((360..=366).contains(&days), "{days} days");
}

#[test]
fn knot_takes_our_year_of_rsasha256_signatures() {
    round_trip("rsasha256", "rsasha256", false);
}

#[test]
fn knot_takes_our_year_of_ecdsap256sha256_signatures_with_cds() {
    round_trip("ecdsap256sha256", "ecdsap256sha256", true);
}

#[test]
fn tampering_knot_lets_through_is_caught() {
    // Knot on both sides: its own KSK signs its own KSR.
    let dir = tempfile::tempdir().unwrap();
    let zsk = knot(&dir.path().join("zsk"), "ecdsap256sha256");
    let ksk = knot(&dir.path().join("ksk"), "ecdsap256sha256");
    let ksr = dir.path().join("ksr.txt").display().to_string();
    knot_ksr(&zsk, &ksr);
    let (code, _, stderr) = keymgr(
        &ksk,
        &[
            "generate",
            "algorithm=13",
            "ksk=yes",
            "created=-1d",
            "publish=-1d",
            "ready=-1d",
            "active=-1d",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, skr, stderr) = keymgr(&ksk, &["sign-ksr", &ksr]);
    assert_eq!(code, 0, "{stderr}");
    let good = dir.path().join("good.txt");
    std::fs::write(&good, &skr).unwrap();
    run(&["skr", "check", arg(&good)]).expect_code(0);
    dnspython(&[arg(&good)], &[]);

    // A bundle deleted from the middle.
    let blocks: Vec<&str> = skr.split(";; SignedKeyResponse 1.0 ").collect();
    let deleted: String = blocks
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != blocks.len() / 2)
        .map(|(index, block)| {
            if index == 0 {
                (*block).to_owned()
            } else {
                format!(";; SignedKeyResponse 1.0 {block}")
            }
        })
        .collect();
    let deleted_path = dir.path().join("deleted.txt");
    std::fs::write(&deleted_path, &deleted).unwrap();
    let (code, _, stderr) = keymgr(&ksk, &["validate-skr", arg(&deleted_path)]);
    assert_eq!(
        (code, stderr.as_str()),
        (0, ""),
        "Knot now notices a deleted bundle"
    );
    run(&["skr", "check", arg(&deleted_path)])
        .expect_code(3)
        .expect_stdout("TXT-SKR-GAP");

    // One byte of one signature flipped.
    let at = skr.find("RRSIG DNSKEY").unwrap();
    let line_end = at + skr[at..].find(")").unwrap();
    let target = line_end - 12;
    let mut bytes = skr.clone().into_bytes();
    bytes[target] = if bytes[target] == b'A' { b'B' } else { b'A' };
    let flipped = dir.path().join("flipped.txt");
    std::fs::write(&flipped, &bytes).unwrap();
    let (code, _, stderr) = keymgr(&ksk, &["validate-skr", arg(&flipped)]);
    assert_eq!(code, 0, "Knot's validate-skr exits 0 even so ({stderr})");
    run(&["skr", "check", arg(&flipped)])
        .expect_code(3)
        .expect_stdout("SKR-PREV-SIGS");
}

#[test]
fn a_bind_dialect_ksr_is_answered_in_its_dialect() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ksr-bind-root.txt");
    let fixture = arg(&fixture);
    let zone = Zone::new(".", "rsasha256", Some("2017-03-01T00:00:00Z"));
    let now = "2017-03-20T00:00:00Z";
    zone.ceremony(&["--now", now, "ksr", "check", fixture])
        .expect_code(0);
    let skr = zone.path("skr.txt");
    zone.ceremony(&[
        "--now",
        now,
        "sign",
        fixture,
        "--no-previous-skr",
        "--end",
        "2017-05-01T00:00:00Z",
        "-o",
        &skr,
        "--pin-file",
        &zone.path("pins.toml"),
        "--yes",
        "--cards",
        &zone.path("c/cards/CO-1.card"),
        &zone.path("c/cards/CO-2.card"),
    ])
    .expect_code(0)
    // The policy is silent: the dialect chose, and the officers saw it.
    .expect_stdout("text_cds = \"both\": CDS (SHA-256) and CDNSKEY records in every bundle (the default for a BIND-dialect SKR")
    .expect_stdout("text_schema_profile = bind: every published KSK also signs");
    let text = std::fs::read_to_string(&skr).unwrap();
    // named's default dnssec-policy publishes CDS and CDNSKEY: every
    // bundle has them, signed.
    let count = |kind: &str| {
        text.lines()
            .filter(|line| line.split_whitespace().nth(3) == Some(kind))
            .count()
    };
    assert_eq!((count("CDS"), count("CDNSKEY")), (6, 6), "{text}");
    // BIND's dialect, a bundle at each KSR bundle and every 7 days within.
    let times: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(";; SignedKeyResponse 1.0 ") && !line.contains("generated"))
        .map(|line| line.split_whitespace().nth(3).unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "20170401000000",
            "20170408000000",
            "20170411000000",
            "20170418000000",
            "20170421000000",
            "20170428000000"
        ]
    );
    assert!(text.contains("(Sat Apr  1 00:00:00 2017)"), "{text}");
    // Signatures from an hour before each bundle to 14 days after it.
    assert!(text.contains(" 20170415000000 20170331230000 "), "{text}");
    zone.ceremony(&["skr", "check", &skr, "--ksr", fixture])
        .expect_code(0);
    dnspython(&[&skr], &zone.ksk_tags());
    // --format knot writes the same in Knot's dialect; iana is refused.
    let knot_skr = zone.path("knot.txt");
    zone.ceremony(&[
        "--now",
        now,
        "sign",
        fixture,
        "--no-previous-skr",
        "--format",
        "knot",
        "-o",
        &knot_skr,
        "--pin-file",
        &zone.path("pins.toml"),
        "--yes",
        "--cards",
        &zone.path("c/cards/CO-1.card"),
        &zone.path("c/cards/CO-2.card"),
    ])
    .expect_code(0);
    let knot_text = std::fs::read_to_string(&knot_skr).unwrap();
    assert!(knot_text.starts_with(";; SignedKeyResponse 1.0 1491004800 (2017-04-01T00:00:00Z)"));
    // Knot publishes its own CDS only when told to: none by default.
    assert!(
        !knot_text.contains("CDS") && !knot_text.contains("CDNSKEY"),
        "{knot_text}"
    );
    zone.ceremony(&[
        "--now",
        now,
        "sign",
        fixture,
        "--no-previous-skr",
        "--format",
        "iana",
        "-o",
        &zone.path("x.xml"),
        "--yes",
    ])
    .expect_code(2)
    .expect_stderr("text SKR");

    // The next request chains to this SKR: its first ZSK set must be in the
    // SKR's last bundle, and start before the last signatures expire.
    let fixture_text = std::fs::read_to_string(fixture).unwrap();
    let next = fixture_text
        .replace("20170421000000 (Fri Apr 21", "20170609000000 (Fri Jun  9")
        .replace("20170411000000 (Tue Apr 11", "20170530000000 (Tue May 30")
        .replace("20170401000000 (Sat Apr  1", "20170520000000 (Sat May 20");
    let next_path = zone.path("next.txt");
    std::fs::write(&next_path, next).unwrap();
    zone.ceremony(&[
        "--now",
        now,
        "ksr",
        "check",
        &next_path,
        "--previous-skr",
        &skr,
    ])
    .expect_code(3)
    .expect_stdout("TXT-CHAIN-GAP")
    .expect_stdout("KSR-CHAIN-KEYS.2");
    // A next request that chains: it starts before the last signatures
    // expire, with the last bundle's ZSK; signed with the previous SKR,
    // which runs the chain and the safety checks.
    let zsk_14796 = fixture_text.lines().nth(2).unwrap();
    let chained = format!(
        ";; KeySigningRequest 1.0 20170501000000 (Mon May  1 00:00:00 2017)\n{zsk_14796}\n\
         ;; KeySigningRequest 1.0 20170511000000 (Thu May 11 00:00:00 2017)\n{zsk_14796}\n\
         ;; KeySigningRequest 1.0 generated at 2017-04-01T00:00:00Z by a hand-written fixture\n"
    );
    let chained_path = zone.path("chained.txt");
    std::fs::write(&chained_path, chained).unwrap();
    let second = zone.path("skr-2.txt");
    zone.ceremony(&[
        "--now",
        "2017-04-20T00:00:00Z",
        "sign",
        &chained_path,
        "--previous-skr",
        &skr,
        "-o",
        &second,
        "--pin-file",
        &zone.path("pins.toml"),
        "--yes",
        "--cards",
        &zone.path("c/cards/CO-1.card"),
        &zone.path("c/cards/CO-2.card"),
    ])
    .expect_code(0);
    dnspython(&[&second], &zone.ksk_tags());
    // A record without its TTL.
    let no_ttl = fixture_text.replacen(". 172800 IN DNSKEY", ". IN DNSKEY", 1);
    let no_ttl_path = zone.path("no-ttl.txt");
    std::fs::write(&no_ttl_path, no_ttl).unwrap();
    zone.ceremony(&["--now", now, "ksr", "check", &no_ttl_path])
        .expect_code(3)
        .expect_stdout("TXT-PARSE-RR");
    // A KSK in a text KSR.
    let ksk = fixture_text.replacen(
        ". 172800 IN DNSKEY 256 3 8 AwEAAYvg",
        ". 172800 IN DNSKEY 257 3 8 AwEAAYvg",
        1,
    );
    let ksk_path = zone.path("ksk.txt");
    std::fs::write(&ksk_path, ksk).unwrap();
    zone.ceremony(&["--now", now, "ksr", "check", &ksk_path])
        .expect_code(3)
        .expect_stdout("TXT-KSR-ZSK-ONLY");
    // A truncated one.
    let cut = zone.path("cut.txt");
    std::fs::write(&cut, &fixture_text[..fixture_text.len() - 120]).unwrap();
    zone.ceremony(&["--now", now, "ksr", "check", &cut])
        .expect_code(3)
        .expect_stdout("TXT-PARSE-HEADER");
}

#[test]
fn a_text_ksr_of_one_bundle_needs_an_end_before_any_card() {
    // BIND asks with one bundle when the ZSKs' lifetime is unlimited; the
    // request does not say how long its SKR must last. The fixture's first
    // bundle alone is such a request.
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ksr-bind-root.txt");
    let text = std::fs::read_to_string(fixture).unwrap();
    let second = text
        .match_indices(";; KeySigningRequest 1.0 2017")
        .nth(1)
        .unwrap()
        .0;
    let trailer = text.find(";; KeySigningRequest 1.0 generated").unwrap();
    let single = format!("{}{}", &text[..second], &text[trailer..]);
    let zone = Zone::new(".", "rsasha256", Some("2017-03-01T00:00:00Z"));
    let ksr = zone.path("one-bundle.txt");
    std::fs::write(&ksr, &single).unwrap();
    let now = "2017-03-20T00:00:00Z";
    let skr = zone.path("skr.txt");
    let log = |zone: &Zone| std::fs::read_to_string(zone.path("c/audit.log")).unwrap();
    let before = log(&zone);
    zone.sign(&ksr, &skr, &["--now", now])
        .expect_code(2)
        .expect_stderr("the text KSR has one bundle")
        .expect_stderr("--end");
    assert!(!log(&zone)[before.len()..].contains("card-inserted"));
    assert!(!Path::new(&skr).exists());
    // With --end: a bundle every 7 days up to it.
    let signed = zone.sign(&ksr, &skr, &["--now", now, "--end", "2017-05-01T00:00:00Z"]);
    signed.expect_code(0);
    assert!(
        !signed.stdout.contains("has one bundle"),
        "{}",
        signed.stdout
    );
    // A roll schema on a one-bundle KSR: only its bundle 1 applies, which
    // for pre-publish is the normal one; said before any card.
    let (pins, one, two) = (
        zone.path("pins.toml"),
        zone.path("c/cards/CO-1.card"),
        zone.path("c/cards/CO-2.card"),
    );
    zone.ceremony(&[
        "--now",
        now,
        "keygen",
        "--algorithm",
        "rsasha256",
        "--label",
        "ksk-2",
        "--cards",
        &one,
        &two,
        "--pin-file",
        &pins,
        "--yes",
    ])
    .expect_code(0);
    zone.sign(
        &ksr,
        &zone.path("skr-pre.txt"),
        &[
            "--now",
            now,
            "--end",
            "2017-05-01T00:00:00Z",
            "--schema",
            "pre-publish",
        ],
    )
    .expect_code(0)
    .expect_stdout(
        "TOOL-CONFIG: the KSR has one bundle, so only bundle 1 of schema \"pre-publish\" applies",
    );
    let bundles = |path: &str| {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|line| {
                line.starts_with(";; SignedKeyResponse 1.0 ") && !line.contains("generated")
            })
            .count()
    };
    assert!(
        bundles(&skr) >= 4,
        "{}",
        std::fs::read_to_string(&skr).unwrap()
    );
    // With the policy's text_default_span (approved by a quorum): no --end.
    let policy = std::fs::read_to_string(zone.path("c/ceremony.toml")).unwrap();
    assert!(!policy.contains("text_default_span"), "{policy}");
    zone.approve_edit("[text]\n", "[text]\ntext_default_span = \"P42D\"\n");
    let spanned = zone.path("skr-span.txt");
    zone.sign(&ksr, &spanned, &["--now", now]).expect_code(0);
    // The same bundles as --end at the bundle's time plus 42 days.
    let explicit = zone.path("skr-explicit.txt");
    zone.sign(
        &ksr,
        &explicit,
        &["--now", now, "--end", "2017-05-13T00:00:00Z"],
    )
    .expect_code(0);
    let headers = |path: &str| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|line| {
                line.starts_with(";; SignedKeyResponse 1.0 ") && !line.contains("generated")
            })
            .map(str::to_owned)
            .collect()
    };
    assert!(bundles(&spanned) > 1);
    assert_eq!(headers(&spanned), headers(&explicit));
    dnspython(&[&skr, &spanned], &zone.ksk_tags());
}

/// BIND keeps a bundle's DNSKEY signatures for its own
/// `signatures-validity-dnskey`: a policy that signs them for another time
/// is warned of in the summary, before any card; Knot has no such setting.
#[test]
fn a_server_dnskey_validity_other_than_ours_is_a_warning() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ksr-bind-root.txt");
    let fixture = arg(&fixture);
    let zone = Zone::new(".", "rsasha256", Some("2017-03-01T00:00:00Z"));
    let now = "2017-03-20T00:00:00Z";
    let sign = |out: &str, extra: &[&str]| {
        let mut args = vec!["--now", now, "--end", "2017-05-01T00:00:00Z"];
        args.extend_from_slice(extra);
        zone.sign(fixture, &zone.path(out), &args)
    };
    // BIND's default (14 days) is the policy's text_rrsig_validity: quiet.
    let quiet = sign("a.txt", &[]);
    quiet.expect_code(0);
    assert!(
        !quiet.stdout.contains("requester's server"),
        "{}",
        quiet.stdout
    );
    // Signatures valid 10 days: BIND's default of 14 warns; Knot has no
    // such setting.
    zone.approve_edit(
        "text_rrsig_validity = \"P14D\"",
        "text_rrsig_validity = \"P10D\"",
    );
    sign("b.txt", &[])
        .expect_code(0)
        .expect_stdout(
            "TOOL-CONFIG: the requester's server keeps a bundle's DNSKEY signatures for P14D (BIND's signatures-validity-dnskey, its default), but text_rrsig_validity signs them for P10D",
        );
    let knot = sign("c.txt", &["--format", "knot"]);
    knot.expect_code(0);
    assert!(
        !knot.stdout.contains("requester's server"),
        "{}",
        knot.stdout
    );
    // The policy says what the server keeps: compared with that.
    zone.approve_edit(
        "[text]\n",
        "[text]\ntext_server_dnskey_validity = \"P21D\"\n",
    );
    sign("d.txt", &[])
        .expect_code(0)
        .expect_stdout("keeps a bundle's DNSKEY signatures for P21D (BIND's signatures-validity-dnskey, as the policy says)");
}

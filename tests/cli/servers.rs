//! Real servers on 127.0.0.1 serve what `ceremony sign` made, and a real
//! validator checks it: Knot DNS's `knotd` (Debian's `knot`) after
//! `keymgr import-skr`, and BIND 9.20's `named` (bookworm-backports,
//! unpacked by scripts/bind920 into target/bind920/root) after
//! `rndc skr -import`. BIND's `delv`, given only the ceremony's KSK as its
//! trust anchor, must print "; fully validated" for the DNSKEY RRset (our
//! RRSIG) and for a record the ZSK signed; with another ceremony's KSK as
//! the anchor it must not. delv exits 0 either way: its output is the
//! verdict. named also serves a whole KSK roll, phase by phase (and shows
//! what the `kskm` text profile does to it); Unbound's `unbound-host`
//! validates with `trust-anchor --format unbound`; and keys that BIND's
//! `dnssec-keygen` and Knot's `keymgr` made are imported and sign SKRs
//! that dnspython checks against those tools' own DNSKEY records.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ceremony::dnspython;
use crate::harness::{Run, run};

/// The zone every test serves.
const ZONE: &str = "example.";

/// A minimal zone: the apex, its server, one record for the ZSK to sign.
const ZONE_FILE: &str = "example. 3600 IN SOA ns.example. hostmaster.example. 1 3600 900 604800 300\n\
                         example. 3600 IN NS ns.example.\n\
                         ns.example. 3600 IN A 127.0.0.1\n\
                         www.example. 3600 IN A 192.0.2.1\n";

/// A ceremony for `example.`: 2 of 3 officers, light card KDF, made now.
struct Ceremony {
    dir: tempfile::TempDir,
}

/// A KSK in the ceremony's HSM.
#[derive(Clone, Debug)]
struct Ksk {
    label: String,
    tag: String,
    /// Its tag with the REVOKE bit set (flags 385).
    revoked_tag: String,
    /// Its DNSKEY algorithm number.
    algorithm: String,
    /// Its public key, base64 without spaces.
    key: String,
}

impl Ceremony {
    fn new(algorithm: &str) -> Self {
        let (ceremony, init) = Self::init(None, &["--algorithm", algorithm]);
        init.expect_code(0);
        ceremony
    }

    /// `init` as of `now` (the clock without it) with `extra` (the
    /// algorithm, or the key to import): the ceremony, whose folder `c`
    /// exists only if `init` succeeded, and the run.
    fn init(now: Option<&str>, extra: &[&str]) -> (Self, Run) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pins.toml"),
            "CO-1 = \"111111\"\nCO-2 = \"222222\"\nCO-3 = \"333333\"\n",
        )
        .unwrap();
        let ceremony = Self { dir };
        let (c, pins, puks) = (
            ceremony.path("c"),
            ceremony.path("pins.toml"),
            ceremony.path("puks.toml"),
        );
        let mut args = now.map_or_else(Vec::new, |now| vec!["--now", now]);
        args.extend([
            "init",
            "--rehearsal",
            "--dir",
            &c,
            "--cards",
            "3",
            "--threshold",
            "2",
            "--domain",
            ZONE,
            "--pin-file",
            &pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
        ]);
        args.extend_from_slice(extra);
        let init = run(&args);
        (ceremony, init)
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
    /// CO-1's and CO-3's cards.
    fn approve_edit(&self, from: &str, to: &str) {
        let config = self.path("c/ceremony.toml");
        let text = fs::read_to_string(&config).unwrap();
        assert!(text.contains(from), "{text}");
        fs::write(&config, text.replacen(from, to, 1)).unwrap();
        let (pins, one, two) = (
            self.path("pins.toml"),
            self.path("c/cards/CO-1.card"),
            self.path("c/cards/CO-3.card"),
        );
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
        .expect_stdout(to.lines().last().unwrap_or(to));
    }

    /// `ceremony sign` with CO-1's and CO-3's cards.
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

    /// A quorum operation (`keygen`, `ksk promote`) with CO-1's and CO-3's
    /// cards.
    fn quorum(&self, args: &[&str]) -> Run {
        let (pins, one, two) = (
            self.path("pins.toml"),
            self.path("c/cards/CO-1.card"),
            self.path("c/cards/CO-3.card"),
        );
        let mut all = args.to_vec();
        all.extend(["--pin-file", &pins, "--yes", "--cards", &one, &two]);
        self.ceremony(&all)
    }

    /// The HSM's KSKs, from `inventory --json`.
    fn keys(&self) -> Vec<Ksk> {
        let inventory = self.ceremony(&["inventory", "--json"]);
        inventory.expect_code(0);
        inventory
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|key| {
                let dnskey = key["dnskey"].as_str().unwrap().to_owned();
                let fields: Vec<&str> = dnskey.split_whitespace().collect();
                let at = fields.iter().position(|field| *field == "DNSKEY").unwrap();
                Ksk {
                    label: key["label"].as_str().unwrap().to_owned(),
                    tag: key["key_tag"].to_string(),
                    revoked_tag: key["revoked_key_tag"].to_string(),
                    algorithm: fields[at + 3].to_owned(),
                    key: fields[at + 4..].concat(),
                }
            })
            .collect()
    }

    /// The HSM's KSK of this label.
    fn key(&self, label: &str) -> Ksk {
        self.keys()
            .into_iter()
            .find(|key| key.label == label)
            .unwrap_or_else(|| panic!("no KSK {label} in the HSM"))
    }

    /// `trust-anchor --format bind` in a file: a `trust-anchors` block
    /// with one `initial-ds` for each KSK the policy pins (`tags`), and
    /// no other.
    fn bind_anchor(&self, name: &str, tags: &[&str]) -> PathBuf {
        let bind = self.ceremony(&["trust-anchor", "--format", "bind"]);
        bind.expect_code(0).expect_stdout("trust-anchors {\n");
        let listed: Vec<&str> = bind
            .stdout
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields.get(1) == Some(&"initial-ds")).then(|| fields[2])
            })
            .collect();
        assert_eq!(listed, tags, "{}", bind.stdout);
        let path = self.dir.path().join(name);
        fs::write(&path, &bind.stdout).unwrap();
        path
    }

    /// A delv anchor file of one KSK alone, as a `static-key` with its
    /// public key as `inventory` gives it (flags 257).
    fn static_anchor(&self, key: &Ksk) -> PathBuf {
        let path = self.dir.path().join(format!("anchor-{}.conf", key.label));
        fs::write(
            &path,
            format!(
                "trust-anchors {{\n    {ZONE} static-key 257 3 {} \"{}\";\n}};\n",
                key.algorithm, key.key
            ),
        )
        .unwrap();
        path
    }

    /// The KSK's tag and DNSKEY record, from `inventory --dnskey` and the
    /// policy's pin.
    fn ksk(&self) -> (String, String) {
        let policy = fs::read_to_string(self.path("c/ceremony.toml")).unwrap();
        let tags: Vec<&str> = policy
            .lines()
            .filter_map(|line| line.strip_prefix("key_tag = "))
            .collect();
        assert_eq!(tags.len(), 1, "{policy}");
        let inventory = self.ceremony(&["inventory", "--dnskey"]);
        inventory.expect_code(0);
        let records: Vec<&str> = inventory
            .stdout
            .lines()
            .filter(|line| line.contains(" DNSKEY 257 "))
            .collect();
        assert_eq!(records.len(), 1, "{}", inventory.stdout);
        (tags[0].to_owned(), records[0].to_owned())
    }

    /// Trust anchor files for delv, in named's `trust-anchors` syntax: what
    /// `ceremony trust-anchor --format bind` writes (the KSK's DS, as
    /// `initial-ds`), and, independently of it, a `static-key` built here
    /// from the DNSKEY record `inventory --dnskey` prints.
    fn anchors(&self) -> Vec<PathBuf> {
        let (tag, dnskey) = self.ksk();
        let fields: Vec<&str> = dnskey.split_whitespace().collect();
        let at = fields.iter().position(|field| *field == "DNSKEY").unwrap();
        assert_eq!(fields[0], ZONE, "{dnskey}");
        let (flags, protocol, algorithm) = (fields[at + 1], fields[at + 2], fields[at + 3]);
        let policy = fs::read_to_string(self.path("c/ceremony.toml")).unwrap();
        let digest = policy
            .lines()
            .find_map(|line| line.strip_prefix("ds_sha256 = "))
            .unwrap()
            .trim_matches('"');
        let bind = self.ceremony(&["trust-anchor", "--format", "bind"]);
        bind.expect_code(0)
            .expect_stdout("trust-anchors {\n")
            .expect_stdout(&format!(
                "\"{ZONE}\" initial-ds {tag} {algorithm} 2 \"{digest}\";"
            ));
        let ceremony = self.dir.path().join("anchor-ceremony.conf");
        fs::write(&ceremony, &bind.stdout).unwrap();
        let key: String = fields[at + 4..].concat();
        let static_key = self.dir.path().join("anchor-static.conf");
        fs::write(
            &static_key,
            format!(
                "trust-anchors {{\n    {ZONE} static-key {flags} {protocol} {algorithm} \"{key}\";\n}};\n"
            ),
        )
        .unwrap();
        vec![ceremony, static_key]
    }
}

/// Distinct ports free for both UDP and TCP on 127.0.0.1 (the sockets are
/// held until all are found, so two of them never coincide).
fn free_ports<const N: usize>() -> [u16; N] {
    let mut held = Vec::new();
    let mut ports = [0; N];
    for port in &mut ports {
        loop {
            let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
            let candidate = tcp.local_addr().unwrap().port();
            if let Ok(udp) = UdpSocket::bind(("127.0.0.1", candidate)) {
                held.push((tcp, udp));
                *port = candidate;
                break;
            }
        }
    }
    ports
}

/// The private root scripts/bind920 unpacks BIND 9.20 into.
fn bind_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bind920/root")
}

/// A BIND 9.20 program from the private root, with its libraries.
fn bind(program: &str) -> Command {
    let root = bind_root();
    let path = ["usr/sbin", "usr/bin"]
        .iter()
        .map(|dir| root.join(dir).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not in {}: `bash scripts/bind920` unpacks BIND 9.20 there \
                 (scripts/test runs it)",
                root.display()
            )
        });
    // The multiarch folders (x86_64-linux-gnu ...) of usr/lib and lib,
    // and usr/lib itself.
    let mut dirs: Vec<PathBuf> = ["usr/lib", "lib"]
        .iter()
        .filter_map(|dir| fs::read_dir(root.join(dir)).ok())
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().contains("-linux-"))
        })
        .collect();
    dirs.push(root.join("usr/lib"));
    let mut command = Command::new(path);
    command.env("LD_LIBRARY_PATH", std::env::join_paths(dirs).unwrap());
    command
}

/// Runs a tool, killing it after 30 seconds; stdin is empty.
fn tool(command: &mut Command) -> Run {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{command:?} starts: {err}"));
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            child.wait().ok();
            panic!("{command:?} did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    Run::from_output(output, start.elapsed())
}

/// A server started by a test and killed when it ends, on a panic too.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(command: &mut Command, log: PathBuf) -> Self {
        let file = fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| panic!("{command:?} starts: {err}"));
        Self { child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails with the server's log if it has ended.
    #[track_caller]
    fn expect_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the server ended ({status}):\n{}", self.log());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kdig +dnssec` of a name and type.
fn kdig(port: u16, name: &str, rtype: &str) -> Run {
    tool(Command::new("kdig").args([
        "@127.0.0.1",
        "-p",
        &port.to_string(),
        "+dnssec",
        "+time=2",
        "+retry=1",
        name,
        rtype,
    ]))
}

/// Asks the server until its answer for `rtype` at the apex carries an
/// RRSIG by `tag` (20 seconds at most); returns the RRSIG's fields.
fn served_rrsig(server: &mut Server, port: u16, rtype: &str, tag: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        server.expect_running();
        let answer = kdig(port, ZONE, rtype);
        let rrsig = answer.stdout.lines().find_map(|line| {
            let fields: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            (fields.len() > 12 && fields[3] == "RRSIG" && fields[4] == rtype && fields[10] == tag)
                .then_some(fields)
        });
        if let Some(fields) = rrsig {
            return fields;
        }
        assert!(
            Instant::now() < deadline,
            "no RRSIG {rtype} by {tag} served:\n{}{}\nserver log:\n{}",
            answer.stdout,
            answer.stderr,
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// delv's verdict on one name and type, with `anchor` as the only trust
/// anchor (for `example.`): its stdout and stderr.
fn delv(port: u16, anchor: &Path, name: &str, rtype: &str) -> String {
    let run = tool(bind("delv").args([
        "@127.0.0.1",
        "-p",
        &port.to_string(),
        "-a",
        anchor.to_str().unwrap(),
        &format!("+root={ZONE}"),
        name,
        rtype,
    ]));
    run.expect_code(0);
    format!("{}{}", run.stdout, run.stderr)
}

/// delv validates the DNSKEY RRset (our signature) and a record the ZSK
/// signed with each of the ceremony's anchors, and neither with another
/// ceremony's KSK as the anchor.
fn validates(port: u16, ksk: &Ceremony, tag: &str, types: &[&str]) {
    let anchors = ksk.anchors();
    for anchor in &anchors {
        let mut names = vec![(ZONE, "DNSKEY"), ("www.example.", "A")];
        names.extend(types.iter().map(|rtype| (ZONE, *rtype)));
        for (name, rtype) in names {
            let verdict = delv(port, anchor, name, rtype);
            assert!(
                verdict.starts_with("; fully validated\n"),
                "delv {name} {rtype} with {}:\n{verdict}",
                anchor.display()
            );
            // The answer itself, signed: the DNSKEY RRset by our KSK.
            assert!(
                verdict
                    .lines()
                    .any(|line| line.contains(&format!("\tIN\t{rtype}\t"))),
                "{verdict}"
            );
            if rtype == "DNSKEY" {
                assert!(verdict.contains("; KSK; alg = "), "{verdict}");
                assert!(
                    verdict.contains(&format!("; key id = {tag}\n")),
                    "{verdict}"
                );
                assert!(
                    verdict.contains(&format!(" {tag} {ZONE} ")),
                    "no RRSIG by {tag}:\n{verdict}"
                );
            }
        }
    }
    // Another KSK as the anchor: nothing validates.
    let other = Ceremony::new("ecdsap256sha256");
    for anchor in other.anchors() {
        for (name, rtype) in [(ZONE, "DNSKEY"), ("www.example.", "A")] {
            let verdict = delv(port, &anchor, name, rtype);
            assert!(
                !verdict.contains("fully validated") && verdict.contains("resolution failed"),
                "delv {name} {rtype} with another KSK:\n{verdict}"
            );
        }
    }
}

/// The RRSIG lines of an SKR, as single-spaced fields.
fn skr_rrsigs(skr: &str, rtype: &str) -> Vec<Vec<String>> {
    fs::read_to_string(skr)
        .unwrap()
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|fields| fields.len() > 12 && fields[3] == "RRSIG" && fields[4] == rtype)
        .collect()
}

/// The served RRSIG is one the ceremony made: the same type covered,
/// times, key tag, signer and signature as one in the SKR.
#[track_caller]
fn made_by_us(served: &[String], skr: &str, rtype: &str) {
    let ours = skr_rrsigs(skr, rtype);
    assert!(!ours.is_empty(), "no RRSIG {rtype} in the SKR");
    let served_rdata = &served[4..];
    assert!(
        ours.iter().any(|ours| ours[4..] == *served_rdata),
        "served {served:?} is in no bundle of {skr}"
    );
}

/// `keymgr` on a configuration, for the zone; (exit code, stdout, stderr).
fn keymgr(conf: &Path, args: &[&str]) -> (i32, String, String) {
    let run = tool(
        Command::new("keymgr")
            .arg("-c")
            .arg(conf)
            .arg(ZONE)
            .args(args),
    );
    (run.code, run.stdout, run.stderr)
}

/// A Knot DNS configuration in `dir` for the zone (its zone file beside
/// it): an offline-KSK policy for `algorithm` (RSA ZSKs of 2048 bits),
/// knotd listening on 127.0.0.1@`port` (keymgr alone without it).
fn knot_conf(dir: &Path, algorithm: &str, port: Option<u16>) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("example.zone"), ZONE_FILE).unwrap();
    let size = if algorithm == "rsasha256" {
        "    zsk-size: 2048\n"
    } else {
        ""
    };
    let listen = port.map_or_else(String::new, |port| {
        format!("    listen: 127.0.0.1@{port}\n")
    });
    let conf = dir.join("knot.conf");
    fs::write(
        &conf,
        format!(
            "server:\n    rundir: {d}\n{listen}\
             database:\n    storage: {d}\n\
             keystore:\n  - id: default\n    backend: pem\n    config: {d}/keys\n\
             policy:\n  - id: offline\n    algorithm: {algorithm}\n{size}    manual: on\n    offline-ksk: on\n\
             \x20   zsk-lifetime: 30d\n    rrsig-lifetime: 14d\n    rrsig-refresh: 7d\n    dnskey-ttl: 3600\n    zone-max-ttl: 3600\n\
             log:\n  - target: stderr\n    any: info\n\
             zone:\n  - domain: {ZONE}\n    storage: {d}\n    file: example.zone\n    dnssec-signing: on\n    dnssec-policy: offline\n",
            d = dir.display()
        ),
    )
    .unwrap();
    conf
}

/// Knot's ZSKs for 60 days from now, and its request for them, in a file.
fn knot_ksr(conf: &Path, out: &str) {
    let (code, _, stderr) = keymgr(conf, &["pregenerate", "+60d"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, request, stderr) = keymgr(conf, &["generate-ksr", "+0", "+60d"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        request.starts_with(";; KeySigningRequest 1.0 "),
        "{request}"
    );
    fs::write(out, &request).unwrap();
}

/// knotd serving the zone with the ceremony's answer to its KSR (as the
/// policy stands, signed with the `normal` schema) after `keymgr
/// import-skr`: the server, its port and the SKR.
fn knotd(ksk: &Ceremony) -> (Server, u16, String) {
    let [port] = free_ports();
    let dir = ksk.dir.path().join("knot");
    let conf = knot_conf(&dir, "ecdsap256sha256", Some(port));
    let ksr = ksk.path("knot-ksr.txt");
    knot_ksr(&conf, &ksr);
    let skr = ksk.path("knot-skr.txt");
    ksk.sign(&ksr, &skr, &[]).expect_code(0);
    let (code, stdout, stderr) = keymgr(&conf, &["import-skr", &skr]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let server = Server::start(
        Command::new("knotd").arg("-c").arg(&conf),
        dir.join("knotd.log"),
    );
    (server, port, skr)
}

#[test]
fn knotd_serves_our_signatures_and_delv_validates_them() {
    let ksk = Ceremony::new("ecdsap256sha256");
    // CDS and CDNSKEY too (a Knot-dialect SKR has none unless the policy
    // asks): knotd serves them from the SKR.
    ksk.approve_edit("[text]\n", "[text]\ntext_cds = \"both\"\n");
    let (tag, _) = ksk.ksk();
    let (mut knotd, port, skr) = knotd(&ksk);
    for rtype in ["DNSKEY", "CDS", "CDNSKEY"] {
        let served = served_rrsig(&mut knotd, port, rtype, &tag);
        made_by_us(&served, &skr, rtype);
    }
    validates(port, &ksk, &tag, &["CDS", "CDNSKEY"]);
    knotd.expect_running();
}

/// named's side of an offline KSK: BIND 9.20's `dnssec-policy` with
/// `offline-ksk yes`, an rndc control channel, its own folders.
struct Named {
    dir: PathBuf,
    port: u16,
}

impl Named {
    fn new(dir: PathBuf, algorithm: &str, zsk_lifetime: &str) -> Self {
        let [port, control] = free_ports();
        fs::create_dir_all(dir.join("keys")).unwrap();
        let d = dir.display();
        fs::write(dir.join("example.zone"), ZONE_FILE).unwrap();
        // The test's own key (a fixed one will do) for its own control
        // channel on 127.0.0.1.
        fs::write(
            dir.join("rndc.key"),
            "key \"rndc-key\" {\n    algorithm hmac-sha256;\n    secret \"lDa8V6t2gVSsnimr4T34uT1kUB3zz3ytqhdv2Zx3h7Y=\";\n};\n",
        )
        .unwrap();
        fs::write(
            dir.join("rndc.conf"),
            format!(
                "include \"{d}/rndc.key\";\noptions {{\n    default-key \"rndc-key\";\n    default-server 127.0.0.1;\n    default-port {control};\n}};\n"
            ),
        )
        .unwrap();
        fs::write(
            dir.join("policy.conf"),
            format!(
                "dnssec-policy \"offline\" {{\n    offline-ksk yes;\n    keys {{\n        ksk lifetime unlimited algorithm {algorithm};\n        zsk lifetime {zsk_lifetime} algorithm {algorithm};\n    }};\n    dnskey-ttl 3600;\n    max-zone-ttl 3600;\n    signatures-validity P14D;\n    signatures-refresh P7D;\n}};\n"
            ),
        )
        .unwrap();
        fs::write(
            dir.join("named.conf"),
            format!(
                "include \"{d}/rndc.key\";\ninclude \"{d}/policy.conf\";\n\
                 options {{\n    directory \"{d}\";\n    key-directory \"{d}/keys\";\n    pid-file \"{d}/named.pid\";\n    session-keyfile \"{d}/session.key\";\n    managed-keys-directory \"{d}\";\n\
                 \x20   listen-on port {port} {{ 127.0.0.1; }};\n    listen-on-v6 {{ none; }};\n    recursion no;\n    notify no;\n    dnssec-validation no;\n}};\n\
                 controls {{\n    inet 127.0.0.1 port {control} allow {{ 127.0.0.1; }} keys {{ \"rndc-key\"; }};\n}};\n\
                 zone \"{ZONE}\" {{\n    type primary;\n    file \"{d}/example.zone\";\n    dnssec-policy \"offline\";\n    inline-signing yes;\n}};\n"
            ),
        )
        .unwrap();
        let named = Self { dir, port };
        tool(bind("named-checkconf").arg(named.file("named.conf"))).expect_code(0);
        named
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `dnssec-ksr` with the policy, from `start` to `end` (BIND's
    /// `-i` and `-e`: `now`, `now-15d`, `+30d`).
    fn dnssec_ksr(&self, command: &str, start: &str, end: &str) -> Run {
        let run = tool(
            bind("dnssec-ksr")
                .arg("-K")
                .arg(self.file("keys"))
                .args(["-k", "offline", "-l"])
                .arg(self.file("policy.conf"))
                .args(["-i", start, "-e", end, command, ZONE]),
        );
        run.expect_code(0);
        run
    }

    fn start(&self) -> Server {
        let mut named = Server::start(
            bind("named")
                .arg("-g")
                .arg("-c")
                .arg(self.file("named.conf")),
            self.file("named.log"),
        );
        // Up when its control channel answers.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            named.expect_running();
            let status = self.rndc(&["status"]);
            if status.code == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "rndc status: {}{}\nnamed log:\n{}",
                status.stdout,
                status.stderr,
                named.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        named
    }

    fn rndc(&self, args: &[&str]) -> Run {
        tool(
            bind("rndc")
                .arg("-c")
                .arg(self.file("rndc.conf"))
                .args(args),
        )
    }
}

/// This machine's clock in `days` days, in RFC 3339 UTC.
fn days_from_now(days: i32) -> String {
    let output = Command::new("date")
        .args(["-u", "-d", &format!("{days:+} days"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn named_serves_our_signatures_and_delv_validates_them() {
    let version = tool(bind("named").arg("-v"));
    version.expect_code(0).expect_stdout("BIND 9.20.");
    let ksk = Ceremony::new("rsasha256");
    let (tag, _) = ksk.ksk();
    let named = Named::new(ksk.dir.path().join("bind"), "rsasha256", "unlimited");

    // BIND's ZSK side: a ZSK of unlimited lifetime, so its request has one
    // bundle, which does not say how long the answer must last.
    named.dnssec_ksr("keygen", "now", "+30d");
    let request = named.dnssec_ksr("request", "now", "+30d").stdout;
    let bundles = request
        .lines()
        .filter(|line| {
            line.starts_with(";; KeySigningRequest 1.0 ") && !line.contains(" generated ")
        })
        .count();
    assert_eq!(bundles, 1, "{request}");
    let ksr = ksk.path("ksr.txt");
    fs::write(&ksr, &request).unwrap();
    let skr = ksk.path("skr.txt");
    ksk.sign(&ksr, &skr, &[])
        .expect_code(2)
        .expect_stderr("--end");
    assert!(!Path::new(&skr).exists());
    let end = days_from_now(30);
    ksk.sign(&ksr, &skr, &["--end", &end]).expect_code(0);
    assert!(
        fs::read_to_string(&skr)
            .unwrap()
            .starts_with(";; SignedKeyResponse 1.0 2"),
        "BIND's dialect"
    );

    let mut server = named.start();
    // An unreadable file is refused ("import failed: ..."), though rndc
    // exits 0; ours is taken without a word.
    let missing = named.file("no-such-skr.txt");
    let refused = named.rndc(&["skr", "-import", missing.to_str().unwrap(), ZONE]);
    assert!(
        format!("{}{}", refused.stdout, refused.stderr).contains("failed"),
        "{refused:?}"
    );
    let import = named.rndc(&["skr", "-import", &skr, ZONE]);
    import.expect_code(0);
    assert_eq!(
        format!("{}{}", import.stdout, import.stderr),
        "",
        "rndc skr -import:\n{}",
        server.log()
    );
    let served = served_rrsig(&mut server, named.port, "DNSKEY", &tag);
    made_by_us(&served, &skr, "DNSKEY");
    // The policy is silent on text_cds, so the BIND-dialect SKR carries
    // CDS and CDNSKEY records, which named publishes with our RRSIGs.
    let policy = fs::read_to_string(ksk.path("c/ceremony.toml")).unwrap();
    assert!(!policy.contains("text_cds"), "{policy}");
    for rtype in ["CDS", "CDNSKEY"] {
        let served = served_rrsig(&mut server, named.port, rtype, &tag);
        made_by_us(&served, &skr, rtype);
    }
    validates(named.port, &ksk, &tag, &["CDS", "CDNSKEY"]);
    server.expect_running();
}

/// The time of each bundle of a BIND-dialect KSR or SKR
/// (`YYYYMMDDhhmmss`), in order.
fn bundle_times(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| {
            (line.starts_with(";; KeySigningRequest 1.0 ")
                || line.starts_with(";; SignedKeyResponse 1.0 "))
                && !line.contains(" generated ")
        })
        .map(|line| line.split_whitespace().nth(3).unwrap().to_owned())
        .collect()
}

/// This machine's clock now as BIND's KSR headers write it.
fn now_compact() -> String {
    let output = Command::new("date")
        .args(["-u", "+%Y%m%d%H%M%S"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// What the server answers for the apex DNSKEY RRset: its KSKs as (flags,
/// public key), the fields of its RRSIGs, and kdig's whole output.
fn served_dnskey(port: u16) -> (BTreeSet<(String, String)>, Vec<Vec<String>>, String) {
    let answer = kdig(port, ZONE, "DNSKEY");
    let mut ksks = BTreeSet::new();
    let mut rrsigs = Vec::new();
    for line in answer.stdout.lines() {
        let fields: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if fields.len() > 7 && fields[3] == "DNSKEY" && fields[4] != "256" {
            ksks.insert((fields[4].clone(), fields[7..].concat()));
        }
        if fields.len() > 12 && fields[3] == "RRSIG" && fields[4] == "DNSKEY" {
            rrsigs.push(fields);
        }
    }
    (ksks, rrsigs, format!("{}{}", answer.stdout, answer.stderr))
}

/// Waits (20 seconds at most) until the server publishes exactly `ksks`
/// in its DNSKEY RRset, signed by exactly the KSKs tagged `signers`, every
/// RRSIG one that the first of `skrs` carries, or another of them (named
/// keeps the RRSIGs it serves when a new SKR's bundle has the same DNSKEY
/// RRset and signers: ECDSA signatures differ from one signing to the
/// next, and it does not replace them).
#[track_caller]
fn serves_bundle_of(
    server: &mut Server,
    port: u16,
    skrs: &[&str],
    ksks: &[(&str, &Ksk)],
    signers: &[&str],
) {
    let want: BTreeSet<(String, String)> = ksks
        .iter()
        .map(|(flags, key)| ((*flags).to_owned(), key.key.clone()))
        .collect();
    let want_signers: BTreeSet<&str> = signers.iter().copied().collect();
    let skr = skrs[0];
    let ours: Vec<Vec<String>> = skrs
        .iter()
        .flat_map(|skr| skr_rrsigs(skr, "DNSKEY"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        server.expect_running();
        let (served, rrsigs, answer) = served_dnskey(port);
        let tags: BTreeSet<&str> = rrsigs.iter().map(|rrsig| rrsig[10].as_str()).collect();
        let from_skr = rrsigs
            .iter()
            .all(|rrsig| ours.iter().any(|ours| ours[4..] == rrsig[4..]));
        if served == want && tags == want_signers && from_skr {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server does not serve {skr}'s bundle: KSKs {want:?} signed by {want_signers:?} \
             (RRSIGs from the SKR: {from_skr}):\n{answer}\nserver log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// delv fully validates the DNSKEY RRset, with an RRSIG by `tag` among
/// those shown, and a record the ZSK signed, with `anchor` alone.
#[track_caller]
fn fully_validates(port: u16, anchor: &Path, tag: &str) {
    for (name, rtype) in [(ZONE, "DNSKEY"), ("www.example.", "A")] {
        let verdict = delv(port, anchor, name, rtype);
        assert!(
            verdict.starts_with("; fully validated\n"),
            "delv {name} {rtype} with {}:\n{verdict}",
            anchor.display()
        );
        if rtype == "DNSKEY" {
            assert!(
                verdict.contains(&format!(" {tag} {ZONE} ")),
                "no RRSIG by {tag}:\n{verdict}"
            );
        }
    }
}

/// delv validates nothing with `anchor` alone.
#[track_caller]
fn validates_nothing(port: u16, anchor: &Path) {
    for (name, rtype) in [(ZONE, "DNSKEY"), ("www.example.", "A")] {
        let verdict = delv(port, anchor, name, rtype);
        assert!(
            !verdict.contains("fully validated") && verdict.contains("resolution failed"),
            "delv {name} {rtype} with {}:\n{verdict}",
            anchor.display()
        );
    }
}

/// `rndc skr -import`, which says nothing when it takes a file.
#[track_caller]
fn import_skr(named: &Named, server: &Server, skr: &str) {
    let import = named.rndc(&["skr", "-import", skr, ZONE]);
    import.expect_code(0);
    assert_eq!(
        format!("{}{}", import.stdout, import.stderr),
        "",
        "rndc skr -import {skr}:\n{}",
        server.log()
    );
}

/// Waits (10 seconds at most) until the server's log, past its first
/// `from` bytes, has `text`; returns the log.
#[track_caller]
fn log_shows(server: &mut Server, from: usize, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        server.expect_running();
        let log = server.log();
        if log.get(from..).is_some_and(|new| new.contains(text)) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "the server's log has no {text:?} after byte {from}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A KSK roll served by named 9.20: BIND's KSR (ZSKs of 10 days, from 15
/// days ago, so that now is in its second bundle, where each built-in
/// schema's middle action holds) is signed with `pre-publish`, `rollover`
/// and `revoke` as of 14 days ago (the text profile `bind`, the dialect's
/// default), then `normal` after `ksk promote`; named serves each phase
/// after `rndc skr -import` with exactly the KSKs of its schema, and delv
/// validates it with `trust-anchor --format bind` and with the signing KSK
/// alone. With the policy's `text_schema_profile = "kskm"`, the
/// pre-publish SKR (ksk-2 published, not signing) leaves the zone
/// unsigned in a fresh named, and is ignored by a named already serving.
#[test]
fn named_serves_a_ksk_roll_phase_by_phase() {
    let (ksk, init) = Ceremony::init(
        Some(&days_from_now(-20)),
        &["--algorithm", "ecdsap256sha256"],
    );
    init.expect_code(0);
    let then = days_from_now(-14);
    ksk.quorum(&[
        "--now",
        &days_from_now(-20),
        "keygen",
        "--algorithm",
        "ecdsap256sha256",
        "--label",
        "ksk-2",
    ])
    .expect_code(0)
    .expect_stdout("ksk_next");
    let (one, two) = (ksk.key("ksk-1"), ksk.key("ksk-2"));
    // Every KSK of the policy, ksk_current first.
    let both = ksk.bind_anchor("anchor-both.conf", &[&one.tag, &two.tag]);

    let named = Named::new(ksk.dir.path().join("bind"), "ecdsap256sha256", "P10D");
    named.dnssec_ksr("keygen", "now-15d", "+30d");
    let request = named.dnssec_ksr("request", "now-15d", "+30d").stdout;
    let times = bundle_times(&request);
    let now = now_compact();
    assert!(
        times.len() >= 4 && times[1] <= now && now < times[2],
        "now ({now}) is not in the second of the KSR's bundles {times:?}"
    );
    let ksr = ksk.path("ksr.txt");
    fs::write(&ksr, &request).unwrap();
    let sign = |schema: &str, out: &str, profile: &str| {
        let skr = ksk.path(out);
        ksk.sign(&ksr, &skr, &["--now", &then, "--schema", schema])
            .expect_code(0)
            .expect_stdout(profile);
        skr
    };
    let bind_default = "text_schema_profile = bind: every published KSK also signs the DNSKEY \
                        RRset (named cannot serve a bundle in which one does not) (the default \
                        for a BIND-dialect SKR";
    let pre_publish = sign("pre-publish", "skr-pre-publish.txt", bind_default);
    let rollover = sign("rollover", "skr-rollover.txt", bind_default);
    let revoke = sign("revoke", "skr-revoke.txt", bind_default);
    // The kskm profile: the schema as written, ksk-2 published and not
    // signing from the KSR's second bundle on.
    ksk.approve_edit("[text]\n", "[text]\ntext_schema_profile = \"kskm\"\n");
    let kskm = sign(
        "pre-publish",
        "skr-kskm-pre-publish.txt",
        "text_schema_profile = kskm: the schema as written (as the policy says)",
    );
    let kskm_text = fs::read_to_string(&kskm).unwrap();
    assert!(kskm_text.contains(&two.key), "ksk-2 is published");
    assert!(
        skr_rrsigs(&kskm, "DNSKEY")
            .iter()
            .all(|rrsig| rrsig[10] == one.tag),
        "only ksk-1 signs:\n{kskm_text}"
    );
    // The roll done: ksk-2 is the current KSK, alone.
    ksk.quorum(&["--now", &then, "ksk", "promote", "--revoke-skr", &revoke])
        .expect_code(0)
        .expect_stdout("ksk-2 becomes ksk_current");
    ksk.approve_edit(
        "text_schema_profile = \"kskm\"",
        "text_schema_profile = \"bind\"",
    );
    let normal = sign(
        "normal",
        "skr-normal.txt",
        "text_schema_profile = bind: every published KSK also signs the DNSKEY RRset \
         (named cannot serve a bundle in which one does not) (as the policy says)",
    );

    let mut server = named.start();
    let port = named.port;
    let (anchor_one, anchor_two) = (ksk.static_anchor(&one), ksk.static_anchor(&two));

    // The trap: named takes the kskm-profile SKR without a word, cannot
    // sign the DNSKEY RRset with it, and serves the zone unsigned.
    let before = server.log().len();
    import_skr(&named, &server, &kskm);
    let log = log_shows(&mut server, before, "add_sigs -> not found");
    assert!(
        log[before..].contains("zone_rekey failure: not found"),
        "{log}"
    );
    let (served, rrsigs, answer) = served_dnskey(port);
    assert!(served.is_empty() && rrsigs.is_empty(), "{answer}");
    assert!(answer.contains("status: NOERROR"), "{answer}");
    let www = kdig(port, "www.example.", "A");
    assert!(
        www.stdout.contains("192.0.2.1") && !www.stdout.contains("RRSIG"),
        "{}",
        www.stdout
    );
    let verdict = delv(port, &both, ZONE, "DNSKEY");
    assert!(
        verdict.contains("resolution failed: insecurity proof failed")
            && !verdict.contains("fully validated"),
        "{verdict}"
    );

    // Pre-publish: both KSKs published, both signing (the bind profile);
    // the schema's signer is ksk-1.
    import_skr(&named, &server, &pre_publish);
    serves_bundle_of(
        &mut server,
        port,
        &[&pre_publish],
        &[("257", &one), ("257", &two)],
        &[&one.tag, &two.tag],
    );
    fully_validates(port, &both, &one.tag);
    fully_validates(port, &anchor_one, &one.tag);
    fully_validates(port, &anchor_two, &two.tag);

    // The kskm SKR on top: taken, and ignored: named keeps serving the
    // bundle it had, with ksk-2's RRSIG that the new SKR does not have.
    let before = server.log().len();
    import_skr(&named, &server, &kskm);
    log_shows(&mut server, before, "next key event");
    serves_bundle_of(
        &mut server,
        port,
        &[&pre_publish],
        &[("257", &one), ("257", &two)],
        &[&one.tag, &two.tag],
    );

    // Rollover: both published, both signing, as in pre-publish (named
    // keeps those RRSIGs); the schema's signer is ksk-2.
    import_skr(&named, &server, &rollover);
    serves_bundle_of(
        &mut server,
        port,
        &[&rollover, &pre_publish],
        &[("257", &one), ("257", &two)],
        &[&one.tag, &two.tag],
    );
    fully_validates(port, &both, &two.tag);
    fully_validates(port, &anchor_two, &two.tag);
    fully_validates(port, &anchor_one, &one.tag);

    // Revoke: ksk-1 revoked (385, its own tag then), self-signed; ksk-2
    // signs; ksk-1 alone no longer validates anything.
    import_skr(&named, &server, &revoke);
    serves_bundle_of(
        &mut server,
        port,
        &[&revoke],
        &[("385", &one), ("257", &two)],
        &[&one.revoked_tag, &two.tag],
    );
    fully_validates(port, &both, &two.tag);
    fully_validates(port, &anchor_two, &two.tag);
    validates_nothing(port, &anchor_one);

    // After the promotion: ksk-2 alone, the only KSK of the anchor.
    import_skr(&named, &server, &normal);
    serves_bundle_of(&mut server, port, &[&normal], &[("257", &two)], &[&two.tag]);
    let after = ksk.bind_anchor("anchor-after.conf", &[&two.tag]);
    fully_validates(port, &after, &two.tag);
    fully_validates(port, &anchor_two, &two.tag);
    validates_nothing(port, &anchor_one);
    server.expect_running();
}

/// An Unbound configuration that asks 127.0.0.1@`port` for the zone, and
/// validates (`module-config`): `extra` goes under `server:`.
fn unbound_conf(dir: &Path, name: &str, port: u16, extra: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(
        &path,
        format!(
            "server:\n    do-not-query-localhost: no\n    module-config: \"validator iterator\"\n\
             \x20   trust-anchor-signaling: no\n    username: \"\"\n    chroot: \"\"\n    directory: \"{d}\"\n\
             \x20   use-syslog: no\n    verbosity: 1\n{extra}\
             stub-zone:\n    name: \"{ZONE}\"\n    stub-addr: 127.0.0.1@{port}\n",
            d = dir.display()
        ),
    )
    .unwrap();
    path
}

/// `unbound-host -v` of a name and type with `anchor` as its trust-anchor
/// file (`-f`): its answer lines.
fn unbound_host(conf: &Path, anchor: &Path, name: &str, rtype: &str) -> String {
    let run = tool(
        Command::new("unbound-host")
            .arg("-C")
            .arg(conf)
            .arg("-f")
            .arg(anchor)
            .args(["-t", rtype, "-v", name]),
    );
    run.expect_code(0);
    run.stdout
}

/// The DS records a `ceremony ds` run prints for a file of DNSKEY
/// records, without their comments.
fn ceremony_ds(dnskeys: &Path) -> Vec<String> {
    let ds = run(&["ds", dnskeys.to_str().unwrap()]);
    ds.expect_code(0);
    ds.stdout
        .lines()
        .map(|line| line.split(';').next().unwrap().trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// Unbound takes `trust-anchor --format unbound` as its trust-anchor file:
/// `unbound-host` finds what knotd serves secure with it, and bogus with
/// another ceremony's; `unbound-checkconf` reads it (a broken copy fails);
/// and `trust-anchor --format dnskey` gives, through `ceremony ds`, the DS
/// that the served KSK gives (`ceremony ds` and dnspython's `make_ds`).
#[test]
fn unbound_validates_with_our_trust_anchor_file() {
    let ksk = Ceremony::new("ecdsap256sha256");
    let (tag, _) = ksk.ksk();
    let key = ksk.key("ksk-1");
    let (mut knotd, port, skr) = knotd(&ksk);
    let served = served_rrsig(&mut knotd, port, "DNSKEY", &tag);
    made_by_us(&served, &skr, "DNSKEY");

    let anchor = ksk.ceremony(&["trust-anchor", "--format", "unbound"]);
    anchor.expect_code(0);
    let policy = fs::read_to_string(ksk.path("c/ceremony.toml")).unwrap();
    let digest = policy
        .lines()
        .find_map(|line| line.strip_prefix("ds_sha256 = "))
        .unwrap()
        .trim_matches('"');
    anchor.expect_stdout(&format!("{ZONE} 3600 IN DS {tag} 13 2 {digest}"));
    let dir = ksk.dir.path();
    let ours = dir.join("example.ds");
    fs::write(&ours, &anchor.stdout).unwrap();
    let conf = unbound_conf(dir, "unbound.conf", port, "");
    for (name, rtype) in [(ZONE, "DNSKEY"), ("www.example.", "A")] {
        let answer = unbound_host(&conf, &ours, name, rtype);
        let lines: Vec<&str> = answer.lines().collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|line| line.ends_with(" (secure)")),
            "unbound-host {name} {rtype}:\n{answer}"
        );
        if rtype == "DNSKEY" {
            assert!(
                answer.contains(&format!("has DNSKEY record 257 3 13 {} (secure)", key.key)),
                "{answer}"
            );
        }
    }
    // Another ceremony's anchor: bogus.
    let other = Ceremony::new("ecdsap256sha256");
    let theirs = dir.join("other.ds");
    let other_anchor = other.ceremony(&["trust-anchor", "--format", "unbound"]);
    other_anchor.expect_code(0);
    fs::write(&theirs, &other_anchor.stdout).unwrap();
    for (name, rtype) in [(ZONE, "DNSKEY"), ("www.example.", "A")] {
        let answer = unbound_host(&conf, &theirs, name, rtype);
        assert!(
            !answer.contains("(secure)")
                && answer.contains("(BOGUS (security failure))")
                && answer.contains("validation failure"),
            "unbound-host {name} {rtype} with another ceremony's anchor:\n{answer}"
        );
    }
    // unbound-checkconf loads the validator with our file as the
    // trust-anchor file; a copy whose digest is not hex fails it.
    let checked = unbound_conf(
        dir,
        "checked.conf",
        port,
        &format!("    trust-anchor-file: \"{}\"\n", ours.display()),
    );
    let check = tool(Command::new("/usr/sbin/unbound-checkconf").arg(&checked));
    check.expect_code(0).expect_stdout("no errors in");
    let broken = dir.join("broken.ds");
    fs::write(&broken, anchor.stdout.replace(digest, &"Z".repeat(64))).unwrap();
    let broken_conf = unbound_conf(
        dir,
        "broken.conf",
        port,
        &format!("    trust-anchor-file: \"{}\"\n", broken.display()),
    );
    let check = tool(Command::new("/usr/sbin/unbound-checkconf").arg(&broken_conf));
    assert_ne!(check.code, 0, "{check:?}");
    check.expect_stderr("error reading trust-anchor-file");

    // The DS of `trust-anchor --format dnskey` is the DS of the KSK knotd
    // serves, by `ceremony ds` and by dnspython.
    let listed = ksk.ceremony(&["trust-anchor", "--format", "dnskey"]);
    listed.expect_code(0);
    let listed_path = dir.join("anchor.dnskey");
    fs::write(&listed_path, &listed.stdout).unwrap();
    let (served_ksks, _, answer) = served_dnskey(port);
    assert_eq!(served_ksks.len(), 1, "{answer}");
    let served_path = dir.join("served.dnskey");
    let served_records: String = kdig(port, ZONE, "DNSKEY")
        .stdout
        .lines()
        .filter(|line| line.split_whitespace().nth(4) == Some("257"))
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(&served_path, &served_records).unwrap();
    let from_anchor = ceremony_ds(&listed_path);
    assert_eq!(
        from_anchor,
        [format!("{ZONE} IN DS {tag} 13 2 {digest}")],
        "{}",
        listed.stdout
    );
    assert_eq!(ceremony_ds(&served_path), from_anchor, "{served_records}");
    let ds = ksk.ceremony(&["trust-anchor", "--format", "ds"]);
    ds.expect_code(0);
    assert_eq!(
        ds.stdout
            .lines()
            .map(|line| line.split(';').next().unwrap().trim())
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>(),
        from_anchor,
        "{}",
        ds.stdout
    );
    let (_, served_key) = served_ksks.first().unwrap();
    let python = tool(Command::new("/usr/bin/python3").args([
        "-c",
        "import sys, dns.dnssec, dns.name, dns.rdata, dns.rdataclass, dns.rdatatype\n\
         key = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, '257 3 13 ' + sys.argv[1])\n\
         print(dns.dnssec.make_ds(dns.name.from_text(sys.argv[2]), key, 'SHA256'))\n",
        served_key,
        ZONE,
    ]));
    python.expect_code(0);
    assert_eq!(
        format!("{ZONE} IN DS {}", python.stdout.trim().to_uppercase()),
        from_anchor[0],
        "dnspython's DS of the served KSK"
    );
    knotd.expect_running();
}

/// dnspython, given a key file (a DNSKEY record in zone-file form, as
/// BIND's `K*.key` and `keymgr dnskey` write it) and a text SKR: every
/// bundle publishes that DNSKEY and has an RRSIG over its DNSKEY RRset by
/// it that verifies with that key as the file gives it (not the SKR's
/// copy), at its inception. Prints "N bundles signed by TAG".
const VALIDATE_WITH_KEY_FILE: &str = r#"
import sys
import dns.dnssec, dns.name, dns.rdata, dns.rdataclass, dns.rdataset, dns.rdatatype, dns.rrset, dns.zone

keys = []
for line in open(sys.argv[1], encoding="utf-8"):
    fields = line.split(";")[0].split()
    if "DNSKEY" in fields:
        at = fields.index("DNSKEY")
        keys.append((dns.name.from_text(fields[0]), dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.DNSKEY, " ".join(fields[at + 1:]))))
assert len(keys) == 1, keys
owner, original = keys[0]
tag = dns.dnssec.key_id(original)
bundles = 0
for chunk in open(sys.argv[2], encoding="utf-8").read().split(";; SignedKeyResponse 1.0 ")[1:]:
    if chunk.startswith("generated"):
        continue
    records = [l for l in chunk.splitlines()[1:] if l.strip() and not l.lstrip().startswith(";")]
    zone = dns.zone.from_text("\n".join(records) + "\n", origin=owner, relativize=False, check_origin=False)
    node = zone.get_node(owner)
    published = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    assert original in published, "bundle %d does not publish the key" % bundles
    rrset = dns.rrset.from_rdata_list(owner, published.ttl, list(published))
    sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY) or []
    mine = [sig for sig in sigs if sig.key_tag == tag]
    assert mine, "bundle %d has no RRSIG by %d" % (bundles, tag)
    for sig in mine:
        dns.dnssec.validate_rrsig(rrset, sig, {owner: dns.rdataset.from_rdata_list(published.ttl, [original])},
                                  now=sig.inception + 1)
    bundles += 1
assert bundles, "no bundle"
print("%d bundles signed by %d" % (bundles, tag))
"#;

/// Runs [`VALIDATE_WITH_KEY_FILE`]: its exit code and output.
fn validate_with_key_file(key_file: &Path, skr: &str) -> Run {
    tool(
        Command::new("/usr/bin/python3")
            .args(["-c", VALIDATE_WITH_KEY_FILE])
            .arg(key_file)
            .arg(skr),
    )
}

/// BIND's own KSKs, made by `dnssec-keygen` (ECDSAP256SHA256 and
/// RSASHA256 2048), are taken by `init --import K*.private` only with the
/// DS `dnssec-dsfromkey -2` gives (`--expect-ds`; another digest is
/// refused, nothing made), and sign a Knot KSR into an SKR that dnspython
/// validates against the `.key` file's DNSKEY.
#[test]
fn bind_key_files_are_imported_and_sign() {
    let keys = tempfile::tempdir().unwrap();
    let mut made = Vec::new();
    for (algorithm, number, knot_algorithm, bits) in [
        ("ECDSAP256SHA256", "13", "ecdsap256sha256", None),
        ("RSASHA256", "8", "rsasha256", Some("2048")),
    ] {
        let mut keygen = bind("dnssec-keygen");
        keygen
            .arg("-K")
            .arg(keys.path())
            .args(["-f", "KSK", "-a", algorithm, "-n", "ZONE"]);
        if let Some(bits) = bits {
            keygen.args(["-b", bits]);
        }
        let keygen = tool(keygen.arg(ZONE));
        keygen.expect_code(0);
        let base = keygen.stdout.trim().to_owned();
        assert!(
            base.starts_with(&format!("K{ZONE}+{number:0>3}+")),
            "{base}"
        );
        let private = keys.path().join(format!("{base}.private"));
        let key_file = keys.path().join(format!("{base}.key"));
        let ds = tool(bind("dnssec-dsfromkey").arg("-2").arg(&key_file));
        ds.expect_code(0);
        let ds = ds.stdout.trim().to_owned();
        let fields: Vec<&str> = ds.split_whitespace().collect();
        assert_eq!(fields[..3], [ZONE, "IN", "DS"], "{ds}");
        let (tag, digest) = (fields[3].to_owned(), fields[6].to_owned());

        // Another digest: refused before anything is made.
        let wrong = format!(
            "{}{}",
            &digest[..63],
            if digest.ends_with('0') { '1' } else { '0' }
        );
        let (refused, init) = Ceremony::init(
            None,
            &[
                "--import",
                private.to_str().unwrap(),
                "--label",
                "bind-ksk",
                "--expect-ds",
                &wrong,
            ],
        );
        init.expect_code(2)
            .expect_stderr(&format!("digest is {digest} (tag {tag}), not the {wrong}"));
        assert!(!Path::new(&refused.path("c")).exists());

        let (ksk, init) = Ceremony::init(
            None,
            &[
                "--import",
                private.to_str().unwrap(),
                "--label",
                "bind-ksk",
                "--expect-ds",
                &digest,
            ],
        );
        init.expect_code(0)
            .expect_stdout(&format!("KSK bind-ksk tag {tag}"))
            .expect_stdout(&ds);
        let policy = fs::read_to_string(ksk.path("c/ceremony.toml")).unwrap();
        assert!(
            policy.contains(&format!("ds_sha256 = \"{digest}\"")),
            "{policy}"
        );

        let conf = knot_conf(&ksk.dir.path().join("zsk"), knot_algorithm, None);
        let ksr = ksk.path("ksr.txt");
        knot_ksr(&conf, &ksr);
        let skr = ksk.path("skr.txt");
        ksk.sign(&ksr, &skr, &[]).expect_code(0);
        let validated = validate_with_key_file(&key_file, &skr);
        validated
            .expect_code(0)
            .expect_stdout(&format!(" bundles signed by {tag}\n"));
        dnspython(&[&skr], &[tag]);
        // The ceremony is kept: its folder holds the SKR.
        made.push((key_file, skr, ksk));
    }
    // Each SKR fails with the other key.
    for (key_file, skr) in [(&made[0].0, &made[1].1), (&made[1].0, &made[0].1)] {
        let validated = validate_with_key_file(key_file, skr);
        assert_ne!(validated.code, 0, "{validated:?}");
        assert!(
            validated.stderr.contains("does not publish the key"),
            "{}",
            validated.stderr
        );
    }
}

/// The file `name` somewhere under `dir`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()? {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|file| file == name) {
            return Some(path);
        }
    }
    None
}

/// The private scalar's length in a P-256 PKCS#8 PEM (the ECPrivateKey's
/// OCTET STRING after its version 1).
fn pem_scalar_length(pem: &Path) -> usize {
    use base64::Engine as _;
    let text = fs::read_to_string(pem).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    // ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING, ... }
    let at = der
        .windows(4)
        .position(|window| window == [0x02, 0x01, 0x01, 0x04])
        .unwrap_or_else(|| panic!("no ECPrivateKey in {}", pem.display()));
    usize::from(der[at + 4])
}

/// Knot DNS's keystore PEMs (`keymgr generate algorithm=13 ksk=yes`):
/// Knot 3.2 writes the private scalar in 33 bytes, with a leading zero,
/// when its high bit is set (about one key in two) and in 32 otherwise.
/// One of each is taken, by `init --import` and `keygen --import`; each
/// signs a Knot KSR (normal: the current KSK; rollover+: the next) into an
/// SKR that dnspython validates against `keymgr dnskey` of that key, and
/// not against the other's.
#[test]
fn knot_keystore_pems_are_imported_and_sign() {
    let dir = tempfile::tempdir().unwrap();
    let conf = knot_conf(&dir.path().join("ksk"), "ecdsap256sha256", None);
    let (mut long, mut short) = (None, None);
    for _ in 0..40 {
        if long.is_some() && short.is_some() {
            break;
        }
        let (code, id, stderr) = keymgr(&conf, &["generate", "algorithm=13", "ksk=yes"]);
        assert_eq!(code, 0, "{stderr}");
        let id = id.trim().to_owned();
        let pem = find_file(&dir.path().join("ksk"), &format!("{id}.pem"))
            .unwrap_or_else(|| panic!("no {id}.pem in Knot's keystore"));
        let (code, dnskey, stderr) = keymgr(&conf, &["dnskey", &id]);
        assert_eq!(code, 0, "{stderr}");
        let dnskey_file = dir.path().join(format!("{id}.dnskey"));
        fs::write(&dnskey_file, &dnskey).unwrap();
        match pem_scalar_length(&pem) {
            33 => long = Some((pem, dnskey_file)),
            32 => short = Some((pem, dnskey_file)),
            other => panic!("a {other}-byte scalar in {}", pem.display()),
        }
    }
    let (long, short) = (
        long.expect("Knot wrote no 33-byte scalar in 40 keys"),
        short.expect("Knot wrote no 32-byte scalar in 40 keys"),
    );

    let (ksk, init) = Ceremony::init(
        None,
        &["--import", long.0.to_str().unwrap(), "--label", "knot-long"],
    );
    init.expect_code(0);
    ksk.quorum(&[
        "keygen",
        "--import",
        short.0.to_str().unwrap(),
        "--label",
        "knot-short",
    ])
    .expect_code(0)
    .expect_stdout("ksk_next");
    // The HSM's public keys are Knot's.
    for (label, (_, dnskey)) in [("knot-long", &long), ("knot-short", &short)] {
        let key = ksk.key(label);
        let text = fs::read_to_string(dnskey).unwrap();
        assert!(
            text.contains(&format!("{ZONE} DNSKEY 257 3 13 {}", key.key)),
            "{label}: {text} vs {key:?}"
        );
    }
    let zsk = knot_conf(&ksk.dir.path().join("zsk"), "ecdsap256sha256", None);
    let ksr = ksk.path("ksr.txt");
    knot_ksr(&zsk, &ksr);
    let tags: Vec<String> = ksk.keys().into_iter().map(|key| key.tag).collect();
    for (schema, signer, other) in [("normal", &long, &short), ("rollover+", &short, &long)] {
        let skr = ksk.path(&format!("skr-{schema}.txt"));
        ksk.sign(&ksr, &skr, &["--schema", schema]).expect_code(0);
        validate_with_key_file(&signer.1, &skr)
            .expect_code(0)
            .expect_stdout(" bundles signed by ");
        let crossed = validate_with_key_file(&other.1, &skr);
        assert_ne!(crossed.code, 0, "{schema}: {crossed:?}");
        dnspython(&[&skr], &tags);
    }
}

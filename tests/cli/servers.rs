//! Real servers on 127.0.0.1 serve what `ceremony sign` made, and a real
//! validator checks it: Knot DNS's `knotd` (Debian's `knot`) after
//! `keymgr import-skr`, and BIND 9.20's `named` (bookworm-backports,
//! unpacked by scripts/bind920 into target/bind920/root) after
//! `rndc skr -import`. BIND's `delv`, given only the ceremony's KSK as its
//! trust anchor, must print "; fully validated" for the DNSKEY RRset (our
//! RRSIG) and for a record the ZSK signed; with another ceremony's KSK as
//! the anchor it must not. delv exits 0 either way: its output is the
//! verdict.

use std::fs;
use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

impl Ceremony {
    fn new(algorithm: &str) -> Self {
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
        run(&[
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
            ZONE,
            "--pin-file",
            &pins,
            "--puk-file",
            &puks,
            "--kdf",
            "light",
        ])
        .expect_code(0);
        ceremony
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

#[test]
fn knotd_serves_our_signatures_and_delv_validates_them() {
    let ksk = Ceremony::new("ecdsap256sha256");
    // CDS and CDNSKEY too (a Knot-dialect SKR has none unless the policy
    // asks): knotd serves them from the SKR.
    ksk.approve_edit("[text]\n", "[text]\ntext_cds = \"both\"\n");
    let (tag, _) = ksk.ksk();
    let [port] = free_ports();
    let dir = ksk.dir.path().join("knot");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("example.zone"), ZONE_FILE).unwrap();
    let conf = dir.join("knot.conf");
    fs::write(
        &conf,
        format!(
            "server:\n    rundir: {d}\n    listen: 127.0.0.1@{port}\n\
             database:\n    storage: {d}\n\
             keystore:\n  - id: default\n    backend: pem\n    config: {d}/keys\n\
             policy:\n  - id: offline\n    algorithm: ecdsap256sha256\n    manual: on\n    offline-ksk: on\n\
             \x20   zsk-lifetime: 30d\n    rrsig-lifetime: 14d\n    rrsig-refresh: 7d\n    dnskey-ttl: 3600\n    zone-max-ttl: 3600\n\
             log:\n  - target: stderr\n    any: info\n\
             zone:\n  - domain: {ZONE}\n    storage: {d}\n    file: example.zone\n    dnssec-signing: on\n    dnssec-policy: offline\n",
            d = dir.display()
        ),
    )
    .unwrap();

    // Knot's ZSKs for 60 days, and its request for them.
    let (code, _, stderr) = keymgr(&conf, &["pregenerate", "+60d"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, request, stderr) = keymgr(&conf, &["generate-ksr", "+0", "+60d"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        request.starts_with(";; KeySigningRequest 1.0 "),
        "{request}"
    );
    let ksr = ksk.path("ksr.txt");
    fs::write(&ksr, &request).unwrap();
    let skr = ksk.path("skr.txt");
    ksk.sign(&ksr, &skr, &[]).expect_code(0);
    let (code, stdout, stderr) = keymgr(&conf, &["import-skr", &skr]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");

    let mut knotd = Server::start(
        Command::new("knotd").arg("-c").arg(&conf),
        dir.join("knotd.log"),
    );
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
    fn new(dir: PathBuf, algorithm: &str) -> Self {
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
                "dnssec-policy \"offline\" {{\n    offline-ksk yes;\n    keys {{\n        ksk lifetime unlimited algorithm {algorithm};\n        zsk lifetime unlimited algorithm {algorithm};\n    }};\n    dnskey-ttl 3600;\n    max-zone-ttl 3600;\n    signatures-validity P14D;\n    signatures-refresh P7D;\n}};\n"
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

    /// `dnssec-ksr` with the policy, from now to 30 days on.
    fn dnssec_ksr(&self, command: &str) -> Run {
        let run = tool(
            bind("dnssec-ksr")
                .arg("-K")
                .arg(self.file("keys"))
                .args(["-k", "offline", "-l"])
                .arg(self.file("policy.conf"))
                .args(["-i", "now", "-e", "+30d", command, ZONE]),
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
fn days_from_now(days: u32) -> String {
    let output = Command::new("date")
        .args(["-u", "-d", &format!("+{days} days"), "+%Y-%m-%dT%H:%M:%SZ"])
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
    let named = Named::new(ksk.dir.path().join("bind"), "rsasha256");

    // BIND's ZSK side: a ZSK of unlimited lifetime, so its request has one
    // bundle, which does not say how long the answer must last.
    named.dnssec_ksr("keygen");
    let request = named.dnssec_ksr("request").stdout;
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

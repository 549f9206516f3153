//! `ceremony ds`.

use std::time::Duration;

use crate::harness::{arg, run, run_with, vector_public_key};

/// KSK-2017 in zone-file form, with its public key from the vectors.
fn ksk_2017() -> String {
    let public_key = vector_public_key("skr-root-2017-q3-0-c_to_d.xml", "Klajeyz");
    format!(". 172800 IN DNSKEY 257 3 8 {public_key}\n")
}

#[test]
fn prints_the_published_ds_of_ksk_2017_from_stdin() {
    let result = run_with(&["ds"], ksk_2017().as_bytes(), Duration::from_secs(60));
    result
        .expect_code(0)
        .expect_stdout(
            ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
        )
        .expect_stdout("20454 with REVOKE");
}

#[test]
fn adds_sha384_on_request_and_reads_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ksk.zone");
    std::fs::write(&path, ksk_2017()).unwrap();
    let result = run(&["--json", "ds", arg(&path), "--digest", "sha384"]);
    result.expect_code(0);
    let json = result.json();
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["digest_type"], 2);
    assert_eq!(records[1]["digest_type"], 4);
    assert_eq!(records[1]["digest"].as_str().unwrap().len(), 96);
}

#[test]
fn garbage_is_an_error_with_a_hint() {
    run_with(&["ds"], b"not a record\n", Duration::from_secs(60))
        .expect_code(1)
        .expect_stderr("error: <stdin>:")
        .expect_stderr("hint:");
}

/// Every `trust-anchor` format names the KSKs that dnspython finds in the
/// `dnskey` format: the same key tags and SHA-256 DS digests, computed
/// independently; and `ds` reads the `dnskey` format back.
#[test]
fn trust_anchor_formats_agree_with_dnspython() {
    let dir = tempfile::tempdir().unwrap();
    let pins = dir.path().join("pins.toml");
    std::fs::write(&pins, "CO-1 = \"111111\"\nCO-2 = \"222222\"\n").unwrap();
    let c = dir.path().join("c");
    let puks = dir.path().join("puks.toml");
    run(&[
        "init",
        "--rehearsal",
        "--dir",
        arg(&c),
        "--cards",
        "2",
        "--threshold",
        "2",
        "--algorithm",
        "ecdsap256sha256",
        "--domain",
        "example.",
        "--pin-file",
        arg(&pins),
        "--puk-file",
        arg(&puks),
        "--kdf",
        "light",
    ])
    .expect_code(0);
    let config = c.join("ceremony.toml");
    let anchor = |format: &str| {
        let result = run(&["--config", arg(&config), "trust-anchor", "--format", format]);
        result.expect_code(0);
        result.stdout.clone()
    };
    let dnskey = anchor("dnskey");
    let script = "import sys, dns.zone, dns.dnssec, dns.rdatatype\n\
        zone = dns.zone.from_text(sys.stdin.read(), origin='example.', relativize=False, check_origin=False)\n\
        for name, ttl, rdata in zone.iterate_rdatas(dns.rdatatype.DNSKEY):\n\
        \x20   ds = dns.dnssec.make_ds(name, rdata, 'SHA256')\n\
        \x20   print(ds.key_tag, ds.algorithm, ds.digest.hex().upper())\n";
    let mut python = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = python.stdin.take().unwrap();
        writeln!(stdin, "example. 3600 IN SOA a. b. 1 1 1 1 1\n{dnskey}").unwrap();
    }
    let output = python.wait_with_output().unwrap();
    assert!(output.status.success());
    let expected = String::from_utf8(output.stdout).unwrap();
    let (tag, algorithm, digest) = {
        let fields: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "one KSK: {expected}");
        (
            fields[0].to_owned(),
            fields[1].to_owned(),
            fields[2].to_owned(),
        )
    };
    assert!(anchor("ds").contains(&format!("example. IN DS {tag} {algorithm} 2 {digest}")));
    let bind = anchor("bind");
    assert!(bind.starts_with("trust-anchors {\n"), "{bind}");
    assert!(bind.contains(&format!(
        "\"example.\" initial-ds {tag} {algorithm} 2 \"{digest}\";"
    )));
    assert!(
        anchor("unbound").contains(&format!("example. 3600 IN DS {tag} {algorithm} 2 {digest}"))
    );
    let xml = anchor("rfc9718");
    assert!(xml.contains(&format!("<KeyTag>{tag}</KeyTag>")) && xml.contains(&digest));
    run_with(&["ds"], dnskey.as_bytes(), Duration::from_secs(60))
        .expect_code(0)
        .expect_stdout(&format!("example. IN DS {tag} {algorithm} 2 {digest}"));
    run(&[
        "--config",
        arg(&config),
        "trust-anchor",
        "--format",
        "zonefile",
    ])
    .expect_code(2)
    .expect_stderr("possible values");
}

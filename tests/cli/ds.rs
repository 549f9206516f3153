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

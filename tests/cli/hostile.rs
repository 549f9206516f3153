//! Hostile files end quickly with a clear message, exit 1 (unreadable) or
//! 3 (a check failed), and never a panic or a hang.

use std::time::Duration;

use crate::harness::{Run, arg, run_with, vector_text};

/// Writes a file, runs `ksr check` on it with a one-second deadline.
fn check(name: &str, content: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let result = run_with(
        &["ksr", "check", arg(&path), "--now", "2017-03-20T00:00:00Z"],
        b"",
        Duration::from_secs(1),
    );
    assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
    result
}

#[test]
fn a_truncated_file_is_not_xml() {
    let text = vector_text("ksr-root-2017-q2-0.xml");
    check("truncated.xml", &text.as_bytes()[..text.len() / 2])
        .expect_code(1)
        .expect_stdout("KSR-PARSE-XML");
}

#[test]
fn binary_data_is_not_xml() {
    let mut state: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..65_536)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    check("noise.bin", &noise)
        .expect_code(1)
        .expect_stdout("KSR-PARSE-XML");
}

#[test]
fn single_quoted_attributes_are_read_not_hung_on() {
    // IANA's kskm loops forever on this; it is well-formed XML and reads
    // like the original.
    let text = vector_text("ksr-root-2017-q2-0.xml").replace('"', "'");
    check("single.xml", text.as_bytes()).expect_code(0);
    // An unterminated single-quoted value is a well-formedness error.
    let broken = text
        .replacen("id='23e34059", "id='23e34059 domain", 1)
        .replacen("' domain='.'", " ", 1);
    check("unterminated.xml", broken.as_bytes())
        .expect_code(1)
        .expect_stdout("KSR-PARSE-XML");
}

#[test]
fn an_empty_id_is_a_value_error_not_a_hang() {
    let text = vector_text("ksr-root-2017-q2-0.xml").replacen(
        r#"keyIdentifier="302e"#,
        r#"keyIdentifier="" x="302e"#,
        1,
    );
    check("empty.xml", text.as_bytes())
        .expect_code(3)
        .expect_stdout("keyIdentifier is empty");
}

#[test]
fn a_doctype_with_entities_is_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE KSR [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d SYSTEM "file:///etc/passwd">
]>
<KSR id="&c;" domain="." serial="1">&d;</KSR>
"#;
    check("bomb.xml", bomb.as_bytes())
        .expect_code(1)
        .expect_stdout("KSR-PARSE-XML")
        .expect_stdout("bomb.xml:2:1: a DOCTYPE is not allowed");
}

#[test]
fn deep_nesting_is_refused_at_the_limit() {
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert!(
        deep.len() < 1 << 20,
        "under the size limit, so the depth limit is what stops it"
    );
    check("deep.xml", deep.as_bytes())
        .expect_code(1)
        .expect_stdout("KSR-PARSE-LIMITS")
        .expect_stdout("nested more than 8 deep");
}

#[test]
fn five_mebibytes_are_refused_before_reading() {
    let mut big = b"<KSR id=\"x\" domain=\".\" serial=\"1\">".to_vec();
    big.resize(5 << 20, b' ');
    check("big.xml", &big)
        .expect_code(1)
        .expect_stdout("KSR-PARSE-SIZE")
        .expect_stdout("5242880 bytes, over the limit of 1048576");
}

#[test]
fn many_bundles_are_refused_at_the_limit() {
    let text = vector_text("ksr-root-2017-q2-0.xml");
    let start = text.find("<RequestBundle").unwrap();
    let end = text.find("</RequestBundle>").unwrap() + "</RequestBundle>".len();
    let bundle = &text[start..end];
    let many = format!("{}{}{}", &text[..start], bundle.repeat(257), &text[end..]);
    assert!(many.len() < 1 << 20);
    check("many.xml", many.as_bytes())
        .expect_code(1)
        .expect_stdout("KSR-PARSE-LIMITS")
        .expect_stdout("more than 256 <RequestBundle>");
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let mut text = vector_text("ksr-root-2017-q2-0.xml").into_bytes();
    text[30] = 0xFF;
    check("latin.xml", &text)
        .expect_code(1)
        .expect_stdout("latin.xml:1:31: the document is not valid UTF-8");
}

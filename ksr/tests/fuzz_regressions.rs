//! Replays every file of `tests/fuzz-regressions/` (inputs a fuzzer found,
//! and hand-made hostile ones) with the assertions of the fuzz target: no
//! panic, and the writer's law on whatever parses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a panic in a test is a failing test"
)]

use std::path::PathBuf;

use ksr::{DocumentRole, MAX_DOCUMENT_SIZE, parse_ksr, parse_skr, write_ksr, write_skr};

#[test]
fn every_saved_input_is_handled() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Ok(ksr) = parse_ksr(&data, DocumentRole::Ksr) {
            let written = write_ksr(&ksr);
            assert!(written.len() <= MAX_DOCUMENT_SIZE, "{}", path.display());
            assert_eq!(
                parse_ksr(written.as_bytes(), DocumentRole::Ksr),
                Ok(ksr),
                "{}",
                path.display()
            );
        }
        if let Ok(skr) = parse_skr(&data, DocumentRole::PreviousSkr) {
            let written = write_skr(&skr);
            assert!(written.len() <= MAX_DOCUMENT_SIZE, "{}", path.display());
            let again = parse_skr(written.as_bytes(), DocumentRole::PreviousSkr).unwrap();
            assert_eq!(write_skr(&again), written, "{}", path.display());
        }
        count += 1;
    }
    assert!(count >= 5, "the regression folder lost its files");
}

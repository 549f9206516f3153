//! Feeds arbitrary bytes to the XML KSR and SKR readers. Beyond "no panic,
//! no hang", it asserts the writer's laws on every document that parses:
//! a KSR survives write then parse unchanged, and writing an SKR is a fixed
//! point of parse then write. The laws hold within the size limit: the
//! writer indents, so a compact document near 1 MiB may be written larger.
#![no_main]

use ksr::{DocumentRole, MAX_DOCUMENT_SIZE, parse_ksr, parse_skr, write_ksr, write_skr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ksr) = parse_ksr(data, DocumentRole::Ksr) {
        let written = write_ksr(&ksr);
        if written.len() > MAX_DOCUMENT_SIZE {
            return;
        }
        let again = parse_ksr(written.as_bytes(), DocumentRole::Ksr)
            .expect("a written KSR parses");
        assert_eq!(again, ksr);
        let _ = ksr::check_ksr(&ksr, DocumentRole::Ksr);
    }
    if let Ok(skr) = parse_skr(data, DocumentRole::PreviousSkr) {
        let written = write_skr(&skr);
        if written.len() > MAX_DOCUMENT_SIZE {
            return;
        }
        let again = parse_skr(written.as_bytes(), DocumentRole::PreviousSkr)
            .expect("a written SKR parses");
        assert_eq!(write_skr(&again), written);
        let _ = ksr::check_skr(&skr, DocumentRole::PreviousSkr);
    }
});

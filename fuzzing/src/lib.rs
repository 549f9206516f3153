//! The laws every parser of outside input keeps, one function per fuzz
//! target (`fuzz/fuzz_targets/TARGET.rs` calls the function of its name).
//!
//! Each function takes arbitrary bytes, feeds them to one parser (or a
//! family of parsers of one input kind) and panics when a law is broken:
//!
//! * nothing panics, whatever the input (the fuzzer reports the panic);
//! * where there is a writer, what parses is written back and parses to
//!   the same value, and writing it again gives the same bytes;
//! * where the format has positions (line and column, a JSON error's line),
//!   a rejected input names one, within the input;
//! * what the fuzzer's allocator limit and timeout catch (no allocation
//!   beyond the limit, no hang) is left to libFuzzer's flags.
//!
//! No function touches the disk or the network: files are bytes here, and
//! cards sit on in-memory storage. `cargo test -p fuzzing` replays every
//! saved input of `fuzz/regressions/TARGET/` and `fuzz/seeds/TARGET/`
//! through the same functions, so a crash once found stays fixed.

#![forbid(unsafe_code)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a law that does not hold must panic: that is how a fuzzer sees it"
)]

mod cards;
mod documents;
pub mod seeds;
mod stores;

pub use cards::{apdu, card_file, sealed_share};
pub use documents::{media, media_verifies, policy, text, xml};
pub use stores::{audit_log, pin_file, pkcs11_sidecar, service_json, soft_store, state};

/// A law function: panics when the input breaks a law of its parser.
pub type Law = fn(&[u8]);

/// Every fuzz target by name, with its law function. `scripts/fuzz all`
/// runs them in this order; a target missing here is never replayed.
pub const TARGETS: &[(&str, Law)] = &[
    ("xml", xml),
    ("text", text),
    ("policy", policy),
    ("pin_file", pin_file),
    ("card_file", card_file),
    ("apdu", apdu),
    ("soft_store", soft_store),
    ("pkcs11_sidecar", pkcs11_sidecar),
    ("audit_log", audit_log),
    ("service_json", service_json),
    ("sealed_share", sealed_share),
    ("media", media),
    ("state", state),
];

/// The number of lines of an input: one more than its newlines, so that a
/// position just past a final newline (an unexpected end) is within it.
fn lines(data: &[u8]) -> usize {
    data.iter().filter(|byte| **byte == b'\n').count() + 1
}

/// The law of a JSON reader: a position serde_json names (`line L
/// column C`) is within the input, and every syntax error names one.
/// `message` is the parser's error as shown. serde_json names no position
/// for some data errors (a unit variant where a newtype variant belongs,
/// found by the `media` target), and a typed reader may stop at such an
/// error before it reaches a syntax error; those are recognised by serde's
/// words for them.
pub fn json_position(data: &[u8], message: &str) {
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        return;
    }
    let line = message
        .rsplit_once(" at line ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|number| number.parse::<usize>().ok());
    let Some(line) = line else {
        const DATA_ERRORS: [&str; 7] = [
            "invalid type",
            "invalid value",
            "invalid length",
            "unknown variant",
            "unknown field",
            "missing field",
            "duplicate field",
        ];
        assert!(
            DATA_ERRORS.iter().any(|words| message.contains(words)),
            "a JSON syntax error without its line: {message}"
        );
        return;
    };
    assert!(
        (1..=lines(data)).contains(&line),
        "line {line} of {} lines: {message}",
        lines(data)
    );
}

/// The helpers of the laws, for the tests that show a broken law is seen.
pub mod laws {
    pub use super::json_position;
}

/// Splits `data` into at most `count` parts at a separator, so that one
/// input can hold several files.
fn parts(data: &[u8], count: usize) -> Vec<&[u8]> {
    const SEPARATOR: &[u8] = b"\n=====\n";
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < count {
        match rest
            .windows(SEPARATOR.len())
            .position(|window| window == SEPARATOR)
        {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// Joins files into one input, as [`parts`] splits them (for seeds).
pub fn join_parts(files: &[&[u8]]) -> Vec<u8> {
    files.join(&b"\n=====\n"[..])
}

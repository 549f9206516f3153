//! The documents: KSRs and SKRs in both formats, the policy, and what a
//! transfer medium carries.

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::Signer as _;
use ksr::text::{parse_text_ksr, parse_text_skr, write_text_skr};
use ksr::{
    Config, DocumentRole, Finding, MAX_DOCUMENT_SIZE, Timestamp, parse_ksr, parse_skr, write_ksr,
    write_skr,
};
use signer::media::{self, Hop, IntakeKey, Manifest, SkrManifest, TransferSet};
use signer::oob::Heard;

use crate::{json_position, lines, parts};

/// The law of a rejected document: at least one finding, and each
/// position within the input. A document is rejected for what is at a
/// place in it (the structure pass names line and column), except when
/// the whole of it is at fault: too large, or no document at all.
fn rejected(data: &[u8], findings: &[Finding]) {
    assert!(!findings.is_empty(), "a rejected document with no finding");
    for finding in findings {
        if let Some(position) = finding.position {
            let line = usize::try_from(position.line).unwrap_or(usize::MAX);
            assert!(
                (1..=lines(data)).contains(&line) && position.column >= 1,
                "position {position} outside the document's {} lines: {finding:?}",
                lines(data)
            );
        }
    }
}

//------------ xml -----------------------------------------------------------

/// The IANA XML KSR and SKR readers (`ksr::parse_ksr`, `ksr::parse_skr`)
/// and writers. A KSR survives write then parse unchanged; writing an SKR
/// is a fixed point of parse then write (within the size limit: the writer
/// indents, so a compact document near 1 MiB may be written larger); a
/// rejected document's findings are within it. The checks that need no
/// policy run on what parses.
pub fn xml(data: &[u8]) {
    match parse_ksr(data, DocumentRole::Ksr) {
        Ok(ksr) => {
            let written = write_ksr(&ksr);
            if written.len() <= MAX_DOCUMENT_SIZE {
                let again =
                    parse_ksr(written.as_bytes(), DocumentRole::Ksr).expect("a written KSR parses");
                assert_eq!(again, ksr, "a KSR changed through write and parse");
                assert_eq!(write_ksr(&again), written, "writing a KSR is not stable");
            }
            let _ = ksr::check_ksr(&ksr, DocumentRole::Ksr);
        }
        Err(findings) => rejected(data, &findings),
    }
    match parse_skr(data, DocumentRole::PreviousSkr) {
        Ok(skr) => {
            let written = write_skr(&skr);
            if written.len() <= MAX_DOCUMENT_SIZE {
                let again = parse_skr(written.as_bytes(), DocumentRole::PreviousSkr)
                    .expect("a written SKR parses");
                assert_eq!(write_skr(&again), written, "writing an SKR is not stable");
            }
            let _ = ksr::check_skr(&skr, DocumentRole::PreviousSkr);
        }
        Err(findings) => rejected(data, &findings),
    }
}

//------------ text ----------------------------------------------------------

/// The Knot DNS / BIND text KSR and SKR readers
/// (`ksr::text::parse_text_ksr`, `parse_text_skr`) and the SKR writer
/// (`write_text_skr`): what parses is written back in its own dialect,
/// parses again, and writes to the same bytes; a rejected document's
/// findings are on its lines. The DNSKEY reader of `ceremony ds` and
/// `--ksk` (`ksr::read_dnskeys`) must not panic either.
pub fn text(data: &[u8]) {
    // Fixed, so that writing twice gives the same footer.
    let generated = Timestamp::from_unix(1_500_000_000);
    match parse_text_ksr(data, DocumentRole::Ksr) {
        Ok(_) => assert!(ksr::text::is_text(data), "a text KSR not seen as text"),
        Err(findings) => rejected(data, &findings),
    }
    match parse_text_skr(data, DocumentRole::PreviousSkr) {
        Ok(skr) => {
            assert!(ksr::text::is_text(data), "a text SKR not seen as text");
            let written = write_text_skr(&skr, skr.dialect, generated, "fuzz");
            if written.len() <= MAX_DOCUMENT_SIZE {
                let again = parse_text_skr(written.as_bytes(), DocumentRole::PreviousSkr)
                    .unwrap_or_else(|findings| {
                        panic!("a written text SKR does not parse: {findings:?}\n{written}")
                    });
                assert_eq!(again.bundles.len(), skr.bundles.len());
                assert_eq!(
                    write_text_skr(&again, again.dialect, generated, "fuzz"),
                    written,
                    "writing a text SKR is not stable"
                );
            }
        }
        Err(findings) => rejected(data, &findings),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ksr::read_dnskeys(text);
    }
}

//------------ policy --------------------------------------------------------

/// `ceremony.toml` (`ksr::Config::from_toml`, `signer::Policy::from_bytes`):
/// a policy that parses is written back (`to_toml`) and parses to the same
/// policy, written the same; an error has line and column within the file
/// when it is at a place (always, for a file that is not TOML at all), or
/// both 0 when it is about the whole policy.
pub fn policy(data: &[u8]) {
    let by_signer = signer::Policy::from_bytes(Path::new("ceremony.toml"), data.to_vec());
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(by_signer.is_err(), "a policy that is not UTF-8 was taken");
        return;
    };
    match Config::from_toml(text) {
        Ok(config) => {
            assert!(by_signer.is_ok(), "the signer refused a policy ksr takes");
            let written = config.to_toml();
            let again = Config::from_toml(&written).unwrap_or_else(|err| {
                panic!("the written policy does not parse: {err:?}\n{written}")
            });
            assert_eq!(again, config, "a policy changed through write and parse");
            assert_eq!(again.to_toml(), written, "writing a policy is not stable");
        }
        Err(err) => {
            assert!(by_signer.is_err(), "the signer took a policy ksr refuses");
            assert_eq!(
                err.line == 0,
                err.column == 0,
                "a position with only one half: {err:?}"
            );
            if err.line != 0 {
                assert!(
                    err.line <= lines(data) && err.column >= 1,
                    "{err:?} is outside the file's {} lines",
                    lines(data)
                );
            }
            if text.parse::<toml::Table>().is_err() {
                assert!(
                    err.line >= 1,
                    "a TOML syntax error without its line: {err:?}"
                );
            }
        }
    }
}

//------------ media ---------------------------------------------------------

/// The intake key of the fuzz target: a fixed seed, so that a saved input
/// replays the same way.
fn intake_key() -> (ed25519_dalek::SigningKey, IntakeKey) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public = IntakeKey::from_hex(&hex::encode(signing.verifying_key().as_bytes()))
        .expect("a fixed key that is not weak");
    (signing, public)
}

/// The fuzz target's intake key, public half.
pub(crate) fn intake_public() -> IntakeKey {
    intake_key().1
}

/// The manifest's signature as the intake makes it: Ed25519 over a
/// context label and the manifest (`signer/src/media.rs`, `CONTEXT`). The
/// `media_signature_matches_the_intakes` test fails if the two differ.
fn sign_manifest(manifest: &[u8]) -> Vec<u8> {
    let (signing, _) = intake_key();
    let message = [&b"ceremony transfer manifest v1\0"[..], manifest].concat();
    hex::encode(signing.sign(&message).to_bytes()).into_bytes()
}

/// What a transfer medium carries (`signer::media`): by the first byte,
///
/// * 0: `manifest.json` and `manifest-skr.json` as JSON (a value that
///   parses is written back and parses to the same value), and the words
///   heard over the phone as JSON (`oob::Heard`);
/// * 1: `intake.pub` (`IntakeKey::parse`): a key written back parses to
///   itself; an error at a line names a line of the file;
/// * 2: a file of heard words (`Heard::parse_words`): 32 words, each read
///   again the same;
/// * 3 and 4: a whole transfer set (`TransferSet::from_files`, `verify`,
///   `skr`): the rest is the manifest, the KSR, `manifest-skr.json` and the
///   SKR, separated by `\n=====\n`; the manifest is signed here with the
///   fuzz target's intake key, so the fuzzer reaches the checks behind the
///   signature. Hop 3 is to the signer, 4 back to the intake. A set that
///   verifies has the manifest it was given and its KSR's digest.
pub fn media(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            json_equal::<Manifest>(rest);
            json_equal::<SkrManifest>(rest);
            json_equal::<Heard>(rest);
        }
        1 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            match IntakeKey::parse(text) {
                Ok(key) => {
                    assert_eq!(IntakeKey::parse(&key.to_file("again")), Ok(key));
                    assert_eq!(IntakeKey::from_hex(&key.to_hex()), Ok(key));
                }
                Err(why) => {
                    if let Some(number) = why
                        .strip_prefix("line ")
                        .and_then(|rest| rest.split(':').next())
                    {
                        let number: usize = number.parse().expect("a line number");
                        assert!((1..=lines(rest)).contains(&number), "{why}");
                    }
                }
            }
        }
        2 => {
            let text = String::from_utf8_lossy(rest);
            if let Ok(heard) = Heard::parse_words(&text) {
                let Heard::All(words) = &heard else {
                    panic!("a file of words gives all of them");
                };
                assert_eq!(words.len(), signer::oob::WORDS);
                assert_eq!(Heard::parse_words(&words.join("\n")), Ok(heard));
            }
        }
        hop => {
            transfer(
                rest,
                if hop == 3 {
                    Hop::ToSigner
                } else {
                    Hop::BackToIntake
                },
            );
        }
    }
}

/// Whether an input of the `media` target (mode 3 or 4) is a transfer set
/// that verifies: for the test that the signature made here is the
/// intake's.
pub fn media_verifies(data: &[u8]) -> bool {
    match data.split_first() {
        Some((3, rest)) => transfer(rest, Hop::ToSigner),
        Some((4, rest)) => transfer(rest, Hop::BackToIntake),
        _ => false,
    }
}

/// A transfer set read from the fuzzer's files; whether it verified.
fn transfer(data: &[u8], hop: Hop) -> bool {
    let files = parts(data, 4);
    let names = [media::MANIFEST, "ksr.xml", media::SKR_MANIFEST, "skr.xml"];
    let mut set = BTreeMap::new();
    for (name, bytes) in names.iter().zip(&files) {
        set.insert((*name).to_owned(), bytes.to_vec());
    }
    let manifest = files.first().copied().unwrap_or_default();
    set.insert(media::MANIFEST_SIG.to_owned(), sign_manifest(manifest));
    // A name of the other hop is refused before anything is read.
    let Ok(set) = TransferSet::from_files(Path::new("/medium/ksr-0123456789ab"), set, hop) else {
        return false;
    };
    let (_, key) = intake_key();
    let Ok(verified) = set.verify(&key) else {
        return false;
    };
    let parsed: Manifest = serde_json::from_slice(manifest).expect("a verified manifest parses");
    assert_eq!(
        verified.manifest, parsed,
        "the set verified another manifest"
    );
    let _ = set.skr(&verified);
    true
}

/// The law of a JSON type with equality: what parses is written back,
/// parses to the same value and is written the same.
pub(crate) fn json_equal<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match serde_json::from_slice::<T>(data) {
        Ok(value) => {
            let written = serde_json::to_vec(&value).expect("a parsed value is written");
            let again: T = serde_json::from_slice(&written).expect("a written value parses");
            assert_eq!(again, value, "a value changed through write and parse");
            let twice = serde_json::to_vec(&again).expect("a parsed value is written");
            assert_eq!(twice, written, "writing is not stable");
        }
        Err(err) => json_position(data, &err.to_string()),
    }
}

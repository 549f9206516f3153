//! Replays every saved input through the law function of its target:
//! `fuzz/regressions/TARGET/` (crashes a fuzzer found, minimized, and
//! hand-made hostile inputs) and `fuzz/seeds/TARGET/` when there is one.
//! A crash once found stays fixed; a target without regressions, or a
//! folder without a target, fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of a folder, or none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// One input through one law; the file's name in the failure.
fn replay(name: &str, law: fuzzing::Law, path: &Path) {
    let data = std::fs::read(path).unwrap();
    let result = std::panic::catch_unwind(|| law(&data));
    assert!(result.is_ok(), "{name}: {} breaks a law", path.display());
}

#[test]
fn every_regression_is_handled() {
    for (name, law) in fuzzing::TARGETS {
        let saved = files(&fuzz_dir().join("regressions").join(name));
        assert!(
            !saved.is_empty(),
            "fuzz/regressions/{name}/ is empty: every target keeps its hostile inputs"
        );
        for path in saved {
            replay(name, *law, &path);
        }
    }
}

#[test]
fn every_committed_seed_is_handled() {
    for (name, law) in fuzzing::TARGETS {
        for path in files(&fuzz_dir().join("seeds").join(name)) {
            replay(name, *law, &path);
        }
    }
}

#[test]
fn every_folder_and_fuzz_target_has_a_law() {
    let names: Vec<&str> = fuzzing::TARGETS.iter().map(|(name, _)| *name).collect();
    for folder in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(folder)) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                names.contains(&name.as_str()),
                "fuzz/{folder}/{name} has no target"
            );
        }
    }
    for name in &names {
        let target = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&target)
            .unwrap_or_else(|err| panic!("{}: {err}", target.display()));
        assert!(
            text.contains(&format!("fuzzing::{name}(data)")),
            "{} does not call fuzzing::{name}",
            target.display()
        );
    }
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let bins = manifest.matches("[[bin]]").count();
    assert_eq!(
        bins,
        names.len(),
        "fuzz/Cargo.toml has a target without a law, or none for one"
    );
}

/// The vectors beside the repository, for the seeds.
fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_made_seeds_keep_the_laws_and_reach_past_the_checks() {
    let ksr = vector("ksr-root-2017-q2-0.xml");
    let skr = vector("skr-root-2017-q2-0.xml");
    let text = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ksr-bind-root.txt"),
    )
    .unwrap();
    let seeds = fuzzing::seeds::seeds(&ksr, &skr, &text);
    for (name, law) in fuzzing::TARGETS {
        for (_, bytes) in seeds.iter().filter(|(target, _)| target == name) {
            law(bytes);
        }
    }
    // The transfer sets are signed the way the intake signs: otherwise the
    // fuzzer would never get past the signature.
    let sets: Vec<_> = seeds
        .iter()
        .filter(|(target, bytes)| *target == "media" && matches!(bytes.first(), Some(3 | 4)))
        .collect();
    assert_eq!(sets.len(), 2);
    for (_, bytes) in sets {
        assert!(
            fuzzing::media_verifies(bytes),
            "a made transfer set does not verify"
        );
    }
    // Each law target gets made seeds where no file is left by a test.
    for target in [
        "apdu",
        "card_file",
        "sealed_share",
        "service_json",
        "media",
        "text",
    ] {
        assert!(
            seeds.iter().any(|(name, _)| *name == target),
            "no seed for {target}"
        );
    }
}

#[test]
fn a_broken_law_is_seen() {
    // The audit log's law: a log whose head is not its last line's hash
    // cannot be produced by the parser, so check the law the other way:
    // a line that is not an entry is refused at line 1, within the law.
    fuzzing::audit_log(b"not an entry\n");
    // A JSON parser error without a position would break the law.
    let result = std::panic::catch_unwind(|| fuzzing::laws::json_position(b"{", "no position"));
    assert!(
        result.is_err(),
        "an error without a position passed the law"
    );
    let result = std::panic::catch_unwind(|| {
        fuzzing::laws::json_position(b"{", "EOF while parsing at line 9 column 1")
    });
    assert!(result.is_err(), "a line outside the input passed the law");
    fuzzing::laws::json_position(b"{", "EOF while parsing an object at line 1 column 1");
}

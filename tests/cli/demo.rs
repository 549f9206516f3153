//! `ceremony demo` in text form: the autopilot run of the normal-quarter
//! exercise, and what the witnesses write down (the JSON form and the
//! SKR's validation are in ceremony.rs).

use crate::harness::{arg, run};

#[test]
fn the_transcript_shows_each_step_and_the_closing_summary() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let done = run(&["demo", "--dir", arg(&demo)]);
    done.expect_code(0);
    done.expect_stdout("$ ceremony --now ")
        .expect_stdout(" init --rehearsal --dir")
        .expect_stdout("$ ceremony --now ")
        .expect_stdout("ksr submit")
        .expect_stdout("sign --media")
        .expect_stdout("accepted: card")
        .expect_stdout("the chain is intact")
        .expect_stdout("activated by CO-2, CO-4, CO-5")
        .expect_stdout("Next steps: ")
        .expect_stdout("SKR: ");
    // The summary's hashes are those of the files it names.
    let stdout = &done.stdout;
    let path_after = |label: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .unwrap()
            .trim()
            .to_owned()
    };
    for (label, file) in [("  KSR SHA-256 ", "KSR: "), ("  SKR SHA-256 ", "SKR: ")] {
        let shown = path_after(label);
        let bytes = std::fs::read(path_after(file)).unwrap();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        assert_eq!(shown, hex::encode(digest), "{label}");
    }
    for name in ["transcript.md", "transcript.html", "transcript.json"] {
        assert!(demo.join(name).is_file(), "{name} is missing");
    }
    // A directory that is not empty is refused.
    run(&["demo", "--dir", arg(&demo)]).expect_code(2);
}

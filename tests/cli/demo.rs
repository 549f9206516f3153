//! `ceremony demo` in text form (the JSON form and the SKR's validation
//! are in ceremony.rs).

use crate::harness::{arg, run};

#[test]
fn the_transcript_shows_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    run(&["demo", "--dir", arg(&demo)])
        .expect_code(0)
        .expect_stdout("$ ceremony init --rehearsal --dir")
        .expect_stdout("wrong PIN: 2 tries left")
        .expect_stdout("accepted: card")
        .expect_stdout("0 error(s), 0 warning(s)")
        .expect_stdout("the chain is intact")
        .expect_stdout("SKR: ");
    // A directory that is not empty is refused.
    run(&["demo", "--dir", arg(&demo)]).expect_code(2);
}

//! `ceremony demo`.

use crate::harness::run;

#[test]
fn says_what_works_until_the_ceremony_exists() {
    run(&["demo"]).expect_code(0).expect_stdout("not built yet");
}

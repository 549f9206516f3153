//! Usage errors exit 2; help exits 0.

use crate::harness::run;

#[test]
fn an_unknown_command_exits_2() {
    run(&["sing"])
        .expect_code(2)
        .expect_stderr("unrecognized subcommand");
}

#[test]
fn a_missing_argument_exits_2() {
    run(&["ksr", "check"]).expect_code(2);
    run(&["hash"]).expect_code(2);
    run(&["ds", "--digest", "md5"]).expect_code(2);
}

#[test]
fn help_exits_0_and_lists_the_commands() {
    run(&["--help"])
        .expect_code(0)
        .expect_stdout("ksr")
        .expect_stdout("Exit codes");
}

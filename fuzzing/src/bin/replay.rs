//! Runs files through a target's law without the fuzzer:
//! `replay TARGET FILE...`, to read a crash's message in a plain build.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: replay TARGET FILE...");
        return ExitCode::from(2);
    };
    let Some((_, law)) = fuzzing::TARGETS.iter().find(|(target, _)| *target == name) else {
        eprintln!("replay: no target {name}");
        return ExitCode::from(2);
    };
    let mut failed = false;
    for path in args {
        match std::fs::read(&path) {
            Ok(data) => {
                if std::panic::catch_unwind(|| law(&data)).is_err() {
                    eprintln!("replay: {path} breaks a law of {name}");
                    failed = true;
                }
            }
            Err(err) => {
                eprintln!("replay: cannot read {path}: {err}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

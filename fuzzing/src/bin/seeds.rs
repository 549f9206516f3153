//! Writes the seeds of `fuzzing::seeds` under `OUT/TARGET/`:
//! `seeds OUT KSR.xml SKR.xml KSR.txt` (run by `scripts/fuzz`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, ksr, skr, text] = args.as_slice() else {
        eprintln!("usage: seeds OUT KSR.xml SKR.xml KSR.txt");
        return ExitCode::from(2);
    };
    let read = |path: &String| {
        std::fs::read(path).map_err(|err| eprintln!("seeds: cannot read {path}: {err}"))
    };
    let (Ok(ksr), Ok(skr), Ok(text)) = (read(ksr), read(skr), read(text)) else {
        return ExitCode::FAILURE;
    };
    for (index, (target, bytes)) in fuzzing::seeds::seeds(&ksr, &skr, &text).iter().enumerate() {
        let dir = PathBuf::from(out).join(target);
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(format!("made-{index:02}")), bytes));
        if let Err(err) = written {
            eprintln!("seeds: cannot write under {}: {err}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

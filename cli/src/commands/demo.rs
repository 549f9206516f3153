//! `ceremony demo`: a whole tabletop ceremony with no prompts, run as the
//! officers would run it: each step is a `ceremony` command line, shown
//! with what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ceremony demo --dir /tmp/demo")]
pub struct Args {
    /// Where to hold the ceremony [default: a new directory under the
    /// system's temporary directory, kept afterwards].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The ceremony, step by step: what the room is told, the command line
/// (`{dir}` is the demo's directory, `{c}` the ceremony's), and the exit
/// code it must give.
const SCRIPT: &[(&str, &str, i32)] = &[
    (
        "Seven crypto officers are issued cards; any three of them activate the HSM.",
        "init --rehearsal --dir {c} --cards 7 --threshold 3 --algorithm rsasha256 --domain . --pin-file {dir}/pins.toml --puk-file {dir}/puks.toml",
        0,
    ),
    (
        "The ZSK operator makes the quarter's Key Signing Request.",
        "--config {c}/ceremony.toml zsk make-ksr --dir {dir}/zsk --domain . --out {dir}/ksr.xml",
        0,
    ),
    (
        "The KSR is checked before the ceremony, and its hash read out as words.",
        "--config {c}/ceremony.toml ksr check {dir}/ksr.xml",
        0,
    ),
    ("", "hash {dir}/ksr.xml", 0),
    (
        "CO-2 mistypes the PIN; the card counts the try, and the ceremony's log records it.",
        "card verify {c}/cards/CO-2.card --pin-file {dir}/typo.toml",
        4,
    ),
    (
        "CO-2, CO-5 and CO-7 present their cards; the HSM signs the nine bundles.",
        "--config {c}/ceremony.toml sign {dir}/ksr.xml --no-previous-skr -o {dir}/skr.xml --cards {c}/cards/CO-2.card {c}/cards/CO-5.card {c}/cards/CO-7.card --pin-file {dir}/pins.toml --yes",
        0,
    ),
    (
        "The SKR is checked apart from the signer: structure, signatures, the KSR it answers, and each bundle anchored to the KSK the policy pins.",
        "--config {c}/ceremony.toml skr check {dir}/skr.xml --ksr {dir}/ksr.xml",
        0,
    ),
    (
        "The audit log's hash chain is verified.",
        "--config {c}/ceremony.toml audit verify",
        0,
    ),
];

/// One step of the transcript.
#[derive(Serialize)]
struct Step {
    command: String,
    exit: i32,
    output: String,
}

/// What the demo reports in JSON.
#[derive(Serialize)]
struct Report {
    dir: String,
    ksr: String,
    skr: String,
    ksk_tag: u16,
    seconds: f64,
    steps: Vec<Step>,
}

/// Runs the demo.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let started = Instant::now();
    let dir = match &args.dir {
        Some(dir) => {
            if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(CliError::Value {
                    option: "dir",
                    value: dir.display().to_string(),
                    expected: "a new or empty directory: the demo needs one of its own",
                });
            }
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("ceremony-demo-")
            .tempdir()
            .map_err(CliError::Output)?
            .keep(),
    };
    std::fs::create_dir_all(&dir).map_err(CliError::Output)?;
    let ceremony = dir.join("ceremony");
    // The officers' PINs, as they would type them; and CO-2's typo.
    let pins: String = (1..=7)
        .map(|number| format!("CO-{number} = \"{}\"\n", signer::random_digits(6).as_str()))
        .collect();
    write(&dir.join("pins.toml"), pins.as_bytes())?;
    write(&dir.join("typo.toml"), b"CO-2 = \"000000\"\n")?;

    if !context.json {
        out(format!("A tabletop KSK ceremony in {}", dir.display()))?;
    }
    let program = std::env::current_exe().map_err(CliError::Output)?;
    let mut steps = Vec::new();
    for (narration, template, expected) in SCRIPT {
        // Placeholders are whole words, so paths with spaces stay one
        // argument.
        let arguments: Vec<String> = template
            .split_whitespace()
            .map(|word| {
                word.replace("{dir}", &dir.display().to_string())
                    .replace("{c}", &ceremony.display().to_string())
            })
            .collect();
        let output = Command::new(&program)
            .args(&arguments)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(CliError::Output)?;
        let step = Step {
            command: format!("ceremony {}", arguments.join(" ")),
            exit: output.status.code().unwrap_or(-1),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        };
        if !context.json {
            if !narration.is_empty() {
                out(format!("\n{narration}"))?;
            }
            out(format!("$ {}", step.command))?;
            for line in step.output.lines() {
                out(format!("  {line}"))?;
            }
        }
        if step.exit != *expected {
            return Err(CliError::Demo {
                command: step.command,
                exit: step.exit,
                expected: *expected,
            });
        }
        steps.push(step);
    }
    let ksk = context
        .open_ceremony_in(&ceremony, "demo")?
        .public_key(signer::FIRST_KSK)?;
    let path = |name: &str| dir.join(name).display().to_string();
    let report = Report {
        dir: dir.display().to_string(),
        ksr: path("ksr.xml"),
        skr: path("skr.xml"),
        ksk_tag: ksk.key_tag().to_int(),
        seconds: started.elapsed().as_secs_f64(),
        steps,
    };
    if context.json {
        render::json(&report)?;
    } else {
        out(format!(
            "\nDone in {:.1} s. KSR: {}\nSKR: {}",
            report.seconds, report.ksr, report.skr
        ))?;
    }
    Ok(Outcome::Success)
}

/// Writes one of the demo's own files (never overwriting).
fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    durable::write(path, bytes, durable::Replace::Never).map_err(|err| CliError::Signer(err.into()))
}

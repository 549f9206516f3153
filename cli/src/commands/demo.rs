//! `ceremony demo`: a whole tabletop ceremony with no prompts, run as the
//! officers would run it: each step is a `ceremony` command line, shown
//! with what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;
use signer::Layout;

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
            if dir.exists()
                && std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
            {
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
    let ceremony = dir.join("ceremony");
    let layout = Layout::new(&ceremony);
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::create_dir_all(&dir).map_err(CliError::Output)?;

    // The officers' PINs, as they would type them; and CO-2's typo.
    let officers: Vec<String> = (1..=7).map(|number| format!("CO-{number}")).collect();
    let mut pins = String::new();
    for officer in &officers {
        pins.push_str(&format!(
            "{officer} = \"{}\"\n",
            signer::random_digits(6).as_str()
        ));
    }
    write(&dir.join("pins.toml"), pins.as_bytes())?;
    write(&dir.join("typo.toml"), b"CO-2 = \"000000\"\n")?;

    let mut transcript = Transcript {
        steps: Vec::new(),
        json: context.json,
    };
    let say =
        |text: &str| -> Result<(), CliError> { if context.json { Ok(()) } else { out(text) } };
    say(&format!("A tabletop KSK ceremony in {}\n", dir.display()))?;
    say("Seven crypto officers are issued cards; any three of them activate the HSM.")?;
    let config = layout.policy().display().to_string();
    let card = |officer: &str| layout.card(officer).display().to_string();
    transcript.run(
        &[
            "init",
            "--dir",
            &ceremony.display().to_string(),
            "--cards",
            "7",
            "--threshold",
            "3",
            "--algorithm",
            "rsasha256",
            "--domain",
            ".",
            "--pin-file",
            &path("pins.toml"),
            "--puk-file",
            &path("puks.toml"),
        ],
        0,
    )?;
    say("\nThe ZSK operator makes the quarter's Key Signing Request.")?;
    transcript.run(
        &[
            "--config",
            &config,
            "zsk",
            "make-ksr",
            "--dir",
            &path("zsk"),
            "--domain",
            ".",
            "--out",
            &path("ksr.xml"),
        ],
        0,
    )?;
    say("\nThe KSR is checked before the ceremony, and its hash read out as words.")?;
    transcript.run(&["--config", &config, "ksr", "check", &path("ksr.xml")], 0)?;
    transcript.run(&["hash", &path("ksr.xml")], 0)?;
    say("\nCO-2 mistypes the PIN; the card counts the try.")?;
    transcript.run(
        &[
            "card",
            "verify",
            &card("CO-2"),
            "--pin-file",
            &path("typo.toml"),
        ],
        4,
    )?;
    say("\nCO-2, CO-5 and CO-7 present their cards; the HSM signs the nine bundles.")?;
    transcript.run(
        &[
            "--config",
            &config,
            "sign",
            &path("ksr.xml"),
            "--no-previous-skr",
            "-o",
            &path("skr.xml"),
            "--cards",
            &card("CO-2"),
            &card("CO-5"),
            &card("CO-7"),
            "--pin-file",
            &path("pins.toml"),
            "--yes",
        ],
        0,
    )?;
    // The KSK's DNSKEY, read from the sealed HSM's public metadata, to
    // anchor the independent check.
    let ksk = {
        let ceremony = context.open_ceremony_in(layout.root(), "demo")?;
        ceremony.public_key(signer::FIRST_KSK)?
    };
    let anchor = format!(
        "{}\n",
        signer::dnskey_record(&ksr::DomainName::root(), 172_800, &ksk)
    );
    write(&dir.join("ksk.dnskey"), anchor.as_bytes())?;
    say(
        "\nThe SKR is checked apart from the signer: structure, signatures, the KSR it answers, and each bundle anchored to the KSK.",
    )?;
    transcript.run(
        &[
            "--config",
            &config,
            "skr",
            "check",
            &path("skr.xml"),
            "--ksr",
            &path("ksr.xml"),
            "--ksk",
            &path("ksk.dnskey"),
        ],
        0,
    )?;
    say("\nThe audit log's hash chain is verified.")?;
    transcript.run(
        &["audit", "verify", &layout.audit().display().to_string()],
        0,
    )?;

    let report = Report {
        dir: dir.display().to_string(),
        ksr: path("ksr.xml"),
        skr: path("skr.xml"),
        ksk_tag: ksk.key_tag().to_int(),
        seconds: started.elapsed().as_secs_f64(),
        steps: transcript.steps,
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

/// The commands run so far.
struct Transcript {
    steps: Vec<Step>,
    json: bool,
}

impl Transcript {
    /// Runs `ceremony` with the arguments, shows the command and what it
    /// printed, and checks its exit code.
    fn run(&mut self, args: &[&str], expected: i32) -> Result<(), CliError> {
        let program = std::env::current_exe().map_err(CliError::Output)?;
        let output = Command::new(&program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(CliError::Output)?;
        let exit = output.status.code().unwrap_or(-1);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let command = format!("ceremony {}", args.join(" "));
        if !self.json {
            out(format!("$ {command}"))?;
            for line in text.lines() {
                out(format!("  {line}"))?;
            }
        }
        self.steps.push(Step {
            command: command.clone(),
            exit,
            output: text,
        });
        if exit == expected {
            Ok(())
        } else {
            Err(CliError::Demo {
                command,
                exit,
                expected,
            })
        }
    }
}

/// Writes one of the demo's own files (never overwriting).
fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    durable::write(path, bytes, durable::Replace::Never).map_err(|err| CliError::Signer(err.into()))
}

//! `ceremony demo`: the autopilot run of the normal-quarter exercise — a
//! whole quarter from the ZSK operator's KSR through the intake, the
//! medium, the words read over the phone and three officers' cards to the
//! SKR back at the ZSK operator — then what the witnesses write down.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::commands::exercise::{RunArgs, run_scenario};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::exercise::transcript::{Hash, Transcript};
use crate::render::{self, out};

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ceremony demo --dir /tmp/demo\n\nThe same run, step by step and with the people asked: ceremony exercise run normal-quarter"
)]
pub struct Args {
    /// Where to hold the ceremony [default: a new directory under the
    /// system's temporary directory, kept afterwards].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// One command of the run, for JSON.
#[derive(Serialize)]
struct Step<'a> {
    command: &'a str,
    exit: Option<i32>,
    output: &'a str,
}

/// What the demo reports in JSON.
#[derive(Serialize)]
struct Report<'a> {
    dir: &'a str,
    ksr: String,
    skr: String,
    ksr_sha256: Option<&'a str>,
    skr_sha256: Option<&'a str>,
    officers: &'a [String],
    audit_head: Option<&'a str>,
    ksk_tag: u16,
    score: usize,
    transcript: String,
    seconds: f64,
    steps: Vec<Step<'a>>,
}

/// Runs the demo.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let started = Instant::now();
    let run_args = RunArgs {
        scenario: "normal-quarter".into(),
        dir: args.dir.clone(),
        autopilot: true,
        transcript: None,
        status: None,
        serve: None,
    };
    let (transcript, base) = run_scenario(&run_args, !context.json)?;
    if let Some(deviation) = transcript.deviation() {
        return Err(deviation);
    }
    let dir = PathBuf::from(&transcript.dir);
    let ksk = context
        .open_ceremony_in(&dir.join("ceremony"), "demo")?
        .public_key(signer::FIRST_KSK)?;
    let signed = signing(&transcript);
    let hash = |what: &str| {
        signed.and_then(|(_, hashes)| {
            hashes
                .iter()
                .find(|(label, _)| label.starts_with(what))
                .map(|(_, hash)| hash)
        })
    };
    let (ksr_hash, skr_hash) = (hash("KSR on the medium"), hash("SKR written"));
    let officers: &[String] = signed.map_or(&[], |(officers, _)| officers);
    let skr = transcript.skrs.last().cloned().unwrap_or_default();
    let ksr = PathBuf::from(&skr)
        .with_file_name("ksr.xml")
        .display()
        .to_string();
    let transcript_base = base.display().to_string();
    if context.json {
        let steps = transcript
            .steps
            .iter()
            .flat_map(|step| &step.commands)
            .map(|command| Step {
                command: &command.line,
                exit: command.exit,
                output: &command.output,
            })
            .collect();
        render::json(&Report {
            dir: &transcript.dir,
            ksr,
            skr,
            ksr_sha256: ksr_hash.map(|hash| hash.sha256.as_str()),
            skr_sha256: skr_hash.map(|hash| hash.sha256.as_str()),
            officers,
            audit_head: transcript
                .audit_head
                .as_ref()
                .map(|head| head.sha256.as_str()),
            ksk_tag: ksk.key_tag().to_int(),
            score: transcript.score.percent,
            transcript: transcript_base,
            seconds: started.elapsed().as_secs_f64(),
            steps,
        })?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "\nThe quarter is signed, in {:.1} s: {} of {} steps as expected. For the minutes:",
        started.elapsed().as_secs_f64(),
        transcript.score.steps_as_expected,
        transcript.steps.len()
    ))?;
    out(format!("  activated by {}", officers.join(", ")))?;
    let show = |label: &str, hash: Option<&Hash>| -> Result<(), CliError> {
        if let Some(hash) = hash {
            for line in render::hash_lines(label, &hash.sha256) {
                out(format!("  {line}"))?;
            }
        }
        Ok(())
    };
    show("KSR", ksr_hash)?;
    show("SKR", skr_hash)?;
    show("audit head", transcript.audit_head.as_ref())?;
    out(format!("KSR: {ksr}\nSKR: {skr}"))?;
    out(format!(
        "Transcript: {transcript_base}.md, .html (printable) and .json"
    ))?;
    out(
        "Next steps: `ceremony exercise list` shows the drills; `ceremony exercise run everything-goes-wrong --autopilot` injects five faults; `ceremony exercise run normal-quarter` asks each role in turn.",
    )?;
    Ok(Outcome::Success)
}

/// A hash with what it is of.
type Labelled = (String, Hash);

/// The step that signed: the officers whose cards counted, and its
/// hashes.
fn signing(transcript: &Transcript) -> Option<(&[String], &[Labelled])> {
    transcript
        .steps
        .iter()
        .rev()
        .find(|step| {
            step.action == "sign"
                && step
                    .hashes
                    .iter()
                    .any(|(label, _)| label.starts_with("SKR written"))
        })
        .map(|step| (step.activated_by.as_slice(), step.hashes.as_slice()))
}

//! `ceremony exercise list|check|run`: tabletop exercises.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::exercise::engine::{self, Run};
use crate::exercise::people::{AtTheTerminal, Autopilot, People};
use crate::exercise::{self, BUILT_IN, html, transcript::Transcript};
use crate::render::{self, out};

/// The subcommands of `exercise`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the built-in scenarios.
    List,
    /// Check a scenario (built-in name or TOML file) without running it,
    /// and print its steps: errors name their line and column.
    #[command(after_help = "Example:\n  ceremony exercise check drills/my-drill.toml")]
    Check {
        /// A built-in scenario's name or a scenario file.
        scenario: String,
    },
    /// Run a scenario. Interactive by default: the tool prompts the role
    /// whose turn it is ("CO-3: insert your card and type your PIN"),
    /// waits for the person, runs the step and checks the outcome; a
    /// participant's mistake is recorded and scored, not an error. With
    /// --autopilot every role acts as the scenario says. The transcript is
    /// written as Markdown, HTML and JSON.
    #[command(
        after_help = "Examples:\n  ceremony exercise run normal-quarter --autopilot\n  ceremony exercise run everything-goes-wrong --dir /tmp/drill --transcript /tmp/drill-record\n\nExit codes: 0 the exercise ran to its end (interactive: whatever the score; autopilot: every step and fault as expected); 1 an autopilot run deviated, or the exercise could not go on; 2 the scenario does not check."
    )]
    Run(RunArgs),
}

/// Arguments of `exercise run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A built-in scenario's name (`ceremony exercise list`) or a
    /// scenario file.
    pub scenario: String,
    /// Where the exercise's ceremony, intake, media and cards go (new or
    /// empty) [default: a new directory under the system's temporary
    /// directory, kept afterwards].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Play every role from the scenario (CI, and to show a team what
    /// should happen).
    #[arg(long)]
    pub autopilot: bool,
    /// Write the transcript to OUT.md, OUT.html and OUT.json (never
    /// overwritten) [default: DIR/transcript.*].
    #[arg(long, value_name = "OUT")]
    pub transcript: Option<PathBuf>,
    /// Keep the witness page's view of the exercise (its current step and
    /// role, the faults found) in this file, for `ceremony serve
    /// --exercise FILE` [default: DIR/exercise-status.json].
    #[arg(long, value_name = "FILE")]
    pub status: Option<PathBuf>,
    /// Sign through the room's service on ADDR (`ceremony serve`, started
    /// for each signing): the officers present with `ceremony present`
    /// (on autopilot the exercise runs it; interactively each officer
    /// types it at their own terminal), and the witness page at
    /// https://ADDR/ shows the exercise's step and role and each fault
    /// found. Faults of the rehearsal's own flow sign at the terminal.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
}

/// A built-in scenario, for `list`.
#[derive(Serialize)]
struct Listed {
    name: &'static str,
    title: String,
    about: String,
    steps: usize,
    faults: Vec<&'static str>,
}

/// Runs `exercise`.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::List => list(context),
        Command::Check { scenario } => check(scenario, context),
        Command::Run(args) => {
            let (transcript, base) = run_scenario(args, !context.json)?;
            if context.json {
                render::json(&transcript)?;
            } else {
                summary(&transcript, &base)?;
            }
            finish(&transcript, args.autopilot)
        }
    }
}

fn list(context: &Context) -> Result<Outcome, CliError> {
    let mut listed = Vec::new();
    for (name, _) in BUILT_IN {
        let scenario = exercise::load(name)?;
        listed.push(Listed {
            name,
            title: scenario.title.clone(),
            about: scenario.about.clone(),
            steps: scenario.steps.len(),
            faults: scenario
                .steps
                .iter()
                .filter_map(|step| step.fault.map(exercise::scenario::Fault::name))
                .collect(),
        });
    }
    if context.json {
        render::json(&listed)?;
    } else {
        for scenario in &listed {
            out(format!(
                "{:<24} {} ({} steps{})",
                scenario.name,
                scenario.title,
                scenario.steps,
                if scenario.faults.is_empty() {
                    String::new()
                } else {
                    format!("; faults: {}", scenario.faults.join(", "))
                }
            ))?;
        }
        out("\nRun one with: ceremony exercise run NAME [--autopilot]")?;
    }
    Ok(Outcome::Success)
}

fn check(name: &str, context: &Context) -> Result<Outcome, CliError> {
    let scenario = exercise::load(name)?;
    if context.json {
        let steps: Vec<serde_json::Value> = scenario
            .steps
            .iter()
            .map(|step| {
                serde_json::json!({
                    "number": step.number,
                    "roles": step.roles,
                    "action": step.action.name(),
                    "fault": step.fault.map(exercise::scenario::Fault::name),
                    "say": step.say,
                })
            })
            .collect();
        render::json(
            &serde_json::json!({ "scenario": scenario.name, "title": scenario.title, "steps": steps }),
        )?;
    } else {
        out(format!(
            "{}: {} ({} steps)",
            scenario.name,
            scenario.title,
            scenario.steps.len()
        ))?;
        for step in &scenario.steps {
            out(format!(
                "{:>3}. {:<14} {:<28} {}{}",
                step.number,
                step.action.name(),
                step.roles.join(", "),
                step.say,
                step.fault
                    .map(|fault| format!(" [fault: {}]", fault.name()))
                    .unwrap_or_default()
            ))?;
        }
    }
    Ok(Outcome::Success)
}

/// Runs a scenario and writes its transcript; returns it and where the
/// three files went. `demo` runs the normal quarter through here.
///
/// # Errors
///
/// The scenario does not check, the directory is not new, or the
/// exercise could not go on.
pub fn run_scenario(args: &RunArgs, live: bool) -> Result<(Transcript, PathBuf), CliError> {
    // Checked before anything is made: the scenario, and where its
    // transcript goes (a folder that exists, no file it would replace).
    let scenario = exercise::load(&args.scenario)?;
    if let Some(given) = &args.transcript {
        check_transcript(&strip_extension(given))?;
    }
    let dir = new_dir(args.dir.as_deref(), "ceremony-exercise-")?;
    let base = args
        .transcript
        .clone()
        .unwrap_or_else(|| dir.join("transcript"));
    let base = strip_extension(&base);
    check_transcript(&base)?;
    if live {
        out(format!(
            "Exercise {}: {} ({} steps) in {}",
            scenario.name,
            scenario.title,
            scenario.steps.len(),
            dir.display()
        ))?;
    }
    let mut autopilot = Autopilot;
    let mut terminal = AtTheTerminal;
    let people: &mut dyn People = if args.autopilot {
        &mut autopilot
    } else {
        &mut terminal
    };
    let status = args
        .status
        .clone()
        .unwrap_or_else(|| dir.join("exercise-status.json"));
    let program = std::env::current_exe().map_err(CliError::Output)?;
    let transcript = engine::run(
        &scenario,
        Run {
            program,
            dir: dir.clone(),
            people,
            live,
            status: Some(status),
            serve: args.serve.clone(),
        },
    )?;
    let json = serde_json::to_vec_pretty(&transcript)
        .map_err(|err| CliError::Exercise(format!("the transcript is not JSON: {err}")))?;
    for (extension, bytes) in [
        ("md", transcript.markdown().into_bytes()),
        ("html", html::page(&transcript).into_bytes()),
        ("json", json),
    ] {
        durable::write(
            &with_extension(&base, extension),
            &bytes,
            durable::Replace::Never,
        )
        .map_err(|err| CliError::Signer(err.into()))?;
    }
    Ok((transcript, base))
}

/// The closing lines: score, faults, audit head, the transcript's files.
pub fn summary(transcript: &Transcript, base: &Path) -> Result<(), CliError> {
    out(format!(
        "\nScore: {} of {} ({}%): {} of {} steps as expected, {} of {} faults detected as expected",
        transcript.score.points,
        transcript.score.possible,
        transcript.score.percent,
        transcript.score.steps_as_expected,
        transcript.steps.len(),
        transcript.score.faults_as_expected,
        transcript.faults.len()
    ))?;
    for fault in &transcript.faults {
        out(format!(
            "  {} {}",
            if fault.as_expected { "✔" } else { "✘" },
            fault.verdict
        ))?;
    }
    if let Some(head) = &transcript.audit_head {
        for line in render::hash_lines("audit head", &head.sha256) {
            out(line)?;
        }
    }
    out(format!(
        "Transcript: {} (.md, .html, .json)",
        base.display()
    ))
}

/// The exit of a finished run.
fn finish(transcript: &Transcript, autopilot: bool) -> Result<Outcome, CliError> {
    if autopilot && let Some(deviation) = transcript.deviation() {
        return Err(deviation);
    }
    Ok(Outcome::Success)
}

/// A new or empty directory, or a new one under the temporary directory.
pub fn new_dir(dir: Option<&Path>, prefix: &str) -> Result<PathBuf, CliError> {
    let dir = match dir {
        Some(dir) => {
            if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(CliError::Value {
                    option: "dir",
                    value: dir.display().to_string(),
                    expected: "a new or empty directory: the exercise needs one of its own",
                });
            }
            dir.to_owned()
        }
        None => tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(CliError::Output)?
            .keep(),
    };
    std::fs::create_dir_all(&dir).map_err(CliError::Output)?;
    // The exercise's cards, PINs and keys are its own.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(CliError::Output)?;
    Ok(dir)
}

/// The transcript's three files can be written: their folder exists and
/// none of them does.
fn check_transcript(base: &Path) -> Result<(), CliError> {
    let folder = base
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    if !folder.is_dir() {
        return Err(CliError::Value {
            option: "transcript",
            value: base.display().to_string(),
            expected: "OUT in a folder that exists: OUT.md, OUT.html and OUT.json go there",
        });
    }
    for extension in ["md", "html", "json"] {
        let path = with_extension(base, extension);
        if path.exists() {
            return Err(signer::Error::OutputExists(path).into());
        }
    }
    Ok(())
}

fn strip_extension(base: &Path) -> PathBuf {
    match base.extension().and_then(|extension| extension.to_str()) {
        Some("md" | "html" | "json") => base.with_extension(""),
        _ => base.to_owned(),
    }
}

fn with_extension(base: &Path, extension: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

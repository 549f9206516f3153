//! Running a scenario: each step becomes the `ceremony` command lines an
//! operator would type, run as separate processes of this same binary, so
//! an exercise drives exactly the flows of a real ceremony (DESIGN.md:
//! no flow is written twice). The engine keeps what the room knows
//! between steps — the cards and PINs, the medium in hand, the words read
//! over the phone — injects the faults, and reads what each step left in
//! the audit logs to see whether the team's reaction was the expected one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use zeroize::Zeroizing;

use super::people::People;
use super::scenario::{Fault, Scenario, Step};
use super::transcript::{CommandRecord, FaultRecord, Hash, Score, Signal, StepRecord, Transcript};
use signer::service::wire::ExerciseView;

use crate::error::CliError;
use crate::render::out;

mod files;
mod observe;
mod processes;
mod world;

use files::write_over;
use observe::{judge, judge_faults, signals_of};

/// Ninety days: one quarter of a KSK's calendar.
const QUARTER: u32 = 90 * 86_400;

/// Where a run happens and who takes part.
pub struct Run<'p> {
    /// This binary.
    pub program: PathBuf,
    /// The exercise's directory (new or empty).
    pub dir: PathBuf,
    /// The people.
    pub people: &'p mut dyn People,
    /// Whether to print each step as it runs.
    pub live: bool,
    /// The file the witness page reads the current step from, if any.
    pub status: Option<PathBuf>,
    /// Sign through the room's service on this address (`serve`), the
    /// officers presenting with `present`, the witness page showing the
    /// exercise.
    pub serve: Option<String>,
}

/// One officer's card as the room knows it.
#[derive(Clone)]
struct Card {
    path: PathBuf,
    pin: Zeroizing<String>,
    puk: Zeroizing<String>,
}

/// What the room knows between steps.
struct World {
    program: PathBuf,
    dir: PathBuf,
    scenario: Scenario,
    start: ksr::Timestamp,
    quarter: u32,
    cards: BTreeMap<String, Card>,
    /// Cards of a retired card set (or lost and since replaced).
    retired: BTreeMap<String, Card>,
    lost: BTreeMap<String, Card>,
    generation: u32,
    /// This quarter's KSR, as the ZSK operator made it.
    ksr: Option<PathBuf>,
    /// The intake's id for it.
    ksr_id: Option<String>,
    /// The transfer set on the medium in hand.
    set: Option<PathBuf>,
    /// The words the ZSK operator read over the phone.
    phone: Option<Vec<String>>,
    /// Whether the signer has signed (later signings chain).
    signed: bool,
    /// The SKRs written, newest last.
    skrs: Vec<PathBuf>,
    /// The SKR the ZSK operator fetched, by quarter.
    fetched: BTreeMap<u32, PathBuf>,
    media: u32,
    ksks: u32,
    /// The foreign ceremony's PINs, once it is made.
    foreign: Option<BTreeMap<String, Zeroizing<String>>>,
    /// `serve`'s address, in the room-service mode.
    serve: Option<String>,
    /// The exercise's status file, for the witness page.
    status: Option<PathBuf>,
    /// Whether a person answers (not the autopilot).
    interactive: bool,
}

/// What one step showed.
#[derive(Default)]
struct Observed {
    commands: Vec<CommandRecord>,
    decisions: Vec<String>,
    hashes: Vec<(String, Hash)>,
    signals: Vec<Signal>,
    /// The main command's exit (3 when the CA stopped the step).
    exit: Option<i32>,
    killed: bool,
}

/// Runs a scenario to its end.
///
/// # Errors
///
/// The exercise itself cannot go on: its directory cannot be written, a
/// command cannot be started, or the terminal fails. A step that does not
/// go as expected is not an error: it is recorded and scored.
pub fn run(scenario: &Scenario, run: Run<'_>) -> Result<Transcript, CliError> {
    let Run {
        program,
        dir,
        people,
        live,
        status,
        serve,
    } = run;
    let started = now_text();
    let start = match scenario.ceremony.start {
        Some(start) => start,
        None => today(),
    };
    let mut world = World {
        program,
        dir: dir.clone(),
        scenario: scenario.clone(),
        start,
        quarter: 0,
        cards: BTreeMap::new(),
        retired: BTreeMap::new(),
        lost: BTreeMap::new(),
        generation: 1,
        ksr: None,
        ksr_id: None,
        set: None,
        phone: None,
        signed: false,
        skrs: Vec::new(),
        fetched: BTreeMap::new(),
        media: 0,
        ksks: 1,
        foreign: None,
        serve,
        status: status.clone(),
        interactive: people.interactive(),
    };
    let mut records: Vec<StepRecord> = Vec::new();
    for step in &scenario.steps {
        let roles: Vec<(String, String)> = step
            .roles
            .iter()
            .map(|role| {
                (
                    role.clone(),
                    scenario.people.get(role).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let who = roles
            .iter()
            .map(|(role, person)| format!("{role} ({person})"))
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(status) = &status {
            write_status(status, scenario, step, &who, &records)?;
        }
        if live {
            out(format!(
                "\n── Step {} of {}: {} ──",
                step.number,
                scenario.steps.len(),
                step.action.name()
            ))?;
        }
        people.ready(&who, &step.say)?;
        if live && !people.interactive() {
            out(format!("{who}: {}", step.say))?;
        }
        let time = now_text();
        let began = Instant::now();
        let marks = world.audit_marks();
        let mut observed = Observed::default();
        // A step that cannot run (what it needs did not come about, after
        // an earlier step went wrong) is recorded as such and the
        // exercise goes on: the transcript shows where it went wrong.
        match world.act(step, people, &mut observed) {
            Ok(()) => {}
            Err(CliError::Exercise(why)) => {
                observed.exit = None;
                observed
                    .decisions
                    .push(format!("the step could not run: {why}"));
            }
            Err(other) => return Err(other),
        }
        let audit = world.audit_since(&marks);
        for line in &audit {
            observed.signals.extend(signals_of(line));
        }
        let (as_expected, expected, observed_text) = judge(step, &observed);
        if live {
            for command in &observed.commands {
                out(format!("$ {}", command.line))?;
                for line in command.output.lines() {
                    out(format!("  {line}"))?;
                }
            }
            out(format!(
                "{} expected {expected}; observed {observed_text}",
                if as_expected { "✔" } else { "✘" }
            ))?;
        }
        records.push(StepRecord {
            number: step.number,
            id: step.id.clone(),
            roles,
            say: step.say.clone(),
            action: step.action.name(),
            fault: step.fault.map(Fault::name),
            time,
            seconds: began.elapsed().as_secs_f64(),
            commands: observed.commands,
            decisions: observed.decisions,
            hashes: observed.hashes,
            signals: observed.signals,
            activated_by: audit
                .iter()
                .filter(|(line, _)| line.event == "card-accepted")
                .filter_map(|(_, entry)| entry.actor.as_ref().map(|actor| actor.officer.clone()))
                .collect(),
            audit: audit.into_iter().map(|(line, _)| line).collect(),
            expected,
            observed: observed_text,
            as_expected,
        });
    }
    let faults = judge_faults(scenario, &records);
    world.forget_pins()?;
    let score = Score::of(&records, &faults);
    let audit_head = world.audit_head();
    if let Some(status) = &status {
        write_final_status(status, scenario, &faults, &score)?;
    }
    Ok(Transcript {
        scenario: scenario.name.clone(),
        title: scenario.title.clone(),
        about: scenario.about.clone(),
        mode: if people.interactive() {
            "interactive"
        } else {
            "autopilot"
        },
        dir: dir.display().to_string(),
        started,
        finished: now_text(),
        ceremony: format!(
            "zone {}, {}, {} of {} officers, {} HSM",
            scenario.ceremony.zone,
            scenario.ceremony.algorithm,
            scenario.ceremony.threshold,
            scenario.ceremony.officers,
            scenario.ceremony.backend
        ),
        people: scenario
            .people
            .iter()
            .map(|(role, person)| (role.clone(), person.clone()))
            .collect(),
        steps: records,
        faults,
        score,
        audit_head,
        skrs: world
            .skrs
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
    })
}

/// What the witness page shows of the exercise: the current step and
/// role, and the faults found so far.
fn write_status(
    path: &Path,
    scenario: &Scenario,
    step: &Step,
    who: &str,
    records: &[StepRecord],
) -> Result<(), CliError> {
    let detected: Vec<String> = judge_faults(scenario, records)
        .into_iter()
        .filter(|fault| {
            fault.as_expected
                && fault
                    .detected
                    .as_ref()
                    .is_some_and(|(at, _)| *at <= records.len())
        })
        .map(|fault| fault.verdict)
        .collect();
    write_view(
        path,
        ExerciseView {
            scenario: scenario.title.clone(),
            step: step.number,
            steps: scenario.steps.len(),
            action: step.action.name().to_owned(),
            who: who.to_owned(),
            say: step.say.clone(),
            detected,
        },
    )
}

/// The witness page's last view: the score.
fn write_final_status(
    path: &Path,
    scenario: &Scenario,
    faults: &[FaultRecord],
    score: &Score,
) -> Result<(), CliError> {
    write_view(
        path,
        ExerciseView {
            scenario: scenario.title.clone(),
            step: scenario.steps.len(),
            steps: scenario.steps.len(),
            action: "done".into(),
            who: String::new(),
            say: format!(
                "The exercise is over: score {} of {} ({}%).",
                score.points, score.possible, score.percent
            ),
            detected: faults
                .iter()
                .filter(|fault| fault.as_expected)
                .map(|fault| fault.verdict.clone())
                .collect(),
        },
    )
}

/// Writes the status file, in the form `serve --exercise` reads.
fn write_view(path: &Path, view: ExerciseView) -> Result<(), CliError> {
    let json = serde_json::to_vec(&view)
        .map_err(|err| CliError::Exercise(format!("the status is not JSON: {err}")))?;
    write_over(path, &json)
}

/// The machine's clock, in seconds since the epoch.
fn clock_seconds() -> u32 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// The machine's clock, RFC 3339 UTC to the second.
fn now_text() -> String {
    ksr::Timestamp::from_unix(clock_seconds()).to_document()
}

/// Today, midnight UTC: the first quarter's day when the scenario names
/// none.
fn today() -> ksr::Timestamp {
    let seconds = clock_seconds();
    ksr::Timestamp::from_unix(seconds - seconds % 86_400)
}

//! The transcript of an exercise: every step with its time, roles and
//! people, the commands and what they printed, the hashes in hex and PGP
//! words, the refusal codes and the audit entries it produced; the faults
//! injected and whether the team reacted as the scenario expects; the
//! score and the audit head. Written as JSON (this module's types),
//! Markdown (here) and HTML (`html`).

use std::fmt::Write as _;

use serde::Serialize;

/// The whole transcript.
#[derive(Debug, Serialize)]
pub struct Transcript {
    /// The scenario's name.
    pub scenario: String,
    /// Its title.
    pub title: String,
    /// What it rehearses.
    pub about: String,
    /// `autopilot` or `interactive`.
    pub mode: &'static str,
    /// The exercise's directory.
    pub dir: String,
    /// When it started and ended (the machine's clock, UTC).
    pub started: String,
    /// When it ended.
    pub finished: String,
    /// Zone, algorithm, k of n, backend.
    pub ceremony: String,
    /// Role, person.
    pub people: Vec<(String, String)>,
    /// The steps.
    pub steps: Vec<StepRecord>,
    /// The faults.
    pub faults: Vec<FaultRecord>,
    /// The score.
    pub score: Score,
    /// The signer's audit head at the end, to write down.
    pub audit_head: Option<Hash>,
    /// The SKRs the exercise made (paths), for anyone to validate.
    pub skrs: Vec<String>,
}

/// One step.
#[derive(Debug, Serialize)]
pub struct StepRecord {
    /// 1 for the first.
    pub number: usize,
    /// Its id.
    pub id: Option<String>,
    /// Who acted: role and person.
    pub roles: Vec<(String, String)>,
    /// The instruction.
    pub say: String,
    /// The action.
    pub action: &'static str,
    /// The fault it injected.
    pub fault: Option<&'static str>,
    /// When it began (UTC).
    pub time: String,
    /// How long it took.
    pub seconds: f64,
    /// The commands run, with their output.
    pub commands: Vec<CommandRecord>,
    /// What the people decided or typed (never a PIN).
    pub decisions: Vec<String>,
    /// The hashes it showed.
    pub hashes: Vec<(String, Hash)>,
    /// The refusal codes, events and card refusals it produced, and who
    /// raised them.
    pub signals: Vec<Signal>,
    /// The audit entries it produced.
    pub audit: Vec<AuditLine>,
    /// The officers whose cards counted, in order.
    pub activated_by: Vec<String>,
    /// What the scenario expected, in words.
    pub expected: String,
    /// What happened, in words.
    pub observed: String,
    /// Whether that is what the scenario expected.
    pub as_expected: bool,
}

/// One command.
#[derive(Debug, Serialize)]
pub struct CommandRecord {
    /// As typed.
    pub line: String,
    /// Its exit code (none when killed).
    pub exit: Option<i32>,
    /// Killed by the exercise (a power cut).
    pub killed: bool,
    /// Its stdout and stderr.
    pub output: String,
}

/// A SHA-256.
#[derive(Clone, Debug, Serialize)]
pub struct Hash {
    /// In hex.
    pub sha256: String,
    /// As 32 PGP words.
    pub pgp_words: String,
}

impl Hash {
    /// The hash of these bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::{Digest as _, Sha256};
        let digest = Sha256::digest(bytes);
        Self {
            sha256: hex::encode(digest),
            pgp_words: ksr::pgp_words(&digest),
        }
    }

    /// A hash given in hex (an audit head), with its words.
    pub fn from_hex(hex_digest: &str) -> Option<Self> {
        let bytes = hex::decode(hex_digest).ok()?;
        (bytes.len() == 32).then(|| Self {
            sha256: hex_digest.to_owned(),
            pgp_words: ksr::pgp_words(&bytes),
        })
    }
}

/// Something the step showed: a refusal code, an audit event, a card's
/// refusal; and who raised it: `ceremony` (the tool) or a role.
#[derive(Clone, Debug, Serialize)]
pub struct Signal {
    /// The code, event or reason.
    pub sign: String,
    /// Who.
    pub by: String,
}

/// One audit entry, as the transcript shows it.
#[derive(Debug, Serialize)]
pub struct AuditLine {
    /// `signer` or `intake`.
    pub log: &'static str,
    /// Its sequence number.
    pub seq: u64,
    /// Its event.
    pub event: String,
    /// Its details, in one line.
    pub details: String,
}

/// A fault and the team's reaction.
#[derive(Debug, Serialize)]
pub struct FaultRecord {
    /// The fault.
    pub fault: &'static str,
    /// The step that injected it.
    pub injected_at: usize,
    /// The officer it concerned.
    pub officer: Option<String>,
    /// Where the scenario expects it found: the step.
    pub expected_at: usize,
    /// By whom (a role, or `ceremony`).
    pub expected_by: Option<String>,
    /// The sign.
    pub expected_sign: String,
    /// The check, in words.
    pub check: String,
    /// Where it was found, and by whom.
    pub detected: Option<(usize, String)>,
    /// Whether that is the expected reaction.
    pub as_expected: bool,
    /// The sentence for the record.
    pub verdict: String,
}

/// The score: a point per step as expected, two per fault detected as
/// expected.
#[derive(Debug, Serialize)]
pub struct Score {
    /// Points earned.
    pub points: usize,
    /// Points possible.
    pub possible: usize,
    /// In percent, rounded down.
    pub percent: usize,
    /// Steps as expected, of all.
    pub steps_as_expected: usize,
    /// Faults detected as expected, of all.
    pub faults_as_expected: usize,
}

impl Score {
    /// The score of these steps and faults.
    pub fn of(steps: &[StepRecord], faults: &[FaultRecord]) -> Self {
        let steps_as_expected = steps.iter().filter(|step| step.as_expected).count();
        let faults_as_expected = faults.iter().filter(|fault| fault.as_expected).count();
        let points = steps_as_expected + 2 * faults_as_expected;
        let possible = steps.len() + 2 * faults.len();
        Self {
            points,
            possible,
            percent: (points * 100).checked_div(possible).unwrap_or(100),
            steps_as_expected,
            faults_as_expected,
        }
    }
}

impl Transcript {
    /// Whether every step and every fault went as the scenario expects.
    pub fn all_as_expected(&self) -> bool {
        self.score.points == self.score.possible
    }

    /// The error of an autopilot run that did not go as the scenario
    /// expects, if it did not.
    pub fn deviation(&self) -> Option<crate::error::CliError> {
        (!self.all_as_expected()).then(|| crate::error::CliError::ExerciseDeviated {
            steps: self.steps.iter().filter(|step| !step.as_expected).count(),
            faults: self
                .faults
                .iter()
                .filter(|fault| !fault.as_expected)
                .count(),
        })
    }

    /// The transcript as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Exercise: {}\n", self.title);
        if !self.about.is_empty() {
            let _ = writeln!(md, "{}\n", self.about);
        }
        let _ = writeln!(md, "- Scenario: `{}` ({})", self.scenario, self.mode);
        let _ = writeln!(md, "- Ceremony: {}", self.ceremony);
        let _ = writeln!(md, "- Directory: `{}`", self.dir);
        let _ = writeln!(md, "- From {} to {}", self.started, self.finished);
        let _ = writeln!(
            md,
            "- **Score: {} of {} ({}%)**: {} of {} steps as expected, {} of {} faults detected as expected",
            self.score.points,
            self.score.possible,
            self.score.percent,
            self.score.steps_as_expected,
            self.steps.len(),
            self.score.faults_as_expected,
            self.faults.len()
        );
        if let Some(head) = &self.audit_head {
            let _ = writeln!(md, "- Audit head: `{}`", head.sha256);
            let _ = writeln!(md, "  ({})", head.pgp_words);
        }
        let _ = writeln!(md, "\n## Participants\n\n| role | person |\n|---|---|");
        for (role, person) in &self.people {
            let _ = writeln!(md, "| {role} | {} |", cell(person));
        }
        if !self.faults.is_empty() {
            let _ = writeln!(
                md,
                "\n## Faults\n\n| fault | injected | expected | reaction |\n|---|---|---|---|"
            );
            for fault in &self.faults {
                let _ = writeln!(
                    md,
                    "| {}{} | step {} | step {}, {} by {} | {} {} |",
                    fault.fault,
                    fault
                        .officer
                        .as_ref()
                        .map(|officer| format!(" ({officer})"))
                        .unwrap_or_default(),
                    fault.injected_at,
                    fault.expected_at,
                    cell(&fault.expected_sign),
                    fault.expected_by.as_deref().unwrap_or("anyone"),
                    if fault.as_expected { "✔" } else { "✘" },
                    cell(&fault.verdict)
                );
            }
        }
        let _ = writeln!(md, "\n## Steps");
        for step in &self.steps {
            let roles: Vec<String> = step
                .roles
                .iter()
                .map(|(role, person)| format!("{role} ({person})"))
                .collect();
            let _ = writeln!(
                md,
                "\n### {}. {} — {} {}\n",
                step.number,
                step.action,
                roles.join(", "),
                if step.as_expected { "✔" } else { "✘" }
            );
            let _ = writeln!(md, "{}\n", step.say);
            let _ = writeln!(md, "- Time: {} ({:.2} s)", step.time, step.seconds);
            if let Some(fault) = step.fault {
                let _ = writeln!(md, "- Fault injected: **{fault}**");
            }
            let _ = writeln!(md, "- Expected: {}", step.expected);
            let _ = writeln!(md, "- Observed: {}", step.observed);
            for decision in &step.decisions {
                let _ = writeln!(md, "- Decision: {decision}");
            }
            for (what, hash) in &step.hashes {
                let _ = writeln!(md, "- {what}: `{}`\n  ({})", hash.sha256, hash.pgp_words);
            }
            if !step.signals.is_empty() {
                let signals: Vec<String> = step
                    .signals
                    .iter()
                    .map(|signal| format!("`{}` by {}", cell(&signal.sign), signal.by))
                    .collect();
                let _ = writeln!(md, "- Signals: {}", signals.join(", "));
            }
            for command in &step.commands {
                let exit = match (command.killed, command.exit) {
                    (true, _) => "killed".to_owned(),
                    (false, Some(code)) => format!("exit {code}"),
                    (false, None) => "no exit code".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "\n```console\n$ {}\n{}[{exit}]\n```",
                    command.line,
                    fenced(&command.output)
                );
            }
            if !step.audit.is_empty() {
                let _ = writeln!(md, "\nAudit entries:\n");
                for line in &step.audit {
                    let _ = writeln!(
                        md,
                        "- {} #{} `{}` {}",
                        line.log,
                        line.seq,
                        cell(&line.event),
                        cell(&line.details)
                    );
                }
            }
        }
        md
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace('<', "&lt;")
        .replace('\n', " ")
}

/// Output safe inside a fenced block, ending with a newline.
fn fenced(text: &str) -> String {
    let mut text = text.replace("```", "'''");
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

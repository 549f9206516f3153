//! Output: findings as a table or JSON on stdout, errors on stderr.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use ksr::{Finding, Severity};
use serde::Serialize;

use crate::error::{CliError, Outcome};

pub use crate::context::Context;

/// Prints an error and its hint on stderr.
pub fn report_error(err: &CliError) {
    eprintln!("error: {err}");
    if let Some(hint) = err.hint() {
        eprintln!("hint: {hint}");
    }
}

/// Writes a line to stdout, turning a closed pipe into an error rather
/// than a panic.
pub fn out(line: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").map_err(CliError::Output)
}

/// Asks a question on stderr and reads one line of the answer from
/// stdin, trimmed.
pub fn ask(question: &str) -> Result<String, CliError> {
    eprint!("{question}");
    std::io::stderr().flush().map_err(CliError::Output)?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::Stdin)?;
    Ok(line.trim().to_owned())
}

/// Prints a JSON value on stdout.
pub fn json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::Output(std::io::Error::other(err)))?;
    out(text)
}

/// Returns the outcome that a list of findings means.
pub fn outcome(findings: &[Finding]) -> Outcome {
    let unreadable = findings.iter().any(|finding| {
        matches!(
            finding.code,
            ksr::CheckCode::ParseSize | ksr::CheckCode::ParseXml | ksr::CheckCode::ParseLimits
        )
    });
    if unreadable {
        Outcome::Unreadable
    } else if findings.iter().any(Finding::is_error) {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// One finding as JSON: the fields of `ksr-checks.md` "Findings".
#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    severity: Severity,
    stage: u8,
    document: ksr::DocumentRole,
    file: String,
    line: Option<u32>,
    column: Option<u32>,
    bundle: Option<&'a str>,
    bundle_number: Option<usize>,
    key_identifier: Option<&'a str>,
    key_tag: Option<u16>,
    message: &'a str,
}

/// The JSON answer of a `check` command, and of the service's KSR intake.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_skr: Option<String>,
    findings: Vec<JsonFinding<'a>>,
    errors: usize,
    warnings: usize,
    passed: bool,
}

/// The files a report is about: the main document, and SKR(n-1) when one
/// was given, so each finding names its own file.
pub struct Files<'a> {
    main: &'a Path,
    previous: Option<&'a Path>,
    ksr: Option<&'a Path>,
}

impl<'a> Files<'a> {
    /// One document.
    pub fn one(main: &'a Path) -> Self {
        Self {
            main,
            previous: None,
            ksr: None,
        }
    }

    /// A KSR and its previous SKR.
    pub fn with_previous(main: &'a Path, previous: Option<&'a Path>) -> Self {
        Self {
            main,
            previous,
            ksr: None,
        }
    }

    /// An SKR with the KSR it answers and the previous SKR.
    pub fn answer(main: &'a Path, ksr: Option<&'a Path>, previous: Option<&'a Path>) -> Self {
        Self {
            main,
            previous,
            ksr,
        }
    }

    /// The file of a finding's document.
    fn of(&self, role: ksr::DocumentRole) -> String {
        match (role, self.previous, self.ksr) {
            (ksr::DocumentRole::PreviousSkr, Some(previous), _) => previous.display().to_string(),
            (ksr::DocumentRole::Ksr, _, Some(ksr)) => ksr.display().to_string(),
            _ => self.main.display().to_string(),
        }
    }
}

/// Prints the findings of one document, sorted, with a summary; `summary`
/// describes what was checked when the document parsed.
pub fn findings(
    context: &Context,
    files: &Files<'_>,
    findings: &mut [Finding],
    summary: &str,
) -> Result<Outcome, CliError> {
    ksr::sort_findings(findings);
    let errors = findings.iter().filter(|finding| finding.is_error()).count();
    let warnings = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Warning)
        .count();
    let file = files.main.display().to_string();
    if context.json {
        json(&report(files, findings))?;
    } else {
        for finding in findings.iter() {
            out(finding_line(&files.of(finding.document), finding))?;
        }
        out(format!(
            "{file}: {summary}; {errors} error(s), {warnings} warning(s)"
        ))?;
    }
    Ok(outcome(findings))
}

/// The findings of a document as the JSON report; `findings` sorted.
pub fn report<'a>(files: &Files<'_>, findings: &'a [Finding]) -> JsonReport<'a> {
    let errors = findings.iter().filter(|finding| finding.is_error()).count();
    let warnings = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Warning)
        .count();
    JsonReport {
        file: files.main.display().to_string(),
        previous_skr: files.previous.map(|path| path.display().to_string()),
        findings: findings
            .iter()
            .map(|finding| JsonFinding {
                code: finding.code.as_str(),
                severity: finding.severity,
                stage: finding.code.stage(),
                document: finding.document,
                file: files.of(finding.document),
                line: finding.position.map(|position| position.line),
                column: finding.position.map(|position| position.column),
                bundle: finding.bundle.as_ref().map(|bundle| bundle.id.as_str()),
                bundle_number: finding.bundle.as_ref().map(|bundle| bundle.number),
                key_identifier: finding.key.as_ref().map(|key| key.identifier.as_str()),
                key_tag: finding.key.as_ref().map(|key| key.tag.to_int()),
                message: &finding.message,
            })
            .collect(),
        errors,
        warnings,
        passed: errors == 0,
    }
}

/// Renders a finding as one table line, such as
/// `error   KSR-BUNDLE-POP.2     ksr  bundle 3/9 <id>: <message>`.
pub fn finding_line(file: &str, finding: &Finding) -> String {
    let mut place = String::new();
    if let Some(position) = finding.position {
        place.push_str(&format!("{file}:{position}: "));
    }
    if let Some(bundle) = &finding.bundle {
        place.push_str(&format!("bundle {} {}: ", bundle.number, bundle.id));
    }
    if let Some(key) = &finding.key {
        place.push_str(&format!("key {} ({}): ", key.tag, short(&key.identifier)));
    }
    format!(
        "{:<8}{:<22} {:<5} {place}{}",
        finding.severity.to_string(),
        finding.code.as_str(),
        finding.document.to_string(),
        finding.message
    )
}

/// Shortens a long key identifier (the root's are 96 hex digits) for a
/// table, keeping its distinctive end.
pub fn short(identifier: &str) -> String {
    let count = identifier.chars().count();
    if count <= 24 {
        identifier.to_owned()
    } else {
        let tail: String = identifier.chars().skip(count - 12).collect();
        let head: String = identifier.chars().take(8).collect();
        format!("{head}…{tail}")
    }
}

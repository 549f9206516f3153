//! Findings with the files they are about: what `ksr check`, `skr check`,
//! a refused `sign` and the service's intake all report, on a screen or as
//! the JSON of `ksr-checks.md` "Findings".

use std::path::{Path, PathBuf};

use ksr::{CheckCode, DocumentRole, Finding, Severity};
use serde::Serialize;

//------------ Files ---------------------------------------------------------

/// The files a report is about, so that each finding names its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Files {
    /// The main document.
    pub main: PathBuf,
    /// SKR(n-1), when one was given.
    pub previous: Option<PathBuf>,
    /// The KSR an SKR answers, when one was given.
    pub ksr: Option<PathBuf>,
}

impl Files {
    /// One document.
    pub fn one(main: impl Into<PathBuf>) -> Self {
        Self {
            main: main.into(),
            ..Self::default()
        }
    }

    /// A KSR and its previous SKR.
    pub fn with_previous(main: impl Into<PathBuf>, previous: Option<&Path>) -> Self {
        Self {
            main: main.into(),
            previous: previous.map(Path::to_path_buf),
            ksr: None,
        }
    }

    /// The file of a finding's document.
    pub fn of(&self, role: DocumentRole) -> &Path {
        match (role, &self.previous, &self.ksr) {
            (DocumentRole::PreviousSkr, Some(previous), _) => previous,
            (DocumentRole::Ksr, _, Some(ksr)) => ksr,
            _ => &self.main,
        }
    }
}

//------------ Report --------------------------------------------------------

/// Findings, sorted, with their files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The files.
    pub files: Files,
    /// The findings, in the order of `ksr-checks.md` reporting rule 3.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Sorts the findings into the report order.
    pub fn new(files: Files, mut findings: Vec<Finding>) -> Self {
        ksr::sort_findings(&mut findings);
        Self { files, findings }
    }

    /// Whether a document could not be read as one (over the size limit,
    /// not well-formed, beyond the parser's limits): exit 1, not 3.
    pub fn is_unreadable(&self) -> bool {
        self.findings.iter().any(|finding| {
            matches!(
                finding.code,
                CheckCode::ParseSize | CheckCode::ParseXml | CheckCode::ParseLimits
            )
        })
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }

    /// The findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count()
    }

    /// The codes of the errors, in order, each once.
    pub fn error_codes(&self) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Vec::new();
        for finding in self.findings.iter().filter(|finding| finding.is_error()) {
            if !codes.contains(&finding.code.as_str()) {
                codes.push(finding.code.as_str());
            }
        }
        codes
    }

    /// One line: the first error and how many more.
    pub fn summary(&self) -> String {
        let mut errors = self.findings.iter().filter(|finding| finding.is_error());
        match (errors.next(), errors.count()) {
            (None, _) => format!("{}: no error", self.files.main.display()),
            (Some(first), 0) => format!("refused: {first}"),
            (Some(first), more) => format!("refused: {first} (and {more} more errors)"),
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> JsonReport<'_> {
        JsonReport {
            file: self.files.main.display().to_string(),
            previous_skr: self
                .files
                .previous
                .as_ref()
                .map(|path| path.display().to_string()),
            findings: self
                .findings
                .iter()
                .map(|finding| JsonFinding {
                    code: finding.code.as_str(),
                    severity: finding.severity,
                    stage: finding.code.stage(),
                    document: finding.document,
                    file: self.files.of(finding.document).display().to_string(),
                    line: finding.position.map(|position| position.line),
                    column: finding.position.map(|position| position.column),
                    bundle: finding.bundle.as_ref().map(|bundle| bundle.id.as_str()),
                    bundle_number: finding.bundle.as_ref().map(|bundle| bundle.number),
                    key_identifier: finding.key.as_ref().map(|key| key.identifier.as_str()),
                    key_tag: finding.key.as_ref().map(|key| key.tag.to_int()),
                    message: &finding.message,
                })
                .collect(),
            errors: self.count(Severity::Error),
            warnings: self.count(Severity::Warning),
            passed: !self.has_errors(),
        }
    }
}

/// One finding as JSON: the fields of `ksr-checks.md` "Findings".
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    code: &'static str,
    severity: Severity,
    stage: u8,
    document: DocumentRole,
    file: String,
    line: Option<u32>,
    column: Option<u32>,
    bundle: Option<&'a str>,
    bundle_number: Option<usize>,
    key_identifier: Option<&'a str>,
    key_tag: Option<u16>,
    message: &'a str,
}

/// The JSON answer of a check, and of the service's KSR intake.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_skr: Option<String>,
    findings: Vec<JsonFinding<'a>>,
    errors: usize,
    warnings: usize,
    passed: bool,
}

//! Output: results on stdout (a table, or JSON with `--json`), messages
//! and errors on stderr (JSON on stdout with `--json`).

use std::io::Write as _;

use ksr::{Finding, Severity};
use serde::Serialize;
use signer::{Detail, Report, Summary};

use crate::context::Context;
use crate::error::{CliError, Outcome};

/// Writes a line to stdout, turning a closed pipe into an error rather
/// than a panic.
pub fn out(line: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").map_err(CliError::Output)
}

/// Writes a message line to stderr.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints a JSON value on stdout.
pub fn json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::Output(std::io::Error::other(err)))?;
    out(text)
}

/// Reports an error: `error: …` and `hint: …` on stderr, and with
/// `--json` the same as a JSON object on stdout (with the findings of a
/// refusal).
pub fn report_error(err: &CliError, context: &Context) {
    // A reader that stops early (`ceremony ksr show … | head`) is not
    // worth a message.
    if let CliError::Output(io) = err
        && io.kind() == std::io::ErrorKind::BrokenPipe
    {
        return;
    }
    if let CliError::Signer(signer::Error::Refused(report)) = err {
        if context.json {
            let _ = json(&serde_json::json!({
                "error": err.to_string(),
                "exit": err.exit_code(),
                "report": report.to_json(),
            }));
        } else {
            let _ = print_findings(report);
            eprintln!("error: {}: nothing was done", summary_line(report));
        }
        return;
    }
    if context.json {
        let (accepted, refused) = match err {
            CliError::Quorum {
                accepted, refused, ..
            } => (Some(accepted), Some(refused)),
            _ => (None, None),
        };
        let _ = json(&serde_json::json!({
            "error": err.to_string(),
            "hint": err.hint(),
            "exit": err.exit_code(),
            "accepted": accepted,
            "refused": refused,
        }));
    }
    eprintln!("error: {err}");
    if let Some(hint) = err.hint() {
        eprintln!("hint: {hint}");
    }
}

/// One line for a refusal: the main file and the counts.
fn summary_line(report: &Report) -> String {
    format!(
        "{}: {} error(s), {} warning(s)",
        report.files.main.display(),
        report.count(Severity::Error),
        report.count(Severity::Warning)
    )
}

/// Prints a report's findings, one per line.
fn print_findings(report: &Report) -> Result<(), CliError> {
    for finding in &report.findings {
        out(finding_line(
            &report.files.of(finding.document).display().to_string(),
            finding,
        ))?;
    }
    Ok(())
}

/// Prints a check's report: the findings, sorted, and a summary line
/// (`summary` describes what was checked); JSON with `--json`.
pub fn findings(context: &Context, report: &Report, summary: &str) -> Result<Outcome, CliError> {
    if context.json {
        json(&report.to_json())?;
    } else {
        print_findings(report)?;
        out(format!(
            "{}: {summary}; {} error(s), {} warning(s)",
            report.files.main.display(),
            report.count(Severity::Error),
            report.count(Severity::Warning)
        ))?;
    }
    Ok(Outcome::of(report))
}

/// A finding as one table line, such as
/// `error   KSR-BUNDLE-POP.2     ksr  bundle 3 <id>: <message>`.
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

/// A SHA-256 in hex and as PGP words in numbered groups of four, to read
/// aloud and compare.
pub fn hash_lines(label: &str, hex_digest: &str) -> Vec<String> {
    let bytes = hex::decode(hex_digest).unwrap_or_default();
    let words = ksr::pgp_words(&bytes);
    let words: Vec<&str> = words.split_whitespace().collect();
    let mut lines = vec![format!("{label} SHA-256 {hex_digest}")];
    for (row, pair) in words.chunks(16).enumerate() {
        let groups: Vec<String> = pair
            .chunks(4)
            .enumerate()
            .map(|(index, group)| format!("{:>2}. {}", row * 4 + index + 1, group.join(" ")))
            .collect();
        lines.push(format!("  {}", groups.join("   ")));
    }
    lines
}

/// What went wrong after an operation was done (on stderr, in JSON mode
/// too), then the audit head.
///
/// # Errors
///
/// Stdout cannot be written.
pub fn closing(head: &str, after: &[String]) -> Result<(), CliError> {
    after_warnings(after);
    audit_head(head)
}

/// What went wrong after an operation was done, on stderr.
pub fn after_warnings(after: &[String]) {
    for warning in after {
        eprintln!("warning: {warning}");
    }
}

/// Prints the audit log's head at the end of an operation, in hex and in
/// PGP words, for the witnesses' minutes: `audit verify --head` finds it
/// in the log later, however much the log has grown since.
///
/// # Errors
///
/// Stdout cannot be written.
pub fn audit_head(head: &str) -> Result<(), CliError> {
    out("write this down in the minutes: the audit log's head")?;
    for text in hash_lines("audit head", head) {
        out(text)?;
    }
    Ok(())
}

/// The line every screen of a rehearsal starts with.
pub const REHEARSAL: &str = "REHEARSAL: an exercise, not a production ceremony (light-KDF cards, cards beside the key store and --now are allowed)";

/// Prints an operation's summary: what the operator confirms and the
/// officers authorize.
pub fn summary(summary: &Summary) -> Result<(), CliError> {
    summary_with(summary, false)
}

/// The same; with `words_pending`, the KSR's hash is withheld: the words
/// the administrator types must come from the phone, not from the screen.
pub fn summary_with(summary: &Summary, words_pending: bool) -> Result<(), CliError> {
    let line = |text: String| -> Result<(), CliError> { out(text) };
    if summary.rehearsal {
        line(REHEARSAL.to_owned())?;
    }
    line(format!(
        "{} in {} for {}; {} of {} officers (generation {}) authorize it",
        summary.operation,
        summary.ceremony,
        summary.zone,
        summary.roster.threshold,
        summary.roster.officers,
        summary.roster.generation
    ))?;
    line(format!(
        "policy {} SHA-256 {}",
        summary.policy.path, summary.policy.sha256
    ))?;
    if summary.now_given {
        line(format!(
            "--now {} (the checks are made as of then)",
            summary.now
        ))?;
    }
    match &summary.detail {
        Detail::Sign(sign) => {
            line(format!(
                "KSR {} ({}), id {}, schema {}",
                sign.ksr.path, sign.format, sign.ksr_id, sign.schema
            ))?;
            if let Some(transfer) = &sign.transfer {
                line(format!(
                    "transfer set {} in {}, exported {} by the pinned intake key {}",
                    transfer.id, transfer.dir, transfer.exported, transfer.intake_key
                ))?;
                line(format!("manifest SHA-256 {}", transfer.manifest_sha256))?;
                for finding in &transfer.findings {
                    line(format!("intake: {finding}"))?;
                }
            }
            if words_pending {
                line(
                    "KSR SHA-256: withheld until the words read over the phone are checked".into(),
                )?;
            } else {
                for text in hash_lines("KSR", &sign.ksr.sha256) {
                    line(text)?;
                }
            }
            if let Some(zsks) = &sign.zsk_set_sha256 {
                for text in hash_lines("ZSK set", zsks) {
                    line(text)?;
                }
            }
            match &sign.previous_skr {
                Some(previous) => line(format!(
                    "previous SKR {} SHA-256 {}",
                    previous.path, previous.sha256
                ))?,
                None => line("previous SKR: none (waived)".into())?,
            }
            line(format!("SKR to {} ({})", sign.output, sign.output_format))?;
            for choice in &sign.text_choices {
                line(choice.clone())?;
            }
            table(&sign.bundles, &sign.ksks)?;
            if let Some(emergency) = &sign.emergency {
                line(format!(
                    "and an EMERGENCY SKR to {}: the same KSR, rolled to the standby KSK {} at once, the current KSK revoked in every bundle (for a compromise of the current KSK only):",
                    emergency.output, emergency.standby
                ))?;
                table(&emergency.bundles, &emergency.ksks)?;
            }
        }
        Detail::IntakePin {
            fingerprint,
            file,
            replaces,
        } => {
            line(format!("pin the intake key in {file}"))?;
            for text in hash_lines("intake key fingerprint", fingerprint) {
                line(text)?;
            }
            line(match replaces {
                Some(old) => format!("in place of the intake key {old}"),
                None => "no intake key was pinned until now".into(),
            })?;
        }
        Detail::Keygen {
            label,
            algorithm,
            role,
            origin,
            ds,
        } => {
            line(format!(
                "a new KSK {label} ({algorithm}), the policy's {role}"
            ))?;
            if !origin.is_empty() {
                line(origin.clone())?;
            }
            if let Some(ds) = ds {
                line(format!("its DS, to compare with the parent's: {ds}"))?;
            }
        }
        Detail::Backup {
            to,
            epoch,
            generation,
            keys,
            files,
        } => {
            line(format!(
                "back up the ceremony to {to}: {files} files, the sealed key store and state of epoch {epoch}, which only a quorum of card set {generation} opens"
            ))?;
            for key in keys {
                line(format!("  {key}"))?;
            }
        }
        Detail::Restore {
            from,
            manifest_sha256,
            made,
            epoch,
            generation,
            keys,
        } => {
            line(format!(
                "restore the backup in {from}, made {made}: epoch {epoch}, card set {generation} (a card that has seen a later epoch refuses it: the backup is older than what the cards know)"
            ))?;
            line(format!("backup manifest SHA-256 {manifest_sha256}"))?;
            for key in keys {
                line(format!("  {key}"))?;
            }
        }
        Detail::Promote {
            evidence,
            current,
            retired,
        } => {
            line(format!(
                "{current} becomes ksk_current{}",
                retired
                    .as_ref()
                    .map(|old| format!("; {old} leaves the policy"))
                    .unwrap_or_default()
            ))?;
            line(format!(
                "the roll shown by {} (SHA-256 {})",
                evidence.path, evidence.sha256
            ))?;
        }
        Detail::Policy {
            approved_sha256,
            difference,
        } => {
            line(format!(
                "approve the policy file in place of the approved policy (SHA-256 {approved_sha256}); the difference:"
            ))?;
            for changed in difference {
                line(format!("  {changed}"))?;
            }
        }
        Detail::Generation {
            generation,
            officers,
            threshold,
            new_secret,
        } => line(format!(
            "generation {generation}: {threshold} of {} new cards ({}), {}",
            officers.len(),
            officers.join(", "),
            if *new_secret {
                "a new secret: the retired cards will open nothing"
            } else {
                "the same secret"
            }
        ))?,
    }
    for warning in &summary.warnings {
        line(format!("warning {warning}"))?;
    }
    for waiver in &summary.waivers {
        line(format!("waived  {waiver}"))?;
    }
    line(format!(
        "operation digest {}",
        hex::encode(summary.digest())
    ))
}

/// The bundle table, as kskm prints it.
pub fn table(rows: &[signer::BundleRow], ksks: &[signer::KskColumn]) -> Result<(), CliError> {
    let mut header = format!(
        "{:>3}  {:<20} {:<20} {:<16}",
        "#", "inception", "expiration", "ZSK tags"
    );
    for ksk in ksks {
        header.push_str(&format!(" {:<16}", format!("{} ({})", ksk.label, ksk.tag)));
    }
    out(header.trim_end())?;
    for row in rows {
        let tags: Vec<String> = row.zsk_tags.iter().map(ToString::to_string).collect();
        let mut text = format!(
            "{:>3}  {:<20} {:<20} {:<16}",
            row.number,
            row.inception,
            row.expiration,
            tags.join(",")
        );
        for used in &row.ksks {
            text.push_str(&format!(" {:<16}", used.word()));
        }
        out(text.trim_end())?;
    }
    Ok(())
}

/// One line that updates in place on a terminal: signing progress.
pub struct Progress {
    shown: bool,
    quiet: bool,
}

impl Progress {
    /// A progress line on stderr (none when `quiet`).
    pub fn new(quiet: bool) -> Self {
        Self {
            shown: false,
            quiet,
        }
    }

    /// The line now.
    pub fn update(&mut self, done: usize, total: usize) {
        if self.quiet {
            return;
        }
        self.shown = true;
        eprint!("\r  signed {done} of {total} signatures");
        let _ = std::io::stderr().flush();
    }

    /// Ends the line.
    pub fn finish(&mut self) {
        if self.shown {
            eprintln!();
            self.shown = false;
        }
    }
}

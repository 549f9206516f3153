//! `ceremony audit show|verify [LOG]`.

use std::path::{Path, PathBuf};

use hsm::AuditError;
use serde::Serialize;

use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};

/// The audit commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the audit log readably, one entry per line.
    Show {
        /// The log [default: ./audit.log].
        #[arg(default_value = "audit.log")]
        log: PathBuf,
    },
    /// Check the hash chain: exits 3 and names the first entry that was
    /// edited, removed or reordered. The head (hash of the last entry) is
    /// printed; with --head, the log must end there.
    Verify {
        /// The log [default: ./audit.log].
        #[arg(default_value = "audit.log")]
        log: PathBuf,
        /// The head the witnesses wrote down at the end of the ceremony.
        #[arg(long, value_name = "SHA256")]
        head: Option<String>,
    },
}

/// The verdict, for JSON.
#[derive(Serialize)]
struct Verdict<'a> {
    log: String,
    intact: bool,
    entries: Option<usize>,
    head: Option<&'a str>,
    problem: Option<String>,
    entry: Option<u64>,
}

/// Runs an `audit` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show { log } => show(log, context),
        Command::Verify { log, head } => verify(log, head.as_deref(), context),
    }
}

fn show(log: &Path, context: &Context) -> Result<Outcome, CliError> {
    let entries = match hsm::read_audit_log(log) {
        Ok(entries) => entries,
        Err(AuditError::Io { path, source }) => return Err(CliError::Read { path, source }),
        Err(err) => {
            render::report_error(&CliError::Audit(err));
            return Ok(Outcome::Failed);
        }
    };
    if context.json {
        render::json(&entries)?;
        return Ok(Outcome::Success);
    }
    for entry in &entries {
        let actor = entry
            .actor
            .as_ref()
            .map(|actor| format!("  card {} ({})", actor.card, actor.officer))
            .unwrap_or_default();
        let details: Vec<String> = entry
            .details
            .iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => format!("{key}={text}"),
                other => format!("{key}={other}"),
            })
            .collect();
        out(format!(
            "{:>4}  {}  {}{actor}  {}",
            entry.seq,
            entry.time,
            entry.event,
            details.join(" ")
        ))?;
    }
    Ok(Outcome::Success)
}

fn verify(log: &Path, head: Option<&str>, context: &Context) -> Result<Outcome, CliError> {
    let result = hsm::verify_audit_log(log, head);
    let name = log.display().to_string();
    match result {
        Ok((entries, head)) => {
            if context.json {
                render::json(&Verdict {
                    log: name,
                    intact: true,
                    entries: Some(entries),
                    head: Some(&head),
                    problem: None,
                    entry: None,
                })?;
            } else {
                out(format!("{name}: {entries} entries, the chain is intact"))?;
                out(format!("head {head}"))?;
            }
            Ok(Outcome::Success)
        }
        Err(AuditError::Io { path, source }) => Err(CliError::Read { path, source }),
        Err(err) => {
            let entry = match &err {
                AuditError::Broken { entry, .. } => Some(*entry),
                _ => None,
            };
            if context.json {
                render::json(&Verdict {
                    log: name,
                    intact: false,
                    entries: None,
                    head: None,
                    problem: Some(err.to_string()),
                    entry,
                })?;
            } else {
                render::report_error(&CliError::Audit(err));
            }
            Ok(Outcome::Failed)
        }
    }
}

//! `ceremony audit show|verify [LOG]`: the ceremony's log (`--config`'s, or
//! `./audit.log`).

use std::path::{Path, PathBuf};

use hsm::AuditError;
use serde::Serialize;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// The audit commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the audit log readably, one entry per line.
    #[command(after_help = "Example:\n  ceremony --config c/ceremony.toml audit show")]
    Show {
        /// The log [default: the ceremony's (--config DIR/ceremony.toml →
        /// DIR/audit.log), else ./audit.log].
        log: Option<PathBuf>,
    },
    /// Check the hash chain: exits 3 and names the first entry that was
    /// edited, removed or reordered. The head (hash of the last entry) is
    /// printed; with --head, the log must hold the entry that head is the
    /// hash of (any head the witnesses wrote down, however much the log
    /// grew since), and the entries after it are counted.
    #[command(
        after_help = "Example:\n  ceremony --config c/ceremony.toml audit verify --head 3f2a…"
    )]
    Verify {
        /// The log [default: the ceremony's, else ./audit.log].
        log: Option<PathBuf>,
        /// A head the witnesses wrote down at the end of an operation: all
        /// 64 hex digits.
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
    /// The entry the witnessed head (`--head`) is the hash of.
    witnessed_entry: Option<u64>,
    /// How many entries followed it.
    entries_after_witnessed: Option<usize>,
    problem: Option<String>,
    entry: Option<u64>,
}

/// Runs an `audit` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    let log = |given: &Option<PathBuf>| {
        given.clone().unwrap_or_else(|| {
            context
                .ceremony_dir()
                .map_or_else(|_| PathBuf::from("audit.log"), |dir| dir.join("audit.log"))
        })
    };
    match command {
        Command::Show { log: given } => show(&log(given), context),
        Command::Verify { log: given, head } => verify(&log(given), head.as_deref(), context),
    }
}

fn show(log: &Path, context: &Context) -> Result<Outcome, CliError> {
    let entries = match hsm::read_audit_log(log) {
        Ok(entries) => entries,
        Err(AuditError::Io { path, source }) => {
            return Err(signer::Error::Read { path, source }.into());
        }
        Err(err) => {
            render::report_error(&CliError::Signer(signer::Error::Audit(err)), context);
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
    let name = log.display().to_string();
    match hsm::verify_audit_log(log, head) {
        Ok(hsm::Verified {
            entries,
            head,
            witnessed,
        }) => {
            if context.json {
                render::json(&Verdict {
                    log: name,
                    intact: true,
                    entries: Some(entries),
                    head: Some(&head),
                    witnessed_entry: witnessed.map(|(seq, _)| seq),
                    entries_after_witnessed: witnessed.map(|(_, after)| after),
                    problem: None,
                    entry: None,
                })?;
            } else {
                out(format!("{name}: {entries} entries, the chain is intact"))?;
                if let Some((seq, after)) = witnessed {
                    out(format!(
                        "the witnessed head is the hash of entry {seq}; {after} entries followed it"
                    ))?;
                }
                out(format!("head {head}"))?;
            }
            Ok(Outcome::Success)
        }
        Err(AuditError::Io { path, source }) => Err(signer::Error::Read { path, source }.into()),
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
                    witnessed_entry: None,
                    entries_after_witnessed: None,
                    problem: Some(err.to_string()),
                    entry,
                })?;
            } else {
                render::report_error(&CliError::Signer(signer::Error::Audit(err)), context);
            }
            Ok(Outcome::Failed)
        }
    }
}

//! `ceremony ksr show|check`.

use std::path::{Path, PathBuf};

use ksr::DocumentRole;
use serde::Serialize;

use super::show;
use crate::document::read_parsed;
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};

/// The `ksr` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise a KSR: id, serial, domain, policy, and per bundle its keys
    /// and proof-of-possession signatures.
    Show {
        /// The KSR (IANA XML).
        file: PathBuf,
    },
    /// Check a KSR: its structure, every key tag, and that every signature
    /// proves possession of its key over the bundle's DNSKEY RRset.
    /// Exits 3 if any check finds an error, 1 if the file is unreadable.
    Check {
        /// The KSR (IANA XML).
        file: PathBuf,
    },
}

/// Runs a `ksr` command.
pub fn run(command: Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show { file } => show(&file, context),
        Command::Check { file } => check(&file, context),
    }
}

/// Reads and parses the document, or prints why it cannot be.
fn read(path: &Path, context: &Context) -> Result<Result<ksr::Ksr, Outcome>, CliError> {
    read_parsed(path, DocumentRole::Ksr, "KSR", ksr::parse_ksr, context)
}

fn show(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let ksr = match read(path, context)? {
        Ok(ksr) => ksr,
        Err(outcome) => return Ok(outcome),
    };
    if context.json {
        #[derive(Serialize)]
        struct Shown<'a> {
            kind: &'static str,
            file: String,
            ksr: &'a ksr::Ksr,
        }
        render::json(&Shown {
            kind: "ksr",
            file: path.display().to_string(),
            ksr: &ksr,
        })?;
        return Ok(Outcome::Success);
    }
    out(format!("KSR {}", ksr.id))?;
    out(format!("  serial {}  domain {}", ksr.serial, ksr.domain))?;
    if let Some(timestamp) = ksr.timestamp {
        out(format!("  timestamp {timestamp}"))?;
    }
    show::policy("ZSK", &ksr.zsk_policy)?;
    show::bundles(&ksr.bundles)?;
    Ok(Outcome::Success)
}

fn check(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let ksr = match read(path, context)? {
        Ok(ksr) => ksr,
        Err(outcome) => return Ok(outcome),
    };
    let mut findings = ksr::check_ksr(&ksr, DocumentRole::Ksr);
    let signatures: usize = ksr
        .bundles
        .iter()
        .map(|bundle| bundle.signatures.len())
        .sum();
    let summary = format!(
        "KSR {} with {} bundles and {signatures} proof-of-possession signatures: structure, key tags and signatures checked (policy and chain checks not run)",
        ksr.id,
        ksr.bundles.len()
    );
    render::findings(context, path, &mut findings, &summary)
}

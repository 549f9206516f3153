//! `ceremony ksr show|check|submit`, for both formats (the format is read
//! from the file).

use std::path::{Path, PathBuf};

use ksr::{DocumentRole, Documents, KsrDocument};
use signer::{Document, Files, Report};

use super::show;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self};

/// The `ksr` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise a KSR: id, serial, domain, policy, and per bundle its keys
    /// and proof-of-possession signatures (IANA XML, or the Knot DNS / BIND
    /// text format, detected from the file).
    #[command(after_help = "Example:\n  ceremony ksr show ksr.xml")]
    Show {
        /// The KSR.
        file: PathBuf,
    },
    /// Check a KSR against the policy (--config) as of --now: structure,
    /// proof of possession, key tags, algorithms, bundle times and counts,
    /// and, with --previous-skr, the previous SKR itself and the chain from
    /// it. Exits 3 if any check finds an error, 1 if a file is unreadable,
    /// 2 if the policy is not valid.
    #[command(
        after_help = "Example:\n  ceremony --now 2017-03-20T00:00:00Z ksr check ksr-root-2017-q2-0.xml --previous-skr skr-root-2017-q1-0.xml"
    )]
    Check {
        /// The KSR.
        file: PathBuf,
        /// SKR(n-1), the answer to the previous KSR: the trust anchor of the
        /// chain checks. Without it they are reported as not run.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
    },
    /// Submit a KSR to the ceremony service as the ZSK operator: the
    /// service runs every check and answers the findings; an accepted KSR
    /// is stored until the administrator confirms it. Exits 3 if refused.
    #[command(
        after_help = "Example:\n  ceremony ksr submit --server https://signer:8443 --tls-dir tls --as zsk-operator ksr.xml"
    )]
    Submit {
        #[command(flatten)]
        remote: crate::service::client::RemoteArgs,
        /// The KSR (IANA XML or Knot DNS / BIND text).
        file: PathBuf,
    },
}

/// Runs a `ksr` command.
pub fn run(command: Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show { file } => show(&file, context),
        Command::Check { file, previous_skr } => check(&file, previous_skr.as_deref(), context),
        Command::Submit { remote, file } => crate::service::client::submit(&remote, &file, context),
    }
}

fn show(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let document = Document::read(path)?;
    let ksr = match document.parse(DocumentRole::Ksr, |bytes, _| KsrDocument::parse(bytes)) {
        Ok(ksr) => ksr,
        Err(findings) => {
            let report = Report::new(Files::one(path), findings);
            return render::findings(context, &report, "not a readable KSR");
        }
    };
    match ksr {
        KsrDocument::Xml(ksr) => {
            if context.json {
                return show::json("ksr", path, &ksr);
            }
            show::header("KSR", &ksr.id, ksr.serial, &ksr.domain, ksr.timestamp)?;
            show::policy("ZSK", &ksr.zsk_policy)?;
            show::bundles(&ksr.bundles)?;
        }
        KsrDocument::Text(ksr) => show::text_ksr(path, &document.sha256(), &ksr, context.json)?,
    }
    Ok(Outcome::Success)
}

fn check(path: &Path, previous: Option<&Path>, context: &Context) -> Result<Outcome, CliError> {
    let policy = context.policy()?;
    let now = context.now()?;
    let ksr = Document::read(path)?;
    let previous = previous.map(Document::read).transpose()?;
    let checked = signer::check_ksr(&ksr, previous.as_ref(), policy.config(), now)?;
    let summary = match &checked.documents {
        None => "not readable".to_owned(),
        Some(documents @ Documents::Xml { .. }) => format!(
            "KSR {} with {} bundles, as of {}: {}",
            documents.id(),
            documents.bundle_count(),
            now.time,
            match &previous {
                Some(previous) => format!("chained to {}", previous.path.display()),
                None => "chain not checked (no --previous-skr)".to_owned(),
            }
        ),
        Some(documents @ Documents::Text { .. }) => {
            if !context.json {
                show::hashes(&ksr.sha256(), documents.zsk_set_sha256())?;
            }
            format!(
                "text KSR {} for {} ({} bundles){}",
                documents.id(),
                documents.domain(),
                documents.bundle_count(),
                if documents.has_previous() {
                    ", chained to the previous SKR"
                } else {
                    ""
                }
            )
        }
    };
    render::findings(context, &checked.report, &summary)
}

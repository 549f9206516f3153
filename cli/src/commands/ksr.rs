//! `ceremony ksr show|check|submit`.

use std::path::{Path, PathBuf};

use ksr::{CheckCode, DocumentRole, Finding, Severity};

use super::show;
use crate::ceremony::request::is_text_file;
use crate::context::NowSource;
use crate::document::{join, parse_file, read_parsed};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, Files};

/// The `ksr` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise a KSR: id, serial, domain, policy, and per bundle its keys
    /// and proof-of-possession signatures (IANA XML, or the Knot DNS / BIND
    /// text format, detected from the file).
    Show {
        /// The KSR (IANA XML).
        file: PathBuf,
    },
    /// Check a KSR against the policy (--config) as of --now: structure,
    /// proof of possession, key tags, algorithms, bundle times and counts,
    /// and, with --previous-skr, the previous SKR itself and the chain from
    /// it. Exits 3 if any check finds an error, 1 if a file is unreadable,
    /// 2 if the policy is not valid.
    Check {
        /// The KSR (IANA XML).
        file: PathBuf,
        /// SKR(n-1), the answer to the previous KSR: the trust anchor of the
        /// chain checks. Without it they are reported as not run.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
    },
    /// Submit a KSR to the ceremony service as the ZSK operator: the
    /// service runs every check and answers the findings; an accepted KSR
    /// is stored until the administrator confirms it. Exits 3 if refused.
    Submit {
        #[command(flatten)]
        remote: crate::service::client::RemoteArgs,
        /// The KSR (IANA XML).
        file: PathBuf,
    },
}

/// Runs a `ksr` command.
pub fn run(command: Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show { file } if is_text_file(&file)? => super::text::show_ksr(&file, context),
        Command::Show { file } => show(&file, context),
        Command::Check { file, previous_skr } if is_text_file(&file)? => {
            super::text::check_ksr(&file, previous_skr.as_deref(), context)
        }
        Command::Check { file, previous_skr } => check(&file, previous_skr.as_deref(), context),
        Command::Submit { remote, file } => super::remote::submit(&remote, &file, context),
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
        return show::json("ksr", path, &ksr);
    }
    show::header("KSR", &ksr.id, ksr.serial, &ksr.domain, ksr.timestamp)?;
    show::policy("ZSK", &ksr.zsk_policy)?;
    show::bundles(&ksr.bundles)?;
    Ok(Outcome::Success)
}

fn check(
    path: &Path,
    previous_path: Option<&Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let (config, _) = context.config()?;
    let (now, source) = context.now()?;
    let ksr = parse_file(path, DocumentRole::Ksr, ksr::parse_ksr)?;
    let previous = match previous_path {
        Some(previous_path) => Some(parse_file(
            previous_path,
            DocumentRole::PreviousSkr,
            ksr::parse_skr,
        )?),
        None => None,
    };
    let files = Files::with_previous(path, previous_path);
    let now_finding = now_finding(now, source);
    let mut findings = vec![now_finding];
    let (ksr, previous) = match join(ksr, previous) {
        Ok(both) => both,
        Err(unreadable) => {
            findings.extend(unreadable);
            return render::findings(context, &files, &mut findings, "not readable");
        }
    };
    findings.extend(ksr::validate_request(&ksr::Request {
        ksr: &ksr,
        previous: previous.as_ref(),
        config: &config,
        now,
    }));
    let chain = match previous_path {
        Some(previous_path) => format!("chained to {}", previous_path.display()),
        None => "chain not checked (no --previous-skr)".to_owned(),
    };
    let summary = format!(
        "KSR {} with {} bundles, as of {now}: {chain}",
        ksr.id,
        ksr.bundles.len()
    );
    render::findings(context, &files, &mut findings, &summary)
}

/// The TOOL-NOW info: the instant the checks used, and where it came from.
pub fn now_finding(now: ksr::Timestamp, source: NowSource) -> Finding {
    Finding {
        severity: Severity::Info,
        ..Finding::error(
            CheckCode::ToolNow,
            DocumentRole::Ksr,
            format!(
                "evaluated as of {now} ({})",
                match source {
                    NowSource::Option => "--now",
                    NowSource::SystemClock => "the system clock",
                }
            ),
        )
    }
}

//! `ceremony skr show|check`.

use std::path::{Path, PathBuf};

use ksr::DocumentRole;

use super::show;
use crate::ceremony::request::is_text_file;
use crate::document::{parse_file, read_parsed};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context};

/// The `skr` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise an SKR: id, serial, domain, both policies, and per bundle
    /// its keys and signatures.
    Show {
        /// The SKR (IANA XML).
        file: PathBuf,
    },
    /// Check an SKR: its structure, every key tag, that every signature
    /// verifies against the key it names over the bundle's DNSKEY RRset,
    /// and that its fields follow the response rules. Exits 3 if any check
    /// finds an error, 1 if the file is unreadable.
    Check {
        /// The SKR (IANA XML).
        file: PathBuf,
        /// Trusted KSKs: DNSKEY records in zone-file form. Each bundle must
        /// then carry a valid signature by one of them (SKR-ANCHOR).
        #[arg(long, value_name = "FILE")]
        ksk: Option<PathBuf>,
        /// The KSR this SKR answers: its bundles, ids, times and ZSKs must
        /// be the SKR's, and its KSKs configured ones (SKR-CONSISTENCY).
        #[arg(long, value_name = "KSR")]
        ksr: Option<PathBuf>,
        /// The SKR before this one: the safety checks (KSR-POLICY-SAFETY)
        /// compare them. Needs --ksr.
        #[arg(long, value_name = "SKR", requires = "ksr")]
        previous_skr: Option<PathBuf>,
        /// The signing schema the SKR was made with (built-in or from the
        /// policy): each bundle's KSKs, their flags and its signers must
        /// then be the schema's (SKR-CONSISTENCY.3, .4). Needs --ksr.
        #[arg(long, value_name = "NAME", requires = "ksr")]
        schema: Option<String>,
    },
    /// Download the SKR of a KSR the service signed, as the ZSK operator
    /// (or administrator): its hash must be the one the service announced,
    /// and it must pass its checks; it is never written over a file.
    Fetch {
        #[command(flatten)]
        remote: crate::service::client::RemoteArgs,
        /// The service's KSR identifier (ksr-…).
        id: String,
        /// Where to write the SKR.
        #[arg(short, long, value_name = "SKR")]
        out: PathBuf,
    },
}

/// Runs an `skr` command.
pub fn run(command: Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show { file } if is_text_file(&file)? => super::text::show_skr(&file, context),
        Command::Show { file } => show(&file, context),
        Command::Fetch { remote, id, out } => super::remote::fetch(&remote, &id, &out, context),
        Command::Check {
            file,
            ksk,
            ksr,
            previous_skr,
            schema,
        } => check(
            &file,
            ksk.as_deref(),
            ksr.as_deref(),
            previous_skr.as_deref(),
            schema.as_deref(),
            context,
        ),
    }
}

/// Reads and parses the document, or prints why it cannot be.
fn read(path: &Path, context: &Context) -> Result<Result<ksr::Skr, Outcome>, CliError> {
    read_parsed(
        path,
        DocumentRole::PreviousSkr,
        "SKR",
        ksr::parse_skr,
        context,
    )
}

fn show(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let skr = match read(path, context)? {
        Ok(skr) => skr,
        Err(outcome) => return Ok(outcome),
    };
    if context.json {
        return show::json("skr", path, &skr);
    }
    show::header("SKR", &skr.id, skr.serial, &skr.domain, skr.timestamp)?;
    show::policy("KSK", &skr.ksk_policy)?;
    show::policy("ZSK", &skr.zsk_policy)?;
    show::bundles(&skr.bundles)?;
    Ok(Outcome::Success)
}

fn check(
    path: &Path,
    ksk: Option<&Path>,
    ksr_path: Option<&Path>,
    previous_path: Option<&Path>,
    schema_name: Option<&str>,
    context: &Context,
) -> Result<Outcome, CliError> {
    // The trusted keys are read first: a bad --ksk file is a usage mistake
    // that should not hide behind the document's findings.
    let trusted = match ksk {
        Some(ksk_path) => {
            let text = std::fs::read_to_string(ksk_path).map_err(|source| CliError::Read {
                path: ksk_path.to_owned(),
                source,
            })?;
            let records = ksr::read_dnskeys(&text).map_err(|source| CliError::ZoneFile {
                source_name: ksk_path.display().to_string(),
                source,
            })?;
            Some(
                records
                    .into_iter()
                    .map(|record| record.dnskey)
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    if is_text_file(path)? {
        if previous_path.is_some() || schema_name.is_some() {
            return Err(CliError::Usage(
                "--previous-skr and --schema are for XML SKRs; a text SKR is checked by itself, with --ksr and --ksk".into(),
            ));
        }
        return super::text::check_skr(path, trusted.as_deref(), ksr_path, context);
    }
    let role = DocumentRole::NewSkr;
    let files = render::Files::answer(path, ksr_path, previous_path);
    let skr = parse_file(path, role, ksr::parse_skr)?;
    let request = ksr_path
        .map(|ksr_path| parse_file(ksr_path, DocumentRole::Ksr, ksr::parse_ksr))
        .transpose()?;
    let previous = previous_path
        .map(|previous_path| parse_file(previous_path, DocumentRole::PreviousSkr, ksr::parse_skr))
        .transpose()?;
    let (skr, request, previous) = match (skr, request.transpose(), previous.transpose()) {
        (Ok(skr), Ok(request), Ok(previous)) => (skr, request, previous),
        (skr, request, previous) => {
            let mut findings = skr.err().unwrap_or_default();
            findings.extend(request.err().unwrap_or_default());
            findings.extend(previous.err().unwrap_or_default());
            return render::findings(context, &files, &mut findings, "not readable");
        }
    };
    let mut findings = ksr::check_skr(&skr, role);
    let answers = match &request {
        Some(request) => {
            let (config, _) = context.config()?;
            let schema = schema_name
                .map(|name| ksr::resolve_schema(&config, name, request.bundles.len()))
                .transpose()
                .map_err(CliError::Schema)?;
            findings.extend(ksr::check_response(
                &skr,
                request,
                previous.as_ref(),
                &config,
                schema.as_ref(),
            ));
            let schema = schema_name
                .map(|name| format!(" and schema {name}"))
                .unwrap_or_default();
            match previous_path {
                Some(previous_path) => format!(
                    ", checked against its KSR{schema} and for safety after {}",
                    previous_path.display()
                ),
                None => format!(", checked against its KSR{schema}"),
            }
        }
        None => String::new(),
    };
    let signatures: usize = skr
        .bundles
        .iter()
        .map(|bundle| bundle.signatures.len())
        .sum();
    let anchor = match &trusted {
        Some(keys) => {
            findings.extend(ksr::check_skr_anchor(&skr, keys, role));
            let tags: Vec<String> = keys.iter().map(|key| key.key_tag().to_string()).collect();
            format!(
                "each bundle anchored to a trusted KSK ({})",
                tags.join(", ")
            )
        }
        None => "not anchored (no --ksk)".to_owned(),
    };
    let summary = format!(
        "SKR {} with {} bundles and {signatures} signatures: structure, key tags and signatures checked, {anchor}{answers}",
        skr.id,
        skr.bundles.len()
    );
    render::findings(context, &files, &mut findings, &summary)
}

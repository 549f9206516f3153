//! `ceremony skr show|check|fetch`, for both formats.

use std::path::{Path, PathBuf};

use ksr::{DocumentRole, SkrDocument};
use signer::{Anchor, Document, Files, Report, SkrCheck};

use super::show;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render;

/// The `skr` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise an SKR: id, serial, domain, both policies, and per bundle
    /// its keys and signatures.
    #[command(after_help = "Example:\n  ceremony skr show skr.xml")]
    Show {
        /// The SKR (IANA XML or Knot DNS / BIND text).
        file: PathBuf,
    },
    /// Check an SKR: its structure, every key tag, that every signature
    /// verifies against the key it names over the bundle's DNSKEY RRset,
    /// and that its fields follow the response rules. Inside a ceremony
    /// (--config, or ./ceremony.toml) each bundle must carry a signature by
    /// a KSK the policy pins, unless --ksk names other keys. Exits 3 if any
    /// check finds an error, 1 if the file is unreadable.
    #[command(after_help = "Examples:
  ceremony --config c/ceremony.toml skr check skr.xml --ksr ksr.xml
  ceremony skr check skr-root-2017-q2-0.xml --ksr ksr-root-2017-q2-0.xml --previous-skr skr-root-2017-q1-0.xml")]
    Check {
        /// The SKR.
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
    #[command(
        after_help = "Example:\n  ceremony skr fetch --server https://signer:8443 --tls-dir tls --as zsk-operator ksr-0a1b2c3d4e5f -o skr.xml"
    )]
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
        Command::Show { file } => show(&file, context),
        Command::Fetch { remote, id, out } => {
            crate::service::client::fetch(&remote, &id, &out, context)
        }
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

fn show(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let document = Document::read(path)?;
    let skr = match document.parse(DocumentRole::PreviousSkr, SkrDocument::parse) {
        Ok(skr) => skr,
        Err(findings) => {
            let report = Report::new(Files::one(path), findings);
            return render::findings(context, &report, "not a readable SKR");
        }
    };
    match skr {
        SkrDocument::Xml(skr) => {
            if context.json {
                return show::json("skr", path, &skr);
            }
            show::header("SKR", &skr.id, skr.serial, &skr.domain, skr.timestamp)?;
            show::policy("KSK", &skr.ksk_policy)?;
            show::policy("ZSK", &skr.zsk_policy)?;
            show::bundles(&skr.bundles)?;
        }
        SkrDocument::Text(skr) => show::text_skr(path, &skr, context.json)?,
    }
    Ok(Outcome::Success)
}

fn check(
    path: &Path,
    ksk: Option<&Path>,
    ksr_path: Option<&Path>,
    previous_path: Option<&Path>,
    schema: Option<&str>,
    context: &Context,
) -> Result<Outcome, CliError> {
    // The trusted keys are read first: a bad --ksk file is a usage mistake
    // that should not hide behind the document's findings.
    let anchor = match ksk {
        Some(ksk_path) => {
            let text = std::fs::read_to_string(ksk_path).map_err(signer::Error::read(ksk_path))?;
            let records = ksr::read_dnskeys(&text).map_err(|source| CliError::ZoneFile {
                source_name: ksk_path.display().to_string(),
                source,
            })?;
            Anchor::Keys(records.into_iter().map(|record| record.dnskey).collect())
        }
        None if context.policy_path().is_some() => Anchor::Pins,
        None => Anchor::None,
    };
    let policy = context.policy()?;
    let skr = Document::read(path)?;
    let ksr = ksr_path.map(Document::read).transpose()?;
    let previous = previous_path.map(Document::read).transpose()?;
    let checked = signer::check_skr(
        &SkrCheck {
            skr: &skr,
            ksr: ksr.as_ref(),
            previous: previous.as_ref(),
            schema,
            anchor: anchor.clone(),
        },
        policy.config(),
    )?;
    let Some(document) = &checked.skr else {
        return render::findings(context, &checked.report, "not readable");
    };
    let anchored = match (&anchor, checked.anchored_to.as_slice()) {
        (Anchor::None, _) => "not anchored (no --ksk, no ceremony)".to_owned(),
        (Anchor::Pins, []) => "anchored to the policy's KSKs, none of which is in it".to_owned(),
        (Anchor::Pins, tags) => {
            format!("each bundle anchored to the policy's KSKs ({})", join(tags))
        }
        (Anchor::Keys(_), tags) => {
            format!("each bundle anchored to a trusted KSK ({})", join(tags))
        }
    };
    let model = document.to_model();
    let signatures: usize = model
        .bundles
        .iter()
        .map(|bundle| bundle.signatures.len())
        .sum();
    let against = match (ksr_path, previous_path, schema) {
        (None, _, _) => String::new(),
        (Some(_), None, None) => ", checked against its KSR".to_owned(),
        (Some(_), None, Some(schema)) => format!(", checked against its KSR and schema {schema}"),
        (Some(_), Some(previous), schema) => format!(
            ", checked against its KSR{} and for safety after {}",
            schema
                .map(|schema| format!(" and schema {schema}"))
                .unwrap_or_default(),
            previous.display()
        ),
    };
    let mut summary = match document {
        SkrDocument::Xml(skr) => format!(
            "SKR {} with {} bundles and {signatures} signatures: structure, key tags and signatures checked, {anchored}{against}",
            skr.id,
            skr.bundles.len()
        ),
        SkrDocument::Text(skr) => format!(
            "text SKR for {} with {} bundles and {signatures} signatures: each bundle's signatures checked with its keys, continuity checked, {anchored}{against}",
            skr.domain,
            skr.bundles.len()
        ),
    };
    if let Some(shape) = signer::emergency_shape(&model) {
        summary.push_str(&format!(
            "; an EMERGENCY SKR: every bundle publishes KSK {} revoked and is signed by {}, the standby: import it only on a compromise of the current KSK",
            join(&shape.revoked),
            join(&shape.standby)
        ));
        let sha256 = hex::encode(skr.sha256());
        if let Some((time, standby)) = context
            .policy_path()
            .and_then(|policy| policy.parent().map(signer::Layout::new))
            .and_then(|layout| signer::emergency_record(&layout, &sha256))
        {
            summary.push_str(&format!(
                " (this ceremony's audit log, read as it is, records it: signed {time}, rolling to {standby})"
            ));
        }
    }
    render::findings(context, &checked.report, &summary)
}

fn join(tags: &[u16]) -> String {
    tags.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

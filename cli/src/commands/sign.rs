//! `ceremony sign`: a KSR in, an SKR out, once a quorum of officers has
//! presented their cards (DESIGN.md, "The main job"); with `--server`, the
//! administrator's confirmation of a KSR submitted to the service.

use std::path::PathBuf;

use ksr::Timestamp;
use serde::Serialize;
use signer::{Accepted, Document, OutputFormat, Previous, Refused, SignRequest, prepare_sign};

use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;
use crate::service::client::RemoteArgs;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ceremony --config c/ceremony.toml sign ksr.xml --previous-skr skr-q1.xml -o skr-q2.xml
  ceremony --config c/ceremony.toml sign ksr.xml --no-previous-skr -o skr.xml \\
      --cards c/cards/CO-1.card c/cards/CO-3.card --pin-file pins.toml --yes
  ceremony sign ksr-0a1b2c3d4e5f --server https://signer:8443 --tls-dir tls --as admin -o skr.xml")]
pub struct Args {
    /// The KSR to sign (IANA XML or Knot DNS / BIND text); with --server,
    /// the service's identifier of a submitted KSR (ksr-…).
    ksr: PathBuf,
    /// The SKR of the previous quarter: the chain and safety checks run
    /// against it.
    #[arg(long, value_name = "SKR", conflicts_with = "server")]
    previous_skr: Option<PathBuf>,
    /// Sign without the previous SKR (a first quarter); recorded in the
    /// audit log and shown before the confirmation.
    #[arg(long, conflicts_with = "previous_skr")]
    no_previous_skr: bool,
    /// Where to write the SKR (never overwritten); with --server, where to
    /// download it once signed.
    #[arg(short, long, value_name = "SKR")]
    out: Option<PathBuf>,
    /// Confirm a KSR submitted to this ceremony service, as its
    /// administrator, and follow the signing (needs --tls-dir and --as).
    #[arg(long, value_name = "URL", requires_all = ["tls_dir", "name"], conflicts_with_all = ["cards", "pin_file"])]
    server: Option<String>,
    /// With --server: the directory `ceremony serve --init-tls` made.
    #[arg(long, value_name = "DIR", requires = "server")]
    tls_dir: Option<PathBuf>,
    /// With --server: whose certificate to show (admin).
    #[arg(long = "as", value_name = "NAME", requires = "server")]
    name: Option<String>,
    /// The signing schema: normal, pre-publish, rollover, revoke, publish+,
    /// rollover+, revoke+, or one of the policy's.
    #[arg(long, default_value = "normal", value_name = "NAME")]
    schema: String,
    #[command(flatten)]
    quorum: QuorumArgs,
    /// The SKR's format: knot or bind (text, for a text KSR) or iana (XML,
    /// for an XML KSR) [default: the KSR's, in the requester's dialect].
    #[arg(long, value_enum, conflicts_with = "server")]
    format: Option<FormatArg>,
    /// For a text KSR: the end of the last bundle's span (BIND's -e), in
    /// RFC 3339 UTC; re-signing bundles are made up to it. Without it the
    /// last bundle is signed once, at its time.
    #[arg(long, value_name = "RFC3339", conflicts_with = "server")]
    end: Option<String>,
}

/// The format an SKR is written in (`sign --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Text, Unix seconds in headers (Knot DNS).
    Knot,
    /// Text, `YYYYMMDDhhmmss` in headers (BIND 9.20).
    Bind,
    /// IANA XML.
    Iana,
}

/// What `sign` reports in JSON.
#[derive(Serialize)]
struct Report<'a> {
    skr: &'a str,
    skr_sha256: &'a str,
    skr_pgp_words: String,
    ksr: String,
    ksr_sha256: &'a str,
    schema: &'a str,
    bundles: usize,
    signers: &'a [u16],
    accepted: &'a [Accepted],
    refused: &'a [Refused],
    warnings: &'a [String],
    waivers: &'a [String],
    audit_head: &'a str,
}

/// Runs `sign`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if let (Some(server), Some(tls_dir), Some(name)) = (&args.server, &args.tls_dir, &args.name) {
        let remote = RemoteArgs {
            server: server.clone(),
            tls_dir: tls_dir.clone(),
            name: name.clone(),
        };
        let confirm = crate::service::client::Confirm {
            schema: args.schema.clone(),
            no_previous_skr: args.no_previous_skr,
            yes: args.quorum.yes,
        };
        let id = args.ksr.to_string_lossy();
        return crate::service::client::confirm_and_follow(
            &remote,
            &id,
            &confirm,
            args.out.as_deref(),
            context,
        );
    }
    let output = args.out.clone().ok_or(CliError::Value {
        option: "out",
        value: String::new(),
        expected: "give -o SKR: where the SKR is written",
    })?;
    let previous = match (&args.previous_skr, args.no_previous_skr) {
        (Some(path), _) => Previous::Given(Document::read(path)?),
        (None, true) => Previous::Waived,
        (None, false) => return Err(CliError::PreviousChoice),
    };
    let end = args
        .end
        .as_deref()
        .map(|text| {
            Timestamp::parse_document(text).map_err(|source| CliError::Now {
                text: text.to_owned(),
                source,
            })
        })
        .transpose()?;
    let request = SignRequest {
        ksr: Document::read(&args.ksr)?,
        previous,
        output,
        schema: args.schema.clone(),
        format: args.format.map(|format| match format {
            FormatArg::Knot => OutputFormat::Knot,
            FormatArg::Bind => OutputFormat::Bind,
            FormatArg::Iana => OutputFormat::Iana,
        }),
        end,
        now: context.now()?,
    };
    let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
    let mut ceremony = context.open_ceremony("sign")?;
    let prepared = prepare_sign(&ceremony, request)?;
    let done = quorum::run(&mut ceremony, prepared, &args.quorum, secrets, context)?;
    let signed = &done.output;
    let words = ksr::pgp_words(&hex::decode(&signed.skr_sha256).unwrap_or_default());
    if context.json {
        render::json(&Report {
            skr: &signed.skr,
            skr_sha256: &signed.skr_sha256,
            skr_pgp_words: words,
            ksr: args.ksr.display().to_string(),
            ksr_sha256: &signed.ksr_sha256,
            schema: &signed.schema,
            bundles: signed.bundles,
            signers: &signed.signers,
            accepted: &done.accepted,
            refused: &done.refused,
            warnings: &done.summary.warnings,
            waivers: &done.summary.waivers,
            audit_head: &done.audit_head,
        })?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "SKR written: {} ({} bundles, signed by {})",
        signed.skr,
        signed.bundles,
        signed
            .signers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    render::table(&signed.table, &signed.ksks)?;
    for line in render::hash_lines("SKR", &signed.skr_sha256) {
        out(line)?;
    }
    out("HSM sealed")?;
    render::audit_head(&done.audit_head)?;
    Ok(Outcome::Success)
}

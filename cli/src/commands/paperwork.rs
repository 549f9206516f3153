//! `ceremony script` and `ceremony record`: the printed script of the
//! coming ceremony, and the same document filled from the audit log.
//!
//! Both read the ceremony (its roster, keys, policy and audit log) and the
//! transfer set as the signer reads it; the pages are made by
//! `paperwork/` (the model, the steps, the filling from the log, the one
//! HTML renderer) and written once, never over an existing file.

use std::path::{Path, PathBuf};

use serde::Serialize;
use signer::Ceremony;
use signer::media::{Hop, MediaError, TransferSet, Verified};

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::paperwork::filling::{Log, Medium, Operation, Pick};
use crate::paperwork::model::{Document, Kind, Role};
use crate::paperwork::plan::{Key, Officer, Parameters, Transfer};
use crate::paperwork::{filling, html, plan};
use crate::render::{self, out};

/// Arguments of `script`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Where it runs: on the offline signer, before the ceremony, with the medium
from the intake inserted; the transfer set is verified under the pinned
intake key as `sign --media` verifies it, and nothing is signed. Print the
page (A4) for the Internal Witness; the previous audit head on it is the
log's head now, compared at the start of the ceremony.

Example:
  ceremony --config c/ceremony.toml script --media /media/usb/ksr-0a1b2c3d4e5f --out script.html
"
)]
pub struct ScriptArgs {
    /// The transfer set the ceremony will sign (MEDIA/<ID>, as the intake
    /// exported it).
    #[arg(long, value_name = "DIR")]
    media: PathBuf,
    /// Where to write the HTML page (never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Arguments of `record`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Where it runs: on the offline signer, after the ceremony. The record is
the script's steps filled from the audit log: the time of each step's
entries, every card inserted, accepted or refused, every wrong PIN, the
KSR's and the SKR's hashes and the audit head at the close, with each
entry's number and hash. With --media, the hashes on the medium (verified
under the pinned intake key) are compared with the log's.

Examples:
  ceremony --config c/ceremony.toml record --media /media/usb/ksr-0a1b2c3d4e5f --out record.html
  ceremony --config c/ceremony.toml record --operation 21 --out record-21.html
"
)]
pub struct RecordArgs {
    /// The transfer set that was signed (MEDIA/<ID>, with the SKR added):
    /// picks the last signing of it, and compares its hashes with the
    /// log's [default: the last signing in the log, medium not read].
    #[arg(long, value_name = "DIR")]
    media: Option<PathBuf>,
    /// The signing whose opening entry (sign-begin) has this number in the
    /// audit log (`ceremony audit show`).
    #[arg(long, value_name = "SEQ")]
    operation: Option<u64>,
    /// Where to write the HTML page (never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// What `script` and `record` report in JSON.
#[derive(Serialize)]
struct Written {
    kind: &'static str,
    out: String,
    steps: usize,
    officers: usize,
    threshold: usize,
    transfer: Option<String>,
    ksr_sha256: Option<String>,
    previous_audit_head: String,
    /// The record's signing: its opening entry.
    operation: Option<u64>,
    outcome: Option<String>,
    skr_sha256: Option<String>,
    /// The head after the closing entry.
    audit_head: Option<String>,
    refusals: Option<usize>,
}

/// Runs `script`.
pub fn script(args: &ScriptArgs, context: &Context) -> Result<Outcome, CliError> {
    refuse_existing(&args.out)?;
    let ceremony = context.open_ceremony("script")?;
    let verified = read_set(&ceremony, &args.media, Hop::ToSigner)?.1;
    let head = ceremony.audit_head();
    let head_entry = ceremony
        .recent_entries()
        .last()
        .map_or(0, |entry| entry.seq);
    let mut parameters = parameters(&ceremony, context, (head, head_entry))?;
    parameters.transfer = transfer(&verified, &args.media);
    parameters.transfer.previous_skr_sha256 = verified
        .previous
        .as_ref()
        .map(|skr| hex::encode(skr.sha256()));
    parameters.first_quarter = verified.previous.is_none() && parameters.last_skr_sha256.is_none();
    let document = Document {
        kind: Kind::Script,
        title: format!(
            "Ceremony script: signing {} for {}",
            verified.manifest.id, parameters.domain
        ),
        subtitle: format!(
            "Printed from the ceremony in {} and the transfer set {}; the boxes are filled in by hand during the ceremony.",
            parameters.ceremony_dir,
            args.media.display()
        ),
        rehearsal: parameters.rehearsal,
        before: plan::sections(&parameters),
        steps: plan::steps(&parameters),
        after: Vec::new(),
        signatures: vec![Role::Administrator, Role::Witness],
    };
    write(&args.out, &document)?;
    let written = Written {
        kind: "script",
        out: args.out.display().to_string(),
        steps: document.steps.len(),
        officers: parameters.officers.len(),
        threshold: parameters.threshold,
        transfer: Some(verified.manifest.id.clone()),
        ksr_sha256: parameters.transfer.ksr_sha256.clone(),
        previous_audit_head: parameters.previous_head.0.clone(),
        operation: None,
        outcome: None,
        skr_sha256: None,
        audit_head: None,
        refusals: None,
    };
    report(&written, context)
}

/// Runs `record`.
pub fn record(args: &RecordArgs, context: &Context) -> Result<Outcome, CliError> {
    refuse_existing(&args.out)?;
    let ceremony = context.open_ceremony("record")?;
    let entries = hsm::read_audit_log(&ceremony.layout().audit()).map_err(signer::Error::from)?;
    let head = ceremony.audit_head();
    let log = Log::new(entries, &head);
    let set = args
        .media
        .as_deref()
        .map(|dir| read_set(&ceremony, dir, Hop::BackToIntake))
        .transpose()?;
    let pick = match (args.operation, &set) {
        (Some(seq), _) => Pick::Begun(seq),
        (None, Some((_, verified))) => Pick::Transfer {
            id: verified.manifest.id.clone(),
            dir: verified.dir.display().to_string(),
        },
        (None, None) => Pick::Last,
    };
    let operation = Operation::find(&log, &pick).map_err(|missing| CliError::Value {
        option: match pick {
            Pick::Begun(_) => "operation",
            Pick::Transfer { .. } => "media",
            Pick::Last => "config",
        },
        value: match &pick {
            Pick::Begun(seq) => seq.to_string(),
            Pick::Transfer { dir, .. } => dir.clone(),
            Pick::Last => context
                .policy_path()
                .map(|path| path.display().to_string())
                .unwrap_or_default(),
        },
        expected: missing.expected(),
    })?;
    let begin = operation.begin;
    let previous = (begin.prev.clone(), begin.seq.saturating_sub(1));
    let mut parameters = parameters(&ceremony, context, previous)?;
    if let Some(rehearsal) = begin
        .details
        .get("rehearsal")
        .and_then(serde_json::Value::as_bool)
    {
        parameters.rehearsal = rehearsal;
    }
    let verified_entry = operation.first("transfer-verified");
    let logged = |key: &str| {
        verified_entry
            .and_then(|entry| entry.details.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let dir = begin
        .details
        .get("media")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    parameters.transfer = match &set {
        Some((_, verified)) => transfer(verified, &verified.dir),
        None => Transfer {
            id: logged("transfer"),
            dir: dir.clone().or_else(|| logged("dir")).unwrap_or_default(),
            ..transfer_unknown()
        },
    };
    // What the log recorded is what the record shows; the medium is
    // compared with it below.
    let transfer = &mut parameters.transfer;
    transfer.dir = dir.unwrap_or_else(|| transfer.dir.clone());
    transfer.id = logged("transfer").or_else(|| transfer.id.clone());
    transfer.ksr_sha256 = logged("ksr_sha256").or_else(|| transfer.ksr_sha256.clone());
    transfer.manifest_sha256 =
        logged("manifest_sha256").or_else(|| transfer.manifest_sha256.clone());
    transfer.intake_key = logged("intake_key").or_else(|| transfer.intake_key.clone());
    transfer.previous_skr_sha256 = logged("previous_skr_sha256");
    parameters.last_skr_sha256 = transfer.previous_skr_sha256.clone();
    parameters.first_quarter = transfer.previous_skr_sha256.is_none();
    let medium = set.as_ref().map(|(set, verified)| Medium {
        dir: verified.dir.display().to_string(),
        ksr_sha256: hex::encode(verified.ksr.sha256()),
        skr: set
            .skr(verified)
            .map(|(skr, manifest)| (hex::encode(skr.sha256()), manifest.audit_head))
            .map_err(|err| err.to_string()),
    });
    let mut steps = plan::steps(&parameters);
    filling::fill(&mut steps, &operation);
    let after = filling::sections(&operation, medium.as_ref(), &log, &head);
    let document = Document {
        kind: Kind::Record,
        title: format!(
            "Ceremony record: signing {} for {}",
            parameters
                .transfer
                .id
                .as_deref()
                .unwrap_or("(no transfer set verified)"),
            parameters.domain
        ),
        subtitle: format!(
            "Filled from the audit log of {}: the signing opened at entry {} ({}), {}. Sign it and archive it with the log.",
            parameters.ceremony_dir,
            begin.seq,
            begin.time,
            operation.outcome()
        ),
        rehearsal: parameters.rehearsal,
        before: plan::sections(&parameters),
        steps,
        after,
        signatures: vec![Role::Administrator, Role::Witness],
    };
    write(&args.out, &document)?;
    let skr = operation.first("skr-written");
    let written = Written {
        kind: "record",
        out: args.out.display().to_string(),
        steps: document.steps.len(),
        officers: parameters.officers.len(),
        threshold: parameters.threshold,
        transfer: parameters.transfer.id.clone(),
        ksr_sha256: parameters.transfer.ksr_sha256.clone(),
        previous_audit_head: parameters.previous_head.0.clone(),
        operation: Some(begin.seq),
        outcome: Some(operation.outcome().to_owned()),
        skr_sha256: skr
            .and_then(|entry| entry.details.get("skr_sha256"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        audit_head: operation
            .close
            .map(|close| operation.hash(close).to_owned()),
        refusals: Some(filling::refusals(&operation)),
    };
    report(&written, context)
}

/// An existing `--out` is refused before anything is read.
fn refuse_existing(path: &Path) -> Result<(), CliError> {
    if path.symlink_metadata().is_ok() {
        return Err(signer::Error::OutputExists(path.to_owned()).into());
    }
    Ok(())
}

/// Reads a transfer set and verifies it under the pinned intake key, as
/// the signer does.
fn read_set(
    ceremony: &Ceremony,
    dir: &Path,
    hop: Hop,
) -> Result<(TransferSet, Verified), CliError> {
    let key = ceremony
        .chain()
        .intake_key
        .ok_or(signer::Error::Media(MediaError::NoKey))?;
    let set = TransferSet::read(dir, hop).map_err(signer::Error::from)?;
    let verified = set.verify(&key).map_err(signer::Error::from)?;
    Ok((set, verified))
}

/// The ceremony's own parameters: the roster, the keys, the policy.
fn parameters(
    ceremony: &Ceremony,
    context: &Context,
    previous_head: (String, u64),
) -> Result<Parameters, CliError> {
    let roster = ceremony.roster();
    let keys = ceremony
        .key_entries()?
        .into_iter()
        .map(|entry| Key {
            // A DS record's last field is its digest.
            ds_sha256: entry
                .ds
                .split_whitespace()
                .last()
                .unwrap_or_default()
                .to_owned(),
            label: entry.label,
            policy_name: entry.policy_name,
            tag: entry.key_tag,
        })
        .collect();
    Ok(Parameters {
        config: context
            .policy_path()
            .map(|path| path.display().to_string())
            .unwrap_or_default(),
        ceremony_dir: ceremony.layout().root().display().to_string(),
        rehearsal: ceremony.is_rehearsal(),
        domain: ceremony.policy().domain()?.to_string(),
        policy_sha256: hex::encode(ceremony.policy().sha256()),
        generation: roster.generation(),
        threshold: roster.threshold(),
        officers: roster
            .officers()
            .iter()
            .map(|officer| Officer {
                name: officer.name.clone(),
                role: officer.role.clone(),
                serial: officer.card_serial.clone(),
            })
            .collect(),
        keys,
        transfer: transfer_unknown(),
        last_skr_sha256: ceremony
            .chain()
            .last_skr
            .as_ref()
            .map(|last| last.sha256.clone()),
        first_quarter: false,
        previous_head,
    })
}

/// A transfer set not read yet.
fn transfer_unknown() -> Transfer {
    Transfer {
        id: None,
        dir: String::new(),
        ksr_id: None,
        ksr_format: None,
        bundles: None,
        exported: None,
        ksr_sha256: None,
        manifest_sha256: None,
        intake_key: None,
        previous_skr_sha256: None,
        findings: Vec::new(),
    }
}

/// A verified set's facts.
fn transfer(verified: &Verified, dir: &Path) -> Transfer {
    let manifest = &verified.manifest;
    Transfer {
        id: Some(manifest.id.clone()),
        dir: dir.display().to_string(),
        ksr_id: Some(manifest.ksr_id.clone()),
        ksr_format: Some(manifest.ksr_format.clone()),
        bundles: Some(manifest.bundles),
        exported: Some(manifest.exported.clone()),
        ksr_sha256: Some(hex::encode(verified.ksr.sha256())),
        manifest_sha256: Some(verified.manifest_sha256.clone()),
        intake_key: Some(verified.key.fingerprint()),
        previous_skr_sha256: verified
            .previous
            .as_ref()
            .map(|skr| hex::encode(skr.sha256())),
        findings: manifest
            .findings
            .iter()
            .map(|finding| format!("{} {}: {}", finding.severity, finding.code, finding.message))
            .collect(),
    }
}

/// Writes the page, never over an existing file.
fn write(path: &Path, document: &Document) -> Result<(), CliError> {
    let page = html::render(document);
    durable::write(path, page.as_bytes(), durable::Replace::Never)
        .map_err(|err| CliError::Signer(err.into()))
}

/// What a written page prints.
fn report(written: &Written, context: &Context) -> Result<Outcome, CliError> {
    if context.json {
        render::json(written)?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "{} written: {} ({} steps; print it on A4)",
        written.kind, written.out, written.steps
    ))?;
    if let Some(ksr) = &written.ksr_sha256 {
        out(format!("KSR SHA-256 {ksr}"))?;
    }
    out(format!(
        "previous audit head {}",
        written.previous_audit_head
    ))?;
    if let (Some(operation), Some(outcome)) = (written.operation, &written.outcome) {
        out(format!(
            "the signing opened at audit entry {operation}: {outcome}, {} refusal(s) recorded",
            written.refusals.unwrap_or(0)
        ))?;
    }
    if let Some(skr) = &written.skr_sha256 {
        out(format!("SKR SHA-256 {skr}"))?;
    }
    if let Some(head) = &written.audit_head {
        out(format!("audit head at the close {head}"))?;
    }
    Ok(Outcome::Success)
}

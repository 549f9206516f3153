//! The ZSK operator's and administrator's clients of the service:
//! `ceremony ksr submit`, `ceremony skr fetch`, `ceremony sign --server`.

use std::path::Path;
use std::time::Duration;

use ksr::DocumentRole;
use sha2::{Digest as _, Sha256};

use crate::ceremony::files::write_atomically;
use crate::commands::present::{expect, failure};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::service::client::{Remote, RemoteArgs};
use crate::service::wire::{KsrRecord, KsrState, REFUSED_PREFIX, SignRequest, Status};

/// `ksr submit`: uploads a KSR; prints the findings and, if it was
/// accepted, its identifier and hash.
pub fn submit(remote: &RemoteArgs, file: &Path, context: &Context) -> Result<Outcome, CliError> {
    let bytes = std::fs::read(file).map_err(|source| CliError::Read {
        path: file.to_owned(),
        source,
    })?;
    let answer = Remote::connect(remote)?.post("/ksrs", "application/xml", &bytes)?;
    let value: serde_json::Value = match answer.status {
        200 | 201 | 422 => answer.json()?,
        _ => return Err(failure(&answer)),
    };
    if context.json {
        render::json(&value)?;
    } else {
        let findings = value
            .pointer("/report/findings")
            .and_then(serde_json::Value::as_array);
        for finding in findings.into_iter().flatten() {
            out(format!(
                "{:<8}{:<22} {}",
                finding["severity"].as_str().unwrap_or(""),
                finding["code"].as_str().unwrap_or(""),
                finding["message"].as_str().unwrap_or("")
            ))?;
        }
        match value.get("ksr").and_then(serde_json::Value::as_object) {
            Some(ksr) => {
                out(format!(
                    "{} {} ({} bundles): {}",
                    file.display(),
                    if answer.status == 201 {
                        "accepted as"
                    } else {
                        "was already stored as"
                    },
                    ksr["bundles"],
                    ksr["id"].as_str().unwrap_or("")
                ))?;
                out(format!(
                    "KSR SHA-256 {}",
                    ksr["sha256"].as_str().unwrap_or("")
                ))?;
                out(format!("  {}", ksr["pgp_words"].as_str().unwrap_or("")))?;
            }
            None => out(format!("{}: {}", file.display(), answer.error()))?,
        }
    }
    Ok(if answer.status == 422 {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// `skr fetch`: downloads the SKR of a signed KSR, checks that it is the
/// SKR the service announced and that it is valid, and writes it (never
/// overwriting).
pub fn fetch(
    remote: &RemoteArgs,
    id: &str,
    path: &Path,
    context: &Context,
) -> Result<Outcome, CliError> {
    let remote = Remote::connect(remote)?;
    let record: KsrRecord = expect(remote.get(&format!("/ksrs/{id}"))?)?.json()?;
    download(&remote, &record, path, context)
}

fn download(
    remote: &Remote,
    record: &KsrRecord,
    path: &Path,
    context: &Context,
) -> Result<Outcome, CliError> {
    let bytes = expect(remote.get(&format!("/ksrs/{}/skr", record.id))?)?.body;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if record.skr_sha256.as_deref() != Some(sha256.as_str()) {
        return Err(CliError::Runtime(format!(
            "the SKR downloaded has SHA-256 {sha256}, not the {} the service announced; nothing was written",
            record.skr_sha256.as_deref().unwrap_or("none")
        )));
    }
    let skr = ksr::parse_skr(&bytes, DocumentRole::NewSkr).map_err(|_| {
        CliError::Runtime("the SKR downloaded does not parse; nothing was written".into())
    })?;
    if ksr::check_skr(&skr, DocumentRole::NewSkr)
        .iter()
        .any(ksr::Finding::is_error)
    {
        return Err(CliError::Runtime(
            "the SKR downloaded fails its checks (ceremony skr check); nothing was written".into(),
        ));
    }
    write_atomically(path, &bytes, true).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })?;
    if context.json {
        render::json(
            &serde_json::json!({"skr": path.display().to_string(), "sha256": sha256, "ksr": record}),
        )?;
    } else {
        out(format!("SKR written: {}", path.display()))?;
        out(format!("SKR SHA-256 {sha256}"))?;
        out(format!(
            "  {}",
            record.skr_pgp_words.as_deref().unwrap_or("")
        ))?;
    }
    Ok(Outcome::Success)
}

/// What the administrator decides with `sign --server`.
pub struct Confirm {
    /// The signing schema.
    pub schema: String,
    /// Sign without a previous SKR at the service.
    pub no_previous_skr: bool,
    /// Do not ask (scripted runs).
    pub yes: bool,
}

/// `sign --server`: the administrator reads the KSR's hash (hex and PGP
/// words, to compare out of band with the ZSK operator's), confirms it,
/// and follows the ceremony until the SKR exists (or signing fails); with
/// `-o` the SKR is downloaded. The confirmation names the hash, so the
/// service signs exactly the KSR that was read out.
pub fn sign(
    remote: &RemoteArgs,
    id: &str,
    confirm: &Confirm,
    output: Option<&Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let remote = Remote::connect(remote)?;
    let record: KsrRecord = expect(remote.get(&format!("/ksrs/{id}"))?)?.json()?;
    if !context.json {
        out(format!(
            "{}: KSR {} for {} ({} bundles), submitted by {}",
            record.id, record.request_id, record.domain, record.bundles, record.submitted_by
        ))?;
        out(format!("KSR SHA-256 {}", record.sha256))?;
        out(format!("  {}", record.pgp_words))?;
    }
    if !confirm.yes && !crate::commands::sign::confirm()? {
        return Err(CliError::Usage("not confirmed: nothing was signed".into()));
    }
    let request = SignRequest {
        ksr_sha256: record.sha256.clone(),
        schema: Some(confirm.schema.clone()),
        no_previous_skr: confirm.no_previous_skr,
    };
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Runtime(err.to_string()))?;
    let answer = remote.post(&format!("/ksrs/{id}/sign"), "application/json", &body)?;
    let record: KsrRecord = match answer.status {
        202 => answer.json()?,
        422 => return Err(CliError::Schema(answer.error())),
        _ => return Err(failure(&answer)),
    };
    let say = |line: String| if context.json { Ok(()) } else { out(line) };
    say(format!("{} confirmed", record.id))?;
    let mut shown = String::new();
    let record = loop {
        let status: Status = expect(remote.get("/status")?)?.json()?;
        if status.headline != shown {
            shown.clone_from(&status.headline);
            say(format!("  {shown}"))?;
        }
        let record: KsrRecord = expect(remote.get(&format!("/ksrs/{id}"))?)?.json()?;
        if matches!(
            record.state,
            KsrState::Signed | KsrState::Failed | KsrState::Accepted
        ) {
            break record;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    match record.state {
        KsrState::Signed => match output {
            Some(path) => download(&remote, &record, path, context),
            None => {
                say(format!(
                    "SKR SHA-256 {}",
                    record.skr_sha256.as_deref().unwrap_or("")
                ))?;
                say(format!(
                    "  {}",
                    record.skr_pgp_words.as_deref().unwrap_or("")
                ))?;
                if context.json {
                    render::json(&record)?;
                }
                Ok(Outcome::Success)
            }
        },
        KsrState::Accepted => Err(CliError::Runtime(format!(
            "{id}: the confirmation was withdrawn (the activation was reset); nothing was signed"
        ))),
        _ => {
            let error = record.error.clone().unwrap_or_default();
            if context.json {
                render::json(&record)?;
            }
            // A KSR or SKR that failed a check when it was signed exits 3,
            // like `sign` at one terminal; an HSM failure 1.
            if error.starts_with(REFUSED_PREFIX) {
                if !context.json {
                    out(format!("{id}: no SKR: {error}"))?;
                }
                return Ok(Outcome::Failed);
            }
            Err(CliError::Runtime(format!("{id}: signing failed: {error}")))
        }
    }
}

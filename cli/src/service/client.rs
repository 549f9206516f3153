//! The clients' side of the service: a TLS 1.3 connection that trusts only
//! the ceremony's CA and shows the certificate of the client named by
//! `--as`; and the ZSK operator's and administrator's commands over it
//! (`ksr submit`, `skr fetch`, `sign --server`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use signer::media::{Hop, TransferSet};
use signer::oob::Heard;
use signer::service::wire::{
    KsrRecord, KsrState, LoadAnswer, LoadRequest, REFUSED_PREFIX, SignRequest, Status,
};
pub use web::{Answer, Remote};

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// How a client reaches the service.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// The service, such as https://127.0.0.1:8443.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The directory `ceremony serve --init-tls` made (its ca.pem and
    /// clients/NAME/NAME.pem and .key are used), or a client's own folder.
    #[arg(long, value_name = "DIR")]
    pub tls_dir: PathBuf,
    /// Whose certificate to show: an officer, zsk-operator or admin.
    #[arg(long = "as", value_name = "NAME")]
    pub name: String,
}

impl RemoteArgs {
    /// The connection.
    pub fn connect(&self) -> Result<Remote, CliError> {
        Ok(Remote::connect(&self.server, &self.tls_dir, &self.name)?)
    }
}

/// The error of a non-2xx answer: access refusals (401, 403), requests
/// refused as they stand, and failures of the service.
pub fn failure(answer: &Answer) -> CliError {
    match answer.status {
        401 | 403 => CliError::Access(answer.error()),
        400 | 404 | 408 | 409 | 413 | 422 => CliError::Rejected(answer.error()),
        _ => CliError::Remote(answer.error()),
    }
}

/// A request the service refused by its checks (422): the findings and the
/// sentence, about `subject`; exit 3 like the same refusal at one terminal.
fn refused(answer: &Answer, subject: &str, context: &Context) -> Result<Outcome, CliError> {
    let value: serde_json::Value = answer.json()?;
    if context.json {
        render::json(&value)?;
    } else {
        remote_findings(&value)?;
        out(format!("{subject}: {}", answer.error()))?;
    }
    Ok(Outcome::Failed)
}

/// A 2xx answer, or the error it means.
///
/// # Errors
///
/// See [`Answer::failure`].
pub fn expect(answer: Answer) -> Result<Answer, CliError> {
    if answer.is_success() {
        Ok(answer)
    } else {
        Err(failure(&answer))
    }
}

//------------ The ZSK operator's and administrator's commands ---------------

/// `ksr submit`: uploads a KSR; prints the findings and, if it was
/// accepted, its identifier and hash. The hash printed (the one the ZSK
/// operator reads over the phone) is this file's own: an intake that
/// answers another is refused, since whoever runs it could then have
/// another KSR read out as this one.
pub fn submit(remote: &RemoteArgs, file: &Path, context: &Context) -> Result<Outcome, CliError> {
    let bytes = std::fs::read(file).map_err(signer::Error::read(file))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let answer = remote
        .connect()?
        .post("/ksrs", "application/octet-stream", &bytes)?;
    let value: serde_json::Value = match answer.status {
        200 | 201 | 422 => answer.json()?,
        _ => return Err(failure(&answer)),
    };
    if let Some(ksr) = value.get("ksr") {
        let stated = ksr["ksr_sha256"].as_str().unwrap_or_default();
        let id = ksr["id"].as_str().unwrap_or_default();
        if !stated.eq_ignore_ascii_case(&sha256) || id.get(4..) != sha256.get(..12) {
            return Err(CliError::Remote(format!(
                "the intake answered {id} with SHA-256 {stated} for {}, whose SHA-256 is {sha256}: it did not store this KSR; do not read out its words, and find out who runs that intake",
                file.display()
            )));
        }
    }
    if context.json {
        render::json(&value)?;
    } else {
        remote_findings(&value)?;
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
                // The file's own hash, compared above with the intake's.
                for line in render::hash_lines("KSR", &sha256) {
                    out(line)?;
                }
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

/// Prints the findings of a report the service answered, one per line.
fn remote_findings(answer: &serde_json::Value) -> Result<(), CliError> {
    let findings = answer
        .pointer("/report/findings")
        .and_then(serde_json::Value::as_array);
    for finding in findings.into_iter().flatten() {
        let field = |name: &str| {
            finding
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
        };
        out(format!(
            "{:<8}{:<22} {}",
            field("severity"),
            field("code"),
            field("message")
        ))?;
    }
    Ok(())
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
    let remote = remote.connect()?;
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
        return Err(CliError::Remote(format!(
            "the SKR downloaded has SHA-256 {sha256}, not the {} the service announced; nothing was written",
            record.skr_sha256.as_deref().unwrap_or("none")
        )));
    }
    // Valid, and, with a policy (--config), every bundle signed by a KSK
    // the policy pins: the service's word is not enough.
    let policy = context
        .policy_path()
        .map(|path| signer::Policy::load(&path))
        .transpose()?;
    let anchor = if policy.is_some() {
        signer::Anchor::Pins
    } else {
        signer::Anchor::None
    };
    let config = policy.map_or_else(ksr::Config::default, |policy| policy.config().clone());
    let document = signer::Document::received(format!("{}.skr", record.id), bytes.clone());
    let checked = signer::check_skr(
        &signer::SkrCheck {
            skr: &document,
            ksr: None,
            previous: None,
            schema: None,
            anchor,
        },
        &config,
    )?;
    if checked.report.has_errors() {
        return Err(CliError::Remote(format!(
            "the SKR downloaded fails its checks ({}); nothing was written",
            checked.report.error_codes().join(", ")
        )));
    }
    let anchored = if checked.anchored_to.is_empty() {
        "not anchored: give --config with the policy that pins the zone's KSKs".to_owned()
    } else {
        format!(
            "every bundle signed by a KSK the policy pins ({})",
            checked
                .anchored_to
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    durable::write(path, &bytes, durable::Replace::Never)
        .map_err(|err| CliError::Signer(err.into()))?;
    if context.json {
        render::json(&serde_json::json!({
            "skr": path.display().to_string(),
            "skr_sha256": sha256,
            "anchored_to": checked.anchored_to,
            "ksr": record,
        }))?;
    } else {
        out(format!("SKR written: {}; {anchored}", path.display()))?;
        for line in render::hash_lines("SKR", &sha256) {
            out(line)?;
        }
    }
    Ok(Outcome::Success)
}

/// What the administrator decides with `sign --server`.
pub struct Confirm {
    /// The signing schema.
    pub schema: String,
    /// A first quarter: no previous SKR anywhere.
    pub no_previous_skr: bool,
    /// The words as heard (`--oob-words`); asked at the terminal without.
    pub heard: Option<Heard>,
}

/// `sign --server --media`: the administrator loads the transfer set from
/// the medium (read here as strictly as the signer reads it, verified
/// again by the service), types the KSR's words at the positions the
/// service chose as the ZSK operator reads them over the phone, and
/// follows the ceremony until the SKR exists (or signing fails); the SKR
/// and `manifest-skr.json` then go into the set on the medium, read back.
/// The officers present for that operation only.
pub fn load_and_follow(
    remote: &RemoteArgs,
    media: &Path,
    confirm: &Confirm,
    output: Option<&Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let set = TransferSet::read(media, Hop::ToSigner).map_err(signer::Error::from)?;
    // The KSR's hash, which the confirmation names: from the medium, since
    // the service shows none before the words are checked.
    let ksr_sha256 = ["ksr.xml", "ksr.txt"]
        .iter()
        .find_map(|name| set.files().get(*name))
        .map(|bytes| hex::encode(Sha256::digest(bytes)))
        .unwrap_or_default();
    let name = media
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_owned();
    let remote = remote.connect()?;
    let load = LoadRequest {
        name,
        files: set
            .files()
            .iter()
            .map(|(name, bytes)| (name.clone(), hex::encode(bytes)))
            .collect(),
    };
    let body = serde_json::to_vec(&load).map_err(|err| CliError::Remote(err.to_string()))?;
    let answer = remote.post("/transfers", "application/json", &body)?;
    let loaded: LoadAnswer = match answer.status {
        201 => answer.json()?,
        422 => return refused(&answer, &media.display().to_string(), context),
        _ => return Err(failure(&answer)),
    };
    let record = loaded.ksr;
    let id = record.id.clone();
    if !context.json {
        out(format!(
            "{}: KSR {} ({}) for {} ({} bundles), from the transfer set in {}",
            record.id,
            record.request_id,
            record.format,
            record.domain,
            record.bundles,
            media.display()
        ))?;
    }
    let heard = match &confirm.heard {
        Some(heard) => heard.clone(),
        None => crate::terminal::ask_words(&loaded.positions)?
            .ok_or(CliError::Signer(signer::Error::NotConfirmed))?,
    };
    let request = SignRequest {
        ksr_sha256,
        schema: Some(confirm.schema.clone()),
        no_previous_skr: confirm.no_previous_skr,
        heard,
    };
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Remote(err.to_string()))?;
    let answer = remote.post(&format!("/ksrs/{id}/sign"), "application/json", &body)?;
    let record: KsrRecord = match answer.status {
        202 => answer.json()?,
        422 => return refused(&answer, &id, context),
        _ => return Err(failure(&answer)),
    };
    let say = |line: String| if context.json { Ok(()) } else { out(line) };
    say(format!(
        "{} confirmed; the officers present their cards for it (ceremony present)",
        record.id
    ))?;
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
        KsrState::Signed => {
            let manifest = record.skr_manifest.clone().ok_or_else(|| {
                CliError::Remote(format!("{id}: the service sent no manifest-skr.json"))
            })?;
            let skr = media.join(&manifest.skr);
            download(&remote, &record, &skr, context)?;
            let written =
                signer::media::write_skr_manifest(media, &manifest).map_err(signer::Error::from)?;
            say(format!(
                "SKR and {} written to the medium and read back: carry it to the intake (ceremony intake import)",
                written.display()
            ))?;
            if let Some(path) = output {
                let bytes = std::fs::read(&skr).map_err(signer::Error::read(&skr))?;
                durable::write(path, &bytes, durable::Replace::Never)
                    .map_err(|err| CliError::Signer(err.into()))?;
                say(format!("a copy in {}", path.display()))?;
            }
            Ok(Outcome::Success)
        }
        KsrState::Accepted => Err(CliError::Remote(format!(
            "{id}: the confirmation was withdrawn or the attempt expired ({}); nothing was signed",
            record.error.as_deref().unwrap_or("session reset")
        ))),
        KsrState::Exported | KsrState::Confirmed | KsrState::Signing | KsrState::Failed => {
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
            Err(CliError::Remote(format!("{id}: signing failed: {error}")))
        }
    }
}

//! The clients' side of the service: a TLS 1.3 connection that trusts only
//! the ceremony's CA and shows the certificate of the client named by
//! `--as`; and the ZSK operator's and administrator's commands over it
//! (`ksr submit`, `skr fetch`, `sign --server`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ksr::DocumentRole;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};
use signer::service::wire::{KsrRecord, KsrState, REFUSED_PREFIX, SignRequest, Status};
use signer::tls::TlsDir;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

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
    /// clients/NAME.pem and .key are used).
    #[arg(long, value_name = "DIR")]
    pub tls_dir: PathBuf,
    /// Whose certificate to show: an officer, zsk-operator or admin.
    #[arg(long = "as", value_name = "NAME")]
    pub name: String,
}

/// A connection to the service.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
}

/// An answer: the HTTP status and the body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON.
    ///
    /// # Errors
    ///
    /// The body is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CliError> {
        serde_json::from_slice(&self.body).map_err(|err| {
            CliError::Remote(format!(
                "the service answered {} with something unexpected: {err}",
                self.status
            ))
        })
    }

    /// The error of a non-2xx answer: access refusals, requests refused as
    /// they stand, and failures of the service.
    pub fn failure(&self) -> CliError {
        match self.status {
            401 | 403 => CliError::Access(self.error()),
            400 | 404 | 408 | 409 | 413 | 422 => CliError::Rejected(self.error()),
            _ => CliError::Remote(self.error()),
        }
    }

    /// The service's error sentence, or the status.
    pub fn error(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|value| value.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

impl Remote {
    /// Connects as `args.name` (its certificate and key from the TLS
    /// directory) to `args.server`.
    ///
    /// # Errors
    ///
    /// A certificate or key is missing or not PEM.
    pub fn connect(args: &RemoteArgs) -> Result<Self, CliError> {
        let dir = TlsDir(&args.tls_dir);
        Self::with(
            &args.server,
            &dir.ca(),
            Some((&dir.client_cert(&args.name), &dir.client_key(&args.name))),
        )
    }

    /// Connects without a client certificate (the public pages only).
    ///
    /// # Errors
    ///
    /// The CA certificate is missing or not PEM.
    pub fn anonymous(server: &str, tls_dir: &Path) -> Result<Self, CliError> {
        Self::with(server, &TlsDir(tls_dir).ca(), None)
    }

    fn with(server: &str, ca: &Path, client: Option<(&Path, &Path)>) -> Result<Self, CliError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| CliError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let pem = |path: &Path, err: ureq::Error| {
            CliError::Signer(signer::Error::TlsFile {
                path: path.to_owned(),
                reason: err.to_string(),
            })
        };
        let ca_pem = read(ca)?;
        let mut tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&[
                Certificate::from_pem(&ca_pem).map_err(|err| pem(ca, err))?
            ]))
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ));
        if let Some((cert, key)) = client {
            let cert_pem = read(cert)?;
            let key_pem = zeroize::Zeroizing::new(read(key)?);
            tls = tls.client_cert(Some(ClientCert::new_with_certs(
                &[Certificate::from_pem(&cert_pem)
                    .map_err(|err| pem(cert, err))?
                    .to_owned()],
                PrivateKey::from_pem(&key_pem)
                    .map_err(|err| pem(key, err))?
                    .to_owned(),
            )));
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Ok(Self {
            agent,
            base: server.trim_end_matches('/').to_owned(),
        })
    }

    /// `GET path`.
    ///
    /// # Errors
    ///
    /// The service cannot be reached.
    pub fn get(&self, path: &str) -> Result<Answer, CliError> {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .map_err(|err| self.unreachable(&err))?;
        Self::answer(response)
    }

    /// `POST path` with a body.
    ///
    /// # Errors
    ///
    /// The service cannot be reached.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer, CliError> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .content_type(content_type)
            .send(body)
            .map_err(|err| self.unreachable(&err))?;
        Self::answer(response)
    }

    fn answer(mut response: ureq::http::Response<ureq::Body>) -> Result<Answer, CliError> {
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(4 * 1024 * 1024)
            .read_to_vec()
            .map_err(|err| CliError::Remote(format!("reading the answer: {err}")))?;
        Ok(Answer { status, body })
    }

    fn unreachable(&self, err: &ureq::Error) -> CliError {
        CliError::Remote(format!("cannot reach {}: {err}", self.base))
    }
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
        Err(answer.failure())
    }
}

//------------ The ZSK operator's and administrator's commands ---------------

/// `ksr submit`: uploads a KSR; prints the findings and, if it was
/// accepted, its identifier and hash.
pub fn submit(remote: &RemoteArgs, file: &Path, context: &Context) -> Result<Outcome, CliError> {
    let bytes = std::fs::read(file).map_err(|source| CliError::Read {
        path: file.to_owned(),
        source,
    })?;
    let answer = Remote::connect(remote)?.post("/ksrs", "application/octet-stream", &bytes)?;
    let value: serde_json::Value = match answer.status {
        200 | 201 | 422 => answer.json()?,
        _ => return Err(answer.failure()),
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
                for line in render::hash_lines("KSR", ksr["ksr_sha256"].as_str().unwrap_or("")) {
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
        return Err(CliError::Remote(format!(
            "the SKR downloaded has SHA-256 {sha256}, not the {} the service announced; nothing was written",
            record.skr_sha256.as_deref().unwrap_or("none")
        )));
    }
    let policy = context
        .policy_path()
        .map(|path| signer::Policy::load(&path))
        .transpose()?;
    let config = policy.map_or_else(ksr::Config::default, |policy| policy.config().clone());
    let valid = ksr::SkrDocument::parse(&bytes, DocumentRole::NewSkr).is_ok_and(|skr| {
        !skr.check(&config, DocumentRole::NewSkr)
            .iter()
            .any(ksr::Finding::is_error)
    });
    if !valid {
        return Err(CliError::Remote(
            "the SKR downloaded fails its checks (ceremony skr check); nothing was written".into(),
        ));
    }
    durable::write(path, &bytes, durable::Replace::Never)
        .map_err(|err| CliError::Signer(err.into()))?;
    if context.json {
        render::json(&serde_json::json!({
            "skr": path.display().to_string(),
            "skr_sha256": sha256,
            "ksr": record,
        }))?;
    } else {
        out(format!("SKR written: {}", path.display()))?;
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
    /// Sign without a previous SKR at the service.
    pub no_previous_skr: bool,
    /// Do not ask (scripted runs).
    pub yes: bool,
}

/// `sign --server`: the administrator reads the KSR's hash (hex and PGP
/// words, to compare out of band with the ZSK operator's), confirms it,
/// and follows the ceremony until the SKR exists (or signing fails); with
/// `-o` the SKR is downloaded. The confirmation names the hash, so the
/// service signs exactly the KSR that was read out; the officers present
/// for that operation only.
pub fn confirm_and_follow(
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
            "{}: KSR {} ({}) for {} ({} bundles), submitted by {}",
            record.id,
            record.request_id,
            record.format,
            record.domain,
            record.bundles,
            record.submitted_by
        ))?;
        for line in render::hash_lines("KSR", &record.ksr_sha256) {
            out(line)?;
        }
    }
    if !confirm.yes {
        let answer = crate::terminal::ask(
            "Read the hash aloud and compare it out of band. Type yes to go on: ",
        )?;
        if answer.as_deref() != Some("yes") {
            return Err(CliError::Signer(signer::Error::NotConfirmed));
        }
    }
    let request = SignRequest {
        ksr_sha256: record.ksr_sha256.clone(),
        schema: Some(confirm.schema.clone()),
        no_previous_skr: confirm.no_previous_skr,
    };
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Remote(err.to_string()))?;
    let answer = remote.post(&format!("/ksrs/{id}/sign"), "application/json", &body)?;
    let record: KsrRecord = match answer.status {
        202 => answer.json()?,
        422 => {
            let value: serde_json::Value = answer.json()?;
            if context.json {
                render::json(&value)?;
            } else {
                for finding in value
                    .pointer("/report/findings")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out(format!(
                        "{:<8}{:<22} {}",
                        finding["severity"].as_str().unwrap_or(""),
                        finding["code"].as_str().unwrap_or(""),
                        finding["message"].as_str().unwrap_or("")
                    ))?;
                }
                out(format!("{id}: {}", answer.error()))?;
            }
            return Ok(Outcome::Failed);
        }
        _ => return Err(answer.failure()),
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
        KsrState::Signed => match output {
            Some(path) => download(&remote, &record, path, context),
            None => {
                for line in render::hash_lines("SKR", record.skr_sha256.as_deref().unwrap_or("")) {
                    say(line)?;
                }
                if context.json {
                    render::json(&record)?;
                }
                Ok(Outcome::Success)
            }
        },
        KsrState::Accepted => Err(CliError::Remote(format!(
            "{id}: the confirmation was withdrawn or the attempt expired ({}); nothing was signed",
            record.error.as_deref().unwrap_or("session reset")
        ))),
        KsrState::Confirmed | KsrState::Signing | KsrState::Failed => {
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

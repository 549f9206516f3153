//! The clients' side: a TLS 1.3 connection that trusts only the ceremony's
//! CA and shows the certificate of one client of its TLS directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use signer::tls::TlsDir;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::Error;

/// The largest answer read.
const MAX_ANSWER: u64 = 4 * 1024 * 1024;

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
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| Error::Answer {
            status: self.status,
            reason: err.to_string(),
        })
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
    /// Connects to `server` as `name`: its certificate and key from the
    /// TLS directory (the whole one, or that client's own folder).
    ///
    /// # Errors
    ///
    /// A certificate or key is missing or not PEM.
    pub fn connect(server: &str, tls_dir: &Path, name: &str) -> Result<Self, Error> {
        let dir = TlsDir(tls_dir);
        Self::with(
            server,
            &dir.ca(),
            Some((&dir.client_cert(name), &dir.client_key(name))),
        )
    }

    /// Connects without a client certificate (the public pages only).
    ///
    /// # Errors
    ///
    /// The CA certificate is missing or not PEM.
    pub fn anonymous(server: &str, tls_dir: &Path) -> Result<Self, Error> {
        Self::with(server, &TlsDir(tls_dir).ca(), None)
    }

    fn with(server: &str, ca: &Path, client: Option<(&Path, &Path)>) -> Result<Self, Error> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })
        };
        let pem = |path: &Path, err: ureq::Error| Error::Pem {
            path: PathBuf::from(path),
            reason: err.to_string(),
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
    pub fn get(&self, path: &str) -> Result<Answer, Error> {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .map_err(|err| self.unreachable(&err))?;
        self.answer(response)
    }

    /// `POST path` with a body.
    ///
    /// # Errors
    ///
    /// The service cannot be reached.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer, Error> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .content_type(content_type)
            .send(body)
            .map_err(|err| self.unreachable(&err))?;
        self.answer(response)
    }

    fn answer(&self, mut response: ureq::http::Response<ureq::Body>) -> Result<Answer, Error> {
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|err| self.unreachable(&err))?;
        Ok(Answer { status, body })
    }

    fn unreachable(&self, err: &ureq::Error) -> Error {
        Error::Unreachable {
            server: self.base.clone(),
            reason: err.to_string(),
        }
    }
}

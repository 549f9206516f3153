//! The service's private PKI: `ceremony serve --init-tls DIR` makes a CA,
//! a server certificate for the signer, and a client certificate for each
//! officer, the ZSK operator and the administrator, all P-256, with the
//! SHA-256 fingerprints the allow-list names them by. The server's TLS
//! configuration and the allow-list are read here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::Error;

/// The files of a TLS directory made by `--init-tls`: the server's at the
/// top (`ca.pem`, `server.pem`, `server.key`, `allow-list.toml`), and one
/// folder per client, `clients/NAME/` with `ca.pem`, `NAME.pem` and
/// `NAME.key`, to hand to that person alone. A client's `--tls-dir` is its
/// own folder, or the whole directory on a machine that has it.
pub struct TlsDir<'a>(pub &'a Path);

impl TlsDir<'_> {
    /// The CA certificate every client and the server trust.
    pub fn ca(&self) -> PathBuf {
        self.0.join("ca.pem")
    }
    /// The server's certificate.
    pub fn server_cert(&self) -> PathBuf {
        self.0.join("server.pem")
    }
    /// The server's key.
    pub fn server_key(&self) -> PathBuf {
        self.0.join("server.key")
    }
    /// A client's folder: `clients/NAME` when this is the whole directory,
    /// else this one.
    pub fn bundle(&self, name: &str) -> PathBuf {
        let inside = self.0.join("clients").join(name);
        if inside.is_dir() {
            inside
        } else {
            self.0.to_path_buf()
        }
    }
    /// A client's certificate.
    pub fn client_cert(&self, name: &str) -> PathBuf {
        self.bundle(name).join(format!("{name}.pem"))
    }
    /// A client's key.
    pub fn client_key(&self, name: &str) -> PathBuf {
        self.bundle(name).join(format!("{name}.key"))
    }
    /// The allow-list.
    pub fn allow_list(&self) -> PathBuf {
        self.0.join("allow-list.toml")
    }
}

/// What a client may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Presents a card.
    Officer,
    /// Submits KSRs and downloads SKRs.
    ZskOperator,
    /// Confirms signing, resets the activation.
    Admin,
}

impl Role {
    /// Its name in the allow-list and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Officer => "officer",
            Self::ZskOperator => "zsk-operator",
            Self::Admin => "admin",
        }
    }
}

/// One client of the allow-list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    /// What it may do.
    pub role: Role,
    /// SHA-256 of its certificate (DER), hex.
    pub fingerprint: String,
}

/// The clients the service accepts, by certificate fingerprint.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    by_fingerprint: BTreeMap<String, (String, Role)>,
}

/// The file form of the allow-list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    clients: BTreeMap<String, Allowed>,
}

impl AllowList {
    /// Reads an allow-list file.
    ///
    /// # Errors
    ///
    /// Unreadable, not TOML of this shape, a fingerprint that is not 64 hex
    /// digits, or listed twice.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
        let bad = |reason: String| Error::TlsFile {
            path: path.to_owned(),
            reason,
        };
        let file: AllowFile = toml::from_str(&text).map_err(|err| bad(err.to_string()))?;
        let mut by_fingerprint = BTreeMap::new();
        for (name, allowed) in file.clients {
            let fingerprint = allowed.fingerprint.to_ascii_lowercase();
            if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "client {name:?}: the fingerprint is not 64 hex digits"
                )));
            }
            if by_fingerprint
                .insert(fingerprint, (name.clone(), allowed.role))
                .is_some()
            {
                return Err(bad(format!(
                    "client {name:?}: its fingerprint is listed twice"
                )));
            }
        }
        Ok(Self { by_fingerprint })
    }

    /// The client of a certificate fingerprint.
    pub fn client(&self, fingerprint: &str) -> Option<(&str, Role)> {
        self.by_fingerprint
            .get(fingerprint)
            .map(|(name, role)| (name.as_str(), *role))
    }
}

/// The server's TLS: TLS 1.3 only, on AWS-LC; client certificates are
/// asked for and, when sent, must chain to `ca` (the allow-list then
/// decides what each may do); a client without one reaches only the
/// public pages.
///
/// # Errors
///
/// A file is unreadable or not PEM of the right kind, or rustls refuses
/// the key.
pub fn server_config(ca: &Path, cert: &Path, key: &Path) -> Result<rustls::ServerConfig, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let pem = |path: &Path, err: rustls::pki_types::pem::Error| Error::TlsFile {
        path: path.to_owned(),
        reason: err.to_string(),
    };
    let tls = |err: rustls::Error| Error::Tls(err.to_string());
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).map_err(|err| pem(ca, err))? {
        roots
            .add(certificate.map_err(|err| pem(ca, err))?)
            .map_err(tls)?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|err| Error::Tls(err.to_string()))?;
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|err| pem(cert, err))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem(cert, err))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|err| pem(key, err))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(tls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The SHA-256 of a certificate, as the allow-list names it.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// One issued client, for the allow-list.
#[derive(Clone, Debug, Serialize)]
pub struct IssuedClient {
    /// Its name (the certificate's common name).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of its certificate.
    pub fingerprint: String,
    /// Its certificate file.
    pub certificate: String,
}

/// What `--init-tls` made.
#[derive(Clone, Debug, Serialize)]
pub struct Issued {
    /// The directory.
    pub dir: String,
    /// From when to when the certificates are valid.
    pub valid: String,
    /// The clients.
    pub clients: Vec<IssuedClient>,
}

/// Which server a PKI is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The ceremony room's service: the officers and the administrator.
    Room,
    /// The online intake: the ZSK operator.
    Intake,
}

/// Makes the private PKI in the new directory `dir`: the CA, the server
/// certificate (localhost, 127.0.0.1 and `hosts`), a client certificate
/// for each officer and the administrator (the room) or for the ZSK
/// operator (the intake), and the allow-list.
///
/// # Errors
///
/// The directory exists, the validity reaches past 2106, or a file
/// cannot be written.
pub fn init_tls(
    dir: &Path,
    place: Place,
    officers: &[String],
    hosts: &[String],
    days: u32,
    now: ksr::Timestamp,
) -> Result<Issued, Error> {
    if dir.exists() {
        return Err(Error::OutputExists(dir.to_owned()));
    }
    std::fs::create_dir_all(dir.join("clients")).map_err(|source| {
        Error::Write(durable::WriteError::Io {
            path: dir.to_path_buf(),
            source,
        })
    })?;
    let until = now
        .to_unix()
        .checked_add(days.saturating_mul(86_400))
        .ok_or_else(|| Error::Tls(format!("--tls-days {days} reaches past 2106")))?;
    let valid = format!("valid {now} to {}", ksr::Timestamp::from_unix(until));
    let (start, end) = (date(now.to_unix()), date(until));
    let failed = |err: rcgen::Error| Error::Tls(format!("certificate: {err}"));

    // The CA: it signs nothing but the ceremony's certificates.
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.distinguished_name
        .push(DnType::CommonName, "ceremony private CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (ca.not_before, ca.not_after) = (start, end);
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(failed)?;
    write(&dir.join("ca.pem"), ca_cert.pem().as_bytes())?;
    // The CA's key is not kept: whoever held it could make clients and
    // servers at will. Another client later means a new directory.
    let issuer = Issuer::new(ca, ca_key);

    let leaf = |name: &str, sans: Vec<String>, purpose: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(sans).map_err(failed)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![purpose];
        params.use_authority_key_identifier_extension = true;
        (params.not_before, params.not_after) = (start, end);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let cert = params.signed_by(&key, &issuer).map_err(failed)?;
        let fingerprint = hex::encode(Sha256::digest(cert.der().as_ref()));
        Ok::<_, Error>((cert.pem(), key.serialize_pem(), fingerprint))
    };
    let mut sans = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    sans.extend(hosts.iter().cloned());
    let (pem, key, _) = leaf("ceremony server", sans, ExtendedKeyUsagePurpose::ServerAuth)?;
    write(&dir.join("server.pem"), pem.as_bytes())?;
    write(&dir.join("server.key"), key.as_bytes())?;

    let mut clients = Vec::new();
    let names: Vec<(&str, Role)> = match place {
        Place::Room => officers
            .iter()
            .map(|name| (name.as_str(), Role::Officer))
            .chain([("admin", Role::Admin)])
            .collect(),
        Place::Intake => vec![("zsk-operator", Role::ZskOperator)],
    };
    for (name, role) in names {
        let (pem, key, fingerprint) = leaf(name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)?;
        let bundle = dir.join("clients").join(name);
        std::fs::create_dir(&bundle).map_err(|source| {
            Error::Write(durable::WriteError::Io {
                path: bundle.clone(),
                source,
            })
        })?;
        write(&bundle.join("ca.pem"), ca_cert.pem().as_bytes())?;
        let certificate = bundle.join(format!("{name}.pem"));
        write(&certificate, pem.as_bytes())?;
        write(&bundle.join(format!("{name}.key")), key.as_bytes())?;
        clients.push(IssuedClient {
            name: name.to_owned(),
            role,
            fingerprint,
            certificate: certificate.display().to_string(),
        });
    }
    let mut allow =
        String::from("# The clients the ceremony service accepts: SHA-256 of each certificate.\n");
    for client in &clients {
        allow.push_str(&format!(
            "\n[clients.{:?}]\nrole = {:?}\nfingerprint = {:?}\n",
            client.name,
            client.role.as_str(),
            client.fingerprint
        ));
    }
    write(&dir.join("allow-list.toml"), allow.as_bytes())?;
    Ok(Issued {
        dir: dir.display().to_string(),
        valid,
        clients,
    })
}

/// An instant as rcgen's date.
fn date(seconds: u32) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(i64::from(seconds))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Writes a new file (never overwriting), mode 0600.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Ok(durable::write(path, bytes, durable::Replace::Never)?)
}

//! The policy a command judges by: a ceremony's `ceremony.toml`, another
//! file given with `--config`, or the built-in root-zone defaults.

use std::path::{Path, PathBuf};

use hsm::{KeyInfo, KeySpec};
use ksr::{Config, DigestType, DomainName, Ds, KskConfig, KskRole, Timestamp};
use sha2::{Digest as _, Sha256};

use crate::error::Error;

/// A policy and where it came from.
#[derive(Clone, Debug)]
pub struct Policy {
    config: Config,
    /// The file, or `None` for the built-in defaults.
    path: Option<PathBuf>,
    /// SHA-256 of the file's bytes (of the built-in policy's TOML).
    sha256: [u8; 32],
    /// The file's text (the built-in policy's TOML).
    text: String,
}

impl Policy {
    /// The built-in root-zone policy (`ksr-checks.md` defaults).
    pub fn builtin() -> Self {
        let config = Config::default();
        let text = config.to_toml();
        Self {
            config,
            path: None,
            sha256: Sha256::digest(text.as_bytes()).into(),
            text,
        }
    }

    /// Reads a policy file.
    ///
    /// # Errors
    ///
    /// It cannot be read, or it is not a valid policy (`TOOL-CONFIG`,
    /// with line and column).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(Error::read(path))?;
        Self::from_bytes(path, bytes)
    }

    /// A policy from the bytes of its file; `path` names it.
    ///
    /// # Errors
    ///
    /// As [`Self::load`], but for reading the file.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, Error> {
        let text = String::from_utf8(bytes).map_err(|_| Error::Read {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
        })?;
        let config = Config::from_toml(&text).map_err(|source| Error::Policy {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            config,
            path: Some(path.to_owned()),
            sha256: Sha256::digest(text.as_bytes()).into(),
            text,
        })
    }

    /// The policy.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The file, if it is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// SHA-256 of the policy file.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The policy file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The zone: the first acceptable domain (the root without one).
    ///
    /// # Errors
    ///
    /// The policy's domain is not a name.
    pub fn domain(&self) -> Result<DomainName, Error> {
        let text = self
            .config
            .request_policy
            .acceptable_domains
            .first()
            .map_or(".", String::as_str);
        text.parse().map_err(|source| Error::Domain {
            text: text.to_owned(),
            source,
        })
    }

    /// The KSK in a role.
    pub fn ksk(&self, role: KskRole) -> Option<&KskConfig> {
        self.config.keys.get(role.name())
    }
    /// The policy this file would hold with `config`, not yet written
    /// (its hash goes into the pending state before the file changes).
    ///
    /// # Errors
    ///
    /// The built-in policy has no file.
    pub(crate) fn with_config(&self, config: Config) -> Result<Self, Error> {
        let path = self
            .path
            .clone()
            .ok_or_else(|| Error::Internal("the built-in policy cannot be rewritten".into()))?;
        let text = config.to_toml();
        Ok(Self {
            config,
            path: Some(path),
            sha256: Sha256::digest(text.as_bytes()).into(),
            text,
        })
    }

    /// Writes the policy to its file, atomically.
    ///
    /// # Errors
    ///
    /// The built-in policy has no file, or it cannot be written.
    pub(crate) fn write(&self) -> Result<(), Error> {
        let path = self
            .path
            .as_deref()
            .ok_or_else(|| Error::Internal("the built-in policy cannot be rewritten".into()))?;
        Ok(durable::write(
            path,
            self.text.as_bytes(),
            durable::Replace::Allowed,
        )?)
    }
}

/// The policy's entry for a KSK made now: pinned by tag and DS, valid from
/// early enough for the first signature a KSR made right afterwards asks
/// for (a text KSR's first RRSIG starts `text_rrsig_backdate` before its
/// first bundle, which may be now).
pub(crate) fn ksk_entry(
    config: &Config,
    domain: &DomainName,
    key: &KeyInfo,
    now: Timestamp,
) -> KskConfig {
    let (rsa_size, rsa_exponent) = match key.spec {
        KeySpec::Rsa(bits) => (Some(bits.bits()), Some(65537)),
        KeySpec::EcdsaP256 | KeySpec::Ed25519 => (None, None),
    };
    let backdate = config.text.text_rrsig_backdate.as_seconds();
    KskConfig {
        label: key.label.clone(),
        algorithm: key
            .spec
            .algorithm()
            .mnemonic()
            .unwrap_or("RSASHA256")
            .to_owned(),
        rsa_size,
        rsa_exponent,
        valid_from: Timestamp::from_unix(now.to_unix().saturating_sub(backdate)),
        valid_until: None,
        ds_sha256: Ds::compute(domain, &key.dnskey, DigestType::Sha256).digest_hex(),
        key_tag: key.dnskey.key_tag().to_int(),
    }
}

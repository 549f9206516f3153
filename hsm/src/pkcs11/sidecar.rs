//! The file beside the token, `pkcs11.json`: the module and its SHA-256,
//! the token's label, the current roster, and each of the ceremony's
//! keys' kind and creation time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quorum::Roster;
use serde::{Deserialize, Serialize};

use super::PKCS11_FILE;
use crate::error::HsmError;
use crate::soft::atomic_write;
use crate::spec::KeySpec;

/// The file beside the token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Sidecar {
    pub(super) format: u32,
    pub(super) module: PathBuf,
    /// SHA-256 of the module file, checked before every `dlopen`.
    pub(super) module_sha256: String,
    pub(super) token: String,
    pub(super) roster: Roster,
    /// Kind and creation time by label.
    pub(super) keys: BTreeMap<String, KeyRecord>,
}

/// One of the ceremony's keys: made, or adopted, by it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyRecord {
    pub(super) spec: KeySpec,
    pub(super) created: u64,
}

/// Parses the text of `pkcs11.json`; `path` names it in errors.
pub(super) fn parse_sidecar_text(path: &Path, text: &str) -> Result<Sidecar, HsmError> {
    serde_json::from_str(text)
        .map_err(|err| HsmError::Tampered(format!("{}: {err}", path.display())))
}

/// Parses a PKCS#11 token's file (`pkcs11.json`) from its bytes, as
/// [`Pkcs11Hsm::open`](super::Pkcs11Hsm::open) reads it before it loads any module, and answers it
/// written back as the HSM writes it. For fuzzing and tools: no module is
/// loaded and no file read.
///
/// # Errors
///
/// Not UTF-8 (which `open` reports as an unreadable file), or not such a
/// file.
pub fn parse_sidecar(bytes: &[u8]) -> Result<Vec<u8>, HsmError> {
    let path = Path::new(PKCS11_FILE);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| HsmError::Tampered(format!("{}: not UTF-8", path.display())))?;
    let sidecar = parse_sidecar_text(path, text)?;
    serde_json::to_vec_pretty(&sidecar)
        .map_err(|err| HsmError::Crypto(format!("the token file does not serialize: {err}")))
}

pub(super) fn write_sidecar(dir: &Path, sidecar: &Sidecar) -> Result<(), HsmError> {
    let path = dir.join(PKCS11_FILE);
    let bytes = serde_json::to_vec_pretty(sidecar)
        .map_err(|err| HsmError::Crypto(format!("the token file does not serialize: {err}")))?;
    atomic_write(&path, &bytes)
        .map_err(|err| HsmError::Io(format!("cannot write {}", path.display()), err))
}

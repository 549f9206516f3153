//! The PKCS#11 module: checked before it is loaded, loaded, finalized,
//! and the one slot whose token has a label.

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::slot::Slot;
use sha2::{Digest as _, Sha256};

use super::pkcs11;
use crate::error::HsmError;

/// A module loaded for an HSM that is not made yet: finalized if dropped
/// before the HSM takes it (cryptoki does not finalize on drop).
pub(super) struct Loaded(pub(super) Option<Pkcs11>);

impl Loaded {
    /// The module, while nothing has taken it.
    pub(super) fn get(&self) -> Result<&Pkcs11, HsmError> {
        self.0
            .as_ref()
            .ok_or_else(|| HsmError::Pkcs11("the module is finalized".into()))
    }

    /// The module, now the HSM's to finalize.
    pub(super) fn take(mut self) -> Option<Pkcs11> {
        self.0.take()
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        if let Some(context) = self.0.take() {
            let _ = context.finalize();
        }
    }
}

/// Loads and initializes a module, after checking that it can be trusted:
/// the file and its folder are owned by root and writable by nobody else,
/// and the file is the one pinned (`expected`, its SHA-256) — all before
/// `dlopen` runs any of its code. Returns the file's SHA-256.
pub(super) fn load(module: &Path, expected: Option<&str>) -> Result<(Pkcs11, String), HsmError> {
    let (file, sha256) = trusted_module(module)?;
    if let Some(expected) = expected
        && !expected.eq_ignore_ascii_case(&sha256)
    {
        return Err(HsmError::UntrustedModule(format!(
            "{} is not the module pinned at init (SHA-256 {sha256}, pinned {expected}); it is not loaded",
            module.display()
        )));
    }
    let context = Pkcs11::new(&file)
        .map_err(|err| HsmError::Pkcs11(format!("cannot load {}: {err:?}", module.display())))?;
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(pkcs11)?;
    Ok((context, sha256))
}

/// The module's real file and its SHA-256, if root owns it and its folder
/// and nobody else may write either.
fn trusted_module(module: &Path) -> Result<(PathBuf, String), HsmError> {
    use std::os::unix::fs::MetadataExt as _;
    let untrusted = |why: String| HsmError::UntrustedModule(format!("{}: {why}", module.display()));
    let file = std::fs::canonicalize(module)
        .map_err(|err| untrusted(format!("cannot be found ({err})")))?;
    let folder = file.parent().unwrap_or(Path::new("/"));
    for (what, path) in [("the module", file.as_path()), ("its folder", folder)] {
        let meta = std::fs::metadata(path)
            .map_err(|err| untrusted(format!("{what} cannot be read ({err})")))?;
        if meta.uid() != 0 {
            return Err(untrusted(format!(
                "{what} ({}) is owned by user {}, not root; it is not loaded",
                path.display(),
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(untrusted(format!(
                "{what} ({}) is writable by group or others (mode {:o}); it is not loaded",
                path.display(),
                meta.mode() & 0o7777
            )));
        }
    }
    let bytes = std::fs::read(&file).map_err(|err| untrusted(format!("cannot be read ({err})")))?;
    Ok((file, hex::encode(Sha256::digest(&bytes))))
}

/// The serial number a token reports.
pub(super) fn token_serial(context: &Pkcs11, slot: Slot) -> Result<String, HsmError> {
    Ok(context
        .get_token_info(slot)
        .map_err(pkcs11)?
        .serial_number()
        .trim_end()
        .to_owned())
}

/// The one slot whose token has this label.
pub(super) fn find_slot(context: &Pkcs11, token: &str) -> Result<Slot, HsmError> {
    let mut found = Vec::new();
    for slot in context.get_slots_with_initialized_token().map_err(pkcs11)? {
        let info = context.get_token_info(slot).map_err(pkcs11)?;
        if info.label().trim_end() == token {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(HsmError::Invalid(format!(
            "no initialized token is labelled {token:?}"
        ))),
        more => Err(HsmError::Ambiguous(format!(
            "{} slots hold a token labelled {token:?}; refusing to guess",
            more.len()
        ))),
    }
}

//! The exercise's own files: the transfer set's documents, its PIN and
//! PUK files, written durably in its own folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::CliError;
use crate::exercise::people::People;

/// The KSR file of a transfer set.
pub(super) fn set_ksr(set: &Path) -> Result<PathBuf, CliError> {
    ["ksr.xml", "ksr.txt"]
        .iter()
        .map(|name| set.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| CliError::Exercise(format!("{} holds no KSR", set.display())))
}

/// The SKR file the signer wrote into a set.
pub(super) fn set_skr(set: &Path) -> Option<PathBuf> {
    ["skr.xml", "skr.txt"]
        .iter()
        .map(|name| set.join(name))
        .find(|path| path.is_file())
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| {
        CliError::Signer(signer::Error::Read {
            path: path.to_owned(),
            source,
        })
    })
}

/// Writes one of the exercise's own files, never over another.
pub(super) fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::Output)?;
    }
    durable::write(path, bytes, durable::Replace::Never).map_err(|err| CliError::Signer(err.into()))
}

/// Writes one of the exercise's own files, replacing it.
pub(super) fn write_over(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::Output)?;
    }
    durable::write(path, bytes, durable::Replace::Allowed)
        .map_err(|err| CliError::Signer(err.into()))
}

/// A pin file: PINs, and for an unblock one officer's PUK and new PIN.
pub(super) fn write_pins(
    path: &Path,
    pins: &BTreeMap<String, Zeroizing<String>>,
    unblock: Option<(&str, &str, &str)>,
) -> Result<(), CliError> {
    // Through the TOML writer: whatever a person typed stays one string.
    let mut table = toml::Table::new();
    for (officer, pin) in pins {
        table.insert(
            officer.clone(),
            toml::Value::String(pin.as_str().to_owned()),
        );
    }
    if let Some((officer, puk, pin)) = unblock {
        let one = |value: &str| {
            toml::Value::Table(toml::Table::from_iter([(
                officer.to_owned(),
                toml::Value::String(value.to_owned()),
            )]))
        };
        table.insert("puk".into(), one(puk));
        table.insert("new-pin".into(), one(pin));
    }
    let text = Zeroizing::new(
        toml::to_string(&table)
            .map_err(|err| CliError::Exercise(format!("a pin file cannot be written: {err}")))?,
    );
    // The table's strings are wiped with it.
    for (_, value) in &mut table {
        if let toml::Value::String(text) = value {
            zeroize::Zeroize::zeroize(text);
        }
    }
    write_over(path, text.as_bytes())
}

/// Each officer's PIN for a new card, as they choose it.
pub(super) fn choose_pins(
    officers: &[String],
    people: &mut dyn People,
) -> Result<BTreeMap<String, Zeroizing<String>>, CliError> {
    officers
        .iter()
        .map(|officer| Ok((officer.clone(), people.choose_pin(officer)?)))
        .collect()
}

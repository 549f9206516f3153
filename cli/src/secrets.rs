//! PINs and PUKs: from the terminal without echo, or from a pin file for
//! scripted exercises.
//!
//! A pin file is TOML: officer name to PIN at the top level, PUKs in a
//! `[puk]` table, and the new PINs of `change-pin` and `unblock` in a
//! `[new-pin]` table:
//!
//! ```toml
//! CO-1 = "483920"
//! [puk]
//! CO-1 = "12345678"
//! [new-pin]
//! CO-1 = "246810"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use smartcard_sim::{Pin, Puk};
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::terminal;

/// Where PINs come from.
pub enum Secrets {
    /// Asked on the terminal, without echo.
    Prompt,
    /// Read from a pin file.
    File(PinFile),
}

/// A pin file's tables; the values are wiped when dropped.
pub struct PinFile {
    path: PathBuf,
    pins: BTreeMap<String, Zeroizing<String>>,
    puks: BTreeMap<String, Zeroizing<String>>,
    new_pins: BTreeMap<String, Zeroizing<String>>,
}

impl Secrets {
    /// The pin file if one is given, else the terminal.
    pub fn new(pin_file: Option<&Path>) -> Result<Self, CliError> {
        match pin_file {
            Some(path) => Ok(Self::File(PinFile::read(path)?)),
            None => Ok(Self::Prompt),
        }
    }

    /// The PIN of an officer's card.
    pub fn pin(&self, officer: &str) -> Result<Pin, CliError> {
        let text = match self {
            Self::Prompt => terminal::secret(&format!("PIN of {officer}'s card: "))?,
            Self::File(file) => file.take(&file.pins, "", officer)?,
        };
        Ok(Pin::new(text.to_string())?)
    }

    /// The PIN again, after a wrong one: the terminal asks (empty gives
    /// up); a pin file has no other, so `None`.
    pub fn pin_again(&self, officer: &str, tries_left: u8) -> Result<Option<Pin>, CliError> {
        match self {
            Self::File(_) => Ok(None),
            Self::Prompt => {
                let text = terminal::secret(&format!(
                    "PIN of {officer}'s card, again ({tries_left} tries left; empty to give up): "
                ))?;
                if text.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Pin::new(text.to_string())?))
            }
        }
    }

    /// The PUK of an officer's card.
    pub fn puk(&self, officer: &str) -> Result<Puk, CliError> {
        let text = match self {
            Self::Prompt => terminal::secret(&format!("PUK of {officer}'s card: "))?,
            Self::File(file) => file.take(&file.puks, "puk", officer)?,
        };
        Ok(Puk::new(text.to_string())?)
    }

    /// The PIN of a card about to be issued: chosen at the terminal (the
    /// rules shown, typed twice, asked again until it is good), or the
    /// officer's PIN in the file.
    pub fn initial_pin(&self, officer: &str) -> Result<Pin, CliError> {
        match self {
            Self::Prompt => terminal::new_pin(officer),
            Self::File(file) => Ok(Pin::new(file.take(&file.pins, "", officer)?.to_string())?),
        }
    }

    /// A new PIN: chosen at the terminal, or from `[new-pin]`.
    pub fn new_pin(&self, officer: &str) -> Result<Pin, CliError> {
        match self {
            Self::Prompt => terminal::new_pin(officer),
            Self::File(file) => Ok(Pin::new(
                file.take(&file.new_pins, "new-pin", officer)?.to_string(),
            )?),
        }
    }
}

impl PinFile {
    /// Reads and checks a pin file.
    fn read(path: &Path) -> Result<Self, CliError> {
        let error = |message: String| CliError::PinFile {
            path: path.to_owned(),
            message,
        };
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| CliError::Read {
                    path: path.to_owned(),
                    source,
                })?,
            );
        // toml's message quotes the offending line, which may hold a PIN:
        // only the position is reported.
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            let line = err.span().map_or(0, |span| {
                text.get(..span.start)
                    .map_or(0, |head| head.matches('\n').count() + 1)
            });
            error(format!("not valid TOML at line {line}"))
        })?;
        let mut file = Self {
            path: path.to_owned(),
            pins: BTreeMap::new(),
            puks: BTreeMap::new(),
            new_pins: BTreeMap::new(),
        };
        for (key, value) in table {
            match (key.as_str(), value) {
                ("puk", toml::Value::Table(table)) => {
                    file.puks = strings(table, "puk").map_err(error)?;
                }
                ("new-pin", toml::Value::Table(table)) => {
                    file.new_pins = strings(table, "new-pin").map_err(error)?;
                }
                (_, toml::Value::String(pin)) => {
                    file.pins.insert(key, Zeroizing::new(pin));
                }
                (_, _) => {
                    return Err(error(format!(
                        "{key:?} is neither an officer's PIN (a string) nor the [puk] or [new-pin] table"
                    )));
                }
            }
        }
        Ok(file)
    }

    /// The value for an officer in a table.
    fn take(
        &self,
        table: &BTreeMap<String, Zeroizing<String>>,
        name: &str,
        officer: &str,
    ) -> Result<Zeroizing<String>, CliError> {
        table
            .get(officer)
            .cloned()
            .ok_or_else(|| CliError::PinFile {
                path: self.path.clone(),
                message: if name.is_empty() {
                    format!("no PIN for {officer:?} at the top level")
                } else {
                    format!("no entry for {officer:?} in [{name}]")
                },
            })
    }
}

/// A table of strings.
fn strings(table: toml::Table, name: &str) -> Result<BTreeMap<String, Zeroizing<String>>, String> {
    table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(text) => Ok((key, Zeroizing::new(text))),
            _ => Err(format!("[{name}] {key:?} is not a string")),
        })
        .collect()
}

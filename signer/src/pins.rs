//! Pin files: the PINs and PUKs of scripted exercises and tests, as TOML.
//! Officer name to PIN at the top level, PUKs in a `[puk]` table, the new
//! PINs of `change-pin`, `unblock` and new cards in `[new-pin]`:
//!
//! ```toml
//! CO-1 = "483920"
//! [puk]
//! CO-1 = "12345678"
//! [new-pin]
//! CO-1 = "246810"
//! ```
//!
//! Every value is wiped when the file is dropped, and no error quotes the
//! file's text (which holds PINs): a syntax error names its line only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::Error;

/// Which table of a pin file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinTable {
    /// The officers' PINs, at the top level.
    Pins,
    /// `[puk]`.
    Puks,
    /// `[new-pin]`.
    NewPins,
}

/// A pin file's tables.
pub struct PinFile {
    path: PathBuf,
    pins: BTreeMap<String, Zeroizing<String>>,
    puks: BTreeMap<String, Zeroizing<String>>,
    new_pins: BTreeMap<String, Zeroizing<String>>,
}

impl PinFile {
    /// Reads and checks a pin file.
    ///
    /// # Errors
    ///
    /// It cannot be read, is not TOML (the line is named), or holds
    /// something other than strings and the two tables.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(Error::read(path))?);
        Self::parse(path, &text)
    }

    /// Parses the text of a pin file; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let error = |message: String| Error::PinFile {
            path: path.to_owned(),
            message,
        };
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

    /// An officer's value in a table.
    ///
    /// # Errors
    ///
    /// The table has none for the officer.
    pub fn get(&self, table: PinTable, officer: &str) -> Result<Zeroizing<String>, Error> {
        let (values, name) = match table {
            PinTable::Pins => (&self.pins, ""),
            PinTable::Puks => (&self.puks, "puk"),
            PinTable::NewPins => (&self.new_pins, "new-pin"),
        };
        values.get(officer).cloned().ok_or_else(|| Error::PinFile {
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

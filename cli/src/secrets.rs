//! PINs and PUKs: from the terminal without echo, or from a pin file
//! (`signer::PinFile`) for scripted exercises.

use std::path::Path;

use signer::{PinFile, PinTable};
use smartcard_sim::{Pin, Puk};

use crate::error::CliError;
use crate::terminal;

/// Where PINs come from.
pub enum Secrets {
    /// Asked on the terminal, without echo.
    Prompt,
    /// Read from a pin file.
    File(PinFile),
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
            Self::File(file) => file.get(PinTable::Pins, officer)?,
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
            Self::File(file) => file.get(PinTable::Puks, officer)?,
        };
        Ok(Puk::new(text.to_string())?)
    }

    /// The PIN of a card about to be issued: chosen at the terminal (the
    /// rules shown, typed twice, asked again until it is good), or the
    /// officer's PIN in the file.
    pub fn initial_pin(&self, officer: &str) -> Result<Pin, CliError> {
        match self {
            Self::Prompt => terminal::new_pin(officer),
            Self::File(file) => Ok(Pin::new(file.get(PinTable::Pins, officer)?.to_string())?),
        }
    }

    /// A new PIN: chosen at the terminal, or from `[new-pin]`.
    pub fn new_pin(&self, officer: &str) -> Result<Pin, CliError> {
        match self {
            Self::Prompt => terminal::new_pin(officer),
            Self::File(file) => Ok(Pin::new(file.get(PinTable::NewPins, officer)?.to_string())?),
        }
    }
}

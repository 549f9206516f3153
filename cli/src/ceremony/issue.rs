//! Issuing a set of cards: each card makes its key (which the roster
//! binds), then receives its share. Used by init, reshare and rekey.

use std::path::{Path, PathBuf};

use quorum::{NewOfficer, Share};
use smartcard_sim::{CardClient, FileStorage, KdfParams, Personalization, Pin, Puk, SimulatedCard};
use zeroize::Zeroizing;

use crate::ceremony::files::{digits, serial, write_atomically};
use crate::error::CliError;
use crate::render::out;

/// Cards half-way through personalization.
pub struct Issuing {
    cards: Vec<(PathBuf, CardClient<SimulatedCard<FileStorage>>)>,
    /// The officers, with their card keys, for the roster.
    pub officers: Vec<NewOfficer>,
    /// Each officer's PUK, shown or written once.
    puks: Vec<(String, Zeroizing<String>)>,
}

/// Personalizes one blank card per officer in `dir` (`<officer>.card`):
/// fields, PIN, a fresh PUK, and the key made on the card.
pub fn begin(
    dir: &Path,
    officers: &[String],
    pins: &[Pin],
    kdf: KdfParams,
    generation: u64,
) -> Result<Issuing, CliError> {
    std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut issuing = Issuing {
        cards: Vec::new(),
        officers: Vec::new(),
        puks: Vec::new(),
    };
    for (officer, pin) in officers.iter().zip(pins) {
        let path = dir.join(format!("{officer}.card"));
        let card = SimulatedCard::blank(FileStorage::new(&path), kdf).map_err(|source| {
            CliError::CardFile {
                path: path.clone(),
                source,
            }
        })?;
        let mut client = CardClient::new(card);
        let card_error = |source| CliError::Card {
            path: path.clone(),
            source,
        };
        client.select().map_err(card_error)?;
        let puk_digits = digits(12);
        let puk =
            Puk::new(puk_digits.to_string()).map_err(|err| CliError::Secret(err.to_string()))?;
        let fields = Personalization {
            serial: serial(),
            holder: officer.clone(),
            role: "crypto officer".into(),
            generation,
        };
        let public = client
            .begin_personalization(&fields, pin, &puk)
            .map_err(card_error)?;
        let card_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).map_err(|_| {
            CliError::Runtime(format!("{}: the card made no P-256 key", path.display()))
        })?;
        issuing.officers.push(NewOfficer {
            name: officer.clone(),
            role: fields.role,
            card_serial: fields.serial,
            card_key,
        });
        issuing.puks.push((officer.clone(), puk_digits));
        issuing.cards.push((path, client));
    }
    Ok(issuing)
}

impl Issuing {
    /// Writes each officer's share to their card, which stores the card.
    pub fn finish(&mut self, shares: &[Share]) -> Result<(), CliError> {
        for ((path, client), share) in self.cards.iter_mut().zip(shares) {
            client
                .finish_personalization(share.to_bytes().as_ref())
                .map_err(|source| CliError::Card {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// The card files and serials, officer by officer.
    pub fn cards(&self) -> Vec<(String, String, String)> {
        self.cards
            .iter()
            .zip(&self.officers)
            .map(|((path, _), officer)| {
                (
                    officer.name.clone(),
                    officer.card_serial.clone(),
                    path.display().to_string(),
                )
            })
            .collect()
    }

    /// Writes the PUKs to `path` (a `[puk]` table, never overwritten), or
    /// prints them once when there is no path (and not `quiet`).
    pub fn hand_out_puks(&self, path: Option<&Path>, quiet: bool) -> Result<(), CliError> {
        match path {
            Some(path) => {
                // Sized once, written in place: no stray copies of a PUK.
                let mut text = Zeroizing::new(String::with_capacity(16 + self.puks.len() * 96));
                text.push_str("[puk]\n");
                for (officer, puk) in &self.puks {
                    text.push_str(&format!("{officer:?}"));
                    text.push_str(" = \"");
                    text.push_str(puk.as_str());
                    text.push_str("\"\n");
                }
                write_atomically(path, text.as_bytes(), true).map_err(|source| CliError::Write {
                    path: path.to_owned(),
                    source,
                })
            }
            None if quiet => Ok(()),
            None => {
                out("PUKs (shown once; write them down and keep them apart from the cards):")?;
                for (officer, puk) in &self.puks {
                    out(format!("  {officer}: {}", puk.as_str()))?;
                }
                Ok(())
            }
        }
    }
}

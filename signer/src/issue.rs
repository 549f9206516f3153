//! Issuing a set of cards (init, reshare, rekey): each card makes its key,
//! which the roster binds, then receives its share; each officer's PUK is
//! handed out once, written to a file or shown to that officer alone.

use std::path::{Path, PathBuf};

use quorum::{NewOfficer, Share};
use smartcard_sim::{CardClient, FileStorage, KdfParams, Personalization, Pin, Puk, SimulatedCard};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::records::{random_digits, serial};

/// One officer's PUK, for the front end to show to that officer alone.
pub struct PukSlip<'a> {
    /// The officer.
    pub officer: &'a str,
    /// The card's serial.
    pub serial: &'a str,
    /// The PUK.
    pub puk: &'a str,
}

/// Shows one officer their PUK.
pub type PukHandout = Box<dyn FnMut(&PukSlip<'_>) -> Result<(), Error> + Send>;

/// Where the PUKs go, once.
pub enum PukDelivery {
    /// A new TOML file (a `[puk]` table), mode 0600, never overwritten.
    File(PathBuf),
    /// To each officer in turn, through the front end.
    EachOfficer(PukHandout),
}

impl PukDelivery {
    /// Checks, before anything is made, that the PUKs can be delivered: a
    /// PUK file must not exist yet, since a failure after the cards exist
    /// must not lose them.
    ///
    /// # Errors
    ///
    /// The file exists, or its directory is not writable.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Self::File(path) => durable::check_writable(path).map_err(Error::from),
            Self::EachOfficer(_) => Ok(()),
        }
    }

    /// The PUK file, if that is where they go.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::File(path) => Some(path),
            Self::EachOfficer(_) => None,
        }
    }
}

/// Cards half-way through personalization.
pub(crate) struct Issuing {
    dir: PathBuf,
    cards: Vec<(PathBuf, CardClient<SimulatedCard<FileStorage>>)>,
    /// The officers, with their card keys, for the roster.
    pub officers: Vec<NewOfficer>,
    puks: Vec<(String, Zeroizing<String>)>,
    /// Whether the cards were written: from then on they are kept.
    finished: bool,
}

/// Checks officers' names: they name card files, and k of n must be
/// possible.
///
/// # Errors
///
/// A name is not usable, or the threshold is not 2 to n.
pub fn check_officers(officers: &[String], threshold: usize) -> Result<(), Error> {
    for (index, officer) in officers.iter().enumerate() {
        if officer.is_empty()
            || officer.len() > 64
            || !officer
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || officer.starts_with('.')
        {
            return Err(Error::Officer {
                name: officer.clone(),
                reason: "1 to 64 letters, digits, '-', '_' or '.' (it names a card file), not starting with '.'",
            });
        }
        if officers.iter().take(index).any(|other| other == officer) {
            return Err(Error::Officer {
                name: officer.clone(),
                reason: "named twice",
            });
        }
    }
    if officers.len() < 2 || threshold < 2 || threshold > officers.len() {
        return Err(Error::Threshold {
            threshold,
            officers: officers.len(),
        });
    }
    Ok(())
}

impl Issuing {
    /// Personalizes one blank card per officer in `dir`
    /// (`<officer>.card`): fields, PIN, a fresh PUK, and the key made on
    /// the card. Nothing is stored until [`finish`](Self::finish).
    pub fn begin(
        dir: &Path,
        officers: &[String],
        pins: Vec<Pin>,
        kdf: KdfParams,
        generation: u64,
    ) -> Result<Self, Error> {
        let mut issuing = Self {
            dir: dir.to_owned(),
            cards: Vec::new(),
            officers: Vec::new(),
            puks: Vec::new(),
            finished: false,
        };
        for (officer, pin) in officers.iter().zip(pins) {
            let path = dir.join(format!("{officer}.card"));
            if path.exists() {
                return Err(Error::OutputExists(path));
            }
            let card = SimulatedCard::blank(FileStorage::new(&path), kdf).map_err(|err| {
                Error::CardFile {
                    path: path.clone(),
                    reason: err.to_string(),
                }
            })?;
            let mut client = CardClient::new(card);
            let card_error = |source| Error::Card {
                path: path.clone(),
                source,
            };
            client.select().map_err(card_error)?;
            let puk_digits = random_digits(12);
            let puk = Puk::new(puk_digits.to_string())
                .map_err(|err| Error::Internal(format!("a drawn PUK: {err}")))?;
            let fields = Personalization {
                serial: serial(),
                holder: officer.clone(),
                role: "crypto officer".into(),
                generation,
            };
            let public = client
                .begin_personalization(&fields, &pin, &puk)
                .map_err(card_error)?;
            let card_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).map_err(|_| {
                Error::CardFile {
                    path: path.clone(),
                    reason: "the card made no P-256 key".into(),
                }
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

    /// Writes each officer's share to their card, which stores the card.
    pub fn finish(&mut self, shares: &[Share]) -> Result<(), Error> {
        for ((path, client), share) in self.cards.iter_mut().zip(shares) {
            client
                .finish_personalization(share.to_bytes().as_ref())
                .map_err(|source| Error::Card {
                    path: path.clone(),
                    source,
                })?;
        }
        self.finished = true;
        Ok(())
    }

    /// The officers and their card serials and files.
    pub fn cards(&self) -> Vec<(String, String, PathBuf)> {
        self.cards
            .iter()
            .zip(&self.officers)
            .map(|((path, _), officer)| {
                (
                    officer.name.clone(),
                    officer.card_serial.clone(),
                    path.clone(),
                )
            })
            .collect()
    }

    /// Hands the PUKs out, once.
    pub fn hand_out(&self, delivery: &mut PukDelivery) -> Result<(), Error> {
        match delivery {
            PukDelivery::File(path) => {
                // Sized once, written in place: no stray copies of a PUK.
                let mut text = Zeroizing::new(String::with_capacity(16 + self.puks.len() * 96));
                text.push_str("[puk]\n");
                for (officer, puk) in &self.puks {
                    text.push_str(&format!("{officer:?}"));
                    text.push_str(" = \"");
                    text.push_str(puk.as_str());
                    text.push_str("\"\n");
                }
                durable::write(path, text.as_bytes(), durable::Replace::Never)?;
                Ok(())
            }
            PukDelivery::EachOfficer(show) => {
                for ((officer, puk), card) in self.puks.iter().zip(&self.officers) {
                    show(&PukSlip {
                        officer,
                        serial: &card.card_serial,
                        puk,
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Removes the cards this issuing stored, after a failure that leaves
    /// them useless (the HSM never took their roster).
    pub fn discard(mut self) {
        for (path, _) in &self.cards {
            let _ = std::fs::remove_file(path);
        }
        let _ = durable::sweep(&self.dir);
        self.finished = false;
    }
}

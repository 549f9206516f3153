//! An officer's card at this terminal: opened (and locked) for as long as
//! it is in the reader, its PIN checked, its share read and its signature
//! over an activation challenge made; and the card commands (`card
//! status|verify|change-pin|unblock`), recorded in the ceremony's log when
//! the card is one of its own.

use std::path::{Path, PathBuf};

use p256::ecdsa::Signature;
use quorum::{Challenge, Presentation, Share};
use smartcard_sim::{CardClient, CardError, CardStatus, FileStorage, Pin, Puk, SimulatedCard};

use crate::audit::{CardRef, Event};
use crate::ceremony::Ceremony;
use crate::error::Error;
use crate::flow::{Officers, Presenting};

/// A card in the reader.
pub struct LocalCard {
    path: PathBuf,
    client: CardClient<SimulatedCard<FileStorage>>,
    status: CardStatus,
}

impl LocalCard {
    /// Opens a card file, locked against other processes until dropped,
    /// selects the officer applet and reads what the card says without
    /// its PIN.
    ///
    /// # Errors
    ///
    /// No card file there, another process holds it, it is damaged, or it
    /// is no officer card: the reason, in words for the officer.
    pub fn open(path: &Path) -> Result<Self, String> {
        let storage = FileStorage::locked(path).map_err(|err| err.to_string())?;
        let card = SimulatedCard::open(storage).map_err(|err| err.to_string())?;
        let mut client = CardClient::new(card);
        client.select().map_err(|err| err.to_string())?;
        let status = client.status().map_err(|err| err.to_string())?;
        Ok(Self {
            path: path.to_owned(),
            client,
            status,
        })
    }

    /// The card file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the card says without its PIN.
    pub fn status(&self) -> &CardStatus {
        &self.status
    }

    /// The card as the log names it.
    pub fn reference(&self) -> CardRef {
        CardRef {
            serial: self.status.serial.clone(),
            officer: self.status.holder.clone(),
        }
    }

    /// Reads the status again (the tries left change).
    ///
    /// # Errors
    ///
    /// The card does not answer.
    pub fn refresh(&mut self) -> Result<&CardStatus, CardError> {
        self.status = self.client.status()?;
        Ok(&self.status)
    }

    /// Checks the PIN; a wrong one costs a try, which the card counts
    /// before it compares.
    ///
    /// # Errors
    ///
    /// A wrong PIN (with the tries left), a blocked or dead card.
    pub fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        let result = self.client.verify(pin);
        let _ = self.refresh();
        result
    }

    /// The PIN, asked of the officers again while tries are left and they
    /// have another; `wrong` hears of every wrong one (to record it) before
    /// the officers are shown it. Answers the refusal's reason when the
    /// card stays locked.
    ///
    /// # Errors
    ///
    /// The officers cannot be asked, or `wrong` fails.
    pub fn unlock(
        &mut self,
        officers: &mut dyn Officers,
        wrong: &mut dyn FnMut(&Self, u8) -> Result<(), Error>,
    ) -> Result<Result<(), String>, Error> {
        let mut again = false;
        loop {
            let status = self.status.clone();
            let Some(pin) = officers.pin(&status, again)? else {
                return Ok(Err(format!(
                    "no PIN to try ({} tries left)",
                    status.pin_tries_left
                )));
            };
            match self.verify(&pin) {
                Ok(()) => return Ok(Ok(())),
                Err(CardError::WrongPin { tries_left }) => {
                    wrong(self, tries_left)?;
                    officers.show(&Presenting::WrongPin {
                        status: &self.status,
                        tries_left,
                    })?;
                    if tries_left == 0 {
                        return Ok(Err("wrong PIN; the card is now blocked".into()));
                    }
                    again = true;
                }
                Err(err) => return Ok(Err(err.to_string())),
            }
        }
    }

    /// After the PIN: the card's share and its signature over the
    /// challenge, as a presentation.
    ///
    /// # Errors
    ///
    /// The share is unusable or the card does not sign: in words.
    pub fn present(&mut self, challenge: &Challenge) -> Result<Presentation, String> {
        let bytes = self.client.read_share().map_err(|err| err.to_string())?;
        let share =
            Share::from_bytes(&bytes).map_err(|err| format!("its share is unusable: {err}"))?;
        let signature = self
            .client
            .authenticate(&challenge.message(share.index()))
            .map_err(|err| err.to_string())
            .and_then(|bytes| Signature::from_slice(&bytes).map_err(|err| err.to_string()))?;
        Ok(Presentation {
            card_serial: self.status.serial.clone(),
            generation: self.status.generation,
            nonce: challenge.nonce,
            share,
            signature,
        })
    }

    /// Whether the card takes a ceremony at this epoch (not older than the
    /// last it was told of).
    ///
    /// # Errors
    ///
    /// It has seen a later one, or cannot say: in words.
    pub fn check_epoch(&mut self, epoch: u64) -> Result<(), String> {
        self.client
            .check_epoch(epoch)
            .map_err(|err| err.to_string())
    }

    /// Tells the card the ceremony's new epoch (in the session its PIN
    /// opened).
    ///
    /// # Errors
    ///
    /// The card refused or could not store it: in words.
    pub fn record_epoch(&mut self, epoch: u64) -> Result<(), String> {
        self.client
            .record_epoch(epoch)
            .map_err(|err| err.to_string())
    }

    /// Erases the card (TERMINATE CARD USAGE, in the session its PIN
    /// opened): its share, its key and its PIN wraps are gone for good.
    ///
    /// # Errors
    ///
    /// The card refused or could not store it: in words.
    pub fn erase(&mut self) -> Result<(), String> {
        let result = self.client.terminate().map_err(|err| err.to_string());
        let _ = self.refresh();
        result
    }

    /// Changes the PIN: the old one (a wrong one costs a try), the new one.
    ///
    /// # Errors
    ///
    /// The card's refusal.
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError> {
        let result = self.client.change_pin(old, new);
        let _ = self.refresh();
        result
    }

    /// Unblocks the card with its PUK and sets a new PIN.
    ///
    /// # Errors
    ///
    /// The card's refusal (a wrong PUK costs one of its ten tries).
    pub fn unblock(&mut self, puk: &Puk, new: &Pin) -> Result<(), CardError> {
        let result = self.client.unblock(puk, new);
        let _ = self.refresh();
        result
    }
}

//------------ Card commands -------------------------------------------------

/// What a card command does.
pub enum CardCommand<'a> {
    /// Check the PIN.
    Verify(&'a Pin),
    /// Change the PIN.
    ChangePin {
        /// The current PIN.
        old: &'a Pin,
        /// The new one.
        new: &'a Pin,
    },
    /// Unblock with the PUK and set a new PIN.
    Unblock {
        /// The PUK.
        puk: &'a Puk,
        /// The new PIN.
        new: &'a Pin,
    },
}

/// Runs a card command on an open card and records it in the ceremony's
/// log when `ceremony` holds the card in its roster: a wrong PIN, a PIN
/// change, each use of the PUK (right or wrong).
///
/// # Errors
///
/// The card's refusal ([`Error::Card`]), or the log cannot be written.
pub fn run_command(
    card: &mut LocalCard,
    command: &CardCommand<'_>,
    ceremony: Option<&Ceremony>,
) -> Result<(), Error> {
    let result = match command {
        CardCommand::Verify(pin) => card.verify(pin),
        CardCommand::ChangePin { old, new } => card.change_pin(old, new),
        CardCommand::Unblock { puk, new } => card.unblock(puk, new),
    };
    let ours = ceremony.filter(|ceremony| {
        ceremony
            .roster()
            .officer_by_card(&card.status().serial)
            .is_some()
    });
    if let Some(ceremony) = ours {
        let during = match command {
            CardCommand::Verify(_) => "card verify",
            CardCommand::ChangePin { .. } => "card change-pin",
            CardCommand::Unblock { .. } => "card unblock",
        };
        let event = match (command, &result) {
            (_, Err(CardError::WrongPin { tries_left })) => Some(Event::WrongPin {
                card: card.reference(),
                tries_left: *tries_left,
                during: during.into(),
                client: None,
            }),
            (CardCommand::ChangePin { .. }, Ok(())) => Some(Event::PinChanged {
                card: card.reference(),
            }),
            (
                CardCommand::Unblock { .. },
                Ok(()) | Err(CardError::WrongPuk { .. } | CardError::Dead),
            ) => Some(Event::PukUsed {
                card: card.reference(),
                accepted: result.is_ok(),
                tries_left: card.status().puk_tries_left,
            }),
            _ => None,
        };
        if let Some(event) = event {
            ceremony.record(&event)?;
        }
    }
    result.map_err(|source| Error::Card {
        path: card.path().to_owned(),
        source,
    })
}

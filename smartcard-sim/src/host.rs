//! The host side: typed calls on top of APDUs, status words turned into
//! errors that say what happened.

use std::fmt;

use zeroize::Zeroizing;

use crate::apdu::*;
use crate::card::Card;
use crate::record::KdfParams;
use crate::secret::{Pin, Puk};
use crate::sim::lifecycle;

//------------ CardError -----------------------------------------------------

/// What went wrong at the card, from its status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// 63Cx from VERIFY or CHANGE REFERENCE DATA: a wrong PIN.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin {
        /// Tries left; 0 means the PIN is now blocked.
        tries_left: u8,
    },
    /// 63Cx from RESET RETRY COUNTER: a wrong PUK.
    #[error("wrong PUK: {tries_left} tries left")]
    WrongPuk {
        /// Tries left; 0 means the card is now dead.
        tries_left: u8,
    },
    /// 6983 for the PIN: no tries left; the PUK can unblock it.
    #[error("the PIN is blocked; unblock the card with its PUK")]
    PinBlocked,
    /// 6983 for the PUK: the card is dead and must be re-issued.
    #[error("the PUK is blocked: the card is dead and must be replaced")]
    Dead,
    /// 6985 from CHECK EPOCH or RECORD EPOCH: the ceremony's epoch is older
    /// than the card has seen.
    #[error(
        "the ceremony says epoch {given}, but this card has seen epoch {seen}: the ceremony directory was rolled back to an older copy"
    )]
    OlderEpoch {
        /// The epoch given.
        given: u64,
        /// The card's.
        seen: u64,
    },
    /// 6983 on a terminated card: erased when a new card set retired it.
    #[error("the card was erased: a new card set retired it, and it keeps no share")]
    Erased,
    /// 6982: the command needs a successful VERIFY first.
    #[error("the card wants its PIN first (security status not satisfied)")]
    PinRequired,
    /// 6A82: no officer applet on this card.
    #[error("not an officer card: the applet is not on it")]
    NoApplet,
    /// 6400: the card's data failed their integrity check.
    #[error("the card's data are damaged")]
    Damaged,
    /// 6581: the card could not write its state; nothing was checked.
    #[error("the card could not write its memory; nothing was checked")]
    MemoryFailure,
    /// 6985: the command does not fit the card's state (personalizing an
    /// issued card, say).
    #[error("the card refuses this in its present state")]
    WrongState,
    /// Any other status word: a bug on one side or the other.
    #[error("unexpected status {0}")]
    Unexpected(StatusWord),
    /// A 9000 answer whose data are not what the command returns.
    #[error("the card's answer is malformed")]
    Malformed,
}

//------------ CardStatus ----------------------------------------------------

/// What a card says about itself without a PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardStatus {
    /// The serial.
    pub serial: String,
    /// The officer.
    pub holder: String,
    /// The officer's role.
    pub role: String,
    /// The roster generation the card was issued for.
    pub generation: u64,
    /// PIN tries left.
    pub pin_tries_left: u8,
    /// PUK tries left.
    pub puk_tries_left: u8,
    /// The card's public key, compressed SEC1.
    pub card_key: Vec<u8>,
    /// The Argon2id parameters of its PIN and PUK.
    pub kdf: KdfParams,
    /// The life-cycle state.
    pub state: CardState,
}

/// Where a card is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardState {
    /// Not personalized.
    Blank,
    /// Usable.
    Active,
    /// The PIN is blocked; the PUK can unblock it.
    Blocked,
    /// The PUK is blocked too: re-issue.
    Dead,
    /// Terminated: erased when a new card set retired it.
    Erased,
}

impl fmt::Display for CardState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Blank => "blank",
            Self::Active => "active",
            Self::Blocked => "blocked (PIN)",
            Self::Dead => "dead (PUK blocked)",
            Self::Erased => "erased (retired by a new card set)",
        })
    }
}

/// The fields written at issuance.
#[derive(Clone, Debug)]
pub struct Personalization {
    /// The serial.
    pub serial: String,
    /// The officer.
    pub holder: String,
    /// The role.
    pub role: String,
    /// The roster generation.
    pub generation: u64,
}

//------------ CardClient ----------------------------------------------------

/// Typed commands to a card.
pub struct CardClient<C: Card> {
    card: C,
}

impl<C: Card> CardClient<C> {
    /// Wraps a card in a reader.
    pub fn new(card: C) -> Self {
        Self { card }
    }

    /// The card, back.
    pub fn into_card(self) -> C {
        self.card
    }

    /// Sends a command; 9000 gives the data, anything else an error.
    fn send(&mut self, command: Command) -> Result<Vec<u8>, StatusWord> {
        let mut response = self.card.transmit(&command);
        if response.status == StatusWord::OK {
            Ok(std::mem::take(&mut response.data))
        } else {
            Err(response.status)
        }
    }

    /// SELECT the officer applet.
    ///
    /// # Errors
    ///
    /// [`CardError::NoApplet`] if the card has none.
    pub fn select(&mut self) -> Result<(), CardError> {
        self.send(Command::with_data(
            CLA_ISO,
            INS_SELECT,
            0x04,
            0x00,
            AID.to_vec(),
        ))
        .map(drop)
        .map_err(|status| common(status, false))
    }

    /// GET DATA for one tag.
    fn get_data(&mut self, tag: u16) -> Result<Vec<u8>, CardError> {
        let [p1, p2] = tag.to_be_bytes();
        self.send(Command::new(CLA_ISO, INS_GET_DATA, p1, p2))
            .map_err(|status| common(status, false))
    }

    /// Serial, holder, role, generation, tries left and state: no PIN.
    ///
    /// # Errors
    ///
    /// A status other than 9000, or malformed data.
    pub fn status(&mut self) -> Result<CardStatus, CardError> {
        let state = match self.get_data(TAG_LIFECYCLE)?.as_slice() {
            [lifecycle::BLANK] => CardState::Blank,
            [lifecycle::ACTIVE] => CardState::Active,
            [lifecycle::BLOCKED] => CardState::Blocked,
            [lifecycle::DEAD] => CardState::Dead,
            [lifecycle::TERMINATED] => CardState::Erased,
            _ => return Err(CardError::Malformed),
        };
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|_| CardError::Malformed);
        let serial = text(self.get_data(TAG_SERIAL)?)?;
        let holder = text(self.get_data(TAG_HOLDER)?)?;
        let role = text(self.get_data(TAG_ROLE)?)?;
        let generation = <[u8; 8]>::try_from(self.get_data(TAG_GENERATION)?)
            .map(u64::from_be_bytes)
            .map_err(|_| CardError::Malformed)?;
        let [pin_tries_left, puk_tries_left] =
            <[u8; 2]>::try_from(self.get_data(TAG_TRIES)?).map_err(|_| CardError::Malformed)?;
        let kdf = self.get_data(TAG_KDF)?;
        let number = |index: usize| {
            kdf.get(index * 4..index * 4 + 4)
                .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
                .map(u32::from_be_bytes)
                .ok_or(CardError::Malformed)
        };
        let kdf = KdfParams {
            m_kib: number(0)?,
            t: number(1)?,
            p: number(2)?,
        };
        Ok(CardStatus {
            kdf,
            serial,
            holder,
            role,
            generation,
            pin_tries_left,
            puk_tries_left,
            card_key: self.get_data(TAG_CARD_KEY)?,
            state,
        })
    }

    /// VERIFY the PIN; afterwards the share and the card key are usable
    /// until the next SELECT.
    ///
    /// # Errors
    ///
    /// [`CardError::WrongPin`] with the tries left, [`CardError::PinBlocked`],
    /// [`CardError::Damaged`], …
    pub fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        let result = self
            .send(Command::with_data(
                CLA_ISO,
                INS_VERIFY,
                0x00,
                PIN_REFERENCE,
                pin.to_block().to_vec(),
            ))
            .map(drop)
            .map_err(pin_error);
        self.dead_or(result)
    }

    /// A blocked PIN on a card whose PUK is blocked too is a dead card.
    fn dead_or<T>(&mut self, result: Result<T, CardError>) -> Result<T, CardError> {
        match result {
            Err(CardError::PinBlocked | CardError::Dead) => {
                match self.get_data(TAG_LIFECYCLE).ok().as_deref() {
                    Some([lifecycle::DEAD]) => Err(CardError::Dead),
                    Some([lifecycle::TERMINATED]) => Err(CardError::Erased),
                    _ => result,
                }
            }
            other => other,
        }
    }

    /// The PIN tries left, without trying a PIN (VERIFY without data);
    /// `None` when the PIN is verified in this session.
    ///
    /// # Errors
    ///
    /// [`CardError::PinBlocked`] when none are left.
    pub fn pin_tries_left(&mut self) -> Result<Option<u8>, CardError> {
        let result = match self.send(Command::new(CLA_ISO, INS_VERIFY, 0x00, PIN_REFERENCE)) {
            Ok(_) => Ok(None),
            Err(status) => match status.remaining_tries() {
                Some(tries) => Ok(Some(tries)),
                None => Err(pin_error(status)),
            },
        };
        self.dead_or(result)
    }

    /// CHANGE REFERENCE DATA: the old PIN (a wrong one costs a try), the
    /// new PIN.
    ///
    /// # Errors
    ///
    /// As [`Self::verify`].
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError> {
        // The command wipes its data when dropped.
        let mut data = old.to_block().to_vec();
        data.extend_from_slice(new.to_block().as_ref());
        let result = self
            .send(Command::with_data(
                CLA_ISO,
                INS_CHANGE_REFERENCE_DATA,
                0x00,
                PIN_REFERENCE,
                data,
            ))
            .map(drop)
            .map_err(pin_error);
        self.dead_or(result)
    }

    /// RESET RETRY COUNTER: the PUK and a new PIN.
    ///
    /// # Errors
    ///
    /// [`CardError::WrongPuk`] with the tries left, [`CardError::Dead`], …
    pub fn unblock(&mut self, puk: &Puk, new: &Pin) -> Result<(), CardError> {
        let mut data = puk.to_block().to_vec();
        data.extend_from_slice(new.to_block().as_ref());
        let result = self
            .send(Command::with_data(
                CLA_ISO,
                INS_RESET_RETRY_COUNTER,
                0x00,
                PUK_REFERENCE,
                data,
            ))
            .map(drop)
            .map_err(|status| match status.remaining_tries() {
                Some(tries_left) => CardError::WrongPuk { tries_left },
                None if status == StatusWord::BLOCKED => CardError::Dead,
                None => common(status, false),
            });
        self.dead_or(result)
    }

    /// INTERNAL AUTHENTICATE: the card's ECDSA P-256 signature (r‖s, 64
    /// bytes) over the challenge, made with a key that never leaves it.
    ///
    /// # Errors
    ///
    /// [`CardError::PinRequired`] before a successful VERIFY.
    pub fn authenticate(&mut self, challenge: &[u8]) -> Result<[u8; 64], CardError> {
        let answer = self
            .send(Command::with_data(
                CLA_ISO,
                INS_INTERNAL_AUTHENTICATE,
                0x00,
                0x00,
                challenge.to_vec(),
            ))
            .map_err(|status| common(status, true))?;
        answer.try_into().map_err(|_| CardError::Malformed)
    }

    /// CHECK EPOCH: whether the card accepts a ceremony at this epoch (it
    /// refuses one older than it has seen). No PIN needed.
    ///
    /// # Errors
    ///
    /// [`CardError::OlderEpoch`] with the epoch the card has seen.
    pub fn check_epoch(&mut self, epoch: u64) -> Result<(), CardError> {
        self.epoch_command(INS_CHECK_EPOCH, epoch, false)
    }

    /// RECORD EPOCH, after a successful VERIFY: the card refuses older
    /// epochs from now on.
    ///
    /// # Errors
    ///
    /// [`CardError::PinRequired`] before VERIFY, [`CardError::OlderEpoch`].
    pub fn record_epoch(&mut self, epoch: u64) -> Result<(), CardError> {
        self.epoch_command(INS_RECORD_EPOCH, epoch, true)
    }

    /// CHECK EPOCH or RECORD EPOCH: 6985 is an older epoch than the card's.
    fn epoch_command(&mut self, ins: u8, epoch: u64, after_pin: bool) -> Result<(), CardError> {
        let answer = self.send(Command::with_data(
            CLA_PROPRIETARY,
            ins,
            0x00,
            0x00,
            epoch.to_be_bytes().to_vec(),
        ));
        match answer {
            Ok(_) => Ok(()),
            Err(StatusWord::CONDITIONS) => Err(CardError::OlderEpoch {
                given: epoch,
                seen: self.epoch_seen()?,
            }),
            Err(status) => Err(common(status, after_pin)),
        }
    }

    /// The highest ceremony epoch the card has seen.
    ///
    /// # Errors
    ///
    /// The card's refusal.
    pub fn epoch_seen(&mut self) -> Result<u64, CardError> {
        <[u8; 8]>::try_from(self.get_data(TAG_EPOCH)?)
            .map(u64::from_be_bytes)
            .map_err(|_| CardError::Malformed)
    }

    /// TERMINATE CARD USAGE, after a successful VERIFY: the card keeps no
    /// secret and answers as dead from now on.
    ///
    /// # Errors
    ///
    /// [`CardError::PinRequired`] before it, or the card could not store it.
    pub fn terminate(&mut self) -> Result<(), CardError> {
        self.send(Command::new(CLA_ISO, INS_TERMINATE_CARD, 0x00, 0x00))
            .map(drop)
            .map_err(|status| common(status, true))
    }

    /// READ SHARE, after a successful VERIFY.
    ///
    /// # Errors
    ///
    /// [`CardError::PinRequired`] before it.
    pub fn read_share(&mut self) -> Result<Zeroizing<Vec<u8>>, CardError> {
        self.send(Command::new(CLA_PROPRIETARY, INS_READ_SHARE, 0x00, 0x00))
            .map(Zeroizing::new)
            .map_err(|status| common(status, true))
    }

    /// Personalizes a blank card: its fields, PIN and PUK, a key made on
    /// the card, the share; then ends personalization, which stores it.
    /// Returns the card's public key (compressed SEC1).
    ///
    /// # Errors
    ///
    /// [`CardError::WrongState`] for a card that is not blank, and the
    /// errors of each step.
    pub fn personalize(
        &mut self,
        fields: &Personalization,
        pin: &Pin,
        puk: &Puk,
        share: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let public = self.begin_personalization(fields, pin, puk)?;
        self.finish_personalization(share)?;
        Ok(public)
    }

    /// The first half of personalization: fields, PIN and PUK, and the
    /// card key made on the card, whose public key is returned. Issuance
    /// needs every card's key before the shares exist (the roster binds
    /// them), hence the two halves.
    ///
    /// # Errors
    ///
    /// As [`Self::personalize`].
    pub fn begin_personalization(
        &mut self,
        fields: &Personalization,
        pin: &Pin,
        puk: &Puk,
    ) -> Result<Vec<u8>, CardError> {
        let mut tlv = Vec::new();
        for (tag, value) in [
            (0x01, fields.serial.as_bytes()),
            (0x02, fields.holder.as_bytes()),
            (0x03, fields.role.as_bytes()),
            (0x04, &fields.generation.to_be_bytes()[..]),
        ] {
            tlv.push(tag);
            tlv.push(u8::try_from(value.len()).map_err(|_| CardError::Malformed)?);
            tlv.extend_from_slice(value);
        }
        let mut secrets = pin.to_block().to_vec();
        secrets.extend_from_slice(puk.to_block().as_ref());
        for (ins, data) in [(INS_PERSONALIZE, tlv), (INS_SET_PIN_PUK, secrets)] {
            self.send(Command::with_data(CLA_PROPRIETARY, ins, 0x00, 0x00, data))
                .map_err(|status| common(status, false))?;
        }
        self.send(Command::new(CLA_PROPRIETARY, INS_GENERATE_KEY, 0x00, 0x00))
            .map_err(|status| common(status, false))
    }

    /// The second half: the share, then the end of personalization, which
    /// stores the card.
    ///
    /// # Errors
    ///
    /// As [`Self::personalize`].
    pub fn finish_personalization(&mut self, share: &[u8]) -> Result<(), CardError> {
        self.send(Command::with_data(
            CLA_PROPRIETARY,
            INS_WRITE_SHARE,
            0x00,
            0x00,
            share.to_vec(),
        ))
        .map_err(|status| common(status, false))?;
        self.send(Command::new(
            CLA_PROPRIETARY,
            INS_END_PERSONALIZATION,
            0x00,
            0x00,
        ))
        .map(drop)
        .map_err(|status| common(status, false))
    }
}

/// A PIN command's status word as an error.
fn pin_error(status: StatusWord) -> CardError {
    match status.remaining_tries() {
        Some(tries_left) => CardError::WrongPin { tries_left },
        None if status == StatusWord::BLOCKED => CardError::PinBlocked,
        None => common(status, false),
    }
}

/// The status words every command may answer.
fn common(status: StatusWord, needs_pin: bool) -> CardError {
    match status {
        StatusWord::SECURITY_STATUS if needs_pin => CardError::PinRequired,
        StatusWord::NOT_FOUND => CardError::NoApplet,
        StatusWord::DAMAGED => CardError::Damaged,
        StatusWord::MEMORY_FAILURE => CardError::MemoryFailure,
        StatusWord::CONDITIONS => CardError::WrongState,
        other => CardError::Unexpected(other),
    }
}

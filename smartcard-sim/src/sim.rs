//! The simulated card: the officer applet behind [`Card::transmit`], its
//! state in a [`Storage`].

use std::io;

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate as _;
use zeroize::Zeroizing;

use crate::apdu::*;
use crate::card::Card;
use crate::record::{
    CardRecord, Damaged, KdfParams, MAX_SHARE, PIN_TRIES, PUK_TRIES, Sealed, Slot, check_field,
    random,
};
use crate::secret::{Pin, Puk};
use crate::storage::Storage;

/// The life-cycle byte of GET DATA [`TAG_LIFECYCLE`].
pub mod lifecycle {
    /// Not yet personalized.
    pub const BLANK: u8 = 1;
    /// Issued and usable.
    pub const ACTIVE: u8 = 2;
    /// No PIN tries left; the PUK can unblock it.
    pub const BLOCKED: u8 = 3;
    /// No PUK tries left either: only re-issue helps.
    pub const DEAD: u8 = 4;
    /// Terminated (TERMINATE CARD USAGE): it keeps no secret.
    pub const TERMINATED: u8 = 5;
}

//------------ OpenError -----------------------------------------------------

/// Why a simulated card could not be put in the reader.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The storage could not be read.
    #[error("cannot read the card: {0}")]
    Io(#[from] io::Error),
    /// The card's data fail their checks.
    #[error(transparent)]
    Damaged(#[from] Damaged),
    /// There is no card here.
    #[error("no card has been issued here")]
    NotIssued,
    /// A blank card was asked for where a card already is.
    #[error("a card has already been issued here; a card is never overwritten")]
    AlreadyIssued,
    /// The Argon2id parameters for a new card are not usable.
    #[error("{0}")]
    Kdf(String),
}

//------------ SimulatedCard -------------------------------------------------

/// A simulated officer card.
pub struct SimulatedCard<S: Storage> {
    storage: S,
    state: State,
    /// Whether the applet is selected in this session.
    selected: bool,
    /// The card's secrets, after a successful VERIFY in this session.
    unlocked: Option<Unlocked>,
}

enum State {
    Blank(Box<Blank>),
    Issued(Box<CardRecord>),
}

/// What personalization has set so far.
struct Blank {
    kdf: KdfParams,
    fields: Option<(String, String, String, u64)>,
    pin: Option<Pin>,
    puk: Option<Puk>,
    key: Option<SigningKey>,
    share: Option<Zeroizing<Vec<u8>>>,
}

/// The secrets a correct PIN opens; all wiped on drop.
struct Unlocked {
    data_key: Zeroizing<[u8; 32]>,
    key: SigningKey,
    share: Zeroizing<Vec<u8>>,
}

impl<S: Storage> SimulatedCard<S> {
    /// Puts an issued card in the reader.
    ///
    /// # Errors
    ///
    /// The storage cannot be read, holds no card, or the card is damaged.
    pub fn open(storage: S) -> Result<Self, OpenError> {
        let bytes = storage.load()?.ok_or(OpenError::NotIssued)?;
        let record = CardRecord::from_bytes(&bytes)?;
        Ok(Self {
            storage,
            state: State::Issued(Box::new(record)),
            selected: false,
            unlocked: None,
        })
    }

    /// A blank card, to be personalized with these Argon2id parameters.
    ///
    /// # Errors
    ///
    /// The storage already holds a card, or the parameters are unusable.
    pub fn blank(storage: S, kdf: KdfParams) -> Result<Self, OpenError> {
        kdf.check().map_err(OpenError::Kdf)?;
        if storage.load()?.is_some() {
            return Err(OpenError::AlreadyIssued);
        }
        Ok(Self {
            storage,
            state: State::Blank(Box::new(Blank {
                kdf,
                fields: None,
                pin: None,
                puk: None,
                key: None,
                share: None,
            })),
            selected: false,
            unlocked: None,
        })
    }

    /// The storage, to inspect or take back.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Runs one command.
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per instruction, as the standard lists them"
    )]
    fn dispatch(&mut self, command: &Command) -> Result<Vec<u8>, StatusWord> {
        let Command {
            cla,
            ins,
            p1,
            p2,
            data,
        } = command;
        if !matches!(*cla, CLA_ISO | CLA_PROPRIETARY) {
            return Err(StatusWord::BAD_CLA);
        }
        if (*cla, *ins) == (CLA_ISO, INS_SELECT) {
            return self.select(*p1, *p2, data);
        }
        if !self.selected {
            return Err(StatusWord::CONDITIONS);
        }
        match (*cla, *ins) {
            (CLA_ISO, INS_GET_DATA) => {
                no_data(data)?;
                self.get_data(u16::from_be_bytes([*p1, *p2]))
            }
            (CLA_ISO, INS_VERIFY) => {
                parameters(*p1, *p2, 0x00, PIN_REFERENCE)?;
                self.verify(data)
            }
            (CLA_ISO, INS_CHANGE_REFERENCE_DATA) => {
                parameters(*p1, *p2, 0x00, PIN_REFERENCE)?;
                self.change_pin(data)
            }
            (CLA_ISO, INS_RESET_RETRY_COUNTER) => {
                parameters(*p1, *p2, 0x00, PUK_REFERENCE)?;
                self.reset_retry_counter(data)
            }
            (CLA_ISO, INS_INTERNAL_AUTHENTICATE) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                if data.is_empty() {
                    return Err(StatusWord::WRONG_LENGTH);
                }
                let unlocked = self.unlocked.as_ref().ok_or(StatusWord::SECURITY_STATUS)?;
                let signature: Signature = unlocked.key.sign(data);
                Ok(signature.to_bytes().to_vec())
            }
            (CLA_PROPRIETARY, INS_CHECK_EPOCH) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                let epoch = epoch_of(data)?;
                if epoch < self.record()?.epoch_seen {
                    return Err(StatusWord::CONDITIONS);
                }
                Ok(Vec::new())
            }
            (CLA_PROPRIETARY, INS_RECORD_EPOCH) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                let epoch = epoch_of(data)?;
                self.unlocked.as_ref().ok_or(StatusWord::SECURITY_STATUS)?;
                let mut record = self.record()?.clone();
                if epoch < record.epoch_seen {
                    return Err(StatusWord::CONDITIONS);
                }
                if epoch > record.epoch_seen {
                    record.epoch_seen = epoch;
                    self.replace(record)?;
                }
                Ok(Vec::new())
            }
            (CLA_ISO, INS_TERMINATE_CARD) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                no_data(data)?;
                self.unlocked.as_ref().ok_or(StatusWord::SECURITY_STATUS)?;
                let mut record = self.record()?.clone();
                record.pin_tries_left = 0;
                record.puk_tries_left = 0;
                record.pin_wrap = Sealed::erased();
                record.puk_wrap = Sealed::erased();
                record.secrets = Sealed::erased();
                self.replace(record)?;
                self.unlocked = None;
                Ok(Vec::new())
            }
            (CLA_PROPRIETARY, INS_READ_SHARE) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                no_data(data)?;
                let unlocked = self.unlocked.as_ref().ok_or(StatusWord::SECURITY_STATUS)?;
                Ok(unlocked.share.to_vec())
            }
            (
                CLA_PROPRIETARY,
                INS_PERSONALIZE
                | INS_SET_PIN_PUK
                | INS_GENERATE_KEY
                | INS_WRITE_SHARE
                | INS_END_PERSONALIZATION,
            ) => {
                parameters(*p1, *p2, 0x00, 0x00)?;
                self.personalize(*ins, data)
            }
            _ => Err(StatusWord::BAD_INS),
        }
    }

    /// SELECT by AID: the applet, or 6A82.
    fn select(&mut self, p1: u8, p2: u8, data: &[u8]) -> Result<Vec<u8>, StatusWord> {
        parameters(p1, p2, 0x04, 0x00)?;
        self.unlocked = None;
        self.selected = data == AID;
        if self.selected {
            Ok(Vec::new())
        } else {
            Err(StatusWord::NOT_FOUND)
        }
    }

    /// GET DATA: the public fields, no PIN needed.
    fn get_data(&self, tag: u16) -> Result<Vec<u8>, StatusWord> {
        let record = match &self.state {
            State::Issued(record) => record,
            State::Blank(_) if tag == TAG_LIFECYCLE => return Ok(vec![lifecycle::BLANK]),
            State::Blank(_) => return Err(StatusWord::NO_DATA),
        };
        Ok(match tag {
            TAG_SERIAL => record.serial.as_bytes().to_vec(),
            TAG_HOLDER => record.holder.as_bytes().to_vec(),
            TAG_ROLE => record.role.as_bytes().to_vec(),
            TAG_GENERATION => record.generation.to_be_bytes().to_vec(),
            TAG_TRIES => vec![record.pin_tries_left, record.puk_tries_left],
            TAG_CARD_KEY => hex::decode(&record.card_key).map_err(|_| StatusWord::DAMAGED)?,
            TAG_EPOCH => record.epoch_seen.to_be_bytes().to_vec(),
            TAG_KDF => [record.kdf.m_kib, record.kdf.t, record.kdf.p]
                .iter()
                .flat_map(|value| value.to_be_bytes())
                .collect(),
            TAG_LIFECYCLE => vec![match (record.pin_tries_left, record.puk_tries_left) {
                (0, 0) if record.secrets == Sealed::erased() => lifecycle::TERMINATED,
                (_, 0) => lifecycle::DEAD,
                (0, _) => lifecycle::BLOCKED,
                _ => lifecycle::ACTIVE,
            }],
            _ => return Err(StatusWord::NO_DATA),
        })
    }

    /// The issued card's record, or 6985 on a blank card.
    fn record(&mut self) -> Result<&mut CardRecord, StatusWord> {
        match &mut self.state {
            State::Issued(record) => Ok(record),
            State::Blank(_) => Err(StatusWord::CONDITIONS),
        }
    }

    /// Stores a changed record and only then makes it the card's: after a
    /// failed write, memory and file still agree.
    fn replace(&mut self, record: CardRecord) -> Result<(), StatusWord> {
        self.storage
            .store(&record.to_bytes())
            .map_err(|_| StatusWord::MEMORY_FAILURE)?;
        self.state = State::Issued(Box::new(record));
        Ok(())
    }

    /// Writes the record; a failure is 6581 and the caller checks nothing.
    fn persist(&mut self) -> Result<(), StatusWord> {
        let bytes = self.record()?.to_bytes();
        self.storage
            .store(&bytes)
            .map_err(|_| StatusWord::MEMORY_FAILURE)
    }

    /// VERIFY: without data, the status; with a PIN block, the check.
    fn verify(&mut self, data: &[u8]) -> Result<Vec<u8>, StatusWord> {
        if data.is_empty() {
            let tries = self.record()?.pin_tries_left;
            let dead = self.record()?.puk_tries_left == 0;
            return match (self.unlocked.is_some(), tries) {
                (true, _) => Ok(Vec::new()),
                (false, 0) => Err(StatusWord::BLOCKED),
                (false, _) if dead => Err(StatusWord::BLOCKED),
                (false, tries) => Err(StatusWord::tries_left(tries)),
            };
        }
        // Any VERIFY with data, even a malformed one, ends what an earlier
        // one opened.
        self.unlocked = None;
        let block = exact::<SECRET_BLOCK>(data)?;
        let pin = Pin::from_block(block).map_err(|_| StatusWord::BAD_DATA)?;
        self.unlocked = Some(self.check_pin(&pin)?);
        Ok(Vec::new())
    }

    /// Checks a PIN: the counter goes down and is stored first, and comes
    /// back only after success, so no crash yields a free try.
    fn check_pin(&mut self, pin: &Pin) -> Result<Unlocked, StatusWord> {
        self.unlocked = None;
        let record = self.record()?;
        // A dead card (no PUK tries) is dead for good, whatever its PIN.
        if record.pin_tries_left == 0 || record.puk_tries_left == 0 {
            return Err(StatusWord::BLOCKED);
        }
        record.pin_tries_left -= 1;
        self.persist()?;
        let record = self.record()?;
        let salt = hex::decode(&record.pin_salt).map_err(|_| StatusWord::DAMAGED)?;
        let key = record.kdf.derive(pin.as_bytes(), &salt);
        let Some(data_key) = record
            .pin_wrap
            .open(&key, &record.associated(Slot::PinWrap))
        else {
            // 63C0 on the try that blocks; 6983 on any try after it.
            return Err(StatusWord::tries_left(record.pin_tries_left));
        };
        // The PIN is right: the counter is full again even if the secrets
        // then turn out damaged (a damaged card must not block itself).
        record.pin_tries_left = PIN_TRIES;
        self.persist()?;
        unlock(self.record()?, &data_key)
    }

    /// CHANGE REFERENCE DATA: the old PIN (which costs a try when wrong),
    /// then the data key sealed under the new one.
    fn change_pin(&mut self, data: &[u8]) -> Result<Vec<u8>, StatusWord> {
        let blocks = exact::<{ 2 * SECRET_BLOCK }>(data)?;
        let (old, new) = blocks.split_at(SECRET_BLOCK);
        let old = Pin::from_block(old).map_err(|_| StatusWord::BAD_DATA)?;
        let new = Pin::from_block(new).map_err(|_| StatusWord::BAD_DATA)?;
        let unlocked = self.check_pin(&old)?;
        let mut changed = self.record()?.clone();
        seal_pin(&mut changed, &new, &unlocked.data_key);
        self.replace(changed)?;
        self.unlocked = Some(unlocked);
        Ok(Vec::new())
    }

    /// RESET RETRY COUNTER: the PUK (its own counter, stored first) opens
    /// the data key, which is sealed under the new PIN; both counters are
    /// full again.
    fn reset_retry_counter(&mut self, data: &[u8]) -> Result<Vec<u8>, StatusWord> {
        let blocks = exact::<{ 2 * SECRET_BLOCK }>(data)?;
        let (puk, pin) = blocks.split_at(SECRET_BLOCK);
        let puk = Puk::from_block(puk).map_err(|_| StatusWord::BAD_DATA)?;
        let pin = Pin::from_block(pin).map_err(|_| StatusWord::BAD_DATA)?;
        self.unlocked = None;
        let record = self.record()?;
        if record.puk_tries_left == 0 {
            return Err(StatusWord::BLOCKED);
        }
        record.puk_tries_left -= 1;
        self.persist()?;
        let record = self.record()?;
        let salt = hex::decode(&record.puk_salt).map_err(|_| StatusWord::DAMAGED)?;
        let key = record.kdf.derive(puk.as_bytes(), &salt);
        let Some(data_key) = record
            .puk_wrap
            .open(&key, &record.associated(Slot::PukWrap))
        else {
            return Err(StatusWord::tries_left(record.puk_tries_left));
        };
        let data_key = to_key(&data_key)?;
        // The PUK is right: its counter is full again, whatever follows.
        record.puk_tries_left = PUK_TRIES;
        self.persist()?;
        // The secrets must open too: a damaged card is not unblocked.
        let mut unblocked = self.record()?.clone();
        drop(unlock(&unblocked, data_key.as_ref())?);
        seal_pin(&mut unblocked, &pin, &data_key);
        unblocked.pin_tries_left = PIN_TRIES;
        self.replace(unblocked)?;
        Ok(Vec::new())
    }

    /// The personalization commands of a blank card.
    fn personalize(&mut self, ins: u8, data: &[u8]) -> Result<Vec<u8>, StatusWord> {
        let State::Blank(blank) = &mut self.state else {
            return Err(StatusWord::CONDITIONS);
        };
        match ins {
            INS_PERSONALIZE => {
                blank.fields = Some(read_fields(data)?);
                Ok(Vec::new())
            }
            INS_SET_PIN_PUK => {
                let blocks = exact::<{ 2 * SECRET_BLOCK }>(data)?;
                let (pin, puk) = blocks.split_at(SECRET_BLOCK);
                blank.pin = Some(Pin::from_block(pin).map_err(|_| StatusWord::BAD_DATA)?);
                blank.puk = Some(Puk::from_block(puk).map_err(|_| StatusWord::BAD_DATA)?);
                Ok(Vec::new())
            }
            INS_GENERATE_KEY => {
                no_data(data)?;
                if blank.key.is_some() {
                    return Err(StatusWord::CONDITIONS);
                }
                let mut rng = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
                let key = SigningKey::generate_from_rng(&mut rng);
                let public = key.verifying_key().to_sec1_point(true).as_bytes().to_vec();
                blank.key = Some(key);
                Ok(public)
            }
            INS_WRITE_SHARE => {
                if data.is_empty() || data.len() > MAX_SHARE {
                    return Err(StatusWord::WRONG_LENGTH);
                }
                blank.share = Some(Zeroizing::new(data.to_vec()));
                Ok(Vec::new())
            }
            _ => {
                no_data(data)?;
                let record = issue(blank)?;
                self.state = State::Issued(Box::new(record));
                // A failed write leaves the card issued in memory only; the
                // file was never written, so nothing half-made remains.
                self.persist()?;
                Ok(Vec::new())
            }
        }
    }
}

impl<S: Storage> Card for SimulatedCard<S> {
    fn transmit(&mut self, command: &Command) -> Response {
        match self.dispatch(command) {
            Ok(data) => Response::ok(data),
            Err(status) => Response::status(status),
        }
    }
}

//------------ Helpers -------------------------------------------------------

/// Opens the secrets with the data key and checks the card key against the
/// public one in the file (6400 if anything fails: a damaged card).
fn unlock(record: &CardRecord, data_key: &[u8]) -> Result<Unlocked, StatusWord> {
    let data_key = to_key(data_key)?;
    let secrets = record
        .secrets
        .open(&data_key, &record.associated(Slot::Secrets))
        .ok_or(StatusWord::DAMAGED)?;
    let (key, share) = secrets.split_at_checked(32).ok_or(StatusWord::DAMAGED)?;
    let key = SigningKey::from_slice(key).map_err(|_| StatusWord::DAMAGED)?;
    let public = hex::encode(key.verifying_key().to_sec1_point(true).as_bytes());
    if public != record.card_key {
        return Err(StatusWord::DAMAGED);
    }
    Ok(Unlocked {
        data_key,
        key,
        share: Zeroizing::new(share.to_vec()),
    })
}

/// A 32-byte data key from the opened wrap.
fn to_key(bytes: &[u8]) -> Result<Zeroizing<[u8; 32]>, StatusWord> {
    let mut key = Zeroizing::new([0; 32]);
    if bytes.len() != 32 {
        return Err(StatusWord::DAMAGED);
    }
    key.copy_from_slice(bytes);
    Ok(key)
}

/// Seals the data key under a new PIN with a new salt.
fn seal_pin(record: &mut CardRecord, pin: &Pin, data_key: &[u8; 32]) {
    let salt = *random::<16>();
    let key = record.kdf.derive(pin.as_bytes(), &salt);
    record.pin_salt = hex::encode(salt);
    record.pin_wrap = Sealed::seal(&key, &record.associated(Slot::PinWrap), data_key);
}

/// Makes the record of a fully personalized blank card.
fn issue(blank: &mut Blank) -> Result<CardRecord, StatusWord> {
    let (Some((serial, holder, role, generation)), Some(pin), Some(puk), Some(key), Some(share)) = (
        blank.fields.clone(),
        blank.pin.as_ref(),
        blank.puk.as_ref(),
        blank.key.as_ref(),
        blank.share.as_ref(),
    ) else {
        return Err(StatusWord::CONDITIONS);
    };
    let data_key = random::<32>();
    let (pin_salt, puk_salt) = (*random::<16>(), *random::<16>());
    let mut record = CardRecord {
        format: CardRecord::FORMAT,
        serial,
        holder,
        role,
        generation,
        card_key: hex::encode(key.verifying_key().to_sec1_point(true).as_bytes()),
        kdf: blank.kdf,
        pin_salt: hex::encode(pin_salt),
        puk_salt: hex::encode(puk_salt),
        // Sealed below: the associated data come from the fields above.
        pin_wrap: Sealed::default(),
        puk_wrap: Sealed::default(),
        secrets: Sealed::default(),
        pin_tries_left: PIN_TRIES,
        puk_tries_left: PUK_TRIES,
        epoch_seen: 0,
    };
    let key_bytes = Zeroizing::new(key.to_bytes());
    let mut secrets = Zeroizing::new(key_bytes.to_vec());
    secrets.extend_from_slice(share);
    record.secrets = Sealed::seal(&data_key, &record.associated(Slot::Secrets), &secrets);
    let pin_key = record.kdf.derive(pin.as_bytes(), &pin_salt);
    record.pin_wrap = Sealed::seal(
        &pin_key,
        &record.associated(Slot::PinWrap),
        data_key.as_ref(),
    );
    let puk_key = record.kdf.derive(puk.as_bytes(), &puk_salt);
    record.puk_wrap = Sealed::seal(
        &puk_key,
        &record.associated(Slot::PukWrap),
        data_key.as_ref(),
    );
    Ok(record)
}

/// PERSONALIZE's data: TLV with one-byte tags and lengths: 01 serial,
/// 02 holder, 03 role (UTF-8), 04 generation (8 bytes, big-endian).
fn read_fields(mut data: &[u8]) -> Result<(String, String, String, u64), StatusWord> {
    let (mut serial, mut holder, mut role, mut generation) = (None, None, None, None);
    while let [tag, length, rest @ ..] = data {
        let length = usize::from(*length);
        let (value, tail) = rest
            .split_at_checked(length)
            .ok_or(StatusWord::WRONG_LENGTH)?;
        let text = || {
            let text = std::str::from_utf8(value).map_err(|_| StatusWord::BAD_DATA)?;
            check_field("field", text).map_err(|_| StatusWord::BAD_DATA)?;
            Ok::<_, StatusWord>(text.to_owned())
        };
        match tag {
            0x01 => serial = Some(text()?),
            0x02 => holder = Some(text()?),
            0x03 => role = Some(text()?),
            0x04 => {
                let bytes: [u8; 8] = value.try_into().map_err(|_| StatusWord::WRONG_LENGTH)?;
                generation = Some(u64::from_be_bytes(bytes));
            }
            _ => return Err(StatusWord::BAD_DATA),
        }
        data = tail;
    }
    if !data.is_empty() {
        return Err(StatusWord::WRONG_LENGTH);
    }
    match (serial, holder, role, generation) {
        (Some(serial), Some(holder), Some(role), Some(generation)) => {
            Ok((serial, holder, role, generation))
        }
        _ => Err(StatusWord::BAD_DATA),
    }
}

/// 6A86 unless P1 and P2 are as expected.
fn parameters(p1: u8, p2: u8, want_p1: u8, want_p2: u8) -> Result<(), StatusWord> {
    if (p1, p2) == (want_p1, want_p2) {
        Ok(())
    } else {
        Err(StatusWord::BAD_P1P2)
    }
}

/// 6700 unless there is no data.
fn no_data(data: &[u8]) -> Result<(), StatusWord> {
    if data.is_empty() {
        Ok(())
    } else {
        Err(StatusWord::WRONG_LENGTH)
    }
}

/// The data as exactly N bytes, or 6700.
fn exact<const N: usize>(data: &[u8]) -> Result<&[u8; N], StatusWord> {
    data.try_into().map_err(|_| StatusWord::WRONG_LENGTH)
}

/// The 8-byte big-endian epoch of CHECK EPOCH and RECORD EPOCH.
fn epoch_of(data: &[u8]) -> Result<u64, StatusWord> {
    <[u8; 8]>::try_from(data)
        .map(u64::from_be_bytes)
        .map_err(|_| StatusWord::WRONG_LENGTH)
}

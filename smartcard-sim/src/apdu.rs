//! ISO 7816-4 command and response APDUs (short form), the instructions of
//! the officer applet, and the status words.

use std::fmt;

use zeroize::Zeroize as _;

//------------ Command -------------------------------------------------------

/// A command APDU: class, instruction, two parameters and data (short
/// form: at most 255 bytes of data).
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// CLA: 0x00 for interindustry commands, 0x80 for the applet's own.
    pub cla: u8,
    /// INS.
    pub ins: u8,
    /// P1.
    pub p1: u8,
    /// P2.
    pub p2: u8,
    /// The command data (a PIN, a challenge, …).
    pub data: Vec<u8>,
}

impl Command {
    /// A command without data.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self::with_data(cla, ins, p1, p2, Vec::new())
    }

    /// A command with data.
    pub fn with_data(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data,
        }
    }

    /// The encoded APDU: header, Lc and data when there is data, and Le = 0
    /// (up to 256 bytes expected) for the instructions that answer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![self.cla, self.ins, self.p1, self.p2];
        if !self.data.is_empty() {
            bytes.push(u8::try_from(self.data.len()).unwrap_or(u8::MAX));
            bytes.extend_from_slice(&self.data);
        }
        bytes
    }

    /// Reads an encoded command APDU (cases 1 to 4, short form).
    ///
    /// # Errors
    ///
    /// [`StatusWord::WRONG_LENGTH`] for a header shorter than four bytes or
    /// an Lc that does not match the data.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StatusWord> {
        let (&[cla, ins, p1, p2], body) = bytes
            .split_first_chunk::<4>()
            .ok_or(StatusWord::WRONG_LENGTH)?;
        let data = match body {
            // Case 1, or case 2 (Le only).
            [] | [_] => Vec::new(),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                // Case 3 (data) or case 4 (data and Le).
                match rest.len().checked_sub(lc) {
                    Some(0 | 1) if lc > 0 => rest.get(..lc).unwrap_or_default().to_vec(),
                    _ => return Err(StatusWord::WRONG_LENGTH),
                }
            }
        };
        Ok(Self::with_data(cla, ins, p1, p2, data))
    }
}

/// The data may be a PIN: wiped with the command.
impl Drop for Command {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

/// The header only: the data may be a PIN.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Command {{ {:02X} {:02X} {:02X} {:02X}, {} data byte(s) }}",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len()
        )
    }
}

//------------ Response ------------------------------------------------------

/// A response APDU: data and the status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The response data.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub status: StatusWord,
}

impl Response {
    /// A response with data and 9000.
    pub fn ok(data: Vec<u8>) -> Self {
        Self {
            data,
            status: StatusWord::OK,
        }
    }

    /// A response without data.
    pub fn status(status: StatusWord) -> Self {
        Self {
            data: Vec::new(),
            status,
        }
    }

    /// The encoded response: data, SW1, SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.data.clone();
        bytes.extend_from_slice(&self.status.0.to_be_bytes());
        bytes
    }
}

/// The data may be a share: wiped with the response.
impl Drop for Response {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

/// The status and the length only: the data may be a share.
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Response {{ {} data byte(s), {} }}",
            self.data.len(),
            self.status
        )
    }
}

//------------ StatusWord ----------------------------------------------------

/// SW1 SW2 (ISO 7816-4 §5.6).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// 9000: success.
    pub const OK: Self = Self(0x9000);
    /// 6400: execution error, memory unchanged. The simulator answers it
    /// when the card's data fail their integrity check: a damaged card.
    pub const DAMAGED: Self = Self(0x6400);
    /// 6581: memory failure: the card could not write its state.
    pub const MEMORY_FAILURE: Self = Self(0x6581);
    /// 6700: wrong length.
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// 6982: security status not satisfied (no successful VERIFY).
    pub const SECURITY_STATUS: Self = Self(0x6982);
    /// 6983: authentication method blocked (no tries left).
    pub const BLOCKED: Self = Self(0x6983);
    /// 6985: conditions of use not satisfied (wrong life-cycle state).
    pub const CONDITIONS: Self = Self(0x6985);
    /// 6A80: incorrect data (a PIN that is not 6 to 16 digits, say).
    pub const BAD_DATA: Self = Self(0x6A80);
    /// 6A82: file or application not found.
    pub const NOT_FOUND: Self = Self(0x6A82);
    /// 6A86: incorrect P1 or P2.
    pub const BAD_P1P2: Self = Self(0x6A86);
    /// 6A88: referenced data not found (an unknown GET DATA tag).
    pub const NO_DATA: Self = Self(0x6A88);
    /// 6D00: instruction not supported.
    pub const BAD_INS: Self = Self(0x6D00);
    /// 6E00: class not supported.
    pub const BAD_CLA: Self = Self(0x6E00);

    /// 63Cx: verification failed, x tries left (0 to 15).
    pub fn tries_left(tries: u8) -> Self {
        Self(0x63C0 | u16::from(tries.min(15)))
    }

    /// The tries left, if this is a 63Cx.
    pub fn remaining_tries(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then(|| u8::try_from(self.0 & 0x000F).unwrap_or(0))
    }

    /// What the status word means, in a few words.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::OK => "success",
            Self::DAMAGED => "the card's data are damaged",
            Self::MEMORY_FAILURE => "memory failure",
            Self::WRONG_LENGTH => "wrong length",
            Self::SECURITY_STATUS => "security status not satisfied",
            Self::BLOCKED => "authentication method blocked",
            Self::CONDITIONS => "conditions of use not satisfied",
            Self::BAD_DATA => "incorrect data",
            Self::NOT_FOUND => "application not found",
            Self::BAD_P1P2 => "incorrect P1 or P2",
            Self::NO_DATA => "referenced data not found",
            Self::BAD_INS => "instruction not supported",
            Self::BAD_CLA => "class not supported",
            other if other.remaining_tries().is_some() => "verification failed",
            _ => "unknown status",
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({})", self.0, self.meaning())
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

//------------ The applet's instructions -------------------------------------

/// The application identifier of the officer applet (a proprietary RID,
/// ISO 7816-5 category F).
pub const AID: &[u8] = b"\xF0ceremony-officer";

/// CLA of interindustry commands.
pub const CLA_ISO: u8 = 0x00;
/// CLA of the applet's own commands.
pub const CLA_PROPRIETARY: u8 = 0x80;

/// SELECT (by AID: P1 = 04, P2 = 00).
pub const INS_SELECT: u8 = 0xA4;
/// GET DATA (P1 P2 = the tag).
pub const INS_GET_DATA: u8 = 0xCA;
/// VERIFY (P2 = [`PIN_REFERENCE`]); without data, asks for the tries left.
pub const INS_VERIFY: u8 = 0x20;
/// CHANGE REFERENCE DATA: old PIN block, new PIN block.
pub const INS_CHANGE_REFERENCE_DATA: u8 = 0x24;
/// RESET RETRY COUNTER: PUK block, new PIN block.
pub const INS_RESET_RETRY_COUNTER: u8 = 0x2C;
/// INTERNAL AUTHENTICATE: the card signs the challenge with its key.
pub const INS_INTERNAL_AUTHENTICATE: u8 = 0x88;
/// READ SHARE (proprietary): the share, after VERIFY in this session.
pub const INS_READ_SHARE: u8 = 0xB0;
/// CHECK EPOCH (proprietary): 8 bytes, a ceremony epoch, big-endian; 6985
/// when it is older than the card has seen. No PIN needed.
pub const INS_CHECK_EPOCH: u8 = 0xEA;
/// RECORD EPOCH (proprietary), after VERIFY: 8 bytes; the card will refuse
/// older epochs from now on (6985 for one older than it has seen).
pub const INS_RECORD_EPOCH: u8 = 0xEC;
/// TERMINATE CARD USAGE (ISO 7816-9), after VERIFY in this session: the
/// share, the card key and both PIN wraps are erased and both counters
/// set to zero, for good (a card retired by a new card set).
pub const INS_TERMINATE_CARD: u8 = 0xFE;
/// PERSONALIZE (proprietary, blank card only): serial, holder, role,
/// generation as TLV.
pub const INS_PERSONALIZE: u8 = 0xE0;
/// SET PIN AND PUK (proprietary, blank card only): PIN block, PUK block.
pub const INS_SET_PIN_PUK: u8 = 0xE2;
/// GENERATE CARD KEY (proprietary, blank card only): a P-256 key made on
/// the card; the answer is its public key.
pub const INS_GENERATE_KEY: u8 = 0xE4;
/// WRITE SHARE (proprietary, blank card only).
pub const INS_WRITE_SHARE: u8 = 0xE6;
/// END PERSONALIZATION (proprietary): seal and store; the card is active.
pub const INS_END_PERSONALIZATION: u8 = 0xE8;

/// P2 of VERIFY and CHANGE REFERENCE DATA: the card's PIN (a local,
/// specific reference, as PIV numbers its application PIN).
pub const PIN_REFERENCE: u8 = 0x80;
/// P2 of RESET RETRY COUNTER: the PUK.
pub const PUK_REFERENCE: u8 = 0x81;

/// GET DATA tag of the serial (UTF-8).
pub const TAG_SERIAL: u16 = 0x5F01;
/// GET DATA tag of the holder (UTF-8).
pub const TAG_HOLDER: u16 = 0x5F02;
/// GET DATA tag of the role (UTF-8).
pub const TAG_ROLE: u16 = 0x5F03;
/// GET DATA tag of the generation (8 bytes, big-endian).
pub const TAG_GENERATION: u16 = 0x5F04;
/// GET DATA tag of the tries left: PIN, then PUK (one byte each).
pub const TAG_TRIES: u16 = 0x5F05;
/// GET DATA tag of the card's public key (33 bytes, compressed SEC1).
pub const TAG_CARD_KEY: u16 = 0x5F06;
/// GET DATA tag of the life-cycle state (one byte, see `Lifecycle`).
pub const TAG_LIFECYCLE: u16 = 0x5F07;
/// GET DATA tag of the Argon2id parameters: memory in KiB, passes, lanes
/// (three 4-byte big-endian numbers).
pub const TAG_KDF: u16 = 0x5F08;
/// GET DATA: the highest ceremony epoch the card has seen, 8 bytes.
pub const TAG_EPOCH: u16 = 0x5F09;

/// The length of a PIN or PUK block: the digits, padded with 0xFF.
pub const SECRET_BLOCK: usize = 16;

//! The card file: its public fields in clear, its secrets sealed, and a
//! checksum that catches any damaged byte before anything is used.
//!
//! Layout: one header line, `ceremony-card 1 sha256:<hex>`, then a JSON
//! body whose SHA-256 the header gives. In the body, a random data key
//! encrypts the card's private key and share (XChaCha20-Poly1305). The
//! data key is stored twice: sealed under a key derived from the PIN and
//! under one derived from the PUK (Argon2id, parameters and salts in the
//! file). The secrets take the card's public fields as associated data, so
//! an edited field, or a sealed value moved from another card, fails
//! authentication once the data key is open; the wraps name their slot.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};
use rand::TryRng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// The format number in the header and body.
const FORMAT: u32 = 1;
/// The header's start.
const MAGIC: &str = "ceremony-card";

/// The most tries of the PIN.
pub const PIN_TRIES: u8 = 3;
/// The most tries of the PUK.
pub const PUK_TRIES: u8 = 10;

/// The longest share a card holds, in bytes (a quorum share is 33).
pub const MAX_SHARE: usize = 64;

/// The longest serial, holder or role, in characters.
pub const MAX_FIELD: usize = 64;

//------------ KdfParams -----------------------------------------------------

/// Argon2id parameters (RFC 9106), stored with each card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory, KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// Real cards get the strong profile unless told otherwise.
impl Default for KdfParams {
    fn default() -> Self {
        Self::STRONG
    }
}

impl KdfParams {
    /// RFC 9106's second recommended option, for memory-constrained
    /// environments: 64 MiB, 3 passes, 4 lanes. What real cards get.
    pub const STRONG: Self = Self {
        m_kib: 64 * 1024,
        t: 3,
        p: 4,
    };

    /// The lightest Argon2id allows (8 KiB, one pass, one lane): for tests
    /// and fast rehearsals only. `ceremony card status` says so of a card
    /// issued with it.
    pub const LIGHT: Self = Self {
        m_kib: 8,
        t: 1,
        p: 1,
    };

    /// Whether the parameters reach the strong profile.
    pub fn is_strong(&self) -> bool {
        self.m_kib >= Self::STRONG.m_kib && self.t >= Self::STRONG.t
    }

    /// Checks the parameters are usable and bounded (at most 256 MiB, 8
    /// passes, 8 lanes: four times the strong profile's memory), so a
    /// crafted file costs at most about 1.6 s and 256 MiB per PIN check,
    /// not the 12.7 s and 1 GiB the earlier cap allowed; `ceremony` issues
    /// only the light and the strong profile.
    pub fn check(&self) -> Result<(), String> {
        let ok = (1..=8).contains(&self.t)
            && (1..=8).contains(&self.p)
            && self.m_kib >= 8 * self.p
            && self.m_kib <= 256 * 1024;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "Argon2id parameters m = {} KiB, t = {}, p = {} are outside 8·p … 256 MiB, 1 … 8, 1 … 8",
                self.m_kib, self.t, self.p
            ))
        }
    }

    /// The 32-byte key for a PIN or PUK and its salt.
    pub(crate) fn derive(&self, secret: &[u8], salt: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0; 32]);
        let derived = Params::new(self.m_kib, self.t, self.p, Some(32)).and_then(|params| {
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
                secret,
                salt,
                key.as_mut(),
            )
        });
        if derived.is_err() {
            // Not reachable: the parameters were checked when the card was
            // made or read. A zero key opens nothing.
            key.fill(0);
        }
        key
    }
}

//------------ Sealed --------------------------------------------------------

/// An AEAD ciphertext and its nonce, hex in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sealed {
    nonce: String,
    ciphertext: String,
}

impl Sealed {
    /// Nothing sealed: what a terminated card keeps.
    pub fn erased() -> Self {
        Self {
            nonce: String::new(),
            ciphertext: String::new(),
        }
    }

    /// Encrypts with a fresh random nonce.
    pub fn seal(key: &[u8; 32], associated: &[u8], plaintext: &[u8]) -> Self {
        let nonce = *random::<24>();
        let cipher = XChaCha20Poly1305::new(key.into());
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .unwrap_or_default();
        Self {
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        }
    }

    /// Decrypts; `None` if anything does not authenticate.
    pub fn open(&self, key: &[u8; 32], associated: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let nonce: [u8; 24] = hex::decode(&self.nonce).ok()?.try_into().ok()?;
        let ciphertext = hex::decode(&self.ciphertext).ok()?;
        XChaCha20Poly1305::new(key.into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: associated,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The plaintext length this seal carries, if well-formed.
    fn plaintext_len(&self) -> Option<usize> {
        let nonce_ok = hex::decode(&self.nonce).ok()?.len() == 24;
        let length = hex::decode(&self.ciphertext).ok()?.len().checked_sub(16)?;
        nonce_ok.then_some(length)
    }
}

//------------ CardRecord ----------------------------------------------------

/// What a card file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CardRecord {
    pub format: u32,
    pub serial: String,
    pub holder: String,
    pub role: String,
    pub generation: u64,
    /// The card's public key, compressed SEC1, hex.
    pub card_key: String,
    pub kdf: KdfParams,
    pub pin_salt: String,
    pub puk_salt: String,
    /// The data key under the PIN's key.
    pub pin_wrap: Sealed,
    /// The data key under the PUK's key.
    pub puk_wrap: Sealed,
    /// The card's private key (32 bytes) and share under the data key.
    pub secrets: Sealed,
    /// The highest ceremony epoch this card has been told of (RECORD
    /// EPOCH): it refuses an older one (CHECK EPOCH), so rolling a ceremony
    /// directory back needs its officers' cards rolled back too. 0 on a
    /// card that was never told.
    #[serde(default)]
    pub epoch_seen: u64,
    pub pin_tries_left: u8,
    pub puk_tries_left: u8,
}

/// Why a card file is not usable: a damaged card.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("damaged card: {0}")]
pub struct Damaged(pub String);

/// The three sealed slots, named in their associated data.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    PinWrap,
    PukWrap,
    Secrets,
}

impl CardRecord {
    pub const FORMAT: u32 = FORMAT;

    /// The associated data of a slot. The secrets are bound to every
    /// public field but the counters and salts (which change without the
    /// data key), so an edited field is found once the data key is open.
    /// The two wraps are bound to their label only: a wrong PIN and an
    /// edited field must not look alike, and an edit must not cost the
    /// officer a try before it is reported as damage.
    pub fn associated(&self, slot: Slot) -> Vec<u8> {
        let mut data = Vec::new();
        let mut field = |bytes: &[u8]| {
            data.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
            data.extend_from_slice(bytes);
        };
        field(b"ceremony card v1");
        match slot {
            Slot::PinWrap => field(b"pin wrap"),
            Slot::PukWrap => field(b"puk wrap"),
            Slot::Secrets => {
                field(b"secrets");
                field(&self.format.to_be_bytes());
                field(self.serial.as_bytes());
                field(self.holder.as_bytes());
                field(self.role.as_bytes());
                field(&self.generation.to_be_bytes());
                field(self.card_key.as_bytes());
                field(&self.kdf.m_kib.to_be_bytes());
                field(&self.kdf.t.to_be_bytes());
                field(&self.kdf.p.to_be_bytes());
            }
        }
        data
    }

    /// The file: header line and body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_vec_pretty(self).unwrap_or_default();
        let mut bytes = format!(
            "{MAGIC} {FORMAT} sha256:{}\n",
            hex::encode(Sha256::digest(&body))
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        bytes.push(b'\n');
        bytes
    }

    /// Reads and checks a card file.
    ///
    /// # Errors
    ///
    /// Anything wrong is [`Damaged`], with what was found.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Damaged> {
        let damaged = |what: &str| Damaged(what.to_owned());
        let newline = bytes
            .iter()
            .position(|byte| *byte == b'\n')
            .ok_or_else(|| damaged("no header line"))?;
        let (header, rest) = bytes.split_at(newline);
        let body = rest
            .get(1..)
            .and_then(|body| body.strip_suffix(b"\n"))
            .ok_or_else(|| damaged("the body does not end with a newline"))?;
        let header = std::str::from_utf8(header).map_err(|_| damaged("the header is not text"))?;
        let expected = format!("{MAGIC} {FORMAT} sha256:");
        let digest = header
            .strip_prefix(&expected)
            .ok_or_else(|| damaged("not a card file of format 1"))?;
        // Exactly as written: lowercase hex.
        if digest != hex::encode(Sha256::digest(body)) {
            return Err(damaged("the checksum does not match: a byte was changed"));
        }
        let record: Self = serde_json::from_slice(body)
            .map_err(|err| Damaged(format!("the body does not read: {err}")))?;
        record.check().map_err(Damaged)?;
        Ok(record)
    }

    /// What every card file must satisfy.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format {} in the body", self.format));
        }
        for (name, value) in [
            ("serial", &self.serial),
            ("holder", &self.holder),
            ("role", &self.role),
        ] {
            check_field(name, value)?;
        }
        let key = hex::decode(&self.card_key).map_err(|_| "the card key is not hex")?;
        p256::PublicKey::from_sec1_bytes(&key).map_err(|_| "the card key is not a P-256 key")?;
        self.kdf.check()?;
        for (name, salt) in [("PIN salt", &self.pin_salt), ("PUK salt", &self.puk_salt)] {
            if hex::decode(salt).map(|salt| salt.len()) != Ok(16) {
                return Err(format!("the {name} is not 16 bytes"));
            }
        }
        // A terminated card (both counters at zero) keeps nothing sealed.
        let terminated = self.pin_tries_left == 0
            && self.puk_tries_left == 0
            && [&self.pin_wrap, &self.puk_wrap, &self.secrets]
                .iter()
                .all(|sealed| **sealed == Sealed::erased());
        for (name, sealed, lengths) in [
            ("PIN wrap", &self.pin_wrap, 32..=32),
            ("PUK wrap", &self.puk_wrap, 32..=32),
            ("secrets", &self.secrets, 33..=32 + MAX_SHARE),
        ] {
            if !terminated
                && !sealed
                    .plaintext_len()
                    .is_some_and(|length| lengths.contains(&length))
            {
                return Err(format!("the {name} is malformed"));
            }
        }
        if self.pin_tries_left > PIN_TRIES || self.puk_tries_left > PUK_TRIES {
            return Err("a retry counter is above its maximum".into());
        }
        Ok(())
    }
}

/// A serial, holder or role: 1 to 64 characters, no control characters.
pub(crate) fn check_field(name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value.chars().count() > MAX_FIELD || value.chars().any(char::is_control)
    {
        return Err(format!(
            "the {name} must be 1 to {MAX_FIELD} characters without control characters"
        ));
    }
    Ok(())
}

/// Random bytes from the operating system, for salts, nonces and keys.
pub(crate) fn random<const N: usize>() -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0; N]);
    // The operating system's generator does not fail on the platforms we
    // build for; if it did, nothing may go on with predictable bytes.
    if rand::rngs::SysRng.try_fill_bytes(bytes.as_mut()).is_err() {
        panic!("the operating system's random number generator failed");
    }
    bytes
}

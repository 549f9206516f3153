//! The soft HSM's key store: one JSON file, replaced atomically.
//!
//! In clear: the roster (whose C0 is the public key of the activation
//! secret), each key's label, kind, public key and creation time, and the
//! count of failed activations. Sealed: each private key (PKCS#8),
//! XChaCha20-Poly1305 under a key derived from the secret, with the label,
//! kind and public key as associated data. A MAC under another key derived
//! from the secret covers everything, so any change to the store is found
//! on activation. The count of failed activations, which must change while
//! the store is sealed, lives in a file of its own beside it.

use std::fs::{self, File};
use std::io::{self, Read as _};
use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac as _};
use quorum::{ActivationSecret, Roster};
use rand::TryRng as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::HsmError;
use crate::spec::KeySpec;

/// The store's format number.
const FORMAT: u32 = 1;
/// The largest store read.
const MAX_STORE: u64 = 4 * 1024 * 1024;
/// What the wrapping key is derived for.
pub(crate) const WRAP_PURPOSE: &str = "soft hsm key wrap";
/// What the MAC key is derived for.
pub(crate) const MAC_PURPOSE: &str = "soft hsm store mac";

/// The file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Store {
    pub format: u32,
    pub roster: Roster,
    pub keys: Vec<StoredKey>,
    /// HMAC-SHA-256, hex.
    pub mac: String,
}

/// One key as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredKey {
    pub label: String,
    pub spec: KeySpec,
    /// The DNSKEY public key field, base64.
    pub public_key: String,
    pub created: u64,
    /// XChaCha20-Poly1305 nonce, hex.
    pub nonce: String,
    /// The sealed PKCS#8, hex.
    pub sealed: String,
}

impl StoredKey {
    /// Seals a key's PKCS#8 under the wrapping key.
    pub fn seal(
        label: &str,
        spec: KeySpec,
        public_key: &[u8],
        created: u64,
        pkcs8: &[u8],
        wrap: &[u8; 32],
    ) -> Result<Self, HsmError> {
        let mut nonce = [0; 24];
        rand::rngs::SysRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| HsmError::Crypto("no random numbers".into()))?;
        let mut key = Self {
            label: label.to_owned(),
            spec,
            public_key: base64::engine::general_purpose::STANDARD.encode(public_key),
            created,
            nonce: hex::encode(nonce),
            sealed: String::new(),
        };
        let sealed = XChaCha20Poly1305::new(wrap.into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: pkcs8,
                    aad: &key.associated(),
                },
            )
            .map_err(|_| HsmError::Crypto("the key could not be sealed".into()))?;
        key.sealed = hex::encode(sealed);
        Ok(key)
    }

    /// Opens the PKCS#8.
    pub fn open(&self, wrap: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, HsmError> {
        let tampered = || HsmError::Tampered(format!("key {:?} does not open", self.label));
        let nonce: [u8; 24] = hex::decode(&self.nonce)
            .ok()
            .and_then(|nonce| nonce.try_into().ok())
            .ok_or_else(tampered)?;
        let sealed = hex::decode(&self.sealed).map_err(|_| tampered())?;
        XChaCha20Poly1305::new(wrap.into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed,
                    aad: &self.associated(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| tampered())
    }

    /// The public key field.
    pub fn public_key(&self) -> Result<Vec<u8>, HsmError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.public_key)
            .map_err(|_| {
                HsmError::Tampered(format!(
                    "key {:?}: the public key is not base64",
                    self.label
                ))
            })
    }

    /// Label, kind and public key: what the sealed key is bound to.
    fn associated(&self) -> Vec<u8> {
        let mut data = Vec::new();
        for field in [
            self.label.as_bytes(),
            self.spec.to_string().as_bytes(),
            self.public_key.as_bytes(),
        ] {
            data.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            data.extend_from_slice(field);
        }
        data
    }
}

impl Store {
    /// A new, empty store for a roster.
    pub fn new(roster: Roster) -> Self {
        Self {
            format: FORMAT,
            roster,
            keys: Vec::new(),
            mac: String::new(),
        }
    }

    /// Everything the MAC covers, length-prefixed.
    fn covered(&self) -> Vec<u8> {
        let mut data = Vec::new();
        let mut field = |bytes: &[u8]| {
            data.extend_from_slice(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
            data.extend_from_slice(bytes);
        };
        field(b"ceremony soft hsm store v1");
        field(&self.format.to_be_bytes());
        // The whole roster as stored, its own MAC included.
        field(&serde_json::to_vec(&self.roster).unwrap_or_default());
        field(
            &u64::try_from(self.keys.len())
                .unwrap_or(u64::MAX)
                .to_be_bytes(),
        );
        for key in &self.keys {
            field(key.label.as_bytes());
            field(key.spec.to_string().as_bytes());
            field(key.public_key.as_bytes());
            field(&key.created.to_be_bytes());
            field(key.nonce.as_bytes());
            field(key.sealed.as_bytes());
        }
        data
    }

    fn mac_state(mac_key: &[u8; 32]) -> Hmac<Sha256> {
        match <Hmac<Sha256>>::new_from_slice(mac_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes a key of any length"),
        }
    }

    /// Sets the MAC.
    pub fn seal(&mut self, mac_key: &[u8; 32]) {
        let mut mac = Self::mac_state(mac_key);
        mac.update(&self.covered());
        self.mac = hex::encode(mac.finalize().into_bytes());
    }

    /// Checks the MAC.
    pub fn verify(&self, mac_key: &[u8; 32]) -> Result<(), HsmError> {
        let expected =
            hex::decode(&self.mac).map_err(|_| HsmError::Tampered("the MAC is not hex".into()))?;
        let mut mac = Self::mac_state(mac_key);
        mac.update(&self.covered());
        mac.verify_slice(&expected)
            .map_err(|_| HsmError::Tampered("the store's MAC does not match".into()))
    }

    /// The derived keys of a secret.
    pub fn keys(secret: &ActivationSecret) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
        (
            secret.derive_key(WRAP_PURPOSE),
            secret.derive_key(MAC_PURPOSE),
        )
    }

    /// Reads the store.
    pub fn read(path: &Path) -> Result<Self, HsmError> {
        let io = |err| HsmError::Io(format!("cannot read {}", path.display()), err);
        let file = File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_STORE + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Self::parse(path, &bytes)
    }

    /// Parses the store's bytes; `path` names it in errors. Split from
    /// [`Self::read`] so the parser can be fuzzed without a file.
    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, HsmError> {
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_STORE {
            return Err(HsmError::Tampered(format!(
                "{} is larger than {MAX_STORE} bytes",
                path.display()
            )));
        }
        let store: Self = serde_json::from_slice(bytes).map_err(|err| {
            HsmError::Tampered(format!("{} does not read: {err}", path.display()))
        })?;
        if store.format != FORMAT {
            return Err(HsmError::Tampered(format!(
                "format {} is not {FORMAT}",
                store.format
            )));
        }
        Ok(store)
    }

    /// Writes the store atomically: a temporary file, synced, renamed over
    /// the old one, and the directory synced.
    pub fn write(&self, path: &Path) -> Result<(), HsmError> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|err| HsmError::Crypto(format!("the store does not serialize: {err}")))?;
        atomic_write(path, &bytes)
            .map_err(|err| HsmError::Io(format!("cannot write {}", path.display()), err))
    }
}

/// Parses a soft HSM store (`keystore.json`) from its bytes, as
/// [`SoftHsm::open`](super::SoftHsm::open) reads it, and answers the store
/// written back as the HSM writes it. Nothing is authenticated here: the
/// MAC needs the quorum's secret. For fuzzing and tools that hold no file.
///
/// # Errors
///
/// As `open`: larger than 4 MiB, not a store, or another format.
pub fn parse_store(bytes: &[u8]) -> Result<Vec<u8>, HsmError> {
    let store = Store::parse(Path::new(super::STORE_FILE), bytes)?;
    serde_json::to_vec_pretty(&store)
        .map_err(|err| HsmError::Crypto(format!("the store does not serialize: {err}")))
}

/// Replaces a file's bytes so that a crash leaves the old or the new
/// (the workspace's one [`durable::write`]).
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    Ok(durable::write(path, bytes, durable::Replace::Allowed)?)
}

/// The count of failed activations since the last good one: a decimal
/// number in its own file (absent means 0). Written before a secret is
/// tried, so a crash never gives a free try.
pub(crate) fn read_failures(path: &Path) -> Result<u32, HsmError> {
    match fs::read_to_string(path) {
        Ok(text) => text.trim().parse().map_err(|_| {
            HsmError::Tampered(format!("{} is not a count of failures", path.display()))
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(err) => Err(HsmError::Io(format!("cannot read {}", path.display()), err)),
    }
}

/// Writes the count of failed activations.
pub(crate) fn write_failures(path: &Path, failures: u32) -> Result<(), HsmError> {
    atomic_write(path, format!("{failures}\n").as_bytes())
        .map_err(|err| HsmError::Io(format!("cannot write {}", path.display()), err))
}

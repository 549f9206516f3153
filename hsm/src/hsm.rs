//! The `Hsm` trait: what every backend does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ksr::Dnskey;
use quorum::{ActivationSecret, Roster};

use crate::error::HsmError;
use crate::import::ImportedKey;
use crate::provenance::Provenance;
use crate::spec::{KeyInfo, KeySpec};

/// The caller's clock: this crate reads no clock of its own (DESIGN.md);
/// the binary passes `Instant::now`, tests a clock they move.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The idle time after which an HSM seals itself, unless configured.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Failed activations after which an HSM refuses to try more.
pub const MAX_FAILED_ACTIVATIONS: u32 = 10;

/// Where the KSKs live. Public metadata is readable while sealed; the
/// private keys are usable only while active.
pub trait Hsm {
    /// Runs the power-on self-tests, then unseals with the quorum's secret.
    ///
    /// # Errors
    ///
    /// A self-test failed, the secret is wrong, the store was altered, or
    /// too many activations failed.
    fn activate(&mut self, secret: &ActivationSecret) -> Result<(), HsmError>;

    /// Seals: every private key in memory is wiped (or the token logged
    /// out).
    fn deactivate(&mut self);

    /// Whether the HSM is active now (an idle HSM seals itself here).
    fn is_active(&self) -> bool;

    /// Makes a key under a new label; `created` is Unix seconds.
    ///
    /// # Errors
    ///
    /// Sealed, a bad or used label, or the backend failed.
    fn generate(&mut self, label: &str, spec: KeySpec, created: u64) -> Result<KeyInfo, HsmError>;

    /// Takes a key made elsewhere (read with [`crate::read_key_file`])
    /// under a new label, kept from now on exactly as a key the HSM made;
    /// `created` is Unix seconds. Only the soft HSM imports: a token's
    /// keys are imported with the token's own tools, then adopted.
    ///
    /// # Errors
    ///
    /// Sealed, a bad or used label, the key is already in the HSM, or the
    /// backend does not import.
    fn import(&mut self, label: &str, key: ImportedKey, created: u64) -> Result<KeyInfo, HsmError>;

    /// How the private key of a label was made and is kept, as the token
    /// reports it, for a key to be adopted.
    ///
    /// # Errors
    ///
    /// Sealed, no such key, or the backend keeps no such record (the soft
    /// HSM).
    fn provenance(&self, label: &str) -> Result<Provenance, HsmError>;

    /// Takes into the ceremony a key that is already in the HSM but that
    /// the ceremony did not make: exactly one private and one public key
    /// with that label, of a kind a [`KeySpec`] holds, whose halves match
    /// (a test signature verifies). It is then kept as a generated key;
    /// `created` is Unix seconds. Its [`Hsm::provenance`] is for the
    /// caller to weigh; only a key anyone could use without logging in
    /// (CKA_PRIVATE false) is refused here.
    ///
    /// # Errors
    ///
    /// Sealed; no key, or more than one, has the label; the ceremony
    /// already made or adopted it; its kind is not one a `KeySpec` holds;
    /// its halves do not match; or the backend does not adopt (the soft
    /// HSM).
    fn adopt(&mut self, label: &str, created: u64) -> Result<KeyInfo, HsmError>;

    /// The public key of a label, as DNSKEY RDATA with Flags 257.
    ///
    /// # Errors
    ///
    /// No key, or more than one, has the label.
    fn public_key(&self, label: &str) -> Result<Dnskey, HsmError>;

    /// Signs with the key of a label, in the DNSSEC encoding of its
    /// algorithm.
    ///
    /// # Errors
    ///
    /// Sealed, idle too long, or no such key.
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, HsmError>;

    /// Every key.
    ///
    /// # Errors
    ///
    /// The backend cannot be read.
    fn inventory(&self) -> Result<Vec<KeyInfo>, HsmError>;

    /// Deletes a key.
    ///
    /// # Errors
    ///
    /// Sealed, or no such key.
    fn delete(&mut self, label: &str) -> Result<(), HsmError>;

    /// The label of the key with this id (a token's CKA_ID, as the token's
    /// tools set it), read while sealed.
    ///
    /// # Errors
    ///
    /// No key, or more than one, has the id; or the backend keeps no ids
    /// (the soft HSM).
    fn label_of_id(&self, id: &[u8]) -> Result<String, HsmError> {
        let _ = id;
        Err(HsmError::Unsupported(
            "the soft HSM keeps no key ids: name the key by its label".into(),
        ))
    }

    /// Ends the takeover of a token at init, once the new ceremony is
    /// complete: the security officer's PIN the operator gave stops
    /// working, replaced by the one the quorum's secret derives. Until
    /// then a failed init leaves the token to its officer. Nothing for a
    /// soft HSM, or a token opened rather than taken over.
    ///
    /// # Errors
    ///
    /// The token refused the change (the operator's SO PIN still works).
    fn complete_takeover(&mut self) -> Result<(), HsmError> {
        Ok(())
    }

    /// What this HSM is, for the ceremony's sealed state: the backend and,
    /// for a token, the module, its SHA-256 and the token's label.
    fn binding(&self) -> String;

    /// Keeps the sealed state's MAC inside the HSM, where only the
    /// logged-in user (the quorum) can read or write it, so that a state
    /// file restored from a copy is found out. The soft HSM, whose store is
    /// itself a file, keeps nothing.
    ///
    /// # Errors
    ///
    /// Sealed, or the backend failed.
    fn bind_state(&mut self, mac: &[u8]) -> Result<(), HsmError> {
        let _ = mac;
        Ok(())
    }

    /// The MAC [`Hsm::bind_state`] kept (empty when none was kept), or
    /// `None` for an HSM that keeps none.
    ///
    /// # Errors
    ///
    /// Sealed, or the backend failed.
    fn bound_state(&self) -> Result<Option<Vec<u8>>, HsmError> {
        Ok(None)
    }

    /// The roster whose quorum activates this HSM: the current one.
    ///
    /// # Errors
    ///
    /// The backend cannot be read.
    fn roster(&self) -> Result<Roster, HsmError>;

    /// Moves the HSM to a new generation of the quorum (reshare or rekey):
    /// from now on only `roster`'s cards activate it, with `new`, the
    /// secret its commitments commit to (the same as `old` after a
    /// reshare). The HSM must be active, activated with `old`.
    ///
    /// # Errors
    ///
    /// Sealed; the roster is not newer or does not commit to `new`; the
    /// backend failed (then the old generation still holds).
    fn commit_generation(
        &mut self,
        old: &ActivationSecret,
        new: &ActivationSecret,
        roster: Roster,
    ) -> Result<(), HsmError>;
}

/// Checks a new generation's roster against the current one and its
/// secret.
pub(crate) fn check_generation(
    current: &Roster,
    new: &ActivationSecret,
    roster: &Roster,
) -> Result<(), HsmError> {
    if roster.generation() <= current.generation() {
        return Err(HsmError::Invalid(format!(
            "the new roster is generation {}, not after the current {}",
            roster.generation(),
            current.generation()
        )));
    }
    if new.public_point() != roster.commitments().secret_point() {
        return Err(HsmError::Invalid(
            "the new roster does not commit to the new secret".into(),
        ));
    }
    roster
        .verify_mac(new)
        .map_err(|err| HsmError::Invalid(format!("the new roster: {err}")))
}

/// Implements `ksr::BundleSigner` for an `Hsm`, mapping errors to the
/// signer's kinds (`SIGN-KEY-LOOKUP`, `SIGN-KEY-LABEL`).
macro_rules! bundle_signer {
    ($type:ty) => {
        impl ksr::KeySource for $type {
            fn public_key(&self, label: &str) -> Result<ksr::Dnskey, ksr::SignerError> {
                $crate::hsm::Hsm::public_key(self, label).map_err($crate::hsm::signer_error)
            }
        }

        impl ksr::BundleSigner for $type {
            fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, ksr::SignerError> {
                $crate::hsm::Hsm::sign(self, label, data).map_err($crate::hsm::signer_error)
            }
        }
    };
}
pub(crate) use bundle_signer;

/// An HSM error as the signer's.
pub(crate) fn signer_error(err: HsmError) -> ksr::SignerError {
    match err {
        HsmError::NoKey(_) | HsmError::NoId(_) => ksr::SignerError::not_found(err.to_string()),
        HsmError::Ambiguous(_) => ksr::SignerError::ambiguous(err.to_string()),
        other => ksr::SignerError::failed(other.to_string()),
    }
}

/// Any [`Hsm`] as a `ksr::BundleSigner`, for code that holds a
/// `Box<dyn Hsm>`.
pub struct Signer<'a>(pub &'a dyn Hsm);

impl ksr::KeySource for Signer<'_> {
    fn public_key(&self, label: &str) -> Result<ksr::Dnskey, ksr::SignerError> {
        self.0.public_key(label).map_err(signer_error)
    }
}

impl ksr::BundleSigner for Signer<'_> {
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, ksr::SignerError> {
        self.0.sign(label, data).map_err(signer_error)
    }
}

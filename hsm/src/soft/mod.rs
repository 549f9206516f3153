//! `SoftHsm`: the embedded HSM, a sealed key store in a directory.

mod key;
mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ksr::{Dnskey, Flags};
use quorum::{ActivationSecret, Roster};
use zeroize::Zeroizing;

use crate::error::HsmError;
use crate::hsm::{Clock, DEFAULT_IDLE_TIMEOUT, Hsm, MAX_FAILED_ACTIVATIONS};
use crate::import::ImportedKey;
use crate::provenance::Provenance;
use crate::selftest;
use crate::spec::{KeyInfo, KeySpec, check_label};
pub use key::SoftKey;
pub use store::parse_store;
use store::{Store, StoredKey};
pub(crate) use store::{atomic_write, read_failures, write_failures};

/// The store's file name in the HSM's directory.
pub const STORE_FILE: &str = "keystore.json";
/// The file of the failed-activation count, beside the store.
pub const FAILURES_FILE: &str = "keystore.failures";

/// The embedded HSM: private keys sealed under keys derived from the
/// quorum's secret (HKDF-SHA-256), opened only in memory and only while
/// active. Public metadata (labels, kinds, DNSKEYs, creation times, the
/// roster) is readable while sealed. The whole store is checked on
/// activation; the HSM seals itself after an idle time (15 minutes by
/// default) and when dropped.
pub struct SoftHsm {
    path: PathBuf,
    store: Store,
    active: Mutex<Option<Active>>,
    idle_timeout: Duration,
    clock: Clock,
    /// A self-test made to fail, for the tests.
    #[cfg(test)]
    self_test_fault: Option<selftest::Kat>,
}

/// What activation opens; everything in it is wiped when dropped.
struct Active {
    keys: BTreeMap<String, SoftKey>,
    wrap: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
    last_used: Instant,
}

impl SoftHsm {
    /// Makes a new, empty HSM in `dir` for a roster, sealed under the
    /// secret its commitments commit to.
    ///
    /// # Errors
    ///
    /// The secret is not the roster's, a store already exists, or it
    /// cannot be written.
    pub fn create(
        dir: &Path,
        roster: Roster,
        secret: &ActivationSecret,
        clock: Clock,
    ) -> Result<Self, HsmError> {
        if secret.public_point() != roster.commitments().secret_point() {
            return Err(HsmError::WrongSecret);
        }
        let path = dir.join(STORE_FILE);
        if path.exists() {
            return Err(HsmError::Invalid(format!(
                "{} already holds an HSM; it is never overwritten",
                dir.display()
            )));
        }
        let mut store = Store::new(roster);
        let (_, mac) = Store::keys(secret);
        store.seal(&mac);
        store.write(&path)?;
        Self::open(dir, clock)
    }

    /// Opens the HSM in `dir`, sealed.
    ///
    /// # Errors
    ///
    /// The store cannot be read.
    pub fn open(dir: &Path, clock: Clock) -> Result<Self, HsmError> {
        let path = dir.join(STORE_FILE);
        let store = Store::read(&path)?;
        Ok(Self {
            path,
            store,
            active: Mutex::new(None),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            clock,
            #[cfg(test)]
            self_test_fault: None,
        })
    }

    /// Sets the idle time after which the HSM seals itself.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Option<Active>> {
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` on the open keys, unless the HSM is sealed or has been
    /// idle too long (then it seals itself first).
    fn with_active<R>(
        &self,
        work: impl FnOnce(&mut Active) -> Result<R, HsmError>,
    ) -> Result<R, HsmError> {
        let now = (self.clock)();
        let mut guard = self.lock();
        let active = guard.as_mut().ok_or(HsmError::Sealed)?;
        if now.saturating_duration_since(active.last_used) > self.idle_timeout {
            *guard = None;
            return Err(HsmError::IdleTimeout(self.idle_timeout));
        }
        active.last_used = now;
        work(active)
    }

    fn stored(&self, label: &str) -> Result<&StoredKey, HsmError> {
        self.store
            .keys
            .iter()
            .find(|key| key.label == label)
            .ok_or_else(|| HsmError::NoKey(label.to_owned()))
    }

    fn info(key: &StoredKey) -> Result<KeyInfo, HsmError> {
        Ok(KeyInfo {
            label: key.label.clone(),
            spec: key.spec,
            dnskey: Dnskey::new(Flags::KSK, 3, key.spec.algorithm(), key.public_key()?),
            created: key.created,
        })
    }

    /// Seals a new key under a new label, made by `make` once the label is
    /// known to be free and the HSM active, and keeps it open.
    fn add(
        &mut self,
        label: &str,
        spec: KeySpec,
        created: u64,
        make: impl FnOnce() -> Result<SoftKey, HsmError>,
    ) -> Result<KeyInfo, HsmError> {
        check_label(label).map_err(HsmError::Invalid)?;
        if self.stored(label).is_ok() {
            return Err(HsmError::DuplicateLabel(label.to_owned()));
        }
        let mut store = self.store.clone();
        let (key, stored) = self.with_active(|active| {
            let key = make()?;
            let stored = StoredKey::seal(
                label,
                spec,
                key.dnskey().public_key(),
                created,
                key.pkcs8(),
                &active.wrap,
            )?;
            store.keys.push(stored.clone());
            store.seal(&active.mac);
            Ok((key, stored))
        })?;
        store.write(&self.path)?;
        self.store = store;
        if let Some(active) = self.lock().as_mut() {
            active.keys.insert(label.to_owned(), key);
        }
        Self::info(&stored)
    }

    /// Opens every key of a store whose MAC checked.
    fn open_keys(store: &Store, wrap: &[u8; 32]) -> Result<BTreeMap<String, SoftKey>, HsmError> {
        let mut keys = BTreeMap::new();
        for stored in &store.keys {
            let key = SoftKey::from_pkcs8(stored.spec, stored.open(wrap)?)?;
            if key.dnskey().public_key() != stored.public_key()? {
                return Err(HsmError::Tampered(format!(
                    "key {:?}: the private key does not match its public key",
                    stored.label
                )));
            }
            if keys.insert(stored.label.clone(), key).is_some() {
                return Err(HsmError::Tampered(format!(
                    "label {:?} twice",
                    stored.label
                )));
            }
        }
        Ok(keys)
    }
}

impl Hsm for SoftHsm {
    fn activate(&mut self, secret: &ActivationSecret) -> Result<(), HsmError> {
        *self.lock() = None;
        #[cfg(test)]
        let fault = self.self_test_fault;
        #[cfg(not(test))]
        let fault = None;
        selftest::run(fault).map_err(HsmError::SelfTest)?;
        // The store on disk is the truth; the failure count goes up and is
        // written before the secret is tried.
        let failures_path = self.path.with_file_name(FAILURES_FILE);
        let failures = read_failures(&failures_path)?;
        if failures >= MAX_FAILED_ACTIVATIONS {
            return Err(HsmError::Locked(failures));
        }
        write_failures(&failures_path, failures + 1)?;
        let store = Store::read(&self.path)?;
        if secret.public_point() != store.roster.commitments().secret_point() {
            self.store = store;
            return Err(HsmError::WrongSecret);
        }
        let (wrap, mac) = Store::keys(secret);
        store.verify(&mac)?;
        let keys = Self::open_keys(&store, &wrap)?;
        write_failures(&failures_path, 0)?;
        self.store = store;
        *self.lock() = Some(Active {
            keys,
            wrap,
            mac,
            last_used: (self.clock)(),
        });
        Ok(())
    }

    fn deactivate(&mut self) {
        *self.lock() = None;
    }

    fn is_active(&self) -> bool {
        // Asking does not count as use: the idle clock keeps running.
        let now = (self.clock)();
        let mut guard = self.lock();
        let idle = guard
            .as_ref()
            .map(|active| now.saturating_duration_since(active.last_used) > self.idle_timeout);
        if idle == Some(true) {
            *guard = None;
        }
        idle == Some(false)
    }

    fn generate(&mut self, label: &str, spec: KeySpec, created: u64) -> Result<KeyInfo, HsmError> {
        self.add(label, spec, created, || SoftKey::generate(spec))
    }

    fn import(&mut self, label: &str, key: ImportedKey, created: u64) -> Result<KeyInfo, HsmError> {
        let public = key.dnskey();
        let same = self
            .store
            .keys
            .iter()
            .find(|stored| {
                stored
                    .public_key()
                    .is_ok_and(|bytes| bytes == public.public_key())
            })
            .map(|stored| stored.label.clone());
        self.add(label, key.spec(), created, || match same {
            Some(same) => Err(HsmError::SameKey(same)),
            None => Ok(key.into_key()),
        })
    }

    fn provenance(&self, _label: &str) -> Result<Provenance, HsmError> {
        Err(HsmError::Unsupported(
            "the soft HSM keeps no PKCS#11 attributes: it holds only keys it made or imported"
                .into(),
        ))
    }

    fn adopt(&mut self, _label: &str, _created: u64) -> Result<KeyInfo, HsmError> {
        Err(HsmError::Unsupported(
            "the soft HSM holds only keys it made or imported; there is nothing in it to adopt"
                .into(),
        ))
    }

    fn public_key(&self, label: &str) -> Result<Dnskey, HsmError> {
        Self::info(self.stored(label)?).map(|info| info.dnskey)
    }

    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        self.with_active(|active| {
            active
                .keys
                .get(label)
                .ok_or_else(|| HsmError::NoKey(label.to_owned()))?
                .sign(data)
        })
    }

    fn inventory(&self) -> Result<Vec<KeyInfo>, HsmError> {
        self.store.keys.iter().map(Self::info).collect()
    }

    fn delete(&mut self, label: &str) -> Result<(), HsmError> {
        self.stored(label)?;
        let mut store = self.store.clone();
        store.keys.retain(|key| key.label != label);
        self.with_active(|active| {
            store.seal(&active.mac);
            Ok(())
        })?;
        store.write(&self.path)?;
        self.store = store;
        if let Some(active) = self.lock().as_mut() {
            active.keys.remove(label);
        }
        Ok(())
    }

    fn binding(&self) -> String {
        "soft".into()
    }

    fn roster(&self) -> Result<Roster, HsmError> {
        Ok(self.store.roster.clone())
    }

    fn commit_generation(
        &mut self,
        _old: &ActivationSecret,
        new: &ActivationSecret,
        roster: Roster,
    ) -> Result<(), HsmError> {
        crate::hsm::check_generation(&self.store.roster, new, &roster)?;
        let (wrap, mac) = Store::keys(new);
        let mut store = Store::new(roster);
        // Every key sealed again under the new secret's wrapping key.
        self.with_active(|active| {
            for stored in &self.store.keys {
                let key = active
                    .keys
                    .get(&stored.label)
                    .ok_or_else(|| HsmError::NoKey(stored.label.clone()))?;
                store.keys.push(StoredKey::seal(
                    &stored.label,
                    stored.spec,
                    &stored.public_key()?,
                    stored.created,
                    key.pkcs8(),
                    &wrap,
                )?);
            }
            Ok(())
        })?;
        store.seal(&mac);
        store.write(&self.path)?;
        self.store = store;
        if let Some(active) = self.lock().as_mut() {
            active.wrap = wrap;
            active.mac = mac;
        }
        Ok(())
    }
}

crate::hsm::bundle_signer!(SoftHsm);

#[cfg(test)]
pub(crate) mod wipe_log {
    use std::cell::RefCell;

    thread_local! {
        static WIPED: RefCell<Vec<bool>> = const { RefCell::new(Vec::new()) };
    }

    /// Records one key's wipe and whether its bytes were all zero.
    pub(crate) fn record(zero: bool) {
        WIPED.with(|wiped| wiped.borrow_mut().push(zero));
    }

    /// Returns and clears this thread's record.
    pub(crate) fn take() -> Vec<bool> {
        WIPED.with(|wiped| std::mem::take(&mut *wiped.borrow_mut()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a panic in a test is a failing test")]

    use std::sync::Arc;

    use super::*;

    fn hsm(dir: &Path) -> (SoftHsm, ActivationSecret) {
        let officers = (1..=2u8)
            .map(|seed| quorum::NewOfficer {
                name: format!("CO-{seed}"),
                role: "crypto officer".into(),
                card_serial: format!("{seed}"),
                card_key: *p256::ecdsa::SigningKey::from_slice(&[seed; 32])
                    .unwrap()
                    .verifying_key(),
            })
            .collect();
        let enrolment = quorum::enrol(officers, 2).unwrap();
        let clock: Clock = Arc::new(Instant::now);
        let hsm = SoftHsm::create(dir, enrolment.roster, &enrolment.secret, clock).unwrap();
        (hsm, enrolment.secret)
    }

    #[test]
    fn deactivation_wipes_every_key() {
        let dir = tempfile::tempdir().unwrap();
        let (mut hsm, secret) = hsm(dir.path());
        hsm.activate(&secret).unwrap();
        hsm.generate("a", KeySpec::EcdsaP256, 1).unwrap();
        hsm.generate("b", KeySpec::Ed25519, 1).unwrap();
        wipe_log::take();
        hsm.deactivate();
        // Both keys' PKCS#8 bytes were zero before their memory was freed
        // (and AWS-LC cleanses what it frees).
        assert_eq!(wipe_log::take(), [true, true]);
        assert!(matches!(hsm.sign("a", b"x"), Err(HsmError::Sealed)));
        // Activation opens them again; dropping the HSM wipes them too.
        hsm.activate(&secret).unwrap();
        wipe_log::take();
        drop(hsm);
        assert_eq!(wipe_log::take(), [true, true]);
    }

    #[test]
    fn a_failed_self_test_keeps_the_hsm_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut hsm, secret) = hsm(dir.path());
        for kat in selftest::Kat::ALL {
            hsm.self_test_fault = Some(kat);
            let err = hsm.activate(&secret).unwrap_err();
            assert!(
                err.to_string().starts_with("power-on self-test failed"),
                "{err}"
            );
            assert!(!hsm.is_active());
        }
        hsm.self_test_fault = None;
        hsm.activate(&secret).unwrap();
    }
}

//! `Pkcs11Hsm`: a PKCS#11 token (SoftHSM2 in tests, a real HSM in
//! production) whose user PIN is derived from the quorum's secret.
//!
//! Initialization logs in as the security officer and sets the user PIN
//! to a value derived from the secret (HKDF-SHA-256), so no officer ever
//! knows it; it is never stored or printed, and the PIN the token had
//! before stops working. Activation logs in with it; deactivation logs out
//! and closes the session. Keys are made on the token, sensitive and not
//! extractable. SoftHSM never locks a PIN, so failed activations are
//! counted here and refused after [`MAX_FAILED_ACTIVATIONS`]. A token label
//! found in more than one slot is an error, not a guess.
//!
//! A key made elsewhere is imported with the token's own tools and then
//! adopted (`adopt`): its provenance attributes are read for the operator,
//! its two halves are checked against each other, and it is recorded.
//!
//! Beside the token, a small file (`pkcs11.json`) records the module, the
//! token label, the current roster and each of the ceremony's keys (made
//! or adopted) with its kind and creation time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use ksr::{Algorithm, Dnskey, Flags};
use quorum::{ActivationSecret, Roster};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

mod adopt;
mod module;
mod sidecar;

use crate::error::HsmError;
use crate::hsm::{Clock, DEFAULT_IDLE_TIMEOUT, Hsm, MAX_FAILED_ACTIVATIONS};
use crate::import::ImportedKey;
use crate::provenance::{Provenance, TokenKey};
use crate::selftest::{self, rsa_dnskey};
use crate::soft::{read_failures, write_failures};
use crate::spec::{KeyInfo, KeySpec, RsaBits, check_label};
use module::{Loaded, find_slot, load, token_serial};
pub use sidecar::parse_sidecar;
use sidecar::{KeyRecord, Sidecar, parse_sidecar_text, write_sidecar};

/// The file beside the token.
pub const PKCS11_FILE: &str = "pkcs11.json";
/// The failed-activation count beside it.
pub const PKCS11_FAILURES_FILE: &str = "pkcs11.failures";
/// How many times the user PIN has changed since the secret did: the PIN
/// changes at every deactivation, so one seen during a ceremony is useless
/// after it.
pub const PKCS11_PIN_SERIAL_FILE: &str = "pkcs11.pin-serial";

/// What the user PIN is derived for (with the PIN's serial after the
/// first).
const PIN_PURPOSE: &str = "pkcs11 user pin";
/// What the SO PIN is derived for: `init` replaces the token's SO PIN with
/// it, so only a quorum can act as the security officer.
const SO_PIN_PURPOSE: &str = "pkcs11 so pin";

/// The label of the private data object that holds the sealed state's MAC.
const STATE_OBJECT: &str = "ceremony-sealed-state";

/// DER of the P-256 OID 1.2.840.10045.3.1.7 (CKA_EC_PARAMS).
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the Ed25519 OID 1.3.101.112 (RFC 8410).
const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// A PKCS#11 token as the HSM.
pub struct Pkcs11Hsm {
    dir: PathBuf,
    sidecar: Sidecar,
    /// Taken on drop to finalize the module.
    context: Option<Pkcs11>,
    slot: Slot,
    /// The token's serial number, as it reports it.
    serial: String,
    active: Mutex<Option<ActiveSession>>,
    idle_timeout: Duration,
    clock: Clock,
    /// A takeover not yet complete: the operator's SO PIN, which still
    /// works, and the one the quorum's secret derives, which replaces it
    /// at [`Hsm::complete_takeover`].
    takeover: Option<(Zeroizing<String>, Zeroizing<String>)>,
}

/// A logged-in session, with the PIN it logged in with and the one the
/// token gets when it ends.
struct ActiveSession {
    session: Session,
    last_used: Instant,
    pin: Zeroizing<String>,
    next_pin: Zeroizing<String>,
}

/// A key already on the token that the ceremony takes over with it
/// ([`Pkcs11Hsm::initialize`]), and the caller's judgement of what the
/// token says of it: made while the operator's SO PIN still works, so that
/// a refusal leaves the token to its security officer.
pub struct Takeover<'a> {
    /// The key's label.
    pub label: &'a str,
    /// Accepts the key, or says why not.
    pub vet: &'a dyn Fn(&TokenKey) -> Result<(), String>,
}

impl Pkcs11Hsm {
    /// Takes over an initialized token for a roster: logs in as the
    /// security officer and sets the user PIN to the one derived from the
    /// secret, replaces the SO PIN with one derived from it too, then
    /// writes `pkcs11.json` in `dir`.
    ///
    /// With `adopt`, a key already on the token is looked at first, after
    /// the user PIN is set and before the SO PIN is replaced (the last
    /// step the operator's SO PIN can undo): exactly one private and one
    /// public key must have that label, of a kind a [`KeySpec`] holds, and
    /// the two must match. It is returned with its provenance, for the
    /// operator to weigh; [`Hsm::adopt`] then takes it in.
    ///
    /// # Errors
    ///
    /// The secret is not the roster's, the token is not found or not
    /// unique, the SO PIN is wrong, or the file cannot be written;
    /// [`HsmError::NotTakenOver`] when the key to adopt is missing or
    /// unusable (the SO PIN is then unchanged, but the user PIN was reset).
    #[allow(
        clippy::too_many_arguments,
        reason = "each is one decision of the operator's, made once"
    )]
    pub fn initialize(
        dir: &Path,
        module: &Path,
        token: &str,
        so_pin: &Zeroizing<String>,
        roster: Roster,
        secret: &ActivationSecret,
        clock: Clock,
        adopt: Option<Takeover<'_>>,
    ) -> Result<(Self, Option<TokenKey>), HsmError> {
        if secret.public_point() != roster.commitments().secret_point() {
            return Err(HsmError::WrongSecret);
        }
        if let Some(takeover) = &adopt {
            check_label(takeover.label).map_err(HsmError::Invalid)?;
        }
        let path = dir.join(PKCS11_FILE);
        if path.exists() {
            return Err(HsmError::Invalid(format!(
                "{} already describes a token; it is never overwritten",
                path.display()
            )));
        }
        let (context, module_sha256) = load(module, None)?;
        // Finalized on every early return, so that the module can be
        // initialized again in this process.
        let context = Loaded(Some(context));
        let slot = find_slot(context.get()?, token)?;
        let serial = token_serial(context.get()?, slot)?;
        let session = context.get()?.open_rw_session(slot).map_err(pkcs11)?;
        session
            .login(UserType::So, Some(&AuthPin::from(so_pin.as_str())))
            .map_err(|err| match err {
                Error::Pkcs11(RvError::PinIncorrect, _) => {
                    HsmError::Invalid("the token's SO PIN is wrong".into())
                }
                other => pkcs11(other),
            })?;
        let pin = derived_pin(secret, 0);
        session
            .init_pin(&AuthPin::from(pin.as_str()))
            .map_err(pkcs11)?;
        let found = match adopt {
            None => None,
            Some(Takeover { label, vet }) => match adopt::look(&session, label, &pin, so_pin)
                .and_then(|found| vet(&found).map(|()| found).map_err(HsmError::Invalid))
            {
                Ok(found) => Some(found),
                Err(err) => {
                    close(session);
                    return Err(HsmError::NotTakenOver {
                        label: label.to_owned(),
                        source: Box::new(err),
                    });
                }
            },
        };
        // The SO PIN the operator typed stops working only once the new
        // ceremony is complete (`complete_takeover`): from then on only the
        // quorum's secret derives it, so nobody can reset the user PIN
        // alone; until then a failure leaves the token to its officer.
        let so = derived_so_pin(secret);
        session.logout().map_err(pkcs11)?;
        session.close().map_err(pkcs11)?;
        write_failures(&dir.join(PKCS11_PIN_SERIAL_FILE), 0)?;
        let sidecar = Sidecar {
            format: 2,
            module: module.to_owned(),
            module_sha256,
            token: token.to_owned(),
            roster,
            keys: BTreeMap::new(),
        };
        write_sidecar(dir, &sidecar)?;
        let hsm = Self {
            dir: dir.to_owned(),
            sidecar,
            context: context.take(),
            slot,
            serial,
            active: Mutex::new(None),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            clock,
            takeover: Some((so_pin.clone(), so)),
        };
        Ok((hsm, found))
    }

    /// Opens the token that `dir/pkcs11.json` describes, sealed.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or the token is not found or not unique.
    pub fn open(dir: &Path, clock: Clock) -> Result<Self, HsmError> {
        let path = dir.join(PKCS11_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|err| HsmError::Io(format!("cannot read {}", path.display()), err))?;
        let sidecar = parse_sidecar_text(&path, &text)?;
        let (context, _) = load(&sidecar.module, Some(&sidecar.module_sha256))?;
        let context = Loaded(Some(context));
        let slot = find_slot(context.get()?, &sidecar.token)?;
        let serial = token_serial(context.get()?, slot)?;
        Ok(Self {
            dir: dir.to_owned(),
            sidecar,
            context: context.take(),
            slot,
            serial,
            active: Mutex::new(None),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            clock,
            takeover: None,
        })
    }

    /// Sets the idle time after which the HSM seals itself.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    fn context(&self) -> Result<&Pkcs11, HsmError> {
        self.context
            .as_ref()
            .ok_or_else(|| HsmError::Pkcs11("the module is finalized".into()))
    }

    fn lock(&self) -> MutexGuard<'_, Option<ActiveSession>> {
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` with the logged-in session, unless sealed or idle too
    /// long (then the session is logged out and closed first).
    fn with_session<R>(
        &self,
        work: impl FnOnce(&Session) -> Result<R, HsmError>,
    ) -> Result<R, HsmError> {
        let now = (self.clock)();
        let mut guard = self.lock();
        let active = guard.as_mut().ok_or(HsmError::Sealed)?;
        if now.saturating_duration_since(active.last_used) > self.idle_timeout {
            if let Some(active) = guard.take() {
                self.retire(active);
            }
            return Err(HsmError::IdleTimeout(self.idle_timeout));
        }
        active.last_used = now;
        work(&active.session)
    }

    /// Runs `work` with a read-only session that is not logged in: the
    /// public objects are visible.
    fn with_public_session<R>(
        &self,
        work: impl FnOnce(&Session) -> Result<R, HsmError>,
    ) -> Result<R, HsmError> {
        let session = self.context()?.open_ro_session(self.slot).map_err(pkcs11)?;
        let result = work(&session);
        let _ = session.close();
        result
    }

    /// The one object of a class with this label.
    fn object(
        session: &Session,
        label: &str,
        class: ObjectClass,
    ) -> Result<ObjectHandle, HsmError> {
        let found = session
            .find_objects(&[
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Class(class),
            ])
            .map_err(pkcs11)?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(HsmError::NoKey(label.to_owned())),
            more => Err(HsmError::Ambiguous(format!(
                "{} objects of class {class} are labelled {label:?} on the token",
                more.len()
            ))),
        }
    }

    /// The public key of an object as DNSKEY RDATA (Flags 257) and its kind.
    fn read_public(session: &Session, handle: ObjectHandle) -> Result<(KeySpec, Dnskey), HsmError> {
        let attributes = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                ],
            )
            .map_err(pkcs11)?;
        let mut key_type = None;
        let (mut modulus, mut exponent, mut params, mut point) = (None, None, None, None);
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(kind) => key_type = Some(kind),
                Attribute::Modulus(value) => modulus = Some(value),
                Attribute::PublicExponent(value) => exponent = Some(value),
                Attribute::EcParams(value) => params = Some(value),
                Attribute::EcPoint(value) => point = Some(value),
                _ => {}
            }
        }
        let strip = |bytes: &[u8]| -> Vec<u8> {
            bytes
                .iter()
                .copied()
                .skip_while(|byte| *byte == 0)
                .collect()
        };
        match (key_type, modulus, exponent, params, point) {
            (Some(KeyType::RSA), Some(modulus), Some(exponent), _, _) => {
                let modulus = strip(&modulus);
                let bits = u32::try_from(modulus.len() * 8).unwrap_or(0);
                let spec = RsaBits::from_bits(bits)
                    .map(KeySpec::Rsa)
                    .ok_or_else(|| HsmError::Unsupported(format!("an RSA key of {bits} bits")))?;
                Ok((spec, rsa_dnskey(&strip(&exponent), &modulus)))
            }
            (Some(KeyType::EC), _, _, Some(params), Some(point)) if params == P256_PARAMS => {
                // CKA_EC_POINT is a DER OCTET STRING around 04 ‖ x ‖ y;
                // some tokens give the bare point.
                let xy = octet_string(&point)
                    .filter(|inner| inner.len() == 65)
                    .or_else(|| (point.len() == 65).then_some(point.as_slice()))
                    .and_then(|inner| inner.strip_prefix(&[0x04]))
                    .filter(|xy| xy.len() == 64)
                    .ok_or_else(|| HsmError::Pkcs11("a P-256 point of the wrong form".into()))?;
                Ok((
                    KeySpec::EcdsaP256,
                    Dnskey::new(Flags::KSK, 3, Algorithm::ECDSAP256SHA256, xy.to_vec()),
                ))
            }
            (Some(KeyType::EC_EDWARDS), _, _, _, Some(point)) => {
                // A DER OCTET STRING (PKCS#11 3.0 §2.3.6), or the bare 32
                // octets, as `softhsm2-util --import` writes them.
                let raw = octet_string(&point)
                    .filter(|raw| raw.len() == 32)
                    .or_else(|| (point.len() == 32).then_some(point.as_slice()))
                    .ok_or_else(|| HsmError::Pkcs11("an Ed25519 point of the wrong form".into()))?;
                Ok((
                    KeySpec::Ed25519,
                    Dnskey::new(Flags::KSK, 3, Algorithm::ED25519, raw.to_vec()),
                ))
            }
            (kind, ..) => Err(HsmError::Unsupported(format!(
                "a key of type {kind:?} is not a KSK this HSM uses"
            ))),
        }
    }

    fn save(&self) -> Result<(), HsmError> {
        write_sidecar(&self.dir, &self.sidecar)
    }

    /// The module, its SHA-256 as pinned at `init`, and the token's label.
    pub fn binding(&self) -> (&Path, &str, &str) {
        (
            &self.sidecar.module,
            &self.sidecar.module_sha256,
            &self.sidecar.token,
        )
    }

    /// Ends a logged-in session: the user PIN moves on to the next one
    /// (so a PIN seen while it was active opens nothing later), the serial
    /// is recorded, and the session is logged out and closed. A PIN that
    /// could not be changed stays; a serial that could not be written is
    /// found at the next activation, which tries the next PIN too.
    fn retire(&self, active: ActiveSession) {
        let changed = active.session.set_pin(
            &AuthPin::from(active.pin.as_str()),
            &AuthPin::from(active.next_pin.as_str()),
        );
        if changed.is_ok() {
            let path = self.dir.join(PKCS11_PIN_SERIAL_FILE);
            if let Ok(serial) = read_failures(&path) {
                let _ = write_failures(&path, serial.saturating_add(1));
            }
        }
        close(active.session);
    }
}

impl Hsm for Pkcs11Hsm {
    fn activate(&mut self, secret: &ActivationSecret) -> Result<(), HsmError> {
        self.deactivate();
        selftest::run(None).map_err(HsmError::SelfTest)?;
        let failures_path = self.dir.join(PKCS11_FAILURES_FILE);
        let failures = read_failures(&failures_path)?;
        if failures >= MAX_FAILED_ACTIVATIONS {
            return Err(HsmError::Locked(failures));
        }
        write_failures(&failures_path, failures + 1)?;
        if secret.public_point() != self.sidecar.roster.commitments().secret_point() {
            return Err(HsmError::WrongSecret);
        }
        let session = self.context()?.open_rw_session(self.slot).map_err(pkcs11)?;
        let serial_path = self.dir.join(PKCS11_PIN_SERIAL_FILE);
        let mut serial = read_failures(&serial_path)?;
        // The PIN of this serial, or of the next if a run ended between
        // changing the PIN and recording its serial.
        let mut outcome = Err(Error::Pkcs11(
            RvError::PinIncorrect,
            cryptoki::context::Function::Login,
        ));
        for attempt in [serial, serial.saturating_add(1)] {
            let pin = derived_pin(secret, attempt);
            outcome = session.login(UserType::User, Some(&AuthPin::from(pin.as_str())));
            if !matches!(outcome, Err(Error::Pkcs11(RvError::PinIncorrect, _))) {
                serial = attempt;
                break;
            }
        }
        if let Err(err) = outcome {
            let _ = session.close();
            return Err(match err {
                // The secret is the roster's (checked above), so the token
                // was given another PIN by someone other than the quorum.
                Error::Pkcs11(RvError::PinIncorrect, _) => HsmError::PinChanged,
                Error::Pkcs11(RvError::PinLocked, _) => HsmError::Locked(failures + 1),
                other => pkcs11(other),
            });
        }
        write_failures(&serial_path, serial)?;
        write_failures(&failures_path, 0)?;
        *self.lock() = Some(ActiveSession {
            session,
            last_used: (self.clock)(),
            pin: derived_pin(secret, serial),
            next_pin: derived_pin(secret, serial.saturating_add(1)),
        });
        Ok(())
    }

    fn deactivate(&mut self) {
        let taken = self.lock().take();
        if let Some(active) = taken {
            self.retire(active);
        }
    }

    fn is_active(&self) -> bool {
        // Asking does not count as use: the idle clock keeps running.
        let now = (self.clock)();
        let mut guard = self.lock();
        let idle = guard
            .as_ref()
            .map(|active| now.saturating_duration_since(active.last_used) > self.idle_timeout);
        if idle == Some(true)
            && let Some(active) = guard.take()
        {
            self.retire(active);
        }
        idle == Some(false)
    }

    fn generate(&mut self, label: &str, spec: KeySpec, created: u64) -> Result<KeyInfo, HsmError> {
        check_label(label).map_err(HsmError::Invalid)?;
        let dnskey = self.with_session(|session| {
            let taken = session
                .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
                .map_err(pkcs11)?;
            if !taken.is_empty() {
                return Err(HsmError::DuplicateLabel(label.to_owned()));
            }
            let id = Sha256::digest(label.as_bytes()).to_vec();
            let common = |private: bool| {
                vec![
                    Attribute::Token(true),
                    Attribute::Private(private),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(id.clone()),
                ]
            };
            let mut public = common(false);
            public.push(Attribute::Verify(true));
            let mut private = common(true);
            // A KSK signs and does nothing else: no decryption, unwrapping
            // or derivation that could turn it into an oracle.
            private.extend([
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Decrypt(false),
                Attribute::Unwrap(false),
                Attribute::Derive(false),
            ]);
            let mechanism = match spec {
                KeySpec::Rsa(bits) => {
                    public.push(Attribute::ModulusBits(u64::from(bits.bits()).into()));
                    public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                    Mechanism::RsaPkcsKeyPairGen
                }
                KeySpec::EcdsaP256 => {
                    public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
                    Mechanism::EccKeyPairGen
                }
                KeySpec::Ed25519 => {
                    public.push(Attribute::EcParams(ED25519_PARAMS.to_vec()));
                    Mechanism::EccEdwardsKeyPairGen
                }
            };
            let (public_handle, _) = session
                .generate_key_pair(&mechanism, &public, &private)
                .map_err(|err| match err {
                    Error::Pkcs11(RvError::MechanismInvalid, _) => {
                        HsmError::Unsupported(format!("this token cannot make {spec} keys"))
                    }
                    other => pkcs11(other),
                })?;
            Ok(Self::read_public(session, public_handle)?.1)
        })?;
        self.sidecar
            .keys
            .insert(label.to_owned(), KeyRecord { spec, created });
        self.save()?;
        Ok(KeyInfo {
            label: label.to_owned(),
            spec,
            dnskey,
            created,
        })
    }

    fn import(
        &mut self,
        _label: &str,
        _key: ImportedKey,
        _created: u64,
    ) -> Result<KeyInfo, HsmError> {
        Err(HsmError::Unsupported(
            "a token does not import key files here: import the key into the token with its own tools (softhsm2-util --import, pkcs11-tool --write-object) and adopt it: ceremony keygen --adopt LABEL"
                .into(),
        ))
    }

    fn provenance(&self, label: &str) -> Result<Provenance, HsmError> {
        self.with_session(|session| {
            let private = Self::object(session, label, ObjectClass::PRIVATE_KEY)?;
            adopt::read_provenance(session, private)
        })
    }

    fn adopt(&mut self, label: &str, created: u64) -> Result<KeyInfo, HsmError> {
        check_label(label).map_err(HsmError::Invalid)?;
        if self.sidecar.keys.contains_key(label) {
            return Err(HsmError::AlreadyAdopted(label.to_owned()));
        }
        let found = self.with_session(|session| {
            let found = adopt::examine(session, label)?;
            // A KSK signs and does nothing else: the uses a token gave the
            // key beyond signing are switched off where the token lets
            // them be (SoftHSM2 gives imported RSA keys decrypt and
            // unwrap, and pkcs11-tool's EC keys too).
            let private = Self::object(session, label, ObjectClass::PRIVATE_KEY)?;
            for narrowed in [
                Attribute::Decrypt(false),
                Attribute::Unwrap(false),
                Attribute::Derive(false),
            ] {
                let _ = session.update_attributes(private, &[narrowed]);
            }
            // One key, one label: the same key under another of the
            // ceremony's labels is refused.
            for other in self.sidecar.keys.keys() {
                let same = Self::object(session, other, ObjectClass::PUBLIC_KEY)
                    .and_then(|handle| Self::read_public(session, handle))
                    .is_ok_and(|(_, dnskey)| dnskey.public_key() == found.dnskey.public_key());
                if same {
                    return Err(HsmError::SameKey(other.clone()));
                }
            }
            Ok(found)
        })?;
        self.sidecar.keys.insert(
            label.to_owned(),
            KeyRecord {
                spec: found.spec,
                created,
            },
        );
        if let Err(err) = self.save() {
            self.sidecar.keys.remove(label);
            return Err(err);
        }
        Ok(KeyInfo {
            label: label.to_owned(),
            spec: found.spec,
            dnskey: found.dnskey,
            created,
        })
    }

    fn public_key(&self, label: &str) -> Result<Dnskey, HsmError> {
        self.with_public_session(|session| {
            let handle = Self::object(session, label, ObjectClass::PUBLIC_KEY)?;
            Ok(Self::read_public(session, handle)?.1)
        })
    }

    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        self.with_session(|session| {
            let private = Self::object(session, label, ObjectClass::PRIVATE_KEY)?;
            let spec = match self.sidecar.keys.get(label) {
                Some(record) => record.spec,
                None => {
                    let public = Self::object(session, label, ObjectClass::PUBLIC_KEY)?;
                    Self::read_public(session, public)?.0
                }
            };
            let signature = sign_with(session, private, spec, data)?;
            // The token is not trusted blindly: every signature is checked
            // on the host, with the token's own public key, before it
            // leaves the HSM.
            let public = Self::object(session, label, ObjectClass::PUBLIC_KEY)?;
            let (_, dnskey) = Self::read_public(session, public)?;
            ksr::verify(&dnskey, data, &signature).map_err(|err| {
                HsmError::Crypto(format!(
                    "the token's {spec} signature does not verify: {err}"
                ))
            })?;
            Ok(signature)
        })
    }

    fn inventory(&self) -> Result<Vec<KeyInfo>, HsmError> {
        self.with_public_session(|session| {
            let handles = session
                .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)])
                .map_err(pkcs11)?;
            let mut keys = Vec::new();
            for handle in handles {
                let label = session
                    .get_attributes(handle, &[AttributeType::Label])
                    .map_err(pkcs11)?
                    .into_iter()
                    .find_map(|attribute| match attribute {
                        Attribute::Label(label) => String::from_utf8(label).ok(),
                        _ => None,
                    })
                    .unwrap_or_default();
                let (spec, dnskey) = Self::read_public(session, handle)?;
                let created = self
                    .sidecar
                    .keys
                    .get(&label)
                    .map_or(0, |record| record.created);
                keys.push(KeyInfo {
                    label,
                    spec,
                    dnskey,
                    created,
                });
            }
            keys.sort_by(|a, b| a.label.cmp(&b.label));
            Ok(keys)
        })
    }

    fn delete(&mut self, label: &str) -> Result<(), HsmError> {
        self.with_session(|session| {
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                let handle = Self::object(session, label, class)?;
                session.destroy_object(handle).map_err(pkcs11)?;
            }
            Ok(())
        })?;
        self.sidecar.keys.remove(label);
        self.save()
    }

    fn bind_state(&mut self, mac: &[u8]) -> Result<(), HsmError> {
        self.with_session(|session| {
            let label = Attribute::Label(STATE_OBJECT.as_bytes().to_vec());
            for old in session
                .find_objects(&[Attribute::Class(ObjectClass::DATA), label.clone()])
                .map_err(pkcs11)?
            {
                session.destroy_object(old).map_err(pkcs11)?;
            }
            session
                .create_object(&[
                    Attribute::Class(ObjectClass::DATA),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Modifiable(true),
                    label,
                    Attribute::Value(mac.to_vec()),
                ])
                .map(drop)
                .map_err(pkcs11)
        })
    }

    fn bound_state(&self) -> Result<Option<Vec<u8>>, HsmError> {
        self.with_session(|session| {
            let found = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::DATA),
                    Attribute::Label(STATE_OBJECT.as_bytes().to_vec()),
                ])
                .map_err(pkcs11)?;
            let Some(handle) = found.first() else {
                return Ok(Some(Vec::new()));
            };
            let value = session
                .get_attributes(*handle, &[AttributeType::Value])
                .map_err(pkcs11)?
                .into_iter()
                .find_map(|attribute| match attribute {
                    Attribute::Value(value) => Some(value),
                    _ => None,
                })
                .unwrap_or_default();
            Ok(Some(value))
        })
    }

    fn label_of_id(&self, id: &[u8]) -> Result<String, HsmError> {
        self.lookup_id(id)
    }

    fn complete_takeover(&mut self) -> Result<(), HsmError> {
        let Some((operator, derived)) = self.takeover.take() else {
            return Ok(());
        };
        let session = self.context()?.open_rw_session(self.slot).map_err(pkcs11)?;
        let changed = session
            .login(UserType::So, Some(&AuthPin::from(operator.as_str())))
            .and_then(|()| {
                session.set_pin(
                    &AuthPin::from(operator.as_str()),
                    &AuthPin::from(derived.as_str()),
                )
            })
            .map_err(pkcs11);
        let _ = session.logout();
        close(session);
        if changed.is_err() {
            // Kept, so that a retry can still complete it.
            self.takeover = Some((operator, derived));
        }
        changed
    }

    fn binding(&self) -> String {
        format!(
            "pkcs11 module {} sha256 {} token {} serial {}",
            self.sidecar.module.display(),
            self.sidecar.module_sha256,
            self.sidecar.token,
            self.serial
        )
    }

    fn roster(&self) -> Result<Roster, HsmError> {
        Ok(self.sidecar.roster.clone())
    }

    fn commit_generation(
        &mut self,
        old: &ActivationSecret,
        new: &ActivationSecret,
        roster: Roster,
    ) -> Result<(), HsmError> {
        crate::hsm::check_generation(&self.sidecar.roster, new, &roster)?;
        let serial = read_failures(&self.dir.join(PKCS11_PIN_SERIAL_FILE))?;
        let (old_pin, new_pin) = (derived_pin(old, serial), derived_pin(new, serial));
        if old_pin == new_pin {
            return Err(HsmError::Invalid(
                "a new card set needs a new secret: retired cards must open nothing".into(),
            ));
        }
        let (old_so, new_so) = (derived_so_pin(old), derived_so_pin(new));
        // C_SetPIN in the logged-in session: from now on only the new
        // secret's PIN logs in. Then the same for the SO PIN, in a session
        // of the security officer's, and the user logs in again.
        self.with_session(|session| {
            set_pin(session, &old_pin, &new_pin)?;
            let so_changed = session
                .logout()
                .and_then(|()| session.login(UserType::So, Some(&AuthPin::from(old_so.as_str()))))
                .and_then(|()| {
                    let changed = set_pin(session, &old_so, &new_so).map_err(|_| {
                        Error::Pkcs11(RvError::PinIncorrect, cryptoki::context::Function::SetPIN)
                    });
                    let _ = session.logout();
                    changed
                });
            let relogin = session.login(UserType::User, Some(&AuthPin::from(new_pin.as_str())));
            so_changed.map_err(|err| {
                let _ = set_pin(session, &new_pin, &old_pin);
                HsmError::Pkcs11(format!(
                    "the SO PIN could not be changed ({err}); the old card set stays in charge"
                ))
            })?;
            relogin.map_err(pkcs11)
        })?;
        let previous = std::mem::replace(&mut self.sidecar.roster, roster);
        if let Err(err) = self.save() {
            // The token must not be left wanting PINs no roster on record
            // can produce: the old ones go back.
            self.sidecar.roster = previous;
            self.with_session(|session| {
                set_pin(session, &new_pin, &old_pin)?;
                session.logout().map_err(pkcs11)?;
                session
                    .login(UserType::So, Some(&AuthPin::from(new_so.as_str())))
                    .map_err(pkcs11)?;
                let restored = set_pin(session, &new_so, &old_so);
                let _ = session.logout();
                session
                    .login(UserType::User, Some(&AuthPin::from(old_pin.as_str())))
                    .map_err(pkcs11)?;
                restored
            })?;
            return Err(err);
        }
        if let Some(active) = self.lock().as_mut() {
            active.pin = new_pin;
            active.next_pin = derived_pin(new, serial.saturating_add(1));
        }
        Ok(())
    }
}

/// How a private key on the token is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// CKA_EXTRACTABLE.
    pub extractable: bool,
    /// CKA_SENSITIVE.
    pub sensitive: bool,
    /// Any of CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE.
    pub other_uses: bool,
    /// Whether reading the secret value gave anything.
    pub secret_readable: bool,
}

impl Drop for Pkcs11Hsm {
    /// Logs out, closes the session and finalizes the module (cryptoki
    /// does not finalize on drop).
    fn drop(&mut self) {
        self.deactivate();
        if let Some(context) = self.context.take() {
            let _ = context.finalize();
        }
    }
}

crate::hsm::bundle_signer!(Pkcs11Hsm);

impl Pkcs11Hsm {
    /// CKA_EXTRACTABLE and CKA_SENSITIVE of a label's private key, and
    /// whether reading its secret value returned anything: for audits and
    /// tests.
    ///
    /// # Errors
    ///
    /// Sealed, or no such key.
    pub fn private_key_protection(&self, label: &str) -> Result<Protection, HsmError> {
        self.with_session(|session| {
            let handle = Self::object(session, label, ObjectClass::PRIVATE_KEY)?;
            let attributes = session
                .get_attributes(
                    handle,
                    &[
                        AttributeType::Extractable,
                        AttributeType::Sensitive,
                        AttributeType::Decrypt,
                        AttributeType::Unwrap,
                        AttributeType::Derive,
                        AttributeType::PrivateExponent,
                        AttributeType::Value,
                    ],
                )
                .map_err(pkcs11)?;
            // What is not reported counts against the key.
            let mut protection = Protection {
                extractable: true,
                sensitive: false,
                other_uses: false,
                secret_readable: false,
            };
            for attribute in attributes {
                match attribute {
                    Attribute::Extractable(value) => protection.extractable = value,
                    Attribute::Sensitive(value) => protection.sensitive = value,
                    Attribute::Decrypt(value)
                    | Attribute::Unwrap(value)
                    | Attribute::Derive(value) => {
                        protection.other_uses |= value;
                    }
                    Attribute::PrivateExponent(_) | Attribute::Value(_) => {
                        protection.secret_readable = true;
                    }
                    _ => {}
                }
            }
            Ok(protection)
        })
    }
}

/// The user PIN of a serial: the hex of a key derived from the secret.
fn derived_pin(secret: &ActivationSecret, serial: u32) -> Zeroizing<String> {
    let key = if serial == 0 {
        secret.derive_key(PIN_PURPOSE)
    } else {
        secret.derive_key(&format!("{PIN_PURPOSE} {serial}"))
    };
    Zeroizing::new(hex::encode(key.as_ref()))
}

/// The SO PIN: the hex of another key derived from the secret.
fn derived_so_pin(secret: &ActivationSecret) -> Zeroizing<String> {
    Zeroizing::new(hex::encode(secret.derive_key(SO_PIN_PURPOSE).as_ref()))
}

/// Signs with a private key object in the DNSSEC encoding of its kind:
/// RSASSA-PKCS1-v1_5 with SHA-256, r ‖ s, pure Ed25519.
fn sign_with(
    session: &Session,
    private: ObjectHandle,
    spec: KeySpec,
    data: &[u8],
) -> Result<Vec<u8>, HsmError> {
    match spec {
        KeySpec::Rsa(_) => session.sign(&Mechanism::Sha256RsaPkcs, private, data),
        // SoftHSM has no CKM_ECDSA_SHA256: the host hashes, the token
        // signs the digest (raw r ‖ s, as DNSSEC wants).
        KeySpec::EcdsaP256 => session.sign(&Mechanism::Ecdsa, private, &Sha256::digest(data)),
        KeySpec::Ed25519 => session.sign(
            &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
            private,
            data,
        ),
    }
    .map_err(pkcs11)
}

/// C_SetPIN in a logged-in session.
fn set_pin(session: &Session, old: &str, new: &str) -> Result<(), HsmError> {
    session
        .set_pin(&AuthPin::from(old), &AuthPin::from(new))
        .map_err(pkcs11)
}

/// The contents of a DER OCTET STRING (short or one-byte long length).
fn octet_string(bytes: &[u8]) -> Option<&[u8]> {
    match bytes {
        [0x04, length, rest @ ..] if *length < 0x80 => rest
            .get(..usize::from(*length))
            .filter(|inner| inner.len() == rest.len()),
        [0x04, 0x81, length, rest @ ..] => rest
            .get(..usize::from(*length))
            .filter(|inner| inner.len() == rest.len()),
        _ => None,
    }
}

/// Logs out and closes a session, ignoring what a dying session says.
fn close(session: Session) {
    let _ = session.logout();
    let _ = session.close();
}

fn pkcs11(err: Error) -> HsmError {
    match err {
        Error::Pkcs11(rv, function) => HsmError::Pkcs11(format!("{function:?}: {rv:?}")),
        other => HsmError::Pkcs11(format!("{other:?}")),
    }
}

//! The sealed store of the KSKs: the `Hsm` trait, the embedded soft HSM,
//! the PKCS#11 backend, the power-on self-tests and the audit log.
//!
//! * [`Hsm`]: activate with the quorum's secret, deactivate, generate a key
//!   (RSASHA256 of 2048, 3072 or 4096 bits; ECDSAP256SHA256; ED25519)
//!   under a label, public key, sign, inventory, delete. Every backend also
//!   implements `ksr::BundleSigner`.
//! * [`SoftHsm`]: a directory key store. Private keys are sealed under a
//!   key derived from the quorum's secret; the store's integrity is checked
//!   on activation; keys live only in wiped memory and only while active.
//! * [`Pkcs11Hsm`]: a PKCS#11 token (SoftHSM2 in tests) whose user PIN is
//!   derived from the quorum's secret.
//! * Keys the ceremony did not make: [`read_key_file`] reads a PEM
//!   (PKCS#8, PKCS#1, SEC1, Knot DNS's keystore) or BIND key file into an
//!   [`ImportedKey`] that the soft HSM imports ([`Hsm::import`]); a key
//!   already on a token is adopted ([`Hsm::adopt`]) after its
//!   [`Provenance`] (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, …) is shown.
//! * Power-on self-tests (known answers for RSASHA256, ECDSAP256SHA256,
//!   ED25519, XChaCha20-Poly1305 and HKDF-SHA-256) run before a key is
//!   used; a failure keeps the HSM sealed.
//! * [`AuditLog`]: an append-only, hash-chained file of JSON lines.
//!
//! This crate reads no clock: time comes in as a [`Clock`] or as values.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod audit;
mod error;
mod hsm;
mod import;
mod pkcs11;
mod provenance;
mod selftest;
mod soft;
mod spec;

pub use audit::{
    Actor, AuditError, AuditLog, Entry, MAX_LOG, Verified, parse_chain as parse_audit_log,
    read as read_audit_log, verify as verify_audit_log,
};
pub use error::{BindProblem, HsmError, KeyFileError};
pub use hsm::{Clock, DEFAULT_IDLE_TIMEOUT, Hsm, MAX_FAILED_ACTIVATIONS, Signer};
pub use import::{ImportedKey, KeyFileFormat, MAX_KEY_FILE, read_key_file};
pub use pkcs11::{
    PKCS11_FAILURES_FILE, PKCS11_FILE, Pkcs11Hsm, Protection, Takeover, parse_sidecar,
};
pub use provenance::{Provenance, ProvenanceFailure, TokenKey};
pub use soft::{FAILURES_FILE, STORE_FILE, SoftHsm, SoftKey, parse_store as parse_soft_store};
pub use spec::{KeyInfo, KeySpec, RsaBits, check_label};

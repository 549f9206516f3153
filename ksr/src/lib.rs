//! DNSSEC records and the KSR/SKR documents of a KSK ceremony.
//!
//! This crate is the part of `ceremony` that reads, checks and writes Key
//! Signing Requests (KSRs) and Signed Key Responses (SKRs). It is pure: it
//! holds no keys, opens no files and reads no clock. Bytes come in, a
//! document model and findings come out.
//!
//! # What it does
//!
//! * DNSSEC records: DNSKEY RDATA and key tags (RFC 4034), DS digests
//!   (RFC 4509), the RRSIG signing input for any owner name, and signature
//!   verification for RSASHA256 and RSASHA512 (RFC 5702), ECDSAP256SHA256
//!   (RFC 6605) and pure Ed25519 (RFC 8080).
//! * The IANA XML format: a bounded reader ([`parse_ksr`], [`parse_skr`])
//!   that reports every structure error with its position and check code,
//!   and a deterministic writer ([`write_skr`], [`write_ksr`]) in kskm's byte
//!   layout.
//! * The document checks that need no policy ([`check_ksr`],
//!   [`check_skr`], [`check_skr_anchor`]), each result a [`Finding`].
//!
//! * The policy checks of a KSR, its chain to the previous SKR
//!   ([`validate_request`], [`CheckedKsr`]), the plan of the SKR that
//!   answers it with every check that needs no private key
//!   ([`plan_skr`], reading public keys through a [`KeySource`]), and the
//!   signed SKR ([`SkrPlan::sign`] through a [`BundleSigner`]), checked
//!   against the KSR, the schema and the previous SKR before it is
//!   returned ([`check_response`]).
//! * The Knot DNS / BIND text format ([`text`]), with the same steps.
//! * One type for both formats: [`Documents`] (a KSR and its SKR(n-1)) →
//!   [`Checked`] → [`Plan`] → [`SignedSkr`].
//!
//! # What it does not do
//!
//! Hold keys: the HSM implements [`KeySource`] and [`BundleSigner`].
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Vec<ksr::Finding>> {
//! let xml = std::fs::read("../../shared/vectors/ksr-root-2017-q2-0.xml")
//!     .or_else(|_| std::fs::read("../shared/vectors/ksr-root-2017-q2-0.xml"))
//!     .expect("the shared vectors sit beside the repository");
//! let ksr = ksr::parse_ksr(&xml, ksr::DocumentRole::Ksr)?;
//! assert_eq!(ksr.bundles.len(), 9);
//! assert!(ksr::check_ksr(&ksr, ksr::DocumentRole::Ksr).is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Main types: [`Ksr`], [`Skr`], [`Dnskey`], [`Finding`].

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod checks;
mod dnssec;
mod documents;
mod findings;
mod model;
mod octets;
mod pgp_words;
mod policy;
mod response;
pub mod text;
mod xml;
mod zonefile;

pub use checks::{
    CheckedKsr, CheckedText, Request, SignedText, TextPlan, TextRequest, build_text_skr, check_ksr,
    check_response, check_skr, check_skr_anchor, check_text_answer, check_text_skr, plan_text_skr,
    validate_request, validate_text_request,
};
pub use dnssec::algorithm::{Algorithm, AlgorithmFamily};
pub use dnssec::dnskey::{Dnskey, Flags, PublicKey, PublicKeyError};
pub use dnssec::ds::{DigestType, Ds};
pub use dnssec::keytag::KeyTag;
pub use dnssec::name::{DomainName, NameError};
pub use dnssec::rrsig::Rrsig;
pub use dnssec::time::{Duration, DurationError, TimeError, Timestamp};
pub use dnssec::verify::{VerifyError, verify};
pub use documents::{
    Checked, Documents, Format, FormatMismatch, KsrDocument, Plan, SignedSkr, SkrDocument,
    detect_format,
};
pub use findings::{
    BundleRef, CheckCode, DocumentRole, Finding, KeyRef, Position, Severity, sort_findings,
};
pub use model::{
    AlgorithmParameters, Bundle, Key, Ksr, Policy, Signature, SignatureAlgorithm, Skr,
};
pub use octets::{from_document_base64, to_base64};
pub use pgp_words::pgp_words;
pub use policy::{
    Config, ConfigError, KskConfig, KskPolicy, RequestPolicy, ResponsePolicy, TextCds, TextPolicy,
};
pub use response::{
    Action, BuildError, BundleSigner, KeySource, KskRole, Schema, SchemaProfile, Signed,
    SignerError, SignerErrorKind, SkrPlan, build_skr, builtin as builtin_schemas, plan_skr,
    resolve as resolve_schema,
};
pub use xml::{
    MAX_DOCUMENT_SIZE, escape as xml_escape, parse_ksr, parse_skr, write_ksr, write_skr,
};
pub use zonefile::{DnskeyRecord, ZoneFileError, read_dnskeys};

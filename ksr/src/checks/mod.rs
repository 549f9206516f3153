//! The checks of `ksr-checks.md` that look at one document by itself:
//! its bundles, keys and signatures.
//!
//! Each function runs every check of its group and returns all findings;
//! none stops early.

mod ksr;
mod skr;

pub use ksr::check_ksr;
pub use skr::{check_skr, check_skr_anchor};

use crate::dnssec::dnskey::Dnskey;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::verify::VerifyError;
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::Bundle;

/// Checks what every bundle of every document must satisfy: identifiers
/// unique, each signature naming a key of the bundle, no duplicate RDATA.
/// `code` is `KSR-BUNDLE-POP.1` for a KSR and `SKR-PREV-SIGS` for an SKR.
fn bundle_shape(
    code: CheckCode,
    role: DocumentRole,
    number: usize,
    bundle: &Bundle,
    findings: &mut Vec<Finding>,
) {
    let mut finding = |message: String| {
        findings.push(Finding::error(code, role, message).in_bundle(number, &bundle.id));
    };
    for (index, key) in bundle.keys.iter().enumerate() {
        let earlier = bundle.keys.iter().take(index);
        if earlier
            .clone()
            .any(|other| other.identifier == key.identifier)
        {
            finding(format!(
                "keyIdentifier {:?} is used by more than one Key",
                key.identifier
            ));
        }
        if earlier
            .clone()
            .any(|other| other.dnskey.rdata() == key.dnskey.rdata())
        {
            finding(format!(
                "Key {:?} repeats the RDATA of another Key (RFC 2181 §5 forbids duplicates in an RRset)",
                key.identifier
            ));
        }
    }
    for signature in &bundle.signatures {
        if bundle.key(&signature.key_identifier).is_none() {
            finding(format!(
                "Signature names keyIdentifier {:?}, which is no Key of this bundle",
                signature.key_identifier
            ));
        }
    }
    if bundle.keys.is_empty() || bundle.signatures.is_empty() {
        finding("a bundle needs at least one Key and one Signature".into());
    }
}

/// Returns the message for a signature that did not verify; the finding
/// names the key.
fn verify_message(err: &VerifyError) -> String {
    format!("its signature over the bundle's DNSKEY RRset is rejected: {err}")
}

/// Returns how an RRSIG departs from its key and zone, a rule shared by
/// KSRs and SKRs: the Algorithm is the key's, Labels is the zone's label
/// count and SignersName is the zone.
fn origin_errors(rrsig: &Rrsig, key: &Dnskey, zone: &DomainName) -> Vec<String> {
    let mut errors = Vec::new();
    if rrsig.algorithm != key.algorithm() {
        errors.push(format!(
            "Algorithm {} differs from the signing key's algorithm {}",
            rrsig.algorithm,
            key.algorithm()
        ));
    }
    if rrsig.labels != zone.rrsig_labels() {
        errors.push(format!(
            "Labels {} differs from the label count {} of {zone}",
            rrsig.labels,
            zone.rrsig_labels()
        ));
    }
    if !rrsig.signer_name.same_name(zone) {
        errors.push(format!(
            "SignersName {} is not the zone {zone}",
            rrsig.signer_name
        ));
    }
    errors
}

//! Checks of an SKR by itself: every signature verifies against a key of
//! its bundle (`SKR-PREV-SIGS`), key tags, the RRSIG fields of
//! `ksr-skr-format.md` §1.7, and optionally an anchor in trusted KSKs.

use super::ksr::key_tags;
use super::parallel::parallel_map;
use super::{bundle_shape, origin_errors, verify_message};
use crate::dnssec::dnskey::Dnskey;
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{Bundle, Skr};

/// Runs `SKR-PREV-SIGS`, `KSR-BUNDLE-KEYS.3` and the signature-field rules
/// of an SKR (`SKR-CONSISTENCY.4`) on every bundle.
///
/// This is how an SKR is checked before it serves as SKR(n-1): the
/// signatures are self-consistent, not yet anchored; see
/// [`check_skr_anchor`].
pub fn check_skr(skr: &Skr, role: DocumentRole) -> Vec<Finding> {
    // Bundles are independent; their signatures are verified on every core.
    let numbered: Vec<(usize, &Bundle)> = skr.bundles.iter().enumerate().collect();
    parallel_map(&numbered, |(index, bundle)| {
        let number = index + 1;
        let mut findings = Vec::new();
        bundle_shape(
            CheckCode::SkrSignatures,
            role,
            number,
            bundle,
            &mut findings,
        );
        key_tags(role, number, bundle, &mut findings);
        for signature in &bundle.signatures {
            let Some(key) = bundle.key(&signature.key_identifier) else {
                continue; // reported by the shape check
            };
            let at = |finding: Finding| {
                finding
                    .in_bundle(number, &bundle.id)
                    .about_key(&key.identifier, key.dnskey.key_tag())
            };
            if let Err(err) = bundle.verify_signature(&skr.domain, signature, &key.dnskey) {
                findings.push(at(Finding::error(
                    CheckCode::SkrSignatures,
                    role,
                    verify_message(&err),
                )));
            }
            for message in field_errors(skr, bundle, signature, key) {
                findings.push(at(Finding::error(
                    CheckCode::SkrSignatureFields,
                    role,
                    message,
                )));
            }
        }
        findings
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Returns how a response signature departs from §1.7: times equal to the
/// bundle's, TTL = OriginalTTL = the keys' TTL, Labels and SignersName
/// from the zone, KeyTag and Algorithm of the signing key.
fn field_errors(
    skr: &Skr,
    bundle: &Bundle,
    signature: &crate::model::Signature,
    key: &crate::model::Key,
) -> Vec<String> {
    let rrsig = &signature.rrsig;
    let mut errors = Vec::new();
    if rrsig.inception != bundle.inception || rrsig.expiration != bundle.expiration {
        errors.push(format!(
            "signature validity {} … {} differs from the bundle's {} … {}",
            rrsig.inception, rrsig.expiration, bundle.inception, bundle.expiration
        ));
    }
    if let Some(other) = bundle
        .keys
        .iter()
        .find(|other| other.ttl != rrsig.original_ttl)
    {
        errors.push(format!(
            "OriginalTTL {} differs from the TTL {} of key {:?}",
            rrsig.original_ttl, other.ttl, other.identifier
        ));
    }
    if signature.ttl != rrsig.original_ttl {
        errors.push(format!(
            "TTL {} differs from OriginalTTL {}",
            signature.ttl, rrsig.original_ttl
        ));
    }
    errors.extend(origin_errors(rrsig, &key.dnskey, &skr.domain));
    if rrsig.key_tag != key.dnskey.key_tag() {
        errors.push(format!(
            "KeyTag {} is not the tag {} of the signing key in this bundle",
            rrsig.key_tag,
            key.dnskey.key_tag()
        ));
    }
    errors
}

/// `SKR-ANCHOR`: every bundle carries at least one valid signature made by
/// one of the trusted keys (matched by algorithm and public key, so a KSK
/// still counts in a bundle where it is revoked).
pub fn check_skr_anchor(skr: &Skr, trusted: &[Dnskey], role: DocumentRole) -> Vec<Finding> {
    let is_trusted = |key: &Dnskey| {
        trusted.iter().any(|anchor| {
            anchor.algorithm() == key.algorithm() && anchor.public_key() == key.public_key()
        })
    };
    let tags: Vec<String> = trusted
        .iter()
        .map(|key| key.key_tag().to_string())
        .collect();
    let mut findings = Vec::new();
    for (index, bundle) in skr.bundles.iter().enumerate() {
        let anchored = bundle.signatures.iter().any(|signature| {
            bundle.key(&signature.key_identifier).is_some_and(|key| {
                is_trusted(&key.dnskey)
                    && bundle
                        .verify_signature(&skr.domain, signature, &key.dnskey)
                        .is_ok()
            })
        });
        if !anchored {
            findings.push(
                Finding::error(
                    CheckCode::SkrAnchor,
                    role,
                    format!(
                        "no valid signature in this bundle is made by a trusted KSK (tags {})",
                        tags.join(", ")
                    ),
                )
                .in_bundle(index + 1, &bundle.id),
            );
        }
    }
    findings
}

//! Stage 2 checks of a KSR that need no policy: proof of possession, key
//! tags and the RRSIG fields (`ksr-checks.md` §2).

use super::parallel::parallel_map;
use super::{bundle_shape, origin_errors, verify_message};
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{Bundle, Ksr};

/// Runs the proof-of-possession, key-tag and signature-field checks on
/// every bundle of a KSR: `KSR-BUNDLE-POP.1`–`.3`, `KSR-BUNDLE-KEYS.3`,
/// `KSR-BUNDLE-SIGFIELDS` and `KSR-BUNDLE-SIGNER`.
pub fn check_ksr(ksr: &Ksr, role: DocumentRole) -> Vec<Finding> {
    // Bundles are independent; their signatures are verified on every core.
    let numbered: Vec<(usize, &Bundle)> = ksr.bundles.iter().enumerate().collect();
    parallel_map(&numbered, |(index, bundle)| {
        let number = index + 1;
        let mut findings = Vec::new();
        bundle_shape(
            CheckCode::BundlePopShape,
            role,
            number,
            bundle,
            &mut findings,
        );
        key_tags(role, number, bundle, &mut findings);
        proof_of_possession(ksr, role, number, bundle, &mut findings);
        signature_fields(ksr, role, number, bundle, &mut findings);
        if !bundle.signers.is_empty() {
            findings.push(
                Finding::warning(
                    CheckCode::BundleSigner,
                    role,
                    format!(
                        "the bundle names {} Signer(s) ({}); they are ignored",
                        bundle.signers.len(),
                        bundle.signers.join(", ")
                    ),
                )
                .in_bundle(number, &bundle.id),
            );
        }
        findings
    })
    .into_iter()
    .flatten()
    .collect()
}

/// `KSR-BUNDLE-KEYS.3`: the keyTag attribute equals the tag of the RDATA.
/// The same rule holds for the keys of an SKR.
pub(super) fn key_tags(
    role: DocumentRole,
    number: usize,
    bundle: &Bundle,
    findings: &mut Vec<Finding>,
) {
    for key in &bundle.keys {
        let computed = key.dnskey.key_tag();
        if computed != key.key_tag {
            findings.push(
                Finding::error(
                    CheckCode::BundleKeysTag,
                    role,
                    format!(
                        "keyTag is {} but the RDATA (Flags {}) gives {computed} (RFC 4034 Appendix B)",
                        key.key_tag,
                        key.dnskey.flags()
                    ),
                )
                .in_bundle(number, &bundle.id)
                .about_key(&key.identifier, computed),
            );
        }
    }
}

/// `KSR-BUNDLE-POP.2` and `.3`: every signature verifies over the bundle's
/// DNSKEY RRset with the key it names, and every key has signed.
fn proof_of_possession(
    ksr: &Ksr,
    role: DocumentRole,
    number: usize,
    bundle: &Bundle,
    findings: &mut Vec<Finding>,
) {
    for signature in &bundle.signatures {
        let Some(key) = bundle.key(&signature.key_identifier) else {
            continue; // reported by KSR-BUNDLE-POP.1
        };
        if let Err(err) = bundle.verify_signature(&ksr.domain, signature, &key.dnskey) {
            findings.push(
                Finding::error(CheckCode::BundlePopSignature, role, verify_message(&err))
                    .in_bundle(number, &bundle.id)
                    .about_key(&key.identifier, key.dnskey.key_tag()),
            );
        }
    }
    for key in &bundle.keys {
        if !bundle
            .signatures
            .iter()
            .any(|signature| signature.key_identifier == key.identifier)
        {
            findings.push(
                Finding::error(
                    CheckCode::BundlePopEveryKey,
                    role,
                    "the key made none of the bundle's signatures, so its possession is not proven",
                )
                .in_bundle(number, &bundle.id)
                .about_key(&key.identifier, key.dnskey.key_tag()),
            );
        }
    }
}

/// `KSR-BUNDLE-SIGFIELDS`: each RRSIG agrees with its key and the zone.
fn signature_fields(
    ksr: &Ksr,
    role: DocumentRole,
    number: usize,
    bundle: &Bundle,
    findings: &mut Vec<Finding>,
) {
    for signature in &bundle.signatures {
        let Some(key) = bundle.key(&signature.key_identifier) else {
            continue;
        };
        let rrsig = &signature.rrsig;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        if rrsig.key_tag != key.key_tag {
            errors.push(format!(
                "KeyTag {} differs from the key's keyTag {}",
                rrsig.key_tag, key.key_tag
            ));
        }
        errors.extend(origin_errors(rrsig, &key.dnskey, &ksr.domain));
        if signature.ttl != key.ttl || rrsig.original_ttl != key.ttl {
            warnings.push(format!(
                "TTL {} / OriginalTTL {} differ from the key's TTL {}",
                signature.ttl, rrsig.original_ttl, key.ttl
            ));
        }
        if rrsig.inception >= rrsig.expiration {
            warnings.push(format!(
                "SignatureInception {} is not before SignatureExpiration {}",
                rrsig.inception, rrsig.expiration
            ));
        }
        for (message, warning) in errors
            .into_iter()
            .map(|m| (m, false))
            .chain(warnings.into_iter().map(|m| (m, true)))
        {
            let finding = if warning {
                Finding::warning(CheckCode::BundleSigFields, role, message)
            } else {
                Finding::error(CheckCode::BundleSigFields, role, message)
            };
            findings.push(
                finding
                    .in_bundle(number, &bundle.id)
                    .about_key(&key.identifier, key.dnskey.key_tag()),
            );
        }
    }
}

//! Stage 6 of `ksr-checks.md`: a new SKR against SKR(n-1) (safety) and
//! against its KSR (consistency).

use std::collections::{BTreeMap, BTreeSet};

use super::sink::Sink;
use crate::dnssec::dnskey::Flags;
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{Bundle, Ksr, Skr};
use crate::policy::Config;
use crate::response::{Action, Schema};

/// Checks an SKR against the KSR it answers (`SKR-CONSISTENCY.1`–`.3`)
/// and, when given, against SKR(n-1) (`KSR-POLICY-SAFETY.1`–`.4`, with
/// the configured KSK policy's PublishSafety and RetireSafety). The
/// signature rules of `.4` are [`super::check_skr`]'s.
///
/// With the schema the SKR was made with, each bundle's KSKs and signers
/// are compared with the schema's action (`SKR-CONSISTENCY.3` and `.4`);
/// without it, only that every KSK is a configured one with Flags 257 or
/// 385.
pub fn check_response(
    skr: &Skr,
    ksr: &Ksr,
    previous: Option<&Skr>,
    config: &Config,
    schema: Option<&Schema>,
) -> Vec<Finding> {
    let mut sink = Sink::new(DocumentRole::NewSkr);
    consistency(skr, ksr, config, &mut sink);
    if let Some(schema) = schema {
        for (index, (bundle, action)) in skr.bundles.iter().zip(schema).enumerate() {
            follows_action(index + 1, bundle, action, config, &mut sink);
        }
    }
    if let Some(previous) = previous {
        safety(skr, previous, config, &mut sink);
    }
    sink.findings
}

/// `SKR-CONSISTENCY.3` and `.4` against the schema's action for a bundle:
/// the KSKs are exactly those the action names, revoked exactly when it
/// revokes them, and there is exactly one signature per signing key.
fn follows_action(
    number: usize,
    bundle: &Bundle,
    action: &Action,
    config: &Config,
    sink: &mut Sink,
) {
    let label = |name: &str| {
        config
            .keys
            .get(name)
            .map_or_else(|| name.to_owned(), |key| key.label.clone())
    };
    let revoked: BTreeSet<String> = action.revoke.iter().map(|name| label(name)).collect();
    let named: BTreeSet<String> = action.names().map(label).collect();
    for key in bundle
        .keys
        .iter()
        .filter(|key| key.dnskey.flags() != Flags::ZSK)
    {
        if !named.contains(&key.identifier) {
            sink.key_error(
                CheckCode::SkrConsistencyKsks,
                number,
                bundle,
                key,
                "a KSK that the schema's action for this bundle does not name",
            );
            continue;
        }
        let expected = if revoked.contains(&key.identifier) {
            Flags::REVOKED_KSK
        } else {
            Flags::KSK
        };
        if key.dnskey.flags() != expected {
            sink.key_error(
                CheckCode::SkrConsistencyKsks,
                number,
                bundle,
                key,
                format!(
                    "Flags {}, but the schema's action says {expected}",
                    key.dnskey.flags()
                ),
            );
        }
    }
    for missing in named.iter().filter(|label| bundle.key(label).is_none()) {
        sink.bundle_error(
            CheckCode::SkrConsistencyKsks,
            number,
            bundle,
            format!("the schema's action names KSK {missing:?}, which is not in the bundle"),
        );
    }
    let mut signers: BTreeMap<&str, usize> = BTreeMap::new();
    for signature in &bundle.signatures {
        *signers
            .entry(signature.key_identifier.as_str())
            .or_default() += 1;
    }
    let signing: BTreeSet<String> = action.sign.iter().map(|name| label(name)).collect();
    for label in &signing {
        let count = signers.get(label.as_str()).copied().unwrap_or(0);
        if count != 1 {
            sink.bundle_error(
                CheckCode::SkrSignatureFields,
                number,
                bundle,
                format!(
                    "{count} signatures by {label:?}; the schema's action asks for exactly one"
                ),
            );
        }
    }
    for signer in signers.keys().filter(|signer| !signing.contains(**signer)) {
        sink.bundle_error(
            CheckCode::SkrSignatureFields,
            number,
            bundle,
            format!("a signature by {signer:?}, which the schema's action does not sign with"),
        );
    }
}

/// `SKR-CONSISTENCY.1`–`.3`.
fn consistency(skr: &Skr, ksr: &Ksr, config: &Config, sink: &mut Sink) {
    if (skr.id.as_str(), skr.serial, skr.domain.as_str())
        != (ksr.id.as_str(), ksr.serial, ksr.domain.as_str())
    {
        sink.error(
            CheckCode::SkrConsistencyBundles,
            format!(
                "the SKR is {} serial {} for {}, the KSR {} serial {} for {}",
                skr.id, skr.serial, skr.domain, ksr.id, ksr.serial, ksr.domain
            ),
        );
    }
    if skr.bundles.len() != ksr.bundles.len() {
        sink.error(
            CheckCode::SkrConsistencyBundles,
            format!(
                "the SKR has {} bundles, the KSR {}",
                skr.bundles.len(),
                ksr.bundles.len()
            ),
        );
    }
    let labels: BTreeSet<&str> = config.keys.values().map(|key| key.label.as_str()).collect();
    for (index, (response, request)) in skr.bundles.iter().zip(&ksr.bundles).enumerate() {
        let number = index + 1;
        if (
            response.id.as_str(),
            response.inception,
            response.expiration,
        ) != (request.id.as_str(), request.inception, request.expiration)
        {
            sink.bundle_error(
                CheckCode::SkrConsistencyBundles,
                number,
                response,
                format!(
                    "the bundle is {} … {}, the KSR's bundle {number} is {} {} … {}",
                    response.inception,
                    response.expiration,
                    request.id,
                    request.inception,
                    request.expiration
                ),
            );
        }
        for zsk in &request.keys {
            let same = |key: &&crate::model::Key| {
                key.identifier == zsk.identifier
                    && key.key_tag == zsk.key_tag
                    && key.dnskey == zsk.dnskey
            };
            if !response.keys.iter().any(|key| same(&key)) {
                sink.key_error(
                    CheckCode::SkrConsistencyZsks,
                    number,
                    response,
                    zsk,
                    "a ZSK of the KSR's bundle is missing or changed",
                );
            }
        }
        for key in &response.keys {
            if key.dnskey.flags() == Flags::ZSK {
                if !request.keys.iter().any(|zsk| zsk.dnskey == key.dnskey) {
                    sink.key_error(
                        CheckCode::SkrConsistencyZsks,
                        number,
                        response,
                        key,
                        "a ZSK that the KSR's bundle does not have",
                    );
                }
            } else if !labels.contains(key.identifier.as_str()) {
                sink.key_error(
                    CheckCode::SkrConsistencyKsks,
                    number,
                    response,
                    key,
                    "a KSK whose identifier is no configured label",
                );
            } else if !matches!(key.dnskey.flags(), Flags::KSK | Flags::REVOKED_KSK) {
                sink.key_error(
                    CheckCode::SkrConsistencyKsks,
                    number,
                    response,
                    key,
                    format!("a KSK with Flags {}, not 257 or 385", key.dnskey.flags()),
                );
            }
        }
    }
}

/// `KSR-POLICY-SAFETY.1`–`.4`; keys are matched by identifier.
fn safety(skr: &Skr, previous: &Skr, config: &Config, sink: &mut Sink) {
    let policy = &config.request_policy;
    let (Some(first), Some(last)) = (skr.bundles.first(), previous.bundles.last()) else {
        return;
    };
    let signers = |bundle: &crate::model::Bundle| -> BTreeSet<String> {
        bundle
            .signatures
            .iter()
            .map(|signature| signature.key_identifier.clone())
            .collect()
    };
    let has = |bundle: &crate::model::Bundle, identifier: &str| {
        bundle.keys.iter().any(|key| key.identifier == identifier)
    };
    sink.unless_disabled(
        policy.check_keys_publish_safety,
        &[CheckCode::PolicySafetyPublishKeys, CheckCode::PolicySafetyPublishTime],
        "check_keys_publish_safety",
        |sink| {
            for signer in signers(first) {
                if !has(last, &signer) {
                    sink.bundle_error(
                        CheckCode::PolicySafetyPublishKeys,
                        1,
                        first,
                        format!("key {signer:?} signs the first bundle but was not published in the previous SKR's last bundle"),
                    );
                }
            }
            let safety = config.ksk_policy.publish_safety;
            let published = i64::from(first.inception.to_unix()) - i64::from(safety.as_seconds());
            if published < i64::from(last.inception.to_unix()) || published > i64::from(last.expiration.to_unix()) {
                sink.bundle_error(
                    CheckCode::PolicySafetyPublishTime,
                    1,
                    first,
                    format!(
                        "inception {} less PublishSafety {safety} is outside the previous SKR's last bundle {} … {}",
                        first.inception, last.inception, last.expiration
                    ),
                );
            }
        },
    );
    sink.unless_disabled(
        policy.check_keys_retire_safety,
        &[CheckCode::PolicySafetyRetire, CheckCode::PolicySafetyLater],
        "check_keys_retire_safety",
        |sink| {
            let until = i64::from(first.inception.to_unix()) + i64::from(config.ksk_policy.retire_safety.as_seconds());
            for (index, bundle) in skr.bundles.iter().enumerate() {
                if i64::from(bundle.inception.to_unix()) > until {
                    continue;
                }
                for signer in signers(last) {
                    if !has(bundle, &signer) {
                        sink.bundle_error(
                            CheckCode::PolicySafetyRetire,
                            index + 1,
                            bundle,
                            format!("key {signer:?} signed the previous SKR's last bundle and is gone within RetireSafety"),
                        );
                    }
                }
            }
            let in_every_later = in_every_later_bundle(skr);
            for ((index, bundle), later) in skr.bundles.iter().enumerate().zip(&in_every_later) {
                for signer in signers(bundle) {
                    let revoked = bundle.key(&signer).is_some_and(|key| key.dnskey.flags().is_revoked());
                    if revoked || later.as_ref().is_none_or(|later| later.contains(signer.as_str())) {
                        continue;
                    }
                    if let Some((later, missing)) =
                        skr.bundles.iter().enumerate().skip(index + 1).find(|(_, later)| !has(later, &signer))
                    {
                        sink.bundle_error(
                            CheckCode::PolicySafetyLater,
                            later + 1,
                            missing,
                            format!("key {signer:?} signs bundle {} but is missing here", index + 1),
                        );
                    }
                }
            }
        },
    );
}

/// For each bundle, the identifiers of the keys that every later bundle
/// has (`None` for the last bundle: no later one can miss a key). One pass
/// from the end keeps `KSR-POLICY-SAFETY.4` linear in the number of
/// bundles.
fn in_every_later_bundle(skr: &Skr) -> Vec<Option<BTreeSet<&str>>> {
    let mut sets = Vec::with_capacity(skr.bundles.len());
    let mut later: Option<BTreeSet<&str>> = None;
    for bundle in skr.bundles.iter().rev() {
        sets.push(later.clone());
        let keys = bundle.keys.iter().map(|key| key.identifier.as_str());
        later = Some(match later {
            None => keys.collect(),
            Some(set) => keys.filter(|key| set.contains(key)).collect(),
        });
    }
    sets.reverse();
    sets
}

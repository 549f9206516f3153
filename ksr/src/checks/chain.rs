//! Stage 4 of `ksr-checks.md`: the KSR against SKR(n-1), without an HSM.

use super::sink::Sink;
use crate::dnssec::dnskey::Flags;
use crate::dnssec::ds::{DigestType, Ds};
use crate::findings::CheckCode;
use crate::model::{Ksr, Skr};
use crate::policy::Config;

/// Runs `KSR-ID`, `KSR-BUNDLE-UNIQUE.2`, `KSR-CHAIN-KEYS.2`,
/// `KSR-CHAIN-OVERLAP`, and `KSR-CHAIN-KEYS.1` against the configured DS
/// pins (the HSM is not there in `ksr check`).
pub(super) fn check(ksr: &Ksr, previous: &Skr, config: &Config, sink: &mut Sink) {
    let policy = &config.request_policy;
    if ksr.id == previous.id {
        sink.error(
            CheckCode::KsrId,
            format!(
                "the KSR's id {:?} is the previous SKR's: a replay of the previous request",
                ksr.id
            ),
        );
    }
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        if let Some(number) = previous.bundles.iter().position(|old| old.id == bundle.id) {
            sink.bundle_error(
                CheckCode::BundleUniqueAcross,
                index + 1,
                bundle,
                format!(
                    "the bundle id is also the id of bundle {} of the previous SKR",
                    number + 1
                ),
            );
        }
    }
    let (Some(first), Some(last)) = (ksr.bundles.first(), previous.bundles.last()) else {
        return;
    };
    sink.unless_disabled(policy.check_chain_keys, &[CheckCode::ChainKeys], "check_chain_keys", |sink| {
        for key in &first.keys {
            if !last.keys.contains(key) {
                let near = last.keys.iter().any(|old| old.dnskey.public_key() == key.dnskey.public_key());
                sink.key_error(
                    CheckCode::ChainKeys,
                    1,
                    first,
                    key,
                    if near {
                        "the key is in the previous SKR's last bundle, but with another identifier, tag, TTL or flags"
                    } else {
                        "the key is not in the previous SKR's last bundle"
                    },
                );
            }
        }
    });
    sink.unless_disabled(policy.check_chain_overlap, &[CheckCode::ChainOverlap], "check_chain_overlap", |sink| {
        let overlap = last.expiration.seconds_since(first.inception);
        let (min, max) = (ksr.zsk_policy.min_validity_overlap, ksr.zsk_policy.max_validity_overlap);
        if overlap < i64::from(min.as_seconds()) || overlap > i64::from(max.as_seconds()) {
            sink.bundle_error(
                CheckCode::ChainOverlap,
                1,
                first,
                format!(
                    "the previous SKR's last bundle expires {overlap} s after this bundle's inception, outside MinValidityOverlap {min} … MaxValidityOverlap {max}"
                ),
            );
        }
    });
    sink.unless_disabled(policy.check_chain_keys_in_hsm, &[CheckCode::ChainKeysHsm], "check_chain_keys_in_hsm", |sink| {
        if config.keys.is_empty() {
            sink.warning(
                CheckCode::ChainKeysHsm,
                "not run: no HSM and no KSK pinned (ds_sha256) in the configuration",
            );
            return;
        }
        for signature in &last.signatures {
            let Some(key) = last.key(&signature.key_identifier) else {
                continue; // SKR-PREV-SIGS reports it
            };
            let ds = Ds::compute(&previous.domain, &key.dnskey.with_flags(Flags::KSK), DigestType::Sha256);
            let pinned = config.keys.values().any(|ksk| ksk.ds_sha256.eq_ignore_ascii_case(&ds.digest_hex()));
            if !pinned {
                sink.error(
                    CheckCode::ChainKeysHsm,
                    format!(
                        "KSK {:?} ({}) signed the previous SKR's last bundle, but its DS {} is no configured ds_sha256",
                        key.identifier,
                        key.dnskey.with_flags(Flags::KSK).key_tag(),
                        ds.digest_hex()
                    ),
                );
            }
        }
    });
}

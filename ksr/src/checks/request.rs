//! Stage 2 of `ksr-checks.md`: the KSR against the request policy.

use std::collections::{BTreeMap, BTreeSet};

use super::parallel::parallel_map;
use super::rsa::rsa_problems;
use super::sink::Sink;
use crate::dnssec::algorithm::{Algorithm, AlgorithmFamily};
use crate::dnssec::dnskey::{Dnskey, Flags, PublicKey};
use crate::dnssec::keytag::KeyTag;
use crate::dnssec::time::{Duration, Timestamp};
use crate::findings::CheckCode;
use crate::model::{AlgorithmParameters, Bundle, Ksr, Skr};
use crate::policy::Config;

/// Runs every policy check of stage 2 on a KSR.
pub(super) fn check(
    ksr: &Ksr,
    config: &Config,
    now: Timestamp,
    previous: Option<&Skr>,
    sink: &mut Sink,
) {
    let policy = &config.request_policy;
    if !policy
        .acceptable_domains
        .iter()
        .any(|domain| domain == ksr.domain.as_str())
    {
        sink.error(
            CheckCode::Domain,
            format!(
                "domain {:?} is not in acceptable_domains {:?}",
                ksr.domain.as_str(),
                policy.acceptable_domains
            ),
        );
    }
    ids(ksr, sink);
    order(ksr, sink);
    sink.unless_disabled(
        policy.keys_match_zsk_policy,
        &[
            CheckCode::BundleKeysSame,
            CheckCode::PolicyAlgKeyMatch,
            CheckCode::BundleKeysZsk,
        ],
        "keys_match_zsk_policy",
        |sink| keys_match(ksr, config, sink),
    );
    protocol(ksr, sink);
    sink.unless_disabled(
        policy.check_rsa_key_sanity,
        &[CheckCode::KeyRsa],
        "check_rsa_key_sanity",
        |sink| {
            let keys = distinct_keys(ksr);
            let problems = parallel_map(&keys, |(_, _, key)| rsa_problems(&key.dnskey));
            for ((index, bundle, key), problems) in keys.iter().zip(problems) {
                for problem in problems {
                    sink.key_error(CheckCode::KeyRsa, index + 1, bundle, key, problem);
                }
            }
        },
    );
    sink.unless_disabled(
        policy.check_key_tag_clashes,
        &[CheckCode::KeyTagClash],
        "check_key_tag_clashes",
        |sink| tag_clashes(ksr, config, previous, sink),
    );
    if ksr.bundles.len() != policy.num_bundles {
        sink.error(
            CheckCode::BundleCount,
            format!(
                "the KSR has {} bundles, num_bundles is {}",
                ksr.bundles.len(),
                policy.num_bundles
            ),
        );
    }
    sink.unless_disabled(policy.check_cycle_length, &[CheckCode::BundleCycleDuration], "check_cycle_length", |sink| {
        if let (Some(first), Some(last)) = (ksr.bundles.first(), ksr.bundles.last()) {
            let length = last.inception.seconds_since(first.inception);
            let (min, max) = (policy.min_cycle_inception_length, policy.max_cycle_inception_length);
            if !within(length, min, max) {
                sink.error(
                    CheckCode::BundleCycleDuration,
                    format!(
                        "the last inception is {} after the first, outside min_cycle_inception_length {min} … max_cycle_inception_length {max}",
                        span(length)
                    ),
                );
            }
        }
    });
    sink.unless_disabled(
        policy.check_keys_match_ksk_operator_policy,
        &[
            CheckCode::PolicyKeysBundles,
            CheckCode::PolicyKeysPerBundle,
            CheckCode::PolicyKeysDistinct,
        ],
        "check_keys_match_ksk_operator_policy",
        |sink| keys_per_bundle(ksr, config, sink),
    );
    policy_algorithms(ksr, config, sink);
    sink.unless_disabled(policy.check_bundle_overlap, &[CheckCode::PolicySigOverlap], "check_bundle_overlap", |sink| {
        let (min, max) = (ksr.zsk_policy.min_validity_overlap, ksr.zsk_policy.max_validity_overlap);
        for (index, pair) in ksr.bundles.windows(2).enumerate() {
            let [previous, bundle] = pair else { continue };
            let overlap = previous.expiration.seconds_since(bundle.inception);
            if overlap < 0 {
                sink.bundle_error(
                    CheckCode::PolicySigOverlap,
                    index + 2,
                    bundle,
                    format!("a gap of {} after bundle {}", span(-overlap), index + 1),
                );
            } else if !within(overlap, min, max) {
                sink.bundle_error(
                    CheckCode::PolicySigOverlap,
                    index + 2,
                    bundle,
                    format!(
                        "overlap with bundle {} is {}, outside MinValidityOverlap {min} … MaxValidityOverlap {max}",
                        index + 1,
                        Duration::from_seconds(u32::try_from(overlap).unwrap_or(u32::MAX))
                    ),
                );
            }
        }
    });
    sink.unless_disabled(
        policy.signature_validity_match_zsk_policy,
        &[
            CheckCode::PolicySigValidityMin,
            CheckCode::PolicySigValidityMax,
        ],
        "signature_validity_match_zsk_policy",
        |sink| validity(ksr, config, sink),
    );
    sink.unless_disabled(
        policy.signature_check_expire_horizon,
        &[CheckCode::PolicySigHorizon, CheckCode::PolicySigExpired],
        "signature_check_expire_horizon",
        |sink| horizon(ksr, config, now, sink),
    );
    sink.unless_disabled(policy.check_bundle_intervals, &[CheckCode::PolicyBundleIntervals], "check_bundle_intervals", |sink| {
        let (min, max) = (policy.min_bundle_interval, policy.max_bundle_interval);
        for (index, pair) in ksr.bundles.windows(2).enumerate() {
            let [previous, bundle] = pair else { continue };
            let interval = bundle.inception.seconds_since(previous.inception);
            if !within(interval, min, max) {
                sink.bundle_error(
                    CheckCode::PolicyBundleIntervals,
                    index + 2,
                    bundle,
                    format!(
                        "inception is {} after bundle {}'s, outside min_bundle_interval {min} … max_bundle_interval {max}",
                        span(interval),
                        index + 1
                    ),
                );
            }
        }
    });
    sink.unless_disabled(
        policy.check_ksr_ttl,
        &[CheckCode::PolicyTtl],
        "check_ksr_ttl",
        |sink| ttl(ksr, config, sink),
    );
}

/// Returns whether `seconds` lies in `[min, max]`.
fn within(seconds: i64, min: Duration, max: Duration) -> bool {
    seconds >= i64::from(min.as_seconds()) && seconds <= i64::from(max.as_seconds())
}

/// Writes a signed number of seconds as a duration.
fn span(seconds: i64) -> String {
    let text = Duration::from_seconds(u32::try_from(seconds.unsigned_abs()).unwrap_or(u32::MAX))
        .to_string();
    if seconds < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// `KSR-BUNDLE-ID` and `KSR-BUNDLE-UNIQUE.1`.
fn ids(ksr: &Ksr, sink: &mut Sink) {
    document_ids("KSR", &ksr.id, ksr, sink);
    let mut seen = BTreeMap::new();
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        if let Some(first) = seen.insert(bundle.id.as_str(), index + 1) {
            sink.bundle_error(
                CheckCode::BundleUniqueInKsr,
                index + 1,
                bundle,
                format!("bundle id is also the id of bundle {first}"),
            );
        }
    }
}

/// `KSR-BUNDLE-ID` for a document and its bundles, KSR or SKR: an error
/// for an id that is empty, too long or of bad characters, a warning for
/// one that is not a lowercase UUID.
pub(super) fn document_ids(kind: &str, id: &str, document: &impl Bundles, sink: &mut Sink) {
    if let Some(problem) = id_problem(id) {
        sink.error(CheckCode::BundleId, format!("{kind} id {id:?} {problem}"));
    } else if !is_lowercase_uuid(id) {
        sink.warning(
            CheckCode::BundleId,
            format!("{kind} id {id:?} is not a lowercase RFC 9562 UUID"),
        );
    }
    for (index, bundle) in document.bundles().iter().enumerate() {
        if let Some(problem) = id_problem(&bundle.id) {
            sink.bundle_error(
                CheckCode::BundleId,
                index + 1,
                bundle,
                format!("bundle id {problem}"),
            );
        } else if !is_lowercase_uuid(&bundle.id) {
            sink.bundle_warning(
                CheckCode::BundleId,
                index + 1,
                bundle,
                "bundle id is not a lowercase RFC 9562 UUID",
            );
        }
    }
}

/// Returns what is wrong with an id, if anything (`KSR-BUNDLE-ID`).
fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("is empty")
    } else if id.chars().count() > 128 {
        Some("is longer than 128 characters")
    } else if !id
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '&' | '"' | '\''))
    {
        Some("has characters other than printable ASCII without white space, <, >, &, \" and '")
    } else {
        None
    }
}

/// Returns whether an id is a lowercase 8-4-4-4-12 UUID.
fn is_lowercase_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|group| {
            group
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}

/// `KSR-BUNDLE-ORDER`: Inception before Expiration, both increasing.
pub(super) fn order(document: &impl Bundles, sink: &mut Sink) {
    for (index, bundle) in document.bundles().iter().enumerate() {
        if bundle.inception >= bundle.expiration {
            sink.bundle_error(
                CheckCode::BundleOrder,
                index + 1,
                bundle,
                format!(
                    "Inception {} is not before Expiration {}",
                    bundle.inception, bundle.expiration
                ),
            );
        }
    }
    for (index, pair) in document.bundles().windows(2).enumerate() {
        let [previous, bundle] = pair else { continue };
        if bundle.inception <= previous.inception || bundle.expiration <= previous.expiration {
            sink.bundle_error(
                CheckCode::BundleOrder,
                index + 2,
                bundle,
                format!(
                    "bundles are not in ascending order: {} … {} follows {} … {}",
                    bundle.inception, bundle.expiration, previous.inception, previous.expiration
                ),
            );
        }
    }
}

/// `KSR-KEY-PROTOCOL`: every key of every bundle has Protocol 3.
pub(super) fn protocol(document: &impl Bundles, sink: &mut Sink) {
    for (index, bundle) in document.bundles().iter().enumerate() {
        for key in &bundle.keys {
            if key.dnskey.protocol() != Dnskey::PROTOCOL {
                sink.key_error(
                    CheckCode::KeyProtocol,
                    index + 1,
                    bundle,
                    key,
                    format!(
                        "Protocol is {}, RFC 4034 §2.1.2 requires 3",
                        key.dnskey.protocol()
                    ),
                );
            }
        }
    }
}

/// The documents that have bundles.
pub(super) trait Bundles {
    fn bundles(&self) -> &[Bundle];
}

impl Bundles for Ksr {
    fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }
}

impl Bundles for Skr {
    fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }
}

/// Every key once, with the first bundle it occurs in.
fn distinct_keys(ksr: &Ksr) -> Vec<(usize, &Bundle, &crate::model::Key)> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        for key in &bundle.keys {
            if seen.insert(key.dnskey.rdata()) {
                keys.push((index, bundle, key));
            }
        }
    }
    keys
}

/// `KSR-BUNDLE-KEYS.1`, `KSR-POLICY-ALG.6` and `KSR-BUNDLE-KEYS.2`.
fn keys_match(ksr: &Ksr, config: &Config, sink: &mut Sink) {
    let mut first: BTreeMap<&str, &crate::model::Key> = BTreeMap::new();
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        for key in &bundle.keys {
            match first.get(key.identifier.as_str()) {
                Some(earlier) if *earlier != key => sink.key_error(
                    CheckCode::BundleKeysSame,
                    index + 1,
                    bundle,
                    key,
                    "the keyIdentifier denotes another key (tag, TTL, flags, algorithm or public key) in an earlier bundle",
                ),
                Some(_) => {}
                None => {
                    first.insert(&key.identifier, key);
                }
            }
            if key.dnskey.flags() != Flags::ZSK {
                sink.key_error(
                    CheckCode::BundleKeysZsk,
                    index + 1,
                    bundle,
                    key,
                    format!(
                        "Flags is {}; a KSR holds only ZSKs (256)",
                        key.dnskey.flags()
                    ),
                );
            }
        }
    }
    for (index, bundle, key) in distinct_keys(ksr) {
        match algorithm_match(&key.dnskey, &ksr.zsk_policy.signature_algorithms) {
            Match::Yes => {}
            Match::ExponentOnly if !config.request_policy.rsa_exponent_match_zsk_policy => sink.key_warning(
                CheckCode::PolicyAlgKeyMatch,
                index + 1,
                bundle,
                key,
                "the key's RSA exponent differs from the RequestPolicy's (allowed by rsa_exponent_match_zsk_policy = false)",
            ),
            Match::ExponentOnly | Match::No => sink.key_error(
                CheckCode::PolicyAlgKeyMatch,
                index + 1,
                bundle,
                key,
                format!(
                    "the key ({}, {}) matches no SignatureAlgorithm of the RequestPolicy",
                    key.dnskey.algorithm(),
                    describe(&key.dnskey)
                ),
            ),
        }
    }
}

/// How a key matches the policy's algorithms.
enum Match {
    Yes,
    ExponentOnly,
    No,
}

fn algorithm_match(key: &Dnskey, algorithms: &[crate::model::SignatureAlgorithm]) -> Match {
    let Ok(public) = key.decode_public_key() else {
        return Match::No;
    };
    let mut result = Match::No;
    for entry in algorithms
        .iter()
        .filter(|entry| entry.algorithm == key.algorithm())
    {
        match (entry.parameters, &public) {
            (AlgorithmParameters::Rsa { size, exponent }, PublicKey::Rsa { .. })
                if size == public.size_bits() =>
            {
                if public.rsa_exponent() == Some(exponent) {
                    return Match::Yes;
                }
                result = Match::ExponentOnly;
            }
            (AlgorithmParameters::Ecdsa { size }, PublicKey::Ecdsa { .. })
            | (AlgorithmParameters::Eddsa { size }, PublicKey::Eddsa { .. })
                if size == public.size_bits() =>
            {
                return Match::Yes;
            }
            _ => {}
        }
    }
    result
}

/// Describes a key's size and exponent for messages.
fn describe(key: &Dnskey) -> String {
    match key.decode_public_key() {
        Ok(public @ PublicKey::Rsa { .. }) => match public.rsa_exponent() {
            Some(exponent) => format!("{} bits, exponent {exponent}", public.size_bits()),
            None => format!("{} bits", public.size_bits()),
        },
        Ok(public) => format!("{} bits", public.size_bits()),
        Err(err) => err.to_string(),
    }
}

/// `KSR-KEYTAG-CLASH`, first pass.
fn tag_clashes(ksr: &Ksr, config: &Config, previous: Option<&Skr>, sink: &mut Sink) {
    let keys = distinct_keys(ksr);
    let mut taken: BTreeMap<KeyTag, String> = BTreeMap::new();
    for tag in &config.request_policy.reserved_key_tags {
        taken.insert(KeyTag::from_int(*tag), "a reserved_key_tags entry".into());
    }
    for (name, ksk) in &config.keys {
        taken.insert(
            KeyTag::from_int(ksk.key_tag),
            format!("the tag of configured KSK {name}"),
        );
    }
    if let Some(previous) = previous {
        for key in previous.bundles.iter().flat_map(|bundle| &bundle.keys) {
            if key.dnskey.flags().is_sep() {
                let unrevoked = key.dnskey.with_flags(Flags::KSK);
                let revoked = key.dnskey.with_flags(Flags::REVOKED_KSK);
                for dnskey in [unrevoked, revoked] {
                    taken.insert(
                        dnskey.key_tag(),
                        format!("a tag of KSK {:?} of the previous SKR", key.identifier),
                    );
                }
            }
        }
    }
    let mut ours: BTreeMap<KeyTag, &str> = BTreeMap::new();
    for (index, bundle, key) in &keys {
        let tag = key.dnskey.key_tag();
        if let Some(other) = ours.insert(tag, &key.identifier) {
            sink.key_error(
                CheckCode::KeyTagClash,
                index + 1,
                bundle,
                key,
                format!("key tag {tag} is also the tag of key {other:?}"),
            );
        }
        if let Some(owner) = taken.get(&tag) {
            sink.key_error(
                CheckCode::KeyTagClash,
                index + 1,
                bundle,
                key,
                format!("key tag {tag} is {owner}"),
            );
        }
    }
}

/// `KSR-POLICY-KEYS.4`–`.6`.
fn keys_per_bundle(ksr: &Ksr, config: &Config, sink: &mut Sink) {
    let policy = &config.request_policy;
    if ksr.bundles.len() != policy.num_keys_per_bundle.len() {
        sink.error(
            CheckCode::PolicyKeysBundles,
            format!(
                "the KSR has {} bundles, num_keys_per_bundle lists {}",
                ksr.bundles.len(),
                policy.num_keys_per_bundle.len()
            ),
        );
    }
    for ((index, bundle), expected) in ksr
        .bundles
        .iter()
        .enumerate()
        .zip(&policy.num_keys_per_bundle)
    {
        if bundle.keys.len() != *expected {
            sink.bundle_error(
                CheckCode::PolicyKeysPerBundle,
                index + 1,
                bundle,
                format!(
                    "the bundle has {} keys, num_keys_per_bundle says {expected}",
                    bundle.keys.len()
                ),
            );
        }
    }
    let distinct: BTreeSet<&str> = ksr
        .bundles
        .iter()
        .flat_map(|bundle| &bundle.keys)
        .map(|key| key.identifier.as_str())
        .collect();
    if distinct.len() != policy.num_different_keys_in_all_bundles {
        sink.error(
            CheckCode::PolicyKeysDistinct,
            format!(
                "the KSR has {} distinct keys, num_different_keys_in_all_bundles is {}",
                distinct.len(),
                policy.num_different_keys_in_all_bundles
            ),
        );
    }
    if distinct.len() != 3 {
        sink.warning(
            CheckCode::PolicyKeysDistinct,
            format!(
                "the KSR has {} distinct keys, not the usual 3 (early, on-time and late ZSK)",
                distinct.len()
            ),
        );
    }
}

/// `KSR-POLICY-ALG.1`–`.5`, `.7` and `.8` on the RequestPolicy.
fn policy_algorithms(ksr: &Ksr, config: &Config, sink: &mut Sink) {
    let policy = &config.request_policy;
    for entry in &ksr.zsk_policy.signature_algorithms {
        let algorithm = entry.algorithm;
        if [
            Algorithm::RSAMD5,
            Algorithm::DSA,
            Algorithm::DSA_NSEC3_SHA1,
            Algorithm::ECC_GOST,
        ]
        .contains(&algorithm)
        {
            sink.error(
                CheckCode::PolicyAlgDeprecated,
                format!("RequestPolicy: algorithm {algorithm} is deprecated"),
            );
        } else if ![8, 10, 13, 14, 15, 16].contains(&algorithm.to_int()) {
            sink.error(
                CheckCode::PolicyAlgSupported,
                format!("RequestPolicy: algorithm {algorithm} is not supported"),
            );
        }
        match algorithm.family() {
            Some(AlgorithmFamily::Ecdsa) if !policy.enable_unsupported_ecdsa => sink.error(
                CheckCode::PolicyAlgEcdsa,
                format!("RequestPolicy: algorithm {algorithm} needs enable_unsupported_ecdsa = true"),
            ),
            Some(AlgorithmFamily::Eddsa) if !policy.enable_unsupported_edwards_dsa => sink.error(
                CheckCode::PolicyAlgEddsa,
                format!("RequestPolicy: algorithm {algorithm} needs enable_unsupported_edwards_dsa = true"),
            ),
            _ => {}
        }
    }
    sink.unless_disabled(
        policy.signature_algorithms_match_zsk_policy,
        &[CheckCode::PolicyAlgApproved, CheckCode::PolicyAlgRsaSize, CheckCode::PolicyAlgRsaExponent],
        "signature_algorithms_match_zsk_policy",
        |sink| {
            for entry in &ksr.zsk_policy.signature_algorithms {
                let mnemonic = entry.algorithm.mnemonic().unwrap_or("unknown");
                if !policy.approved_algorithms.iter().any(|approved| approved == mnemonic) {
                    sink.error(
                        CheckCode::PolicyAlgApproved,
                        format!("RequestPolicy: {mnemonic} is not in approved_algorithms {:?}", policy.approved_algorithms),
                    );
                }
                if let AlgorithmParameters::Rsa { size, exponent } = entry.parameters {
                    if !policy.rsa_approved_key_sizes.contains(&size) {
                        sink.error(
                            CheckCode::PolicyAlgRsaSize,
                            format!("RequestPolicy: RSA size {size} is not in rsa_approved_key_sizes {:?}", policy.rsa_approved_key_sizes),
                        );
                    }
                    if !policy.rsa_approved_exponents.contains(&exponent) {
                        sink.error(
                            CheckCode::PolicyAlgRsaExponent,
                            format!(
                                "RequestPolicy: RSA exponent {exponent} is not in rsa_approved_exponents {:?}",
                                policy.rsa_approved_exponents
                            ),
                        );
                    }
                }
            }
        },
    );
}

/// `KSR-POLICY-SIG-VALIDITY.1` and `.2`, against the KSR's own policy.
fn validity(ksr: &Ksr, config: &Config, sink: &mut Sink) {
    let (min, max) = (
        ksr.zsk_policy.min_signature_validity,
        ksr.zsk_policy.max_signature_validity,
    );
    let strict = config.request_policy.kskm_strict_validity;
    let (lower, lower_name) = if strict {
        (max, "MaxSignatureValidity (kskm_strict_validity)")
    } else {
        (min, "MinSignatureValidity")
    };
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        let validity = bundle.expiration.seconds_since(bundle.inception);
        if validity < i64::from(lower.as_seconds()) {
            sink.bundle_error(
                CheckCode::PolicySigValidityMin,
                index + 1,
                bundle,
                format!("validity {} is below {lower_name} {lower}", span(validity)),
            );
        }
        if validity > i64::from(max.as_seconds()) {
            sink.bundle_error(
                CheckCode::PolicySigValidityMax,
                index + 1,
                bundle,
                format!(
                    "validity {} is above MaxSignatureValidity {max}",
                    span(validity)
                ),
            );
        }
    }
}

/// `KSR-POLICY-SIG-HORIZON.1` and `.2`.
fn horizon(ksr: &Ksr, config: &Config, now: Timestamp, sink: &mut Sink) {
    let days = config.request_policy.signature_horizon_days;
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        let ahead = bundle.expiration.seconds_since(now);
        if ahead.div_euclid(86_400) > i64::from(days) {
            sink.bundle_error(
                CheckCode::PolicySigHorizon,
                index + 1,
                bundle,
                format!(
                    "Expiration {} is {} days after now ({now}), beyond signature_horizon_days {days}",
                    bundle.expiration,
                    ahead.div_euclid(86_400)
                ),
            );
        }
        if ahead < 0 {
            sink.bundle_error(
                CheckCode::PolicySigExpired,
                index + 1,
                bundle,
                format!("Expiration {} is before now ({now})", bundle.expiration),
            );
        }
    }
}

/// `KSR-POLICY-TTL` (a warning).
fn ttl(ksr: &Ksr, config: &Config, sink: &mut Sink) {
    let expected = config.ksk_policy.ttl;
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        let key_ttls = bundle.keys.iter().map(|key| key.ttl);
        let signature_ttls = bundle
            .signatures
            .iter()
            .flat_map(|signature| [signature.ttl, signature.rrsig.original_ttl]);
        if let Some(ttl) = key_ttls.chain(signature_ttls).find(|ttl| *ttl != expected) {
            sink.bundle_warning(
                CheckCode::PolicyTtl,
                index + 1,
                bundle,
                format!(
                    "TTL {ttl} differs from ksk_policy.ttl {expected}: the SKR will carry {expected}, and the next KSR-CHAIN-KEYS.2 compares TTLs"
                ),
            );
        }
    }
}

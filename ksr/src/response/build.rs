//! The SKR builder (`ksr-skr-format.md` §2).

use std::collections::BTreeSet;

use super::schema::{Action, Schema, builtin};
use crate::checks::check_skr;
use crate::dnssec::algorithm::Algorithm;
use crate::dnssec::dnskey::{Dnskey, Flags};
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::Timestamp;
use crate::dnssec::verify::verify;
use crate::findings::DocumentRole;
use crate::model::{
    AlgorithmParameters, Bundle, Key, Ksr, Policy, Signature, SignatureAlgorithm, Skr,
};
use crate::policy::{Config, KskConfig};
use crate::xml::{parse_skr, write_skr};

//------------ BundleSigner --------------------------------------------------

/// What signs: the HSM, or a software key in tests. The consumer owns the
/// trait (house rule 13).
pub trait BundleSigner {
    /// Returns the public key of the KSK with this HSM label, as DNSKEY
    /// RDATA with Flags 257.
    ///
    /// # Errors
    ///
    /// The label is unknown or ambiguous, or the key cannot be read.
    fn public_key(&self, label: &str) -> Result<Dnskey, SignerError>;

    /// Signs `data` (an RRSIG signing input) with the KSK of this label, in
    /// the DNSSEC encoding of its algorithm.
    ///
    /// # Errors
    ///
    /// The label is unknown, or the signer failed.
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// A signer's failure, with its own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignerError(pub String);

//------------ BuildError ----------------------------------------------------

/// Why no SKR was built. Nothing is returned then, so nothing half-built
/// can be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The schema does not exist, is too short, or names an unknown key
    /// (`SIGN-SCHEMA`).
    #[error("SIGN-SCHEMA: {0}")]
    Schema(String),
    /// The HSM's key does not match its configuration (`SIGN-KEY-TYPE`,
    /// `SIGN-KEY-DS`, `SIGN-KEY-TAG`) or cannot be found (`SIGN-KEY-LOOKUP`).
    #[error("{code}: key {label}: {message}")]
    Key {
        /// The check code.
        code: &'static str,
        /// The HSM label.
        label: String,
        /// What is wrong.
        message: String,
    },
    /// A KSK is used outside its validity (`SIGN-KEY-VALIDITY`).
    #[error(
        "SIGN-KEY-VALIDITY: bundle {bundle}: key {label} is valid {from} … {}, the bundle runs {inception} … {expiration}",
        until.map_or_else(|| "open".to_owned(), |until| until.to_string())
    )]
    Validity {
        /// The 1-based bundle number.
        bundle: usize,
        /// The HSM label.
        label: String,
        /// valid_from.
        from: Timestamp,
        /// valid_until.
        until: Option<Timestamp>,
        /// The bundle's inception.
        inception: Timestamp,
        /// The bundle's expiration.
        expiration: Timestamp,
    },
    /// A signature from the signer did not verify (`SKR-VERIFY`).
    #[error("SKR-VERIFY: bundle {bundle}: the signature of key {label} does not verify: {message}")]
    Verify {
        /// The 1-based bundle number.
        bundle: usize,
        /// The HSM label.
        label: String,
        /// Why.
        message: String,
    },
    /// The ZSK and KSK algorithms of a bundle differ (`SIGN-ALG-COVERAGE`).
    #[error("SIGN-ALG-COVERAGE: bundle {bundle}: the ZSKs use {zsk}, the signatures {ksk}")]
    Coverage {
        /// The 1-based bundle number.
        bundle: usize,
        /// The ZSK algorithms.
        zsk: String,
        /// The KSK signature algorithms.
        ksk: String,
    },
    /// The signer failed.
    #[error("the signer failed for key {label}: {source}")]
    Signer {
        /// The HSM label.
        label: String,
        /// Its words.
        #[source]
        source: SignerError,
    },
    /// The written SKR did not read back equal and clean (`SKR-REREAD`).
    #[error("SKR-REREAD: {0}")]
    Reread(String),
}

//------------ build_skr -----------------------------------------------------

/// Builds the SKR for a KSR that passed its checks.
///
/// Per bundle *i* and the schema's action *i*: the published KSKs with
/// Flags 257, the revoked ones with 385 and their recomputed tag, the
/// signing ones if not yet there, then the bundle's ZSKs, all with
/// `ksk_policy.ttl`; one RRSIG per signing KSK over that RRset, with the
/// bundle's inception and expiration and the key's tag in this bundle.
/// Every signature is verified in software before use, and the SKR is
/// written, read back and checked before it is returned.
///
/// # Errors
///
/// See [`BuildError`]; on any error there is no SKR.
pub fn build_skr(
    ksr: &Ksr,
    config: &Config,
    schema_name: &str,
    signer: &dyn BundleSigner,
) -> Result<(Skr, String), BuildError> {
    let schema = schema(config, schema_name, ksr.bundles.len())?;
    let ttl = config.ksk_policy.ttl;
    let mut bundles = Vec::with_capacity(ksr.bundles.len());
    for (index, (request, action)) in ksr.bundles.iter().zip(&schema).enumerate() {
        bundles.push(build_bundle(
            ksr,
            config,
            index + 1,
            request,
            action,
            ttl,
            signer,
        )?);
    }
    let skr = Skr {
        id: ksr.id.clone(),
        serial: ksr.serial,
        domain: ksr.domain.clone(),
        timestamp: None,
        ksk_policy: ksk_policy(config, &bundles),
        zsk_policy: ksr.zsk_policy.clone(),
        bundles,
    };
    let written = write_skr(&skr);
    let reread = parse_skr(written.as_bytes(), DocumentRole::NewSkr).map_err(|findings| {
        BuildError::Reread(format!("the written SKR does not parse: {findings:?}"))
    })?;
    let findings = check_skr(&reread, DocumentRole::NewSkr);
    if !findings.is_empty() {
        return Err(BuildError::Reread(format!(
            "the written SKR fails its checks: {findings:?}"
        )));
    }
    if write_skr(&reread) != written {
        return Err(BuildError::Reread(
            "the written SKR reads back different".into(),
        ));
    }
    Ok((reread, written))
}

/// Returns the schema of this name for `bundles` bundles: the
/// configuration's own, or a built-in one (`SIGN-SCHEMA`).
fn schema(config: &Config, name: &str, bundles: usize) -> Result<Schema, BuildError> {
    let schema: Schema = match config.schemas.get(name) {
        Some(actions) => (1..=bundles)
            .map(|number| {
                actions.get(&number.to_string()).cloned().ok_or_else(|| {
                    BuildError::Schema(format!("schema {name:?} has no action for bundle {number}"))
                })
            })
            .collect::<Result<_, _>>()?,
        None => builtin(bundles).remove(name).ok_or_else(|| {
            let mut known: Vec<String> = builtin(bundles)
                .keys()
                .map(|name| (*name).to_owned())
                .collect();
            known.extend(config.schemas.keys().cloned());
            BuildError::Schema(format!("no schema {name:?}; known: {}", known.join(", ")))
        })?,
    };
    for action in &schema {
        for key in action.names() {
            ksk(config, key)?;
        }
        if action.sign.is_empty() {
            return Err(BuildError::Schema(format!(
                "schema {name:?} has a bundle without a signing key"
            )));
        }
    }
    Ok(schema)
}

/// Returns the configured KSK of a schema name.
fn ksk<'a>(config: &'a Config, name: &str) -> Result<&'a KskConfig, BuildError> {
    config.keys.get(name).ok_or_else(|| {
        BuildError::Schema(format!(
            "the schema names key {name:?}, which is not under [keys]"
        ))
    })
}

/// Builds one response bundle.
fn build_bundle(
    ksr: &Ksr,
    config: &Config,
    number: usize,
    request: &Bundle,
    action: &Action,
    ttl: u32,
    signer: &dyn BundleSigner,
) -> Result<Bundle, BuildError> {
    let mut keys: Vec<Key> = Vec::new();
    let mut add = |key: Key, replace: bool| match keys
        .iter_mut()
        .find(|other| other.dnskey.public_key() == key.dnskey.public_key())
    {
        Some(existing) if replace => *existing = key,
        Some(_) => {}
        None => keys.push(key),
    };
    let ksk_key = |name: &str, flags: Flags| -> Result<Key, BuildError> {
        let config_key = ksk(config, name)?;
        let dnskey = hsm_key(config_key, signer, &ksr.domain)?.with_flags(flags);
        let until_ok = config_key
            .valid_until
            .is_none_or(|until| until >= request.expiration);
        if config_key.valid_from > request.inception || !until_ok {
            return Err(BuildError::Validity {
                bundle: number,
                label: config_key.label.clone(),
                from: config_key.valid_from,
                until: config_key.valid_until,
                inception: request.inception,
                expiration: request.expiration,
            });
        }
        Ok(Key {
            identifier: config_key.label.clone(),
            key_tag: dnskey.key_tag(),
            ttl,
            dnskey,
        })
    };
    for name in &action.publish {
        add(ksk_key(name, Flags::KSK)?, false);
    }
    for name in &action.revoke {
        add(ksk_key(name, Flags::REVOKED_KSK)?, true);
    }
    for name in &action.sign {
        add(ksk_key(name, Flags::KSK)?, false);
    }
    for zsk in &request.keys {
        add(Key { ttl, ..zsk.clone() }, false);
    }
    let mut bundle = Bundle {
        id: request.id.clone(),
        inception: request.inception,
        expiration: request.expiration,
        signers: Vec::new(),
        keys,
        signatures: Vec::new(),
    };
    let signed: BTreeSet<&str> = action.sign.iter().map(String::as_str).collect();
    for name in signed {
        let label = &ksk(config, name)?.label;
        let key = bundle.key(label).cloned().ok_or_else(|| {
            BuildError::Schema(format!(
                "bundle {number}: signing key {label} is not in the key set"
            ))
        })?;
        let mut rrsig = Rrsig {
            algorithm: key.dnskey.algorithm(),
            labels: ksr.domain.rrsig_labels(),
            original_ttl: ttl,
            expiration: bundle.expiration,
            inception: bundle.inception,
            key_tag: key.dnskey.key_tag(),
            signer_name: ksr.domain.clone(),
            signature: Vec::new(),
        };
        let input = rrsig.signing_input(&ksr.domain, bundle.dnskeys());
        rrsig.signature = signer
            .sign(label, &input)
            .map_err(|source| BuildError::Signer {
                label: label.clone(),
                source,
            })?;
        verify(&key.dnskey, &input, &rrsig.signature).map_err(|err| BuildError::Verify {
            bundle: number,
            label: label.clone(),
            message: err.to_string(),
        })?;
        bundle.signatures.push(Signature {
            key_identifier: label.clone(),
            ttl,
            rrsig,
        });
    }
    let zsk: BTreeSet<Algorithm> = request
        .keys
        .iter()
        .map(|key| key.dnskey.algorithm())
        .collect();
    let ksk: BTreeSet<Algorithm> = bundle
        .signatures
        .iter()
        .map(|signature| signature.rrsig.algorithm)
        .collect();
    if zsk != ksk {
        let names = |set: &BTreeSet<Algorithm>| {
            set.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(BuildError::Coverage {
            bundle: number,
            zsk: names(&zsk),
            ksk: names(&ksk),
        });
    }
    Ok(bundle)
}

/// Reads a KSK from the signer and checks it against its configuration:
/// algorithm, key tag and DS pins (`SIGN-KEY-TYPE`, `-TAG`, `-DS`).
fn hsm_key(
    config_key: &KskConfig,
    signer: &dyn BundleSigner,
    domain: &crate::DomainName,
) -> Result<Dnskey, BuildError> {
    let error = |code: &'static str, message: String| BuildError::Key {
        code,
        label: config_key.label.clone(),
        message,
    };
    let dnskey = signer
        .public_key(&config_key.label)
        .map_err(|err| error("SIGN-KEY-LOOKUP", err.to_string()))?
        .with_flags(Flags::KSK);
    let mnemonic = dnskey.algorithm().mnemonic().unwrap_or("unknown");
    if mnemonic != config_key.algorithm {
        return Err(error(
            "SIGN-KEY-TYPE",
            format!(
                "the HSM key is {mnemonic}, the configuration says {}",
                config_key.algorithm
            ),
        ));
    }
    if dnskey.key_tag().to_int() != config_key.key_tag {
        return Err(error(
            "SIGN-KEY-TAG",
            format!(
                "the HSM key has tag {}, key_tag is {}",
                dnskey.key_tag(),
                config_key.key_tag
            ),
        ));
    }
    let ds = crate::Ds::compute(domain, &dnskey, crate::DigestType::Sha256).digest_hex();
    if !ds.eq_ignore_ascii_case(&config_key.ds_sha256) {
        return Err(error(
            "SIGN-KEY-DS",
            format!(
                "the HSM key's DS is {ds}, ds_sha256 is {}",
                config_key.ds_sha256
            ),
        ));
    }
    Ok(dnskey)
}

/// The KSK policy of the SKR: the configured durations, and the distinct
/// (algorithm, size, exponent) of every key of every bundle, sorted
/// (`ksr-skr-format.md` §2.2).
fn ksk_policy(config: &Config, bundles: &[Bundle]) -> Policy {
    let mut algorithms: BTreeSet<SignatureAlgorithm> = BTreeSet::new();
    for key in bundles.iter().flat_map(|bundle| &bundle.keys) {
        let Ok(public) = key.dnskey.decode_public_key() else {
            continue;
        };
        let size = public.size_bits();
        let parameters = match public {
            crate::PublicKey::Rsa { .. } => AlgorithmParameters::Rsa {
                size,
                exponent: public.rsa_exponent().unwrap_or(0),
            },
            crate::PublicKey::Ecdsa { .. } => AlgorithmParameters::Ecdsa { size },
            crate::PublicKey::Eddsa { .. } => AlgorithmParameters::Eddsa { size },
        };
        algorithms.insert(SignatureAlgorithm {
            algorithm: key.dnskey.algorithm(),
            parameters,
        });
    }
    let policy = &config.ksk_policy;
    Policy {
        publish_safety: policy.publish_safety,
        retire_safety: policy.retire_safety,
        max_signature_validity: policy.max_signature_validity,
        min_signature_validity: policy.min_signature_validity,
        max_validity_overlap: policy.max_validity_overlap,
        min_validity_overlap: policy.min_validity_overlap,
        signature_algorithms: algorithms.into_iter().collect(),
    }
}

//! The SKR builder (`ksr-skr-format.md` §2) with the checks of stage 5 of
//! `ksr-checks.md`, and stage 6 run on the result before it is returned.

use std::collections::{BTreeMap, BTreeSet};

use super::schema::{Action, Schema, resolve};
use crate::checks::sink::Sink;
use crate::checks::{CheckedKsr, check_response, check_skr};
use crate::dnssec::algorithm::Algorithm;
use crate::dnssec::dnskey::{Dnskey, Flags, PublicKey};
use crate::dnssec::ds::{DigestType, Ds};
use crate::dnssec::keytag::KeyTag;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::verify::verify;
use crate::findings::{CheckCode, DocumentRole, Finding, Severity};
use crate::model::{
    AlgorithmParameters, Bundle, Key, Ksr, Policy, Signature, SignatureAlgorithm, Skr,
};
use crate::policy::{Config, KskConfig};
use crate::xml::{parse_skr, sort_as_written, write_skr};

//------------ KeySource and BundleSigner ------------------------------------

/// Where the KSKs' public keys come from: the HSM, sealed or not. The
/// consumer owns the trait (house rule 13). Planning an SKR needs only
/// this, so every check that needs no private key runs before any card is
/// read.
pub trait KeySource {
    /// Returns the public key of the KSK with this HSM label, as DNSKEY
    /// RDATA (the flags are set by the builder).
    ///
    /// # Errors
    ///
    /// The label is unknown ([`SignerErrorKind::NotFound`]), found more
    /// than once in the modules, slots or objects the signer sees
    /// ([`SignerErrorKind::Ambiguous`]), or the key cannot be read.
    fn public_key(&self, label: &str) -> Result<Dnskey, SignerError>;
}

/// What signs: the active HSM, or a software key in tests.
pub trait BundleSigner: KeySource {
    /// Signs `data` (an RRSIG signing input) with the KSK of this label, in
    /// the DNSSEC encoding of its algorithm.
    ///
    /// # Errors
    ///
    /// The label is unknown, or the signer failed.
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// What kind of failure a signer reports; it decides the check code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerErrorKind {
    /// No key has this label (`SIGN-KEY-LOOKUP`).
    NotFound,
    /// More than one key, slot or module has this label (`SIGN-KEY-LABEL`).
    Ambiguous,
    /// Anything else: the key cannot be read or used.
    Failed,
}

/// A signer's failure, in its own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SignerError {
    /// What kind of failure.
    pub kind: SignerErrorKind,
    /// What happened.
    pub message: String,
}

impl SignerError {
    /// No key has the label.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: SignerErrorKind::NotFound,
            message: message.into(),
        }
    }

    /// The label is not unique.
    pub fn ambiguous(message: impl Into<String>) -> Self {
        Self {
            kind: SignerErrorKind::Ambiguous,
            message: message.into(),
        }
    }

    /// Any other failure.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: SignerErrorKind::Failed,
            message: message.into(),
        }
    }
}

//------------ Signed and BuildError -----------------------------------------

/// A built SKR: the document, its serialization (the bytes to write), and
/// the warnings of stages 5 and 6.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The SKR, as read back from `xml`.
    pub skr: Skr,
    /// The SKR as it is to be written.
    pub xml: String,
    /// Warnings of the signing and safety stages (a switched-off check).
    pub findings: Vec<Finding>,
}

/// Why no SKR was built. Nothing is returned then, so nothing half-built
/// can be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A check of stage 5 or 6, or the read-back, failed. All findings of
    /// the stage are here, errors and warnings.
    #[error("no SKR: {}", summary(.0))]
    Rejected(Vec<Finding>),
    /// The signer failed while signing.
    #[error("the signer failed for key {label}: {source}")]
    Signer {
        /// The HSM label.
        label: String,
        /// Its words.
        #[source]
        source: SignerError,
    },
}

impl BuildError {
    /// The findings of a rejection (none for a signer failure).
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::Rejected(findings) => findings,
            Self::Signer { .. } => &[],
        }
    }
}

/// The first error of a rejection and how many more there are.
fn summary(findings: &[Finding]) -> String {
    let mut errors = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error);
    match (errors.next(), errors.count()) {
        (None, _) => "no error".into(),
        (Some(first), 0) => first.to_string(),
        (Some(first), more) => format!("{first} (and {more} more)"),
    }
}

/// Ends the build when a stage found an error.
fn stop_on_errors(sink: &mut Sink) -> Result<(), Vec<Finding>> {
    if sink
        .findings
        .iter()
        .any(|finding| finding.severity == Severity::Error)
    {
        return Err(std::mem::take(&mut sink.findings));
    }
    Ok(())
}

//------------ SkrPlan -------------------------------------------------------

/// An SKR planned in every detail but its signature bytes: the KSKs read
/// from the HSM (sealed: public keys only) and checked, each bundle's
/// DNSKEY RRset final, each RRSIG's fields set, and stages 4 (the HSM
/// part), 5 and 6 run on the result. Only [`plan_skr`] makes one, so a
/// signing step that was not planned cannot happen, and every refusal
/// that needs no private key comes before the officers present their
/// cards.
#[derive(Clone, Debug)]
pub struct SkrPlan {
    ksr: Ksr,
    previous: Option<Skr>,
    config: Config,
    schema: Schema,
    /// The KSKs the schema uses, by configured name, as read.
    ksks: BTreeMap<String, Ksk>,
    /// The bundles, each signature's bytes still empty.
    bundles: Vec<Bundle>,
    /// Warnings of the planning stages (a switched-off check).
    findings: Vec<Finding>,
}

/// Plans the SKR for a checked KSR with the schema of this name, reading
/// the KSKs' public keys from `keys`.
///
/// Stage 4, HSM part (`KSR-CHAIN-KEYS.1`): every key that signed SKR(n-1)'s
/// last bundle is in the HSM under its identifier, with the same public
/// key. Stage 5: the schema must exist and fit (`SIGN-SCHEMA`); each KSK it
/// names is read once and checked against its configuration
/// (`SIGN-KEY-LOOKUP`, `-LABEL`, `-TYPE`, `-TAG`, `-DS`), its two tags
/// against every ZSK (`KSR-KEYTAG-CLASH`) and its validity against every
/// bundle it serves in (`SIGN-KEY-VALIDITY`). Per bundle *i* and the
/// schema's action *i*: the published KSKs with Flags 257, the revoked
/// ones with 385 and their recomputed tag, then the bundle's ZSKs, all with
/// `ksk_policy.ttl` (`SIGN-TTL`); one RRSIG per signing KSK, covering the
/// ZSKs' algorithms (`SIGN-ALG-COVERAGE`). Stage 6 then runs on the
/// planned SKR against the KSR, the schema and SKR(n-1)
/// (`SKR-CONSISTENCY.*`, `KSR-POLICY-SAFETY.*`): they depend on keys and
/// signers, not on signature bytes.
///
/// # Errors
///
/// Every finding of the planning stages, when one is an error.
pub fn plan_skr(
    checked: &CheckedKsr<'_>,
    schema_name: &str,
    keys: &dyn KeySource,
) -> Result<SkrPlan, Vec<Finding>> {
    let (ksr, config) = (checked.ksr(), checked.config());
    let mut sink = Sink::new(DocumentRole::NewSkr);
    let schema = match resolve(config, schema_name, ksr.bundles.len()) {
        Ok(schema) => schema,
        Err(message) => {
            sink.error(CheckCode::SignSchema, message);
            return Err(sink.findings);
        }
    };
    if let Some(previous) = checked.previous()
        && config.request_policy.check_chain_keys_in_hsm
    {
        chain_keys_in_hsm(previous, keys, &mut sink);
    }
    let ksks = read_ksks(config, &schema, &ksr.domain, keys, &mut sink);
    stop_on_errors(&mut sink)?;
    sink.unless_disabled(
        config.request_policy.check_key_tag_clashes,
        &[CheckCode::KeyTagClash],
        "check_key_tag_clashes",
        |sink| hsm_tag_clashes(ksr, &ksks, sink),
    );
    for (index, (bundle, action)) in ksr.bundles.iter().zip(&schema).enumerate() {
        validity(index + 1, bundle, action, &ksks, &mut sink);
    }
    stop_on_errors(&mut sink)?;

    let ttl = config.ksk_policy.ttl;
    let bundles: Vec<Bundle> = ksr
        .bundles
        .iter()
        .zip(&schema)
        .enumerate()
        .map(|(index, (request, action))| {
            plan_bundle(ksr, ttl, &ksks, index + 1, request, action, &mut sink)
        })
        .collect();
    stop_on_errors(&mut sink)?;
    let skr = assemble(ksr, config, bundles.clone());
    sink.findings.extend(check_response(
        &skr,
        ksr,
        checked.previous(),
        config,
        Some(&schema),
    ));
    // Said now, before the officers are asked: the signing step checks
    // the assembled bundles only when this is on.
    sink.unless_disabled(
        config.response_policy.validate_signatures,
        &[CheckCode::SignBundleSigs],
        "response_policy.validate_signatures",
        |_| {},
    );
    stop_on_errors(&mut sink)?;
    Ok(SkrPlan {
        ksr: ksr.clone(),
        previous: checked.previous().cloned(),
        config: config.clone(),
        schema,
        ksks,
        bundles,
        findings: sink.findings,
    })
}

impl SkrPlan {
    /// The bundles as they will be signed (signature bytes empty).
    pub fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }

    /// The schema's action of each bundle.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The KSKs the plan uses: configured name, HSM label, DNSKEY with
    /// Flags 257.
    pub fn ksks(&self) -> impl Iterator<Item = (&str, &str, &Dnskey)> {
        self.ksks
            .iter()
            .map(|(name, ksk)| (name.as_str(), ksk.config.label.as_str(), &ksk.dnskey))
    }

    /// The warnings of the planning stages.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The KSR planned for.
    pub fn ksr(&self) -> &Ksr {
        &self.ksr
    }

    /// Signs the plan: each RRSIG through `signer`, each signature verified
    /// in software before use (`SKR-VERIFY`) against the key the plan read
    /// (a key changed since is `SIGN-KEY-LOOKUP`). The assembled SKR then
    /// passes the SKR checks (`SIGN-BUNDLE-SIGS`) and stage 6 again, and
    /// it is serialized and read back equal (`SKR-REREAD`).
    ///
    /// # Errors
    ///
    /// See [`BuildError`]; on any error there is no SKR.
    pub fn sign(&self, signer: &dyn BundleSigner) -> Result<Signed, BuildError> {
        let mut sink = Sink::new(DocumentRole::NewSkr);
        for (name, ksk) in &self.ksks {
            let same = signer
                .public_key(&ksk.config.label)
                .is_ok_and(|now| now.with_flags(Flags::KSK) == ksk.dnskey);
            if !same {
                sink.error(
                    CheckCode::SignKeyLookup,
                    format!(
                        "KSK {name} (label {}): the HSM no longer holds the key the plan was made with",
                        ksk.config.label
                    ),
                );
            }
        }
        stop_on_errors(&mut sink).map_err(BuildError::Rejected)?;
        let domain = &self.ksr.domain;
        let mut bundles = self.bundles.clone();
        for (index, bundle) in bundles.iter_mut().enumerate() {
            let inputs: Vec<Vec<u8>> = bundle
                .signatures
                .iter()
                .map(|signature| signature.rrsig.signing_input(domain, bundle.dnskeys()))
                .collect();
            let mut made = Vec::with_capacity(inputs.len());
            for (signature, input) in bundle.signatures.iter().zip(&inputs) {
                let label = &signature.key_identifier;
                let bytes = signer
                    .sign(label, input)
                    .map_err(|source| BuildError::Signer {
                        label: label.clone(),
                        source,
                    })?;
                made.push(bytes);
            }
            let number = index + 1;
            for (signature, (input, bytes)) in
                bundle.signatures.iter_mut().zip(inputs.iter().zip(made))
            {
                signature.rrsig.signature = bytes;
                let Some(key) = bundle
                    .keys
                    .iter()
                    .find(|k| k.identifier == signature.key_identifier)
                else {
                    continue; // planned from the key set: not reachable
                };
                if let Err(err) = verify(&key.dnskey, input, &signature.rrsig.signature) {
                    sink.findings.push(
                        Finding::error(
                            CheckCode::SkrVerify,
                            DocumentRole::NewSkr,
                            format!("the signature the HSM made does not verify: {err}"),
                        )
                        .in_bundle(number, &bundle.id)
                        .about_key(&key.identifier, key.dnskey.key_tag()),
                    );
                }
            }
        }
        stop_on_errors(&mut sink).map_err(BuildError::Rejected)?;
        let skr = assemble(&self.ksr, &self.config, bundles);
        if self.config.response_policy.validate_signatures {
            bundle_signatures(&skr, &mut sink);
        }
        // Stage 6 again on what was signed; its warnings were the plan's.
        sink.findings.extend(
            check_response(
                &skr,
                &self.ksr,
                self.previous.as_ref(),
                &self.config,
                Some(&self.schema),
            )
            .into_iter()
            .filter(Finding::is_error),
        );
        stop_on_errors(&mut sink).map_err(BuildError::Rejected)?;
        let xml = write_skr(&skr);
        let skr = reread(&xml, &skr).map_err(BuildError::Rejected)?;
        Ok(Signed {
            skr,
            xml,
            findings: self.findings.clone(),
        })
    }
}

/// Plans and signs in one step, for callers that hold an active signer
/// already (tests, benchmarks).
///
/// # Errors
///
/// The planning findings ([`BuildError::Rejected`]), or see
/// [`SkrPlan::sign`].
pub fn build_skr(
    checked: &CheckedKsr<'_>,
    schema_name: &str,
    signer: &dyn BundleSigner,
) -> Result<Signed, BuildError> {
    plan_skr(checked, schema_name, signer)
        .map_err(BuildError::Rejected)?
        .sign(signer)
}

/// The SKR of some bundles: the KSR's id, serial, domain and ZSK policy,
/// and the KSK policy of the bundles' keys.
fn assemble(ksr: &Ksr, config: &Config, bundles: Vec<Bundle>) -> Skr {
    Skr {
        id: ksr.id.clone(),
        serial: ksr.serial,
        domain: ksr.domain.clone(),
        timestamp: None,
        ksk_policy: ksk_policy(config, &bundles),
        zsk_policy: ksr.zsk_policy.clone(),
        bundles,
    }
}

//------------ The KSKs ------------------------------------------------------

/// A KSK as the HSM holds it, checked against its configuration.
#[derive(Clone, Debug)]
struct Ksk {
    config: KskConfig,
    /// The public key with Flags 257.
    dnskey: Dnskey,
}

/// Reads every KSK the schema names from the HSM, once each, and checks
/// it against its configuration. A key that fails is left out, with its
/// findings.
fn read_ksks(
    config: &Config,
    schema: &Schema,
    domain: &DomainName,
    keys: &dyn KeySource,
    sink: &mut Sink,
) -> BTreeMap<String, Ksk> {
    let names: BTreeSet<&str> = schema.iter().flat_map(Action::names).collect();
    let mut ksks = BTreeMap::new();
    for (name, config_key) in config
        .keys
        .iter()
        .filter(|(name, _)| names.contains(name.as_str()))
    {
        match hsm_key(config_key, keys, domain) {
            Ok(dnskey) => {
                ksks.insert(
                    name.clone(),
                    Ksk {
                        config: config_key.clone(),
                        dnskey,
                    },
                );
            }
            Err((code, message)) => sink.error(
                code,
                format!("KSK {name} (label {}): {message}", config_key.label),
            ),
        }
    }
    ksks
}

/// `KSR-CHAIN-KEYS.1` against the HSM: each key that signed SKR(n-1)'s
/// last bundle is held by the HSM under its keyIdentifier, with the same
/// public key. The public keys are readable while the HSM is sealed.
fn chain_keys_in_hsm(previous: &Skr, keys: &dyn KeySource, sink: &mut Sink) {
    let Some(last) = previous.bundles.last() else {
        return;
    };
    let number = previous.bundles.len();
    for signature in &last.signatures {
        let Some(key) = last.key(&signature.key_identifier) else {
            continue; // SKR-PREV-SIGS reports it
        };
        let problem = match keys.public_key(&signature.key_identifier) {
            Ok(held)
                if held.algorithm() == key.dnskey.algorithm()
                    && held.public_key() == key.dnskey.public_key() =>
            {
                continue;
            }
            Ok(_) => "the HSM's key of that label has another public key".to_owned(),
            Err(err) => format!("this HSM does not hold it ({})", err.message),
        };
        sink.findings.push(
            Finding::error(
                CheckCode::ChainKeysHsm,
                DocumentRole::PreviousSkr,
                format!(
                    "KSK {:?} (tag {}) signed the previous SKR's last bundle, but {problem}",
                    key.identifier,
                    key.dnskey.with_flags(Flags::KSK).key_tag()
                ),
            )
            .in_bundle(number, &last.id)
            .about_key(&key.identifier, key.dnskey.key_tag()),
        );
    }
}

/// Reads a KSK from the HSM and checks it against its configuration:
/// algorithm and RSA parameters, key tag and DS pins (`SIGN-KEY-LOOKUP`,
/// `-LABEL`, `-TYPE`, `-TAG`, `-DS`).
fn hsm_key(
    config_key: &KskConfig,
    keys: &dyn KeySource,
    domain: &DomainName,
) -> Result<Dnskey, (CheckCode, String)> {
    let dnskey = keys
        .public_key(&config_key.label)
        .map_err(|err| match err.kind {
            SignerErrorKind::Ambiguous => (CheckCode::SignKeyLabel, err.message),
            SignerErrorKind::NotFound | SignerErrorKind::Failed => {
                (CheckCode::SignKeyLookup, err.message)
            }
        })?
        .with_flags(Flags::KSK);

    let mnemonic = dnskey.algorithm().mnemonic().unwrap_or("unknown");
    if mnemonic != config_key.algorithm {
        return Err((
            CheckCode::SignKeyType,
            format!(
                "the HSM key is {mnemonic}, the configuration says {}",
                config_key.algorithm
            ),
        ));
    }
    let public = dnskey
        .decode_public_key()
        .map_err(|err| (CheckCode::SignKeyType, format!("the HSM key: {err}")))?;
    if let PublicKey::Rsa { .. } = public {
        let (bits, exponent) = (public.size_bits(), public.rsa_exponent());
        if config_key.rsa_size.is_some_and(|size| size != bits) {
            return Err((
                CheckCode::SignKeyType,
                format!(
                    "the HSM key has {bits} bits, rsa_size is {}",
                    config_key.rsa_size.unwrap_or_default()
                ),
            ));
        }
        if config_key
            .rsa_exponent
            .is_some_and(|configured| Some(configured) != exponent)
        {
            return Err((
                CheckCode::SignKeyType,
                format!(
                    "the HSM key's exponent is {}, rsa_exponent is {}",
                    exponent.map_or_else(|| "over 64 bits".into(), |e| e.to_string()),
                    config_key.rsa_exponent.unwrap_or_default()
                ),
            ));
        }
    }
    if dnskey.key_tag().to_int() != config_key.key_tag {
        return Err((
            CheckCode::SignKeyTag,
            format!(
                "the HSM key has tag {}, key_tag is {}",
                dnskey.key_tag(),
                config_key.key_tag
            ),
        ));
    }
    let ds = Ds::compute(domain, &dnskey, DigestType::Sha256).digest_hex();
    if !ds.eq_ignore_ascii_case(&config_key.ds_sha256) {
        return Err((
            CheckCode::SignKeyDs,
            format!(
                "the HSM key's DS is {ds}, ds_sha256 is {}",
                config_key.ds_sha256
            ),
        ));
    }
    Ok(dnskey)
}

/// `KSR-KEYTAG-CLASH`, second pass: no ZSK of the KSR has the Flags-257 or
/// Flags-385 tag of a KSK read from the signer.
fn hsm_tag_clashes(ksr: &Ksr, ksks: &BTreeMap<String, Ksk>, sink: &mut Sink) {
    let mut tags: BTreeMap<KeyTag, String> = BTreeMap::new();
    for ksk in ksks.values() {
        for flags in [Flags::KSK, Flags::REVOKED_KSK] {
            tags.insert(
                ksk.dnskey.with_flags(flags).key_tag(),
                format!("KSK {} with Flags {flags}", ksk.config.label),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        for key in &bundle.keys {
            let tag = key.dnskey.key_tag();
            if !seen.insert((key.identifier.as_str(), tag)) {
                continue;
            }
            if let Some(owner) = tags.get(&tag) {
                sink.key_error(
                    CheckCode::KeyTagClash,
                    index + 1,
                    bundle,
                    key,
                    format!("key tag {tag} is also the tag of {owner} in the HSM"),
                );
            }
        }
    }
}

/// `SIGN-KEY-VALIDITY`: every KSK the action uses is valid for the whole
/// bundle.
fn validity(
    number: usize,
    bundle: &Bundle,
    action: &Action,
    ksks: &BTreeMap<String, Ksk>,
    sink: &mut Sink,
) {
    let names: BTreeSet<&str> = action.names().collect();
    for ksk in names.iter().filter_map(|name| ksks.get(*name)) {
        let key = &ksk.config;
        let until_ok = key
            .valid_until
            .is_none_or(|until| until >= bundle.expiration);
        if key.valid_from > bundle.inception || !until_ok {
            sink.bundle_error(
                CheckCode::SignKeyValidity,
                number,
                bundle,
                format!(
                    "KSK {} is valid {} … {}, the bundle runs {} … {}",
                    key.label,
                    key.valid_from,
                    key.valid_until
                        .map_or_else(|| "open".to_owned(), |until| until.to_string()),
                    bundle.inception,
                    bundle.expiration
                ),
            );
        }
    }
}

//------------ One bundle ----------------------------------------------------

/// Plans response bundle `number`: its DNSKEY RRset (the action's KSKs,
/// revoked ones with Flags 385, then the request's ZSKs, all with the KSK
/// TTL) and one RRSIG per signing KSK with the bundle's inception and
/// expiration, its signature bytes empty. Check failures go to the sink.
fn plan_bundle(
    ksr: &Ksr,
    ttl: u32,
    ksks: &BTreeMap<String, Ksk>,
    number: usize,
    request: &Bundle,
    action: &Action,
    sink: &mut Sink,
) -> Bundle {
    let names: BTreeSet<&str> = action.names().collect();
    let mut keys: Vec<Key> = Vec::new();
    for (name, ksk) in ksks
        .iter()
        .filter(|(name, _)| names.contains(name.as_str()))
    {
        let flags = if action.revoke.iter().any(|revoked| revoked == name) {
            Flags::REVOKED_KSK
        } else {
            Flags::KSK
        };
        let dnskey = ksk.dnskey.with_flags(flags);
        keys.push(Key {
            identifier: ksk.config.label.clone(),
            key_tag: dnskey.key_tag(),
            ttl,
            dnskey,
        });
    }
    keys.extend(request.keys.iter().map(|zsk| Key { ttl, ..zsk.clone() }));
    let mut bundle = Bundle {
        id: request.id.clone(),
        inception: request.inception,
        expiration: request.expiration,
        signers: Vec::new(),
        keys,
        signatures: Vec::new(),
    };
    ttl_guard(number, &bundle, ttl, sink);
    distinct_tags(number, &bundle, sink);
    let signing: BTreeSet<&str> = action.sign.iter().map(String::as_str).collect();
    let domain = &ksr.domain;
    for ksk in signing.iter().filter_map(|name| ksks.get(*name)) {
        let label = &ksk.config.label;
        let Some(key) = bundle.key(label) else {
            // Not reachable: the key set holds every signing KSK.
            sink.bundle_error(
                CheckCode::SignSchema,
                number,
                &bundle,
                format!("signing key {label} is not in the key set"),
            );
            continue;
        };
        let rrsig = Rrsig {
            algorithm: key.dnskey.algorithm(),
            labels: domain.rrsig_labels(),
            original_ttl: ttl,
            expiration: bundle.expiration,
            inception: bundle.inception,
            key_tag: key.dnskey.key_tag(),
            signer_name: domain.clone(),
            signature: Vec::new(),
        };
        bundle.signatures.push(Signature {
            key_identifier: label.clone(),
            ttl,
            rrsig,
        });
    }
    coverage(number, &bundle, request, sink);
    sort_as_written(&mut bundle);
    bundle
}

/// `SIGN-TTL`: every key of the RRset to be signed has the KSK TTL, and
/// that TTL is one a resolver keeps (at most 2^31 − 1, RFC 2181 §8: "a
/// value ... with the most significant bit set ... should be treated as
/// ... zero"). The builder sets the keys' TTL, so the first half guards the
/// construction; the second catches a policy that would sign an RRset no
/// resolver caches.
fn ttl_guard(number: usize, bundle: &Bundle, ttl: u32, sink: &mut Sink) {
    if ttl > i32::MAX.unsigned_abs() {
        sink.bundle_error(
            CheckCode::SignTtl,
            number,
            bundle,
            format!("ksk_policy.ttl {ttl} is over 2147483647 (RFC 2181 §8)"),
        );
    }
    for key in bundle.keys.iter().filter(|key| key.ttl != ttl) {
        sink.key_error(
            CheckCode::SignTtl,
            number,
            bundle,
            key,
            format!("TTL {}, ksk_policy.ttl is {ttl}", key.ttl),
        );
    }
}

/// `KSR-KEYTAG-CLASH`, second pass: the keys of a new bundle, with their
/// final flags, have distinct tags.
fn distinct_tags(number: usize, bundle: &Bundle, sink: &mut Sink) {
    let mut tags: BTreeMap<KeyTag, &str> = BTreeMap::new();
    for key in &bundle.keys {
        if let Some(other) = tags.insert(key.dnskey.key_tag(), &key.identifier) {
            sink.key_error(
                CheckCode::KeyTagClash,
                number,
                bundle,
                key,
                format!(
                    "key tag {} is also the tag of {other:?} in this bundle",
                    key.dnskey.key_tag()
                ),
            );
        }
    }
}

/// `SIGN-ALG-COVERAGE`: the bundle's ZSK algorithms are exactly its
/// signature algorithms (RFC 6840 §5.11).
fn coverage(number: usize, bundle: &Bundle, request: &Bundle, sink: &mut Sink) {
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
        sink.bundle_error(
            CheckCode::SignAlgCoverage,
            number,
            bundle,
            format!(
                "the ZSKs use {}, the KSK signatures {}",
                names(&zsk),
                names(&ksk)
            ),
        );
    }
}

//------------ The whole SKR -------------------------------------------------

/// `SIGN-BUNDLE-SIGS`: the assembled SKR passes the checks an SKR(n-1)
/// must pass; each error is reported under this code with the original.
fn bundle_signatures(skr: &Skr, sink: &mut Sink) {
    for finding in check_skr(skr, DocumentRole::NewSkr) {
        sink.findings.push(Finding {
            code: CheckCode::SignBundleSigs,
            message: format!("{}: {}", finding.code, finding.message),
            ..finding
        });
    }
}

/// `SKR-REREAD`: the serialized SKR parses, passes the SKR checks and is
/// equal to what was built. Returns the SKR as read.
fn reread(xml: &str, built: &Skr) -> Result<Skr, Vec<Finding>> {
    let error = |message: String| {
        vec![Finding::error(
            CheckCode::SkrReread,
            DocumentRole::NewSkr,
            message,
        )]
    };
    let skr = parse_skr(xml.as_bytes(), DocumentRole::NewSkr).map_err(|findings| {
        let first = findings
            .first()
            .map_or_else(String::new, |finding| finding.to_string());
        error(format!("the written SKR does not parse: {first}"))
    })?;
    if let Some(finding) = check_skr(&skr, DocumentRole::NewSkr).first() {
        return Err(error(format!(
            "the written SKR fails its checks: {finding}"
        )));
    }
    if &skr != built {
        return Err(error("the written SKR reads back different".into()));
    }
    Ok(skr)
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
            PublicKey::Rsa { .. } => AlgorithmParameters::Rsa {
                size,
                exponent: public.rsa_exponent().unwrap_or(0),
            },
            PublicKey::Ecdsa { .. } => AlgorithmParameters::Ecdsa { size },
            PublicKey::Eddsa { .. } => AlgorithmParameters::Eddsa { size },
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "a panic in a test is a failing test"
    )]

    use super::*;
    use crate::xml::parse_ksr;

    fn vector(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors")
            .join(name);
        std::fs::read(path).expect("the shared vectors sit beside the repository")
    }

    fn real_skr() -> Skr {
        parse_skr(&vector("skr-root-2017-q2-0.xml"), DocumentRole::NewSkr).unwrap()
    }

    fn codes(sink: &Sink) -> Vec<CheckCode> {
        sink.findings.iter().map(|finding| finding.code).collect()
    }

    #[test]
    fn a_key_with_another_ttl_is_caught_before_signing() {
        let mut bundle = real_skr().bundles[0].clone();
        let mut sink = Sink::new(DocumentRole::NewSkr);
        ttl_guard(1, &bundle, 172_800, &mut sink);
        assert_eq!(codes(&sink), []);
        bundle.keys[1].ttl = 3600;
        ttl_guard(1, &bundle, 172_800, &mut sink);
        assert_eq!(codes(&sink), [CheckCode::SignTtl]);
    }

    #[test]
    fn two_keys_of_a_bundle_with_one_tag_are_caught() {
        let mut bundle = real_skr().bundles[0].clone();
        let mut sink = Sink::new(DocumentRole::NewSkr);
        distinct_tags(1, &bundle, &mut sink);
        assert_eq!(codes(&sink), []);
        let zsk = bundle.keys[1].clone();
        let twin = Key {
            identifier: "twin".into(),
            dnskey: with_tag(&zsk.dnskey, zsk.dnskey.key_tag()),
            ..zsk
        };
        bundle.keys.push(twin);
        distinct_tags(1, &bundle, &mut sink);
        assert_eq!(codes(&sink), [CheckCode::KeyTagClash]);
    }

    /// Returns the key with its last two public-key octets changed so that
    /// its tag is `tag` (the tag is a one's-complement-style sum, so some
    /// pair of octets reaches every value).
    fn with_tag(key: &Dnskey, tag: KeyTag) -> Dnskey {
        let mut public = key.public_key().to_vec();
        let at = public.len() - 2;
        // Two octets before them changed too, so even the key's own tag
        // comes out of other RDATA.
        for octet in &mut public[at - 2..at] {
            *octet ^= 0xff;
        }
        for value in 0..=u16::MAX {
            public[at..].copy_from_slice(&value.to_be_bytes());
            let candidate =
                Dnskey::new(key.flags(), key.protocol(), key.algorithm(), public.clone());
            if candidate.key_tag() == tag && candidate != *key {
                return candidate;
            }
        }
        panic!("no octets give tag {tag}");
    }

    #[test]
    fn a_zsk_with_the_revoked_tag_of_an_hsm_key_is_caught() {
        let config = Config::default();
        let skr = real_skr();
        let ksk_2010 = skr.bundles[0].key("Kjqmt7v").unwrap().dnskey.clone();
        let ksks = BTreeMap::from([(
            "ksk_2010".to_owned(),
            Ksk {
                config: config.keys["ksk_2010"].clone(),
                dnskey: ksk_2010.clone(),
            },
        )]);
        let mut ksr = parse_ksr(&vector("ksr-root-2017-q2-0.xml"), DocumentRole::Ksr).unwrap();
        let mut sink = Sink::new(DocumentRole::NewSkr);
        hsm_tag_clashes(&ksr, &ksks, &mut sink);
        assert_eq!(codes(&sink), []);
        let revoked = ksk_2010.with_flags(Flags::REVOKED_KSK).key_tag();
        let zsk = &mut ksr.bundles[3].keys[0];
        zsk.dnskey = with_tag(&zsk.dnskey, revoked);
        hsm_tag_clashes(&ksr, &ksks, &mut sink);
        assert_eq!(codes(&sink), [CheckCode::KeyTagClash]);
        assert!(
            sink.findings[0].message.contains("Flags 385"),
            "{}",
            sink.findings[0]
        );
    }

    #[test]
    fn an_assembled_bundle_with_a_bad_signature_is_caught() {
        let mut skr = real_skr();
        let mut sink = Sink::new(DocumentRole::NewSkr);
        bundle_signatures(&skr, &mut sink);
        assert_eq!(codes(&sink), []);
        skr.bundles[6].signatures[0].rrsig.signature[9] ^= 4;
        bundle_signatures(&skr, &mut sink);
        assert_eq!(codes(&sink), [CheckCode::SignBundleSigs]);
        assert!(sink.findings[0].message.starts_with("SKR-PREV-SIGS"));
    }

    #[test]
    fn what_is_written_must_read_back_equal_and_clean() {
        let mut skr = real_skr();
        skr.bundles.iter_mut().for_each(sort_as_written);
        let xml = write_skr(&skr);
        assert_eq!(reread(&xml, &skr).unwrap(), skr);
        let mut other = skr.clone();
        other.serial += 1;
        let findings = reread(&xml, &other).unwrap_err();
        assert_eq!(findings[0].code, CheckCode::SkrReread);
        assert!(findings[0].message.contains("reads back different"));
        let truncated = &xml[..xml.len() / 2];
        let findings = reread(truncated, &skr).unwrap_err();
        assert!(findings[0].message.contains("does not parse"));
        let mut broken = skr.clone();
        broken.bundles[2].signatures[0].rrsig.signature[0] ^= 1;
        let findings = reread(&write_skr(&broken), &broken).unwrap_err();
        assert!(
            findings[0].message.contains("fails its checks"),
            "{}",
            findings[0]
        );
    }
}

//! Text-format (Knot DNS / BIND) documents: the checks that apply to them
//! (`ksr-checks.md`, "Text inputs" and "Stage-2 checks for a text KSR"),
//! the signing points of the SKR (`ksr-skr-format.md` §5.4), and the
//! builder that signs them through the same engine as XML.
//!
//! A text KSR is mapped to the document model (§5.6) and runs the same
//! stages as an XML one; the findings of checks that need what the format
//! lacks (proofs of possession, ids, policy claims, the root's schedule)
//! are dropped, and the text checks are added.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::CheckedKsr;
use crate::checks::sink::Sink;
use crate::dnssec::time::Timestamp;
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{Bundle, Ksr, Skr};
use crate::policy::Config;
use crate::response::{BuildError, BundleSigner, KeySource, SkrPlan, plan_skr, resolve};
use crate::text::{
    Dialect, TextKey, TextKsr, TextResponseBundle, TextSignature, TextSkr, bundle_id,
    parse_text_skr, write_text_skr,
};

/// The checks that do not apply to a text KSR or its text SKR(n-1).
const NOT_APPLICABLE: &[CheckCode] = &[
    CheckCode::BundlePopShape,
    CheckCode::BundlePopSignature,
    CheckCode::BundlePopEveryKey,
    CheckCode::BundleKeysSame,
    CheckCode::BundleKeysTag,
    CheckCode::BundleId,
    CheckCode::BundleUniqueInKsr,
    CheckCode::BundleUniqueAcross,
    CheckCode::KsrId,
    CheckCode::PolicyAlgKeyMatch,
    CheckCode::PolicySigOverlap,
    CheckCode::PolicySigValidityMin,
    CheckCode::PolicySigValidityMax,
    CheckCode::BundleCount,
    CheckCode::BundleCycleDuration,
    CheckCode::PolicyKeysBundles,
    CheckCode::PolicyKeysPerBundle,
    CheckCode::PolicyKeysDistinct,
    CheckCode::PolicyBundleIntervals,
    CheckCode::ChainOverlap,
    CheckCode::SkrPrevCount,
];

fn applies(finding: &Finding) -> bool {
    if NOT_APPLICABLE.contains(&finding.code) {
        return false;
    }
    // A switched-off check that does not apply is not worth a warning.
    !(finding.code == CheckCode::CheckDisabled
        && NOT_APPLICABLE
            .iter()
            .any(|code| finding.message.starts_with(code.as_str())))
}

//------------ TextRequest ---------------------------------------------------

/// What checking a text KSR needs.
#[derive(Clone, Copy, Debug)]
pub struct TextRequest<'a> {
    /// The KSR.
    pub ksr: &'a TextKsr,
    /// SKR(n-1), in the text format too.
    pub previous: Option<&'a TextSkr>,
    /// The policy.
    pub config: &'a Config,
    /// The evaluation instant.
    pub now: Timestamp,
    /// The end of the last KSR bundle's span (BIND's `-e`); without it the
    /// last bundle is signed once, at its time.
    pub end: Option<Timestamp>,
}

//------------ CheckedText ---------------------------------------------------

/// A text KSR that passed its checks without an error, with the signing
/// points of its SKR. [`plan_text_skr`] takes nothing else.
#[derive(Clone, Debug)]
pub struct CheckedText<'a> {
    request: TextRequest<'a>,
    /// Each SKR bundle: its time and the index of its KSR bundle.
    points: Vec<(Timestamp, usize)>,
    /// The KSR expanded to one bundle per signing point, spanning its
    /// signatures' validity.
    expanded: Ksr,
    /// The RRset TTL: the KSR's.
    ttl: u32,
    findings: Vec<Finding>,
}

impl<'a> CheckedText<'a> {
    /// Runs the checks of a text KSR: stage 2 as far as it applies, the
    /// previous text SKR (stage 3) and the chain to it (stage 4), with
    /// `TXT-KSR-ZSK-ONLY`, `TXT-KSR-UNAUTHENTICATED` (always, a warning)
    /// and `TXT-CHAIN-GAP`.
    ///
    /// # Errors
    ///
    /// Every finding, when one of them is an error.
    pub fn check(request: &TextRequest<'a>) -> Result<Self, Vec<Finding>> {
        let findings = validate_text_request(request);
        if findings.iter().any(Finding::is_error) {
            return Err(findings);
        }
        let policy = &request.config.text;
        let step = policy
            .text_rrsig_validity
            .as_seconds()
            .saturating_sub(policy.text_rrsig_refresh.as_seconds())
            .max(1);
        let bundles = &request.ksr.bundles;
        let mut points = Vec::new();
        for (index, bundle) in bundles.iter().enumerate() {
            let until = bundles.get(index + 1).map(|next| next.time).or(request.end);
            let mut time = bundle.time;
            points.push((time, index));
            if let Some(until) = until {
                while let Some(next) = time.checked_add(step).filter(|next| *next < until) {
                    points.push((next, index));
                    time = next;
                }
            }
        }
        let ttl = bundles
            .first()
            .and_then(|bundle| bundle.keys.first())
            .map_or(request.config.ksk_policy.ttl, |key| key.ttl);
        let mut problems = Vec::new();
        if points.len() > 256 {
            problems.push(Finding::error(
                CheckCode::ParseLimits,
                DocumentRole::Ksr,
                format!(
                    "the SKR would have {} bundles, more than the 256 an SKR may hold: ask for a shorter period",
                    points.len()
                ),
            ));
        }
        if i64::from(policy.text_rrsig_refresh.as_seconds()) < i64::from(ttl) {
            problems.push(Finding::error(
                CheckCode::ToolConfig,
                DocumentRole::Ksr,
                format!(
                    "text.text_rrsig_refresh {} is below the KSR's TTL {ttl} s: signatures would lapse while cached (TXT-SKR-GAP)",
                    policy.text_rrsig_refresh
                ),
            ));
        }
        if points.iter().any(|(time, _)| {
            time.checked_add(policy.text_rrsig_validity.as_seconds())
                .is_none()
        }) {
            problems.push(Finding::error(
                CheckCode::TxtParseHeader,
                DocumentRole::Ksr,
                "a signature would expire after 2106, beyond what an RRSIG can say",
            ));
        }
        if !problems.is_empty() {
            let mut all = findings;
            all.extend(problems);
            return Err(all);
        }
        let keys = request.ksr.to_model(Timestamp::from_unix(u32::MAX));
        let (backdate, validity) = (
            policy.text_rrsig_backdate.as_seconds(),
            policy.text_rrsig_validity.as_seconds(),
        );
        let expanded = Ksr {
            bundles: points
                .iter()
                .map(|(time, index)| Bundle {
                    id: bundle_id(*time),
                    inception: Timestamp::from_unix(time.to_unix().saturating_sub(backdate)),
                    expiration: time.checked_add(validity).unwrap_or(*time),
                    signers: Vec::new(),
                    keys: keys
                        .bundles
                        .get(*index)
                        .map(|b| b.keys.clone())
                        .unwrap_or_default(),
                    signatures: Vec::new(),
                })
                .collect(),
            ..keys
        };
        Ok(Self {
            request: *request,
            points,
            expanded,
            ttl,
            findings,
        })
    }

    /// The KSR.
    pub fn ksr(&self) -> &'a TextKsr {
        self.request.ksr
    }

    /// The times of the SKR's bundles, with the index of the KSR bundle
    /// each belongs to.
    pub fn points(&self) -> &[(Timestamp, usize)] {
        &self.points
    }

    /// The warnings and infos of the checks.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// Stages 2 to 4 of the document model, as far as they apply to text: the
/// request checks (without the proof-of-possession ones of `check_ksr`),
/// SKR(n-1) by itself, and the chain, which runs only when no applicable
/// check found an error.
fn text_stages(ksr: &Ksr, previous: Option<&Skr>, config: &Config, now: Timestamp) -> Vec<Finding> {
    let mut stage2 = Sink::new(DocumentRole::Ksr);
    super::request::check(ksr, config, now, previous, &mut stage2);
    let mut findings: Vec<Finding> = stage2.findings.into_iter().filter(applies).collect();
    let Some(previous) = previous else {
        findings.push(Finding::warning(
            CheckCode::ToolPrevSkr,
            DocumentRole::Ksr,
            "no previous SKR given: the chain (stages 3, 4 and 6) was not checked",
        ));
        return findings;
    };
    let mut stage3 = Sink::new(DocumentRole::PreviousSkr);
    super::previous::check(previous, config, &mut stage3);
    findings.extend(stage3.findings.into_iter().filter(applies));
    if findings.iter().any(Finding::is_error) {
        findings.push(Finding {
            severity: crate::findings::Severity::Info,
            ..Finding::error(
                CheckCode::StageSkipped,
                DocumentRole::Ksr,
                "stage 4 (the chain to the previous SKR) did not run: the KSR or the previous SKR has errors",
            )
        });
        return findings;
    }
    let mut stage4 = Sink::new(DocumentRole::Ksr);
    super::chain::check(ksr, previous, config, &mut stage4);
    findings.extend(stage4.findings.into_iter().filter(applies));
    findings
}

/// Runs the checks of a text KSR and returns every finding.
pub fn validate_text_request(request: &TextRequest<'_>) -> Vec<Finding> {
    let TextRequest {
        ksr,
        previous,
        config,
        now,
        end,
    } = *request;
    let mut findings = Vec::new();
    let last = ksr
        .bundles
        .last()
        .map_or(Timestamp::from_unix(0), |b| b.time);
    if let Some(end) = end
        && end <= last
    {
        findings.push(Finding::error(
            CheckCode::TxtParseHeader,
            DocumentRole::Ksr,
            format!("the end {end} is not after the last header time {last}"),
        ));
        return findings;
    }
    // The last signature made expires at most a validity after the end
    // (or the last header): the horizon is checked on that.
    let last_until = end
        .unwrap_or(last)
        .checked_add(config.text.text_rrsig_validity.as_seconds())
        .unwrap_or(Timestamp::from_unix(u32::MAX));
    let model = ksr.to_model(last_until);
    let previous_model = previous.map(TextSkr::to_model);
    findings.extend(
        text_stages(&model, previous_model.as_ref(), config, now)
            .into_iter()
            .filter(|finding| finding.code != CheckCode::PolicyTtl),
    );
    // A text SKR keeps the KSR's TTL (Knot and BIND take it from the
    // records); one warning says so when it is not the policy's.
    let expected = config.ksk_policy.ttl;
    if let Some(ttl) = ksr
        .bundles
        .iter()
        .flat_map(|bundle| bundle.keys.iter().map(|key| key.ttl))
        .find(|ttl| *ttl != expected)
        && config.request_policy.check_ksr_ttl
    {
        findings.push(Finding::warning(
            CheckCode::PolicyTtl,
            DocumentRole::Ksr,
            format!("TTL {ttl} differs from ksk_policy.ttl {expected}: the text SKR keeps the KSR's TTL {ttl}, as Knot DNS and BIND expect"),
        ));
    }
    findings.push(Finding::warning(
        CheckCode::TxtKsrUnauthenticated,
        DocumentRole::Ksr,
        format!(
            "a text KSR carries no proof of possession: compare its SHA-256 (and the ZSK set's) out of band with the ZSK operator's{}",
            if previous.is_some() { "" } else { ", and give the previous SKR so the first key set is chained to it" }
        ),
    ));
    for (index, bundle) in model.bundles.iter().enumerate() {
        for key in &bundle.keys {
            let flags = key.dnskey.flags().to_int();
            if flags != 256 || key.dnskey.protocol() != 3 {
                findings.push(
                    Finding::error(
                        CheckCode::TxtKsrZskOnly,
                        DocumentRole::Ksr,
                        format!(
                            "Flags {flags} and Protocol {}: a text KSR holds ZSKs only (256, 3)",
                            key.dnskey.protocol()
                        ),
                    )
                    .in_bundle(index + 1, &bundle.id)
                    .about_key(&key.identifier, key.key_tag),
                );
            }
        }
    }
    let ttls: Vec<u32> = ksr
        .bundles
        .iter()
        .filter_map(|bundle| bundle.keys.first().map(|key| key.ttl))
        .collect();
    if ttls.windows(2).any(|pair| pair.first() != pair.get(1)) {
        findings.push(Finding::error(
            CheckCode::TxtParseRr,
            DocumentRole::Ksr,
            format!("the bundles have different TTLs {ttls:?}: the SKR signs one RRset TTL"),
        ));
    }
    if !config.request_policy.check_chain_overlap && previous.is_some() {
        findings.push(Finding::warning(
            CheckCode::CheckDisabled,
            DocumentRole::Ksr,
            "TXT-CHAIN-GAP disabled by check_chain_overlap = false",
        ));
    } else if let (Some(previous), Some(first)) = (previous, ksr.bundles.first()) {
        let latest = previous
            .bundles
            .last()
            .and_then(|bundle| bundle.signatures.iter().map(|s| s.rrsig.expiration).max());
        match latest {
            Some(latest) if first.time > latest => findings.push(Finding::error(
                CheckCode::TxtChainGap,
                DocumentRole::Ksr,
                format!(
                    "the KSR starts at {}, after the previous SKR's last signatures expire ({latest}): a gap with no valid DNSKEY signature",
                    first.time
                ),
            )),
            _ => {}
        }
    }
    findings
}

//------------ build_text_skr ------------------------------------------------

/// A signed text SKR.
#[derive(Clone, Debug)]
pub struct SignedText {
    /// The SKR, as read back from `text`.
    pub skr: TextSkr,
    /// The SKR as it is to be written.
    pub text: String,
    /// Warnings of the signing stages.
    pub findings: Vec<Finding>,
}

/// A text SKR planned in every detail but its signature bytes: the
/// expanded request planned through [`plan_skr`] (so stages 4, 5 and 6 ran
/// on it before any card), the signing points, the dialect to write and
/// whether CDNSKEY/CDS records go with each bundle.
#[derive(Clone, Debug)]
pub struct TextPlan {
    inner: SkrPlan,
    domain: crate::DomainName,
    points: Vec<(Timestamp, usize)>,
    dialect: Dialect,
    cds: crate::TextCds,
    profile: crate::SchemaProfile,
    config: Config,
}

/// Plans a checked text KSR: one SKR bundle per signing point, each with
/// the DNSKEY RRset of its KSR bundle's ZSKs and the KSKs of the schema's
/// action for that KSR bundle, signed by the action's signing KSKs with
/// inception = time − `text_rrsig_backdate` and expiration = time +
/// `text_rrsig_validity`, TTLs the KSR's. Every check of stages 4 (HSM
/// part), 5 and 6 against the expanded request is [`plan_skr`]'s; SKR(n-1)'s
/// KSKs are matched to the HSM's keys by public key.
///
/// # Errors
///
/// Every finding of the planning stages, when one is an error.
pub fn plan_text_skr(
    checked: &CheckedText<'_>,
    schema_name: &str,
    keys: &dyn KeySource,
    dialect: Dialect,
) -> Result<TextPlan, Vec<Finding>> {
    let config = checked.request.config;
    let schema = resolve(config, schema_name, checked.ksr().bundles.len()).map_err(|message| {
        vec![Finding::error(
            CheckCode::SignSchema,
            DocumentRole::NewSkr,
            message,
        )]
    })?;
    let profile = config
        .text
        .text_schema_profile
        .unwrap_or(crate::SchemaProfile::default_for(dialect));
    let schema = profile.apply(schema);
    // The schema by KSR bundle becomes one by signing point, under the
    // same name, in a copy of the policy whose TTL is the KSR's.
    let mut adjusted = config.clone();
    adjusted.ksk_policy.ttl = checked.ttl;
    let expanded: BTreeMap<String, crate::response::Action> = checked
        .points
        .iter()
        .enumerate()
        .filter_map(|(number, (_, index))| {
            schema
                .get(*index)
                .map(|action| ((number + 1).to_string(), action.clone()))
        })
        .collect();
    adjusted.schemas.insert(schema_name.to_owned(), expanded);
    // SKR(n-1) for the chain and safety checks: keys are matched by RDATA
    // (§6 of the checks), so its KSKs take the labels of the HSM's keys
    // with the same public key, as the new SKR's KSKs carry them.
    let previous = checked.request.previous.map(|previous| {
        let mut model = previous.to_model();
        let labels: Vec<(String, crate::Dnskey)> = config
            .keys
            .values()
            .filter_map(|ksk| {
                keys.public_key(&ksk.label)
                    .ok()
                    .map(|dnskey| (ksk.label.clone(), dnskey))
            })
            .collect();
        for key in model
            .bundles
            .iter_mut()
            .flat_map(|bundle| bundle.keys.iter_mut())
        {
            if let Some((label, _)) = labels.iter().find(|(_, hsm)| {
                hsm.algorithm() == key.dnskey.algorithm()
                    && hsm.public_key() == key.dnskey.public_key()
            }) {
                key.identifier.clone_from(label);
            }
        }
        for bundle in &mut model.bundles {
            let keys = bundle.keys.clone();
            for signature in &mut bundle.signatures {
                if let Some(key) = keys.iter().find(|key| {
                    key.key_tag == signature.rrsig.key_tag
                        && key.dnskey.algorithm() == signature.rrsig.algorithm
                }) {
                    signature.key_identifier.clone_from(&key.identifier);
                }
            }
        }
        model
    });
    let internal = CheckedKsr {
        ksr: Cow::Borrowed(&checked.expanded),
        previous: previous.as_ref(),
        config: &adjusted,
        findings: Vec::new(),
    };
    let inner = plan_skr(&internal, schema_name, keys)?;
    Ok(TextPlan {
        inner,
        domain: checked.ksr().domain.clone(),
        points: checked.points.clone(),
        dialect,
        cds: config
            .text
            .text_cds
            .unwrap_or(crate::TextCds::default_for(dialect)),
        profile,
        config: config.clone(),
    })
}

impl TextPlan {
    /// The expanded request's plan: one bundle per signing point.
    pub fn expanded(&self) -> &SkrPlan {
        &self.inner
    }

    /// The dialect the SKR is written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The CDNSKEY/CDS records each bundle carries.
    pub fn cds(&self) -> crate::TextCds {
        self.cds
    }

    /// How the schema was fitted to the requester's server.
    pub fn profile(&self) -> crate::SchemaProfile {
        self.profile
    }

    /// Signs the plan ([`SkrPlan::sign`]), adds the CDNSKEY/CDS records
    /// the policy asks for (signed and verified too), writes the text in
    /// the plan's dialect, reads it back, and requires it to equal what was
    /// signed and pass [`check_text_skr`] (`SKR-REREAD`).
    ///
    /// # Errors
    ///
    /// See [`BuildError`]; on any error there is no SKR.
    pub fn sign(
        &self,
        signer: &dyn BundleSigner,
        generated: Timestamp,
        by: &str,
    ) -> Result<SignedText, BuildError> {
        let reject = |code: CheckCode, message: String| {
            BuildError::Rejected(vec![Finding::error(code, DocumentRole::NewSkr, message)])
        };
        let signed = self.inner.sign(signer)?;
        let mut skr = TextSkr {
            dialect: self.dialect,
            domain: self.domain.clone(),
            id: String::new(),
            bundles: signed
                .skr
                .bundles
                .iter()
                .zip(&self.points)
                .map(|(bundle, (time, _))| TextResponseBundle {
                    time: *time,
                    line: 0,
                    keys: bundle
                        .keys
                        .iter()
                        .map(|key| TextKey {
                            ttl: key.ttl,
                            dnskey: key.dnskey.clone(),
                        })
                        .collect(),
                    signatures: bundle
                        .signatures
                        .iter()
                        .map(|signature| TextSignature {
                            ttl: signature.ttl,
                            rrsig: signature.rrsig.clone(),
                        })
                        .collect(),
                    other: Vec::new(),
                })
                .collect(),
        };
        if self.cds != crate::TextCds::None {
            for (bundle, internal) in skr.bundles.iter_mut().zip(&signed.skr.bundles) {
                let keys = bundle.keys.clone();
                crate::text::cds::add(bundle, &self.domain, self.cds, |like, input| {
                    let label = internal
                        .signatures
                        .iter()
                        .find(|signature| signature.rrsig.key_tag == like.key_tag)
                        .map(|signature| signature.key_identifier.clone())
                        .unwrap_or_default();
                    let signature =
                        signer
                            .sign(&label, input)
                            .map_err(|source| BuildError::Signer {
                                label: label.clone(),
                                source,
                            })?;
                    let key = keys.iter().find(|key| {
                        key.dnskey.key_tag() == like.key_tag
                            && key.dnskey.algorithm() == like.algorithm
                    });
                    match key.map(|key| crate::verify(&key.dnskey, input, &signature)) {
                        Some(Ok(())) => Ok(signature),
                        _ => Err(reject(
                            CheckCode::SkrVerify,
                            format!(
                                "the signature of {label} over the CDNSKEY/CDS records does not verify"
                            ),
                        )),
                    }
                })?;
            }
        }
        let text = write_text_skr(&skr, self.dialect, generated, by);
        let back = parse_text_skr(text.as_bytes(), DocumentRole::NewSkr).map_err(|findings| {
            reject(
                CheckCode::SkrReread,
                format!(
                    "the SKR written does not read back: {}",
                    findings
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
            )
        })?;
        if !same_content(&back, &skr)
            || back
                .bundles
                .iter()
                .zip(&skr.bundles)
                .any(|(a, b)| a.other != b.other)
        {
            return Err(reject(
                CheckCode::SkrReread,
                "the SKR written reads back different from what was signed".into(),
            ));
        }
        let problems: Vec<Finding> = check_text_skr(&back, &self.config, DocumentRole::NewSkr)
            .into_iter()
            .filter(Finding::is_error)
            .collect();
        if let Some(problem) = problems.first() {
            return Err(reject(
                CheckCode::SkrReread,
                format!("the SKR written fails its own check: {problem}"),
            ));
        }
        Ok(SignedText {
            skr: back,
            text,
            findings: signed.findings,
        })
    }
}

/// Plans and signs a text SKR in one step, for callers that hold an
/// active signer already (tests).
///
/// # Errors
///
/// The planning findings ([`BuildError::Rejected`]), or see
/// [`TextPlan::sign`].
pub fn build_text_skr(
    checked: &CheckedText<'_>,
    schema_name: &str,
    signer: &dyn BundleSigner,
    dialect: Dialect,
    generated: Timestamp,
    by: &str,
) -> Result<SignedText, BuildError> {
    plan_text_skr(checked, schema_name, signer, dialect)
        .map_err(BuildError::Rejected)?
        .sign(signer, generated, by)
}

/// Whether two text SKRs hold the same bundles: times, keys and signatures
/// (in any order).
fn same_content(one: &TextSkr, other: &TextSkr) -> bool {
    let sorted = |bundle: &TextResponseBundle| {
        let mut keys: Vec<_> = bundle
            .keys
            .iter()
            .map(|k| (k.ttl, k.dnskey.rdata()))
            .collect();
        keys.sort();
        let mut signatures: Vec<_> = bundle
            .signatures
            .iter()
            .map(|s| {
                (
                    s.ttl,
                    s.rrsig.key_tag,
                    s.rrsig.signature.clone(),
                    s.rrsig.inception,
                    s.rrsig.expiration,
                )
            })
            .collect();
        signatures.sort();
        (bundle.time, keys, signatures)
    };
    one.domain.same_name(&other.domain)
        && one.bundles.len() == other.bundles.len()
        && one
            .bundles
            .iter()
            .zip(&other.bundles)
            .all(|(a, b)| sorted(a) == sorted(b))
}

//------------ check_text_skr ------------------------------------------------

/// Checks a text SKR by itself: the SKR checks of the document model
/// (each bundle's signatures verify with its own keys, the RRSIG fields,
/// order), and that each bundle's signatures outlive the switch to the
/// next bundle by the RRset's TTL (an error: a bundle is missing, or the
/// signatures lapse while cached) and by `text_rrsig_refresh` (a warning)
/// (`TXT-SKR-GAP`).
pub fn check_text_skr(skr: &TextSkr, config: &Config, role: DocumentRole) -> Vec<Finding> {
    let model: Skr = skr.to_model();
    let mut findings = super::check_skr(&model, role);
    findings.retain(applies);
    for (index, bundle) in skr.bundles.iter().enumerate() {
        for problem in crate::text::cds::problems(bundle, &skr.domain) {
            findings.push(
                Finding::error(CheckCode::SkrSignatures, role, problem)
                    .in_bundle(index + 1, &bundle_id(bundle.time)),
            );
        }
    }
    let refresh = i64::from(config.text.text_rrsig_refresh.as_seconds());
    for (index, pair) in skr.bundles.windows(2).enumerate() {
        let [bundle, next] = pair else { continue };
        let Some(expires) = bundle.signatures.iter().map(|s| s.rrsig.expiration).min() else {
            continue;
        };
        let ttl = i64::from(bundle.keys.first().map_or(0, |key| key.ttl));
        let margin = expires.seconds_since(next.time);
        let id = bundle_id(bundle.time);
        let position = crate::findings::Position {
            line: next.line,
            column: 1,
        };
        if margin < ttl {
            let mut finding = Finding::error(
                CheckCode::TxtSkrGap,
                role,
                format!(
                    "its signatures expire at {expires}, {} the next bundle takes over at {} (less than the TTL of {ttl} s): a bundle is missing, or the signatures lapse while cached",
                    if margin < 0 { "before" } else { "right as" },
                    next.time
                ),
            )
            .in_bundle(index + 1, &id);
            if next.line > 0 {
                finding = finding.at(position);
            }
            findings.push(finding);
        } else if margin < refresh {
            findings.push(
                Finding::warning(
                    CheckCode::TxtSkrGap,
                    role,
                    format!(
                        "its signatures outlive the switch to the next bundle ({}) by {margin} s, less than text_rrsig_refresh {}",
                        next.time, config.text.text_rrsig_refresh
                    ),
                )
                .in_bundle(index + 1, &id),
            );
        }
    }
    findings
}

/// Checks a text SKR against the text KSR it answers: a bundle at each KSR
/// bundle's time, and in every SKR bundle the ZSKs of its KSR bundle and
/// no other ZSK (`SKR-CONSISTENCY.1`, `.2`).
pub fn check_text_answer(skr: &TextSkr, ksr: &TextKsr) -> Vec<Finding> {
    let mut sink = Sink::new(DocumentRole::NewSkr);
    for (index, request) in ksr.bundles.iter().enumerate() {
        if !skr.bundles.iter().any(|bundle| bundle.time == request.time) {
            sink.error(
                CheckCode::SkrConsistencyBundles,
                format!(
                    "KSR bundle {} at {} has no SKR bundle at that time",
                    index + 1,
                    request.time
                ),
            );
        }
    }
    for (number, bundle) in skr.bundles.iter().enumerate() {
        let Some(request) = ksr
            .bundles
            .iter()
            .rev()
            .find(|request| request.time <= bundle.time)
        else {
            sink.error(
                CheckCode::SkrConsistencyBundles,
                format!(
                    "SKR bundle {} at {} is before the KSR's first bundle",
                    number + 1,
                    bundle.time
                ),
            );
            continue;
        };
        let mut wanted: Vec<Vec<u8>> = request.keys.iter().map(|k| k.dnskey.rdata()).collect();
        let mut present: Vec<Vec<u8>> = bundle
            .keys
            .iter()
            .filter(|k| k.dnskey.flags().to_int() == 256)
            .map(|k| k.dnskey.rdata())
            .collect();
        wanted.sort();
        present.sort();
        if wanted != present {
            sink.error(
                CheckCode::SkrConsistencyZsks,
                format!(
                    "SKR bundle {} at {} does not publish exactly the ZSKs of KSR bundle at {}",
                    number + 1,
                    bundle.time,
                    request.time
                ),
            );
        }
    }
    sink.findings
}

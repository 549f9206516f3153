//! The checks of `ksr-checks.md` that look at one document by itself:
//! its bundles, keys and signatures.
//!
//! Each function runs every check of its group and returns all findings;
//! none stops early.

mod chain;
mod ksr;
mod parallel;
mod previous;
mod request;
mod response;
mod rsa;
pub(crate) mod sink;
mod skr;
mod text;

pub use ksr::check_ksr;
pub use response::check_response;
pub use skr::{check_skr, check_skr_anchor};
pub use text::{
    CheckedText, SignedText, TextPlan, TextRequest, build_text_skr, check_text_answer,
    check_text_skr, plan_text_skr, validate_text_request,
};

use std::borrow::Cow;

use crate::dnssec::time::Timestamp;
use crate::findings::Severity;
use crate::model::{Ksr, Skr};
use crate::policy::Config;
use sink::Sink;

//------------ Request -------------------------------------------------------

/// What validating a KSR needs: the request, SKR(n-1) if there is one, the
/// policy, and the one instant every time-dependent check uses
/// (`TOOL-NOW`).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The KSR.
    pub ksr: &'a Ksr,
    /// SKR(n-1), the trust anchor of the chain checks.
    pub previous: Option<&'a Skr>,
    /// The policy.
    pub config: &'a Config,
    /// The evaluation instant.
    pub now: Timestamp,
}

/// Runs stages 2, 3 and 4 of `ksr-checks.md` (everything that needs no
/// HSM) and returns every finding, in no particular order.
///
/// Stage 4 runs only when stages 2 and 3 found no error, and a stage that
/// does not run says why (`STAGE-SKIPPED`). Without SKR(n-1), stages 3 and
/// 4 are reported as not run with the warning `TOOL-PREV-SKR`.
pub fn validate_request(request: &Request<'_>) -> Vec<Finding> {
    run_stages(request).1
}

//------------ CheckedKsr ----------------------------------------------------

/// A KSR that passed stages 2, 3 and 4 without an error, with what it was
/// checked against. [`plan_skr`](crate::plan_skr) takes nothing else, so
/// an unchecked KSR cannot be signed.
#[derive(Clone, Debug)]
pub struct CheckedKsr<'a> {
    /// The KSR; sorted by Expiration when `allow_unsorted_bundles` let an
    /// unsorted one through, as kskm does.
    ksr: Cow<'a, Ksr>,
    previous: Option<&'a Skr>,
    config: &'a Config,
    /// The warnings and infos of the stages.
    findings: Vec<Finding>,
}

impl<'a> CheckedKsr<'a> {
    /// Runs stages 2, 3 and 4 ([`validate_request`]) and keeps the KSR if
    /// no finding is an error. Without SKR(n-1) the chain is waived: the
    /// caller decides whether that is allowed (`TOOL-PREV-SKR`).
    ///
    /// # Errors
    ///
    /// Every finding, when one of them is an error.
    pub fn check(request: &Request<'a>) -> Result<Self, Vec<Finding>> {
        let (ksr, findings) = run_stages(request);
        if findings
            .iter()
            .any(|finding| finding.severity == Severity::Error)
        {
            return Err(findings);
        }
        Ok(Self {
            ksr,
            previous: request.previous,
            config: request.config,
            findings,
        })
    }

    /// The KSR as it will be signed.
    pub fn ksr(&self) -> &Ksr {
        &self.ksr
    }

    /// SKR(n-1), unless the chain was waived.
    pub fn previous(&self) -> Option<&'a Skr> {
        self.previous
    }

    /// The policy it was checked against.
    pub fn config(&self) -> &'a Config {
        self.config
    }

    /// The warnings and infos of stages 2 to 4.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// Runs stages 2 to 4 and returns the KSR as checked (sorted when that was
/// allowed) with every finding.
fn run_stages<'a>(request: &Request<'a>) -> (Cow<'a, Ksr>, Vec<Finding>) {
    let Request {
        ksr,
        previous,
        config,
        now,
    } = *request;
    let mut stage2 = Sink::new(DocumentRole::Ksr);
    let policy = &config.request_policy;
    // allow_unsorted_bundles: kskm sorts the bundles by Expiration; so do
    // we then, and say so (KSR-BUNDLE-ORDER).
    let ksr: Cow<'a, Ksr> = if policy.allow_unsorted_bundles
        && !ksr.bundles.is_sorted_by_key(|bundle| bundle.expiration)
    {
        let mut copy = ksr.clone();
        copy.bundles.sort_by_key(|bundle| bundle.expiration);
        stage2.warning(
            CheckCode::BundleOrder,
            "the bundles are not in ascending order; they were sorted by Expiration (allow_unsorted_bundles = true)",
        );
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(ksr)
    };
    let findings = stages(&ksr, previous, config, now, stage2);
    (ksr, findings)
}

/// Stages 2 to 4 on a KSR in its final order.
fn stages(
    ksr: &Ksr,
    previous: Option<&Skr>,
    config: &Config,
    now: Timestamp,
    mut stage2: Sink,
) -> Vec<Finding> {
    let policy = &config.request_policy;
    let own = check_ksr(ksr, DocumentRole::Ksr);
    let (signatures, rest): (Vec<Finding>, Vec<Finding>) = own.into_iter().partition(|finding| {
        matches!(
            finding.code,
            CheckCode::BundlePopSignature | CheckCode::BundlePopEveryKey
        )
    });
    let (tags, rest): (Vec<Finding>, Vec<Finding>) = rest
        .into_iter()
        .partition(|finding| finding.code == CheckCode::BundleKeysTag);
    stage2.findings.extend(rest);
    stage2.unless_disabled(
        policy.validate_signatures,
        &[CheckCode::BundlePopSignature, CheckCode::BundlePopEveryKey],
        "validate_signatures",
        |sink| sink.findings.extend(signatures),
    );
    stage2.unless_disabled(
        policy.keys_match_zsk_policy,
        &[CheckCode::BundleKeysTag],
        "keys_match_zsk_policy",
        |sink| sink.findings.extend(tags),
    );
    request::check(ksr, config, now, previous, &mut stage2);

    let mut findings = stage2.findings;
    let Some(previous) = previous else {
        findings.push(Finding::warning(
            CheckCode::ToolPrevSkr,
            DocumentRole::Ksr,
            "no previous SKR given: the chain (stages 3, 4 and 6) was not checked",
        ));
        return findings;
    };
    let mut stage3 = Sink::new(DocumentRole::PreviousSkr);
    previous::check(previous, config, &mut stage3);
    findings.extend(stage3.findings);
    if findings
        .iter()
        .any(|finding| finding.severity == Severity::Error)
    {
        findings.push(Finding {
            severity: Severity::Info,
            ..Finding::error(
                CheckCode::StageSkipped,
                DocumentRole::Ksr,
                "stage 4 (the chain to the previous SKR) did not run: the KSR or the previous SKR has errors",
            )
        });
        return findings;
    }
    let mut stage4 = Sink::new(DocumentRole::Ksr);
    chain::check(ksr, previous, config, &mut stage4);
    findings.extend(stage4.findings);
    findings
}

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

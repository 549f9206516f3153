//! One type for the two formats: a KSR and its SKR(n-1) in the IANA XML
//! format or in the Knot DNS / BIND text format, checked, planned and
//! signed through the same calls. What differs between the formats (the
//! checks that apply, the shape of the SKR) stays behind these types.

use std::collections::BTreeSet;

use sha2::{Digest as _, Sha256};

use crate::checks::{
    CheckedKsr, CheckedText, Request, SignedText, TextPlan, TextRequest, check_skr, check_text_skr,
    plan_text_skr, validate_request, validate_text_request,
};
use crate::dnssec::name::DomainName;
use crate::dnssec::time::Timestamp;
use crate::findings::{DocumentRole, Finding};
use crate::model::{Bundle, Ksr, Skr};
use crate::policy::Config;
use crate::response::{BuildError, BundleSigner, KeySource, Signed, SkrPlan, plan_skr};
use crate::text::{Dialect, TextKsr, TextSkr, is_text, parse_text_ksr, parse_text_skr};
use crate::xml::{parse_ksr, parse_skr};

//------------ Format --------------------------------------------------------

/// The format of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The IANA XML format (`ksr-skr-format.md` §2–§4).
    Xml,
    /// The Knot DNS / BIND text format (§5), in a dialect.
    Text(Dialect),
}

impl Format {
    /// Whether two documents are of the same family (XML, or text of
    /// either dialect).
    pub fn same_family(self, other: Self) -> bool {
        matches!(
            (self, other),
            (Self::Xml, Self::Xml) | (Self::Text(_), Self::Text(_))
        )
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Xml => f.write_str("IANA XML"),
            Self::Text(Dialect::Knot) => f.write_str("Knot DNS text"),
            Self::Text(Dialect::Bind) => f.write_str("BIND text"),
        }
    }
}

/// The format of a document's bytes: text when its first characters other
/// than white space are `;;`.
pub fn detect_format(bytes: &[u8]) -> Format {
    if is_text(bytes.get(..256).unwrap_or(bytes)) {
        // The dialect is known once the headers are read.
        Format::Text(Dialect::Knot)
    } else {
        Format::Xml
    }
}

//------------ KsrDocument and SkrDocument -----------------------------------

/// A KSR in either format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KsrDocument {
    /// IANA XML.
    Xml(Ksr),
    /// Knot DNS / BIND text.
    Text(TextKsr),
}

impl KsrDocument {
    /// Reads a KSR, of the format its bytes show.
    ///
    /// # Errors
    ///
    /// The findings of stage 1 (`KSR-PARSE-*`, `TXT-PARSE-*`).
    pub fn parse(bytes: &[u8]) -> Result<Self, Vec<Finding>> {
        match detect_format(bytes) {
            Format::Xml => parse_ksr(bytes, DocumentRole::Ksr).map(Self::Xml),
            Format::Text(_) => parse_text_ksr(bytes, DocumentRole::Ksr).map(Self::Text),
        }
    }

    /// Its format.
    pub fn format(&self) -> Format {
        match self {
            Self::Xml(_) => Format::Xml,
            Self::Text(ksr) => Format::Text(ksr.dialect),
        }
    }

    /// Its id (for a text KSR, 16 hex digits of its SHA-256).
    pub fn id(&self) -> &str {
        match self {
            Self::Xml(ksr) => &ksr.id,
            Self::Text(ksr) => &ksr.id,
        }
    }

    /// The zone.
    pub fn domain(&self) -> &DomainName {
        match self {
            Self::Xml(ksr) => &ksr.domain,
            Self::Text(ksr) => &ksr.domain,
        }
    }

    /// How many bundles it has.
    pub fn bundle_count(&self) -> usize {
        match self {
            Self::Xml(ksr) => ksr.bundles.len(),
            Self::Text(ksr) => ksr.bundles.len(),
        }
    }

    /// For a text KSR, the SHA-256 of its ZSK set, to compare out of band
    /// (the format has no proof of possession).
    pub fn zsk_set_sha256(&self) -> Option<[u8; 32]> {
        match self {
            Self::Xml(_) => None,
            Self::Text(ksr) => Some(ksr.zsk_set_sha256()),
        }
    }
}

/// An SKR in either format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkrDocument {
    /// IANA XML.
    Xml(Skr),
    /// Knot DNS / BIND text.
    Text(TextSkr),
}

impl SkrDocument {
    /// Reads an SKR, of the format its bytes show, in the given role.
    ///
    /// # Errors
    ///
    /// The findings of stage 1.
    pub fn parse(bytes: &[u8], role: DocumentRole) -> Result<Self, Vec<Finding>> {
        match detect_format(bytes) {
            Format::Xml => parse_skr(bytes, role).map(Self::Xml),
            Format::Text(_) => parse_text_skr(bytes, role).map(Self::Text),
        }
    }

    /// Its format.
    pub fn format(&self) -> Format {
        match self {
            Self::Xml(_) => Format::Xml,
            Self::Text(skr) => Format::Text(skr.dialect),
        }
    }

    /// The SKR in the document model (a text SKR mapped as §5.6 says).
    pub fn to_model(&self) -> Skr {
        match self {
            Self::Xml(skr) => skr.clone(),
            Self::Text(skr) => skr.to_model(),
        }
    }

    /// The checks an SKR must pass by itself to be usable as SKR(n-1).
    pub fn check(&self, config: &Config, role: DocumentRole) -> Vec<Finding> {
        match self {
            Self::Xml(skr) => check_skr(skr, role),
            Self::Text(skr) => check_text_skr(skr, config, role),
        }
    }
}

//------------ Documents -----------------------------------------------------

/// A KSR with the SKR(n-1) it chains to, of one format family; a pair of
/// another shape cannot be made.
#[derive(Clone, Debug)]
pub enum Documents {
    /// IANA XML.
    Xml {
        /// The KSR.
        ksr: Ksr,
        /// SKR(n-1).
        previous: Option<Skr>,
    },
    /// Knot DNS / BIND text.
    Text {
        /// The KSR.
        ksr: TextKsr,
        /// SKR(n-1).
        previous: Option<TextSkr>,
    },
}

/// A KSR and an SKR(n-1) of different formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the KSR is {ksr} and the previous SKR {previous}: the previous SKR must be in the KSR's format (ksr-skr-format.md §0)"
)]
pub struct FormatMismatch {
    /// The KSR's format.
    pub ksr: Format,
    /// SKR(n-1)'s.
    pub previous: Format,
}

impl Documents {
    /// Pairs a KSR with its SKR(n-1).
    ///
    /// # Errors
    ///
    /// The two are of different format families.
    pub fn new(ksr: KsrDocument, previous: Option<SkrDocument>) -> Result<Self, FormatMismatch> {
        match (ksr, previous) {
            (KsrDocument::Xml(ksr), None) => Ok(Self::Xml {
                ksr,
                previous: None,
            }),
            (KsrDocument::Xml(ksr), Some(SkrDocument::Xml(previous))) => Ok(Self::Xml {
                ksr,
                previous: Some(previous),
            }),
            (KsrDocument::Text(ksr), None) => Ok(Self::Text {
                ksr,
                previous: None,
            }),
            (KsrDocument::Text(ksr), Some(SkrDocument::Text(previous))) => Ok(Self::Text {
                ksr,
                previous: Some(previous),
            }),
            (ksr, Some(previous)) => Err(FormatMismatch {
                ksr: ksr.format(),
                previous: previous.format(),
            }),
        }
    }

    /// The KSR's format.
    pub fn format(&self) -> Format {
        match self {
            Self::Xml { .. } => Format::Xml,
            Self::Text { ksr, .. } => Format::Text(ksr.dialect),
        }
    }

    /// The KSR's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Xml { ksr, .. } => &ksr.id,
            Self::Text { ksr, .. } => &ksr.id,
        }
    }

    /// The zone.
    pub fn domain(&self) -> &DomainName {
        match self {
            Self::Xml { ksr, .. } => &ksr.domain,
            Self::Text { ksr, .. } => &ksr.domain,
        }
    }

    /// The KSR's bundles.
    pub fn bundle_count(&self) -> usize {
        match self {
            Self::Xml { ksr, .. } => ksr.bundles.len(),
            Self::Text { ksr, .. } => ksr.bundles.len(),
        }
    }

    /// The time of a text KSR's only bundle (a request whose ZSKs'
    /// lifetime is unlimited, which BIND makes): its SKR's span is not in
    /// the request.
    pub fn single_text_bundle(&self) -> Option<Timestamp> {
        match self {
            Self::Text { ksr, .. } if ksr.bundles.len() == 1 => {
                ksr.bundles.first().map(|bundle| bundle.time)
            }
            _ => None,
        }
    }

    /// Whether an SKR(n-1) is paired.
    pub fn has_previous(&self) -> bool {
        match self {
            Self::Xml { previous, .. } => previous.is_some(),
            Self::Text { previous, .. } => previous.is_some(),
        }
    }

    /// For a text KSR, the SHA-256 of its ZSK set.
    pub fn zsk_set_sha256(&self) -> Option<[u8; 32]> {
        match self {
            Self::Xml { .. } => None,
            Self::Text { ksr, .. } => Some(ksr.zsk_set_sha256()),
        }
    }

    /// Runs every check of stages 2 to 4 that needs no HSM and returns
    /// every finding (`ceremony ksr check`). `end` is a text KSR's end of
    /// signing (BIND's `-e`); an XML KSR has none.
    pub fn validate(
        &self,
        config: &Config,
        now: Timestamp,
        end: Option<Timestamp>,
    ) -> Vec<Finding> {
        match self {
            Self::Xml { ksr, previous } => validate_request(&Request {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
            }),
            Self::Text { ksr, previous } => validate_text_request(&TextRequest {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
                end,
            }),
        }
    }

    /// Runs stages 2 to 4 and keeps the pair if no finding is an error.
    ///
    /// # Errors
    ///
    /// Every finding, when one of them is an error.
    pub fn check<'a>(
        &'a self,
        config: &'a Config,
        now: Timestamp,
        end: Option<Timestamp>,
    ) -> Result<Checked<'a>, Vec<Finding>> {
        match self {
            Self::Xml { ksr, previous } => CheckedKsr::check(&Request {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
            })
            .map(Checked::Xml),
            Self::Text { ksr, previous } => CheckedText::check(&TextRequest {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
                end,
            })
            .map(Checked::Text),
        }
    }
}

//------------ Checked -------------------------------------------------------

/// A KSR that passed stages 2 to 4, in either format.
#[derive(Clone, Debug)]
pub enum Checked<'a> {
    /// IANA XML.
    Xml(CheckedKsr<'a>),
    /// Knot DNS / BIND text.
    Text(CheckedText<'a>),
}

impl Checked<'_> {
    /// The warnings and infos of stages 2 to 4.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::Xml(checked) => checked.findings(),
            Self::Text(checked) => checked.findings(),
        }
    }

    /// Plans the SKR with a schema, reading the KSKs from `keys` (the HSM,
    /// sealed): stages 4 (HSM part), 5 and 6 without a private key. A text
    /// KSR is answered in `dialect`, or its own.
    ///
    /// # Errors
    ///
    /// Every finding of the planning stages, when one is an error.
    pub fn plan(
        &self,
        schema: &str,
        keys: &dyn KeySource,
        dialect: Option<Dialect>,
    ) -> Result<Plan, Vec<Finding>> {
        match self {
            Self::Xml(checked) => {
                plan_skr(checked, schema, keys).map(|plan| Plan::Xml(Box::new(plan)))
            }
            Self::Text(checked) => {
                let dialect = dialect.unwrap_or(checked.ksr().dialect);
                plan_text_skr(checked, schema, keys, dialect).map(|plan| Plan::Text(Box::new(plan)))
            }
        }
    }
}

//------------ Plan ----------------------------------------------------------

/// A planned SKR, in either format: everything decided and checked but the
/// signature bytes.
#[derive(Clone, Debug)]
pub enum Plan {
    /// IANA XML.
    Xml(Box<SkrPlan>),
    /// Knot DNS / BIND text.
    Text(Box<TextPlan>),
}

impl Plan {
    /// The plan of the document model's SKR (for text, one bundle per
    /// signing point).
    pub fn model(&self) -> &SkrPlan {
        match self {
            Self::Xml(plan) => plan,
            Self::Text(plan) => plan.expanded(),
        }
    }

    /// The bundles as they will be signed.
    pub fn bundles(&self) -> &[Bundle] {
        self.model().bundles()
    }

    /// The warnings of the planning stages.
    pub fn findings(&self) -> &[Finding] {
        self.model().findings()
    }

    /// The SKR's format.
    pub fn format(&self) -> Format {
        match self {
            Self::Xml(_) => Format::Xml,
            Self::Text(plan) => Format::Text(plan.dialect()),
        }
    }

    /// Signs the plan. `generated` and `by` go into a text SKR's header.
    ///
    /// # Errors
    ///
    /// See [`BuildError`]; on any error there is no SKR.
    pub fn sign(
        &self,
        signer: &dyn BundleSigner,
        generated: Timestamp,
        by: &str,
    ) -> Result<SignedSkr, BuildError> {
        match self {
            Self::Xml(plan) => plan.sign(signer).map(SignedSkr::Xml),
            Self::Text(plan) => plan.sign(signer, generated, by).map(SignedSkr::Text),
        }
    }
}

//------------ SignedSkr -----------------------------------------------------

/// A signed SKR, in either format, not yet written.
#[derive(Clone, Debug)]
pub enum SignedSkr {
    /// IANA XML.
    Xml(Signed),
    /// Knot DNS / BIND text.
    Text(SignedText),
}

impl SignedSkr {
    /// The bytes to write.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Xml(signed) => signed.xml.as_bytes(),
            Self::Text(signed) => signed.text.as_bytes(),
        }
    }

    /// The SHA-256 of the bytes.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.bytes()).into()
    }

    /// The SKR in the document model.
    pub fn to_model(&self) -> Skr {
        match self {
            Self::Xml(signed) => signed.skr.clone(),
            Self::Text(signed) => signed.skr.to_model(),
        }
    }

    /// Its bundles.
    pub fn bundle_count(&self) -> usize {
        match self {
            Self::Xml(signed) => signed.skr.bundles.len(),
            Self::Text(signed) => signed.skr.bundles.len(),
        }
    }

    /// The key tags that signed.
    pub fn signer_tags(&self) -> BTreeSet<u16> {
        self.to_model()
            .bundles
            .iter()
            .flat_map(|bundle| bundle.signatures.iter())
            .map(|signature| signature.rrsig.key_tag.to_int())
            .collect()
    }

    /// The warnings of the signing stages.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::Xml(signed) => &signed.findings,
            Self::Text(signed) => &signed.findings,
        }
    }

    /// Whether bytes read back from disk are this SKR: they parse with the
    /// same limits to the same document, which passes the SKR checks
    /// (`SKR-REREAD`).
    pub fn reads_back_from(&self, bytes: &[u8], config: &Config) -> bool {
        match self {
            Self::Xml(signed) => parse_skr(bytes, DocumentRole::NewSkr).is_ok_and(|back| {
                back == signed.skr && check_skr(&back, DocumentRole::NewSkr).is_empty()
            }),
            Self::Text(signed) => parse_text_skr(bytes, DocumentRole::NewSkr).is_ok_and(|back| {
                back.bundles == signed.skr.bundles
                    && !check_text_skr(&back, config, DocumentRole::NewSkr)
                        .iter()
                        .any(Finding::is_error)
            }),
        }
    }
}

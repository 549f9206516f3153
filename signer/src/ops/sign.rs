//! Signing a KSR into an SKR (DESIGN.md, "The main job"): every check
//! that needs no private key when prepared, the signatures once activated.

use std::path::PathBuf;

use ksr::{
    BundleSigner, CheckCode, Config, DocumentRole, Documents, Finding, KeySource, KsrDocument,
    Plan, Severity, SignerError, SkrDocument, Timestamp, text::Dialect,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::document::{Document, join};
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::report::{Files, Report};
use crate::summary::{Detail, FileRef, KskColumn, SignDetail, bundle_table};

use super::{details, summary};

/// The SKR format asked for (`sign --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Text, Unix seconds in headers (Knot DNS).
    Knot,
    /// Text, `YYYYMMDDhhmmss` in headers (BIND 9.20).
    Bind,
    /// IANA XML.
    Iana,
}

/// SKR(n-1), or the waiver of the chain (a first quarter).
#[derive(Clone, Debug)]
pub enum Previous {
    /// The previous quarter's SKR.
    Given(Document),
    /// No previous SKR: stages 3, 4 and 6 are not run (`TOOL-PREV-SKR`).
    Waived,
}

/// What signing is asked to do.
#[derive(Clone, Debug)]
pub struct SignRequest {
    /// The KSR.
    pub ksr: Document,
    /// SKR(n-1), or the waiver.
    pub previous: Previous,
    /// Where the SKR goes (never over an existing file).
    pub output: PathBuf,
    /// The signing schema.
    pub schema: String,
    /// The SKR's format, if not the KSR's.
    pub format: Option<OutputFormat>,
    /// For a text KSR, the end of the last bundle's span (BIND's `-e`).
    pub end: Option<Timestamp>,
    /// The instant the checks use.
    pub now: Now,
}

/// A KSR ready to be signed: its plan, checked.
pub struct Sign {
    plan: Plan,
    config: Config,
    output: PathBuf,
    ksr_sha256: [u8; 32],
    schema: String,
    ksks: Vec<KskColumn>,
    now: Timestamp,
}

/// A signed SKR, written and read back.
#[derive(Clone, Debug, Serialize)]
pub struct Signed {
    /// Where it was written.
    pub skr: String,
    /// Its SHA-256, hex.
    pub skr_sha256: String,
    /// The KSR's SHA-256, hex.
    pub ksr_sha256: String,
    /// The schema.
    pub schema: String,
    /// Its bundles.
    pub bundles: usize,
    /// The key tags that signed.
    pub signers: Vec<u16>,
    /// The SKR's bundle table.
    pub table: Vec<crate::summary::BundleRow>,
    /// Its KSK columns.
    pub ksks: Vec<KskColumn>,
    /// The SKR's bytes, as written.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// Prepares a signing: opens the operation in the log, then runs every
/// check that needs no private key — the documents and stages 2 to 4, the
/// schema and its action per bundle, each KSK read from the sealed HSM and
/// checked (type, tag, DS, validity for every signature), algorithm
/// coverage, SKR(n-1)'s signers held by the HSM, stage 6 on the planned
/// SKR, the output writable — and makes the summary the officers
/// authorize.
///
/// # Errors
///
/// A refusal (with every finding), a usage error, or the log fails; the
/// operation is then closed as refused or failed.
pub fn prepare_sign(ceremony: &Ceremony, request: SignRequest) -> Result<Prepared<Sign>, Error> {
    let mut begin = Map::new();
    begin.insert("ksr".into(), request.ksr.path.display().to_string().into());
    begin.insert(
        "ksr_sha256".into(),
        hex::encode(request.ksr.sha256()).into(),
    );
    begin.insert(
        "previous_skr".into(),
        match &request.previous {
            Previous::Given(document) => document.path.display().to_string().into(),
            Previous::Waived => Value::Null,
        },
    );
    begin.insert(
        "previous_skr_waived".into(),
        matches!(request.previous, Previous::Waived).into(),
    );
    begin.insert("output".into(), request.output.display().to_string().into());
    begin.insert("schema".into(), request.schema.clone().into());
    begin.insert("now".into(), request.now.time.to_string().into());
    let open = ceremony.begin(OperationKind::Sign, begin)?;
    // A moved clock is refused before the documents are judged by it.
    if let Err(err) = super::check_now(ceremony, request.now) {
        return Err(ceremony.fail(open, err));
    }
    match plan(ceremony, &request) {
        Ok((sign, detail, warnings)) => {
            let mut waivers = Vec::new();
            if matches!(request.previous, Previous::Waived) {
                waivers.push(
                    "no previous SKR: the chain and safety checks were not run (--no-previous-skr)"
                        .into(),
                );
            }
            let summary = summary(
                ceremony,
                OperationKind::Sign,
                request.now,
                Detail::Sign(Box::new(detail)),
                warnings,
                waivers,
            );
            match summary {
                Ok(summary) => Ok(Prepared::new(sign, summary, open)),
                Err(err) => Err(ceremony.fail(open, err)),
            }
        }
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

/// The checks and the plan.
fn plan(
    ceremony: &Ceremony,
    request: &SignRequest,
) -> Result<(Sign, SignDetail, Vec<String>), Error> {
    let previous = match &request.previous {
        Previous::Given(document) => Some(document),
        Previous::Waived => None,
    };
    let files = Files::with_previous(
        &request.ksr.path,
        previous.map(|document| document.path.as_path()),
    );
    let refused = |findings: Vec<Finding>| Error::Refused(Report::new(files.clone(), findings));
    let ksr = request
        .ksr
        .parse(DocumentRole::Ksr, |bytes, _| KsrDocument::parse(bytes));
    let skr =
        previous.map(|document| document.parse(DocumentRole::PreviousSkr, SkrDocument::parse));
    let (ksr, skr) = join(ksr, skr).map_err(refused)?;
    let documents = Documents::new(ksr, skr)?;
    let dialect = match (request.format, documents.format()) {
        (None, _) | (Some(OutputFormat::Iana), ksr::Format::Xml) => None,
        (Some(OutputFormat::Knot), ksr::Format::Text(_)) => Some(Dialect::Knot),
        (Some(OutputFormat::Bind), ksr::Format::Text(_)) => Some(Dialect::Bind),
        (Some(OutputFormat::Iana), format) => {
            return Err(Error::OutputFormat {
                asked: "iana",
                ksr: format,
                answer: "a text SKR (knot or bind)",
            });
        }
        (Some(asked), format) => {
            return Err(Error::OutputFormat {
                asked: if asked == OutputFormat::Knot {
                    "knot"
                } else {
                    "bind"
                },
                ksr: format,
                answer: "an XML SKR (iana)",
            });
        }
    };
    if request.end.is_some() && documents.format() == ksr::Format::Xml {
        return Err(Error::EndWithXml);
    }
    let config = ceremony.policy().config();
    ksr::resolve_schema(config, &request.schema, documents.bundle_count())
        .map_err(Error::Schema)?;
    let checked = documents
        .check(config, request.now.time, request.end)
        .map_err(refused)?;
    let plan = checked
        .plan(&request.schema, &Sealed(ceremony.hsm()), dialect)
        .map_err(refused)?;
    durable::check_writable(&request.output).map_err(|err| match err {
        durable::WriteError::Exists(path) => Error::OutputExists(path),
        other => Error::OutputUnwritable {
            path: request.output.clone(),
            reason: match other {
                durable::WriteError::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            },
        },
    })?;
    let ksks: Vec<KskColumn> = plan
        .model()
        .ksks()
        .map(|(name, label, dnskey)| KskColumn {
            name: name.to_owned(),
            label: label.to_owned(),
            tag: dnskey.key_tag().to_int(),
            revoked_tag: dnskey
                .with_flags(ksr::Flags::REVOKED_KSK)
                .key_tag()
                .to_int(),
        })
        .collect();
    let warnings = checked
        .findings()
        .iter()
        .chain(plan.findings())
        .filter(|finding| finding.severity == Severity::Warning)
        .map(|finding| format!("{}: {}", finding.code, finding.message))
        .collect();
    let ksr_sha256 = request.ksr.sha256();
    let detail = SignDetail {
        ksr: FileRef {
            path: request.ksr.path.display().to_string(),
            sha256: hex::encode(ksr_sha256),
        },
        ksr_id: documents.id().to_owned(),
        format: documents.format().to_string(),
        zsk_set_sha256: documents.zsk_set_sha256().map(hex::encode),
        previous_skr: previous.map(|document| FileRef {
            path: document.path.display().to_string(),
            sha256: hex::encode(document.sha256()),
        }),
        schema: request.schema.clone(),
        output: request.output.display().to_string(),
        output_format: plan.format().to_string(),
        bundles: bundle_table(plan.bundles(), &ksks),
        ksks: ksks.clone(),
    };
    Ok((
        Sign {
            plan,
            config: config.clone(),
            output: request.output.clone(),
            ksr_sha256,
            schema: request.schema.clone(),
            ksks,
            now: request.now.time,
        },
        detail,
        warnings,
    ))
}

impl Operation for Sign {
    type Output = Signed;

    fn run(
        self,
        active: &mut Active<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Signed, Error> {
        let total = self
            .plan
            .bundles()
            .iter()
            .map(|bundle| bundle.signatures.len())
            .sum();
        let signer = Counting {
            hsm: active.hsm(),
            done: std::cell::Cell::new(0),
            total,
            progress: std::cell::RefCell::new(progress),
        };
        let by = format!("ceremony {}", env!("CARGO_PKG_VERSION"));
        let files = Files::one(&self.output);
        let signed = self
            .plan
            .sign(&signer, self.now, &by)
            .map_err(|err| match err {
                ksr::BuildError::Rejected(findings) => {
                    Error::Refused(Report::new(files.clone(), findings))
                }
                ksr::BuildError::Signer { label, source } => Error::Signing {
                    label,
                    message: source.message,
                },
            })?;
        let written = durable::write_checked(
            &self.output,
            signed.bytes(),
            durable::Replace::Never,
            |bytes| signed.reads_back_from(bytes, &self.config),
        );
        match written {
            Err(durable::WriteError::ReadBack(_)) => {
                return Err(Error::Refused(Report::new(
                    files,
                    vec![Finding::error(
                        CheckCode::SkrReread,
                        DocumentRole::NewSkr,
                        "the SKR read back from disk is not what was signed; nothing was kept",
                    )],
                )));
            }
            other => other?,
        }
        let skr_sha256 = hex::encode(signed.sha256());
        let signers: Vec<u16> = signed.signer_tags().into_iter().collect();
        active.ceremony().record(&Event::SkrWritten {
            path: self.output.display().to_string(),
            skr_sha256: skr_sha256.clone(),
            ksr_sha256: hex::encode(self.ksr_sha256),
            schema: self.schema.clone(),
            bundles: signed.bundle_count(),
            signers: signers.clone(),
        })?;
        Ok(Signed {
            skr: self.output.display().to_string(),
            skr_sha256,
            ksr_sha256: hex::encode(self.ksr_sha256),
            schema: self.schema,
            bundles: signed.bundle_count(),
            signers,
            table: bundle_table(&signed.to_model().bundles, &self.ksks),
            ksks: self.ksks,
            bytes: signed.bytes().to_vec(),
        })
    }

    fn closing(output: &Signed) -> Map<String, Value> {
        details([
            ("skr", output.skr.clone().into()),
            ("skr_sha256", output.skr_sha256.clone().into()),
            ("bundles", output.bundles.into()),
        ])
    }
}

/// The sealed HSM as the planner's key source: public keys only.
pub(crate) struct Sealed<'a>(pub &'a dyn hsm::Hsm);

impl KeySource for Sealed<'_> {
    fn public_key(&self, label: &str) -> Result<ksr::Dnskey, SignerError> {
        ksr::KeySource::public_key(&hsm::Signer(self.0), label)
    }
}

/// The active HSM as the signer, counting signatures for the progress
/// line.
struct Counting<'a, 'p> {
    hsm: &'a dyn hsm::Hsm,
    done: std::cell::Cell<usize>,
    total: usize,
    progress: std::cell::RefCell<&'p mut dyn FnMut(usize, usize)>,
}

impl KeySource for Counting<'_, '_> {
    fn public_key(&self, label: &str) -> Result<ksr::Dnskey, SignerError> {
        ksr::KeySource::public_key(&hsm::Signer(self.hsm), label)
    }
}

impl BundleSigner for Counting<'_, '_> {
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        let signature = ksr::BundleSigner::sign(&hsm::Signer(self.hsm), label, data)?;
        let done = self.done.get() + 1;
        self.done.set(done);
        // CDNSKEY/CDS signatures of a text SKR come on top of the plan's.
        let total = self.total.max(done);
        if let Ok(mut progress) = self.progress.try_borrow_mut() {
            (*progress)(done, total);
        }
        Ok(signature)
    }
}

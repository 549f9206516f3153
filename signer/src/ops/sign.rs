//! Signing a KSR into an SKR (DESIGN.md, "The main job"): every check
//! that needs no private key when prepared, the signatures once activated.

use std::path::PathBuf;

use ksr::{
    BundleSigner, CheckCode, Config, DocumentRole, Documents, Finding, KeySource, KsrDocument,
    Plan, Severity, SignerError, SkrDocument, Timestamp, text::Dialect,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{Event, OperationKind, transfer_event};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::document::{Document, join};
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::media::{Hop, MediaError, TransferSet, Verified};
use crate::oob::{Heard, Positions};
use crate::report::{Files, Report};
use crate::state::{Chain, LastSkr};
use crate::summary::{Detail, EmergencyDetail, FileRef, KskColumn, SignDetail, bundle_table};

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
    /// Also an emergency SKR, rolling to this standby KSK at once.
    pub emergency: Option<EmergencyRequest>,
}

/// An emergency SKR to sign in the same activation (`sign
/// --emergency-standby LABEL`): the same KSR, every bundle publishing the
/// standby KSK and the current one revoked (RFC 5011), both signing — the
/// answer kept ready for a compromise of the current KSK, as Knot DNS
/// documents for offline KSKs. The parent must list the standby's DS
/// already for it to validate at once.
#[derive(Clone, Debug)]
pub struct EmergencyRequest {
    /// The standby KSK's label: a KSK of the policy other than the current.
    pub standby: String,
    /// Where it goes [default: beside the SKR, `NAME.emergency-LABEL.EXT`].
    pub output: Option<PathBuf>,
}

/// The schema name of an emergency SKR, in the copy of the policy it is
/// planned with.
const EMERGENCY_SCHEMA: &str = "emergency-standby";

/// Where a transfer set is read from.
#[derive(Clone, Debug)]
pub enum MediaSource {
    /// Its folder on the medium.
    Dir(PathBuf),
    /// Its files, uploaded to the room's service, named after their folder.
    Uploaded(TransferSet),
}

/// What signing from a transfer set is asked to do (`sign --media`).
#[derive(Clone, Debug)]
pub struct MediaSignRequest {
    /// The set.
    pub source: MediaSource,
    /// A first quarter: neither the medium nor this signer holds a previous
    /// SKR, and the operator waives the chain (`--no-previous-skr`).
    pub first_quarter: bool,
    /// Where the SKR goes [default: `skr.*` in the set's folder].
    pub output: Option<PathBuf>,
    /// The signing schema.
    pub schema: String,
    /// The SKR's format, if not the KSR's.
    pub format: Option<OutputFormat>,
    /// For a text KSR, the end of the last bundle's span.
    pub end: Option<Timestamp>,
    /// The instant the checks use.
    pub now: Now,
    /// Also an emergency SKR (kept on the signer's side unless its output
    /// says otherwise).
    pub emergency: Option<EmergencyRequest>,
}

/// A signing from a transfer set with every check passed but the words
/// read over the phone: only [`hear`](Self::hear) makes it a
/// [`Prepared`] signing, so none is confirmed without them.
#[must_use = "an operation is closed only by hearing the words or declining it"]
pub struct AwaitingWords {
    prepared: Prepared<Sign>,
    positions: Positions,
    transfer: Verified,
}

impl AwaitingWords {
    /// What the officers will authorize (show it without the KSR's hash:
    /// the words must come from the phone, not the screen).
    pub fn summary(&self) -> &crate::summary::Summary {
        self.prepared.summary()
    }

    /// Four positions to ask for, chosen at random.
    pub fn positions(&self) -> &Positions {
        &self.positions
    }

    /// The verified transfer set.
    pub fn transfer(&self) -> &Verified {
        &self.transfer
    }

    /// Compares the words heard with the KSR's hash at `asked` (typed) or
    /// everywhere (a file): recorded either way; a mismatch refuses the
    /// signing, before any card.
    ///
    /// # Errors
    ///
    /// [`Error::Oob`], or the log fails; the operation is then closed.
    pub fn hear(
        self,
        ceremony: &Ceremony,
        asked: &Positions,
        heard: &Heard,
        client: Option<crate::audit::Client>,
    ) -> Result<Prepared<Sign>, Error> {
        let sha256 = self.prepared.operation().ksr_sha256;
        match crate::oob::compare(&sha256, heard, asked) {
            Ok(compared) => {
                let recorded = ceremony.record(&Event::Transfer {
                    event: transfer_event::OOB_CHECKED,
                    details: details([
                        ("transfer", self.transfer.manifest.id.clone().into()),
                        ("ksr_sha256", hex::encode(sha256).into()),
                        ("positions", compared.into()),
                        ("how", heard.how().into()),
                    ]),
                    client,
                });
                match recorded {
                    Ok(_) => Ok(self.prepared),
                    Err(err) => Err(self.prepared.fail(ceremony, err)),
                }
            }
            Err(err) => Err(self.prepared.fail(ceremony, err)),
        }
    }

    /// The operator gave up: the operation closes as aborted.
    pub fn decline(self, ceremony: &Ceremony) -> Error {
        self.prepared.decline(ceremony)
    }
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
    transfer: Option<String>,
    emergency: Option<EmergencyPlan>,
}

/// The emergency SKR's plan.
struct EmergencyPlan {
    plan: Plan,
    config: Config,
    output: PathBuf,
    standby: String,
    ksks: Vec<KskColumn>,
}

/// An emergency SKR, written and read back.
#[derive(Clone, Debug, Serialize)]
pub struct EmergencySigned {
    /// Where it was written.
    pub skr: String,
    /// Its SHA-256, hex.
    pub skr_sha256: String,
    /// The standby KSK's label.
    pub standby: String,
    /// Its bundles.
    pub bundles: usize,
    /// The key tags that signed.
    pub signers: Vec<u16>,
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
    /// The emergency SKR, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencySigned>,
}

/// Prepares a signing of a KSR file (a rehearsal's; a production ceremony
/// signs only from a transfer set, [`prepare_sign_media`]): opens the
/// operation in the log, then runs every
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
    let open = ceremony.begin(OperationKind::Sign, begin_details(&request))?;
    // What the quorum of a production ceremony signs came through the air
    // gap: verified against the pinned intake key, chained to this
    // signer's last SKR, read out over the phone.
    if !ceremony.is_rehearsal() {
        let err = Error::Production(
            "a production ceremony signs a KSR only from its transfer set: ceremony sign --media MEDIA/<ID> (a KSR file is for rehearsals)".into(),
        );
        return Err(ceremony.fail(open, err));
    }
    prepare(ceremony, open, &request, None)
}

/// Prepares a signing from a transfer set: opens the operation, reads the
/// set from the medium (regular files with the expected names only, sizes
/// checked first), verifies it against the intake key the sealed state
/// pins, chains it to this signer's own record of its last SKR (the set's
/// previous SKR must be that one; a KSR signed already is a replay), then
/// runs every check [`prepare_sign`] runs. The words read over the phone
/// come next ([`AwaitingWords::hear`]).
///
/// # Errors
///
/// A refusal naming the file and the check (`MEDIA-…`), a finding, a usage
/// error, or the log fails; the operation is then closed.
pub fn prepare_sign_media(
    ceremony: &Ceremony,
    request: MediaSignRequest,
) -> Result<AwaitingWords, Error> {
    let dir = match &request.source {
        MediaSource::Dir(dir) => dir.clone(),
        MediaSource::Uploaded(set) => set.dir().to_owned(),
    };
    let mut begin = Map::new();
    begin.insert("media".into(), dir.display().to_string().into());
    begin.insert("schema".into(), request.schema.clone().into());
    begin.insert("now".into(), request.now.time.to_string().into());
    let open = ceremony.begin(OperationKind::Sign, begin)?;
    let verified = match read_transfer(ceremony, &request) {
        Ok(verified) => verified,
        Err(err) => return Err(ceremony.fail(open, err)),
    };
    let previous = match chain_previous(ceremony.chain(), &verified, request.first_quarter) {
        Ok(previous) => previous,
        Err(err) => return Err(ceremony.fail(open, err.into())),
    };
    let recorded = ceremony.record(&Event::Transfer {
        event: transfer_event::VERIFIED,
        details: details([
            ("transfer", verified.manifest.id.clone().into()),
            ("dir", verified.dir.display().to_string().into()),
            ("manifest_sha256", verified.manifest_sha256.clone().into()),
            ("ksr_sha256", verified.manifest.ksr_sha256.clone().into()),
            ("intake_key", verified.key.fingerprint().into()),
            (
                "previous_skr_sha256",
                match &previous {
                    Previous::Given(document) => hex::encode(document.sha256()).into(),
                    Previous::Waived => Value::Null,
                },
            ),
        ]),
        client: None,
    });
    if let Err(err) = recorded {
        return Err(ceremony.fail(open, err));
    }
    let sign = SignRequest {
        ksr: verified.ksr.clone(),
        previous,
        output: request
            .output
            .clone()
            .unwrap_or_else(|| verified.skr_path()),
        schema: request.schema.clone(),
        format: request.format,
        end: request.end,
        now: request.now,
        // The emergency SKR stays on the signer's side: never on the
        // medium, which carries the quarter's SKR to the intake (and whose
        // extra files the intake refuses).
        emergency: match request.emergency.clone() {
            Some(mut emergency) => {
                match &emergency.output {
                    Some(output) if crate::process::inside(output, &verified.dir) => {
                        let err = Error::Key(format!(
                            "--emergency-out {} is inside the transfer set: the emergency SKR stays on the signer's side",
                            output.display()
                        ));
                        return Err(ceremony.fail(open, err));
                    }
                    Some(_) => {}
                    None => {
                        let name = emergency_path(&verified.skr_path(), &emergency.standby);
                        emergency.output = name.file_name().map(|file| {
                            ceremony.layout().root().join(format!(
                                "{}.{}",
                                verified.manifest.id,
                                file.to_string_lossy()
                            ))
                        });
                    }
                }
                Some(emergency)
            }
            None => None,
        },
    };
    let prepared = prepare(ceremony, open, &sign, Some(&verified))?;
    Ok(AwaitingWords {
        prepared,
        positions: Positions::choose(),
        transfer: verified,
    })
}

/// Reads and verifies the set against the pinned key.
fn read_transfer(ceremony: &Ceremony, request: &MediaSignRequest) -> Result<Verified, Error> {
    let key = ceremony.chain().intake_key.ok_or(MediaError::NoKey)?;
    let set = match &request.source {
        MediaSource::Dir(dir) => {
            sweep_set(ceremony, dir)?;
            TransferSet::read(dir, Hop::ToSigner)?
        }
        MediaSource::Uploaded(set) => set.clone(),
    };
    Ok(set.verify(&key)?)
}

/// Removes, and records, what a killed signing left in the set.
fn sweep_set(ceremony: &Ceremony, dir: &std::path::Path) -> Result<(), Error> {
    let removed = crate::media::sweep_signer_leftovers(dir)?;
    if !removed.is_empty() {
        ceremony.record(&Event::stale_files_removed(&removed))?;
    }
    Ok(())
}

/// The set's previous SKR against this signer's own record of its last.
fn chain_previous(
    chain: &Chain,
    verified: &Verified,
    first_quarter: bool,
) -> Result<Previous, MediaError> {
    let ksr_sha256 = &verified.manifest.ksr_sha256;
    let on_medium = verified.previous.as_ref();
    match (&chain.last_skr, on_medium) {
        (Some(last), _) if last.ksr_sha256.eq_ignore_ascii_case(ksr_sha256) => {
            Err(MediaError::Replay(format!(
                "this signer signed KSR {ksr_sha256} already (SKR {}): a transfer set replayed (to write that SKR to the medium again, sign --media DIR --rewrite)",
                last.sha256
            )))
        }
        (Some(last), Some(previous)) => {
            let sha256 = hex::encode(previous.sha256());
            if sha256.eq_ignore_ascii_case(&last.sha256) {
                Ok(Previous::Given(previous.clone()))
            } else {
                Err(MediaError::Chain(format!(
                    "{}: SHA-256 {sha256} is not the last SKR this signer signed ({}, for KSR {}): an older transfer set replayed, or an intake that has not imported the last SKR",
                    previous.path.display(),
                    last.sha256,
                    last.ksr_sha256
                )))
            }
        }
        (Some(last), None) => Err(MediaError::Chain(format!(
            "the transfer set holds no previous SKR, but this signer signed SKR {} last: the intake must export with its last SKR",
            last.sha256
        ))),
        (None, Some(previous)) => Ok(Previous::Given(previous.clone())),
        (None, None) if first_quarter => Ok(Previous::Waived),
        (None, None) => Err(MediaError::Chain(
            "neither the medium nor this signer holds a previous SKR: for a first quarter, sign with --no-previous-skr (recorded as a waiver)".into(),
        )),
    }
}

/// The opening entry's details.
fn begin_details(request: &SignRequest) -> Map<String, Value> {
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
    begin
}

/// The checks of a signing in its open operation.
fn prepare(
    ceremony: &Ceremony,
    open: crate::audit::OpenOperation,
    request: &SignRequest,
    media: Option<&Verified>,
) -> Result<Prepared<Sign>, Error> {
    // A moved clock is refused before the documents are judged by it.
    if let Err(err) = super::check_now(ceremony, request.now) {
        return Err(ceremony.fail(open, err));
    }
    match plan(ceremony, request, media) {
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
    media: Option<&Verified>,
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
    // A text KSR of one bundle says nothing of how long its SKR must
    // last: without --end or the policy's span, it would be signed for
    // text_rrsig_validity alone, a 14-day SKR (BIND's own dnssec-ksr
    // refuses to sign it without an end date). Refused before any card.
    let end = match (request.end, documents.single_text_bundle()) {
        (Some(end), _) => Some(end),
        (None, Some(time)) => match config.text.text_default_span {
            Some(span) => Some(
                time.checked_add(span.as_seconds())
                    .ok_or(Error::EndNeeded)?,
            ),
            None => return Err(Error::EndNeeded),
        },
        (None, None) => None,
    };
    ksr::resolve_schema(config, &request.schema, documents.bundle_count())
        .map_err(Error::Schema)?;
    let checked = documents
        .check(config, request.now.time, end)
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
    let emergency = request
        .emergency
        .as_ref()
        .map(|asked| plan_emergency(ceremony, &documents, request, asked, dialect, end))
        .transpose()?;
    let ksks = ksk_columns(&plan);
    let mut warnings: Vec<String> = checked
        .findings()
        .iter()
        .chain(plan.findings())
        .filter(|finding| finding.severity == Severity::Warning)
        .map(|finding| format!("{}: {}", finding.code, finding.message))
        .collect();
    warnings.extend(server_validity_warning(config, &plan));
    warnings.extend(one_bundle_schema_warning(
        config,
        &request.schema,
        documents.bundle_count(),
    ));
    if let Some(emergency) = &emergency {
        warnings.push(format!(
            "emergency SKR: KSR-POLICY-SAFETY.1 and .2 (publish safety) are not checked for it: the standby {} signs at once without having been published, so resolvers validate it only once the parent lists its DS",
            emergency.standby
        ));
        warnings.extend(
            emergency
                .plan
                .findings()
                .iter()
                // The one check switched off is said above, with why.
                .filter(|finding| {
                    finding.severity == Severity::Warning
                        && finding.code != CheckCode::CheckDisabled
                })
                .map(|finding| format!("emergency SKR: {}: {}", finding.code, finding.message)),
        );
    }
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
        text_choices: text_choices(config, &plan),
        bundles: bundle_table(plan.bundles(), &ksks),
        ksks: ksks.clone(),
        transfer: media.map(|media| crate::summary::TransferRef {
            id: media.manifest.id.clone(),
            dir: media.dir.display().to_string(),
            manifest_sha256: media.manifest_sha256.clone(),
            intake_key: media.key.fingerprint(),
            exported: media.manifest.exported.clone(),
            findings: media
                .manifest
                .findings
                .iter()
                .map(|finding| {
                    format!("{} {}: {}", finding.severity, finding.code, finding.message)
                })
                .collect(),
        }),
        emergency: emergency.as_ref().map(|emergency| EmergencyDetail {
            standby: emergency.standby.clone(),
            output: emergency.output.display().to_string(),
            ksks: emergency.ksks.clone(),
            bundles: bundle_table(emergency.plan.bundles(), &emergency.ksks),
        }),
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
            transfer: media.map(|media| media.manifest.id.clone()),
            emergency,
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
        let count = |plan: &Plan| -> usize {
            plan.bundles()
                .iter()
                .map(|bundle| bundle.signatures.len())
                .sum()
        };
        let total = count(&self.plan)
            + self
                .emergency
                .as_ref()
                .map_or(0, |emergency| count(&emergency.plan));
        let signer = Counting {
            hsm: active.hsm(),
            done: std::cell::Cell::new(0),
            total,
            progress: std::cell::RefCell::new(progress),
        };
        let by = format!("ceremony {}", env!("CARGO_PKG_VERSION"));
        let signed = sign_plan(&self.plan, &signer, self.now, &by, &self.output)?;
        // Both are signed before either is written; the emergency SKR is
        // written first and removed again if the SKR cannot be, so that a
        // failed signing leaves neither.
        let emergency = match &self.emergency {
            Some(emergency) => {
                let signed = sign_plan(&emergency.plan, &signer, self.now, &by, &emergency.output)?;
                write_skr(&emergency.output, &signed, &emergency.config)?;
                Some((emergency, signed))
            }
            None => None,
        };
        if let Err(err) = write_skr(&self.output, &signed, &self.config) {
            if let Some((emergency, _)) = &emergency {
                let _ = std::fs::remove_file(&emergency.output);
            }
            return Err(err);
        }
        let emergency = match emergency {
            Some((plan, signed)) => Some(self.keep_emergency(active, plan, &signed)?),
            None => None,
        };
        let skr_sha256 = hex::encode(signed.sha256());
        // The signer's own record of its last SKR, which the next transfer
        // set must chain to; sealed with the state at the end.
        let name = format!(
            "skrs/{}.{}",
            skr_sha256.get(..16).unwrap_or_default(),
            crate::document::extension(signed.bytes())
        );
        let copy = active.ceremony().layout().root().join(&name);
        crate::process::private_dir(&active.ceremony().layout().skrs())?;
        durable::write(&copy, signed.bytes(), durable::Replace::Allowed)?;
        let mut chain = active.ceremony().chain().clone();
        chain.last_skr = Some(LastSkr {
            file: name,
            sha256: skr_sha256.clone(),
            ksr_sha256: hex::encode(self.ksr_sha256),
            transfer: self.transfer.clone(),
        });
        active.ceremony_mut().set_chain(chain);
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
            // The plan's bundles are what was signed, with the HSM's labels
            // (a text SKR read back has none to match the columns by).
            table: bundle_table(self.plan.bundles(), &self.ksks),
            ksks: self.ksks,
            bytes: signed.bytes().to_vec(),
            emergency,
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

impl Sign {
    /// Keeps a copy of the emergency SKR beside the signer's SKRs
    /// (`DIR/skrs/<SHA-256>.emergency.EXT`) and records it.
    fn keep_emergency(
        &self,
        active: &Active<'_>,
        emergency: &EmergencyPlan,
        signed: &ksr::SignedSkr,
    ) -> Result<EmergencySigned, Error> {
        let sha256 = hex::encode(signed.sha256());
        let name = format!(
            "skrs/{}.emergency.{}",
            sha256.get(..16).unwrap_or_default(),
            crate::document::extension(signed.bytes())
        );
        crate::process::private_dir(&active.ceremony().layout().skrs())?;
        durable::write(
            &active.ceremony().layout().root().join(name),
            signed.bytes(),
            durable::Replace::Allowed,
        )?;
        let signers: Vec<u16> = signed.signer_tags().into_iter().collect();
        active.ceremony().record(&Event::EmergencySkrWritten {
            path: emergency.output.display().to_string(),
            skr_sha256: sha256.clone(),
            ksr_sha256: hex::encode(self.ksr_sha256),
            standby: emergency.standby.clone(),
            bundles: signed.bundle_count(),
            signers: signers.clone(),
        })?;
        Ok(EmergencySigned {
            skr: emergency.output.display().to_string(),
            skr_sha256: sha256,
            standby: emergency.standby.clone(),
            bundles: signed.bundle_count(),
            signers,
        })
    }
}

/// Signs a plan.
fn sign_plan(
    plan: &Plan,
    signer: &dyn BundleSigner,
    now: Timestamp,
    by: &str,
    output: &std::path::Path,
) -> Result<ksr::SignedSkr, Error> {
    plan.sign(signer, now, by).map_err(|err| match err {
        ksr::BuildError::Rejected(findings) => {
            Error::Refused(Report::new(Files::one(output), findings))
        }
        ksr::BuildError::Signer { label, source } => Error::Signing {
            label,
            message: source.message,
        },
    })
}

/// Writes a signed SKR where nothing is, synced, read back and checked.
fn write_skr(
    output: &std::path::Path,
    signed: &ksr::SignedSkr,
    config: &Config,
) -> Result<(), Error> {
    let written =
        durable::write_checked(output, signed.bytes(), durable::Replace::Never, |bytes| {
            signed.reads_back_from(bytes, config)
        });
    match written {
        Err(durable::WriteError::ReadBack(_)) => Err(Error::Refused(Report::new(
            Files::one(output),
            vec![Finding::error(
                CheckCode::SkrReread,
                DocumentRole::NewSkr,
                "the SKR read back from disk is not what was signed; nothing was kept",
            )],
        ))),
        other => Ok(other?),
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

/// Writes `manifest-skr.json` beside the SKR the signing wrote into the
/// transfer set (synced and read back), and records it: the SKR's and the
/// KSR's hashes, the audit head and the officers whose cards activated. It
/// is kept beside the signer's copy of the SKR first, so that a medium
/// that fails now can be written again ([`rewrite_media`]).
///
/// # Errors
///
/// The medium cannot be written, or the log fails.
pub fn write_to_media(
    ceremony: &Ceremony,
    transfer: &Verified,
    done: &crate::flow::Done<Signed>,
) -> Result<PathBuf, Error> {
    let manifest = skr_manifest(transfer, done, ceremony.clock().wall().to_string());
    keep_skr_manifest(ceremony, &manifest)?;
    let path = crate::media::write_skr_manifest(&transfer.dir, &manifest)?;
    record_to_media(ceremony, &manifest, &path, false)?;
    Ok(path)
}

/// Keeps an SKR's manifest beside the signer's copy of the SKR
/// (`DIR/skrs/<SHA-256>.manifest-skr.json`).
///
/// # Errors
///
/// It cannot be written.
pub(crate) fn keep_skr_manifest(
    ceremony: &Ceremony,
    manifest: &crate::media::SkrManifest,
) -> Result<(), Error> {
    let bytes =
        serde_json::to_vec_pretty(manifest).map_err(|err| Error::Internal(err.to_string()))?;
    Ok(durable::write(
        &kept_manifest_path(ceremony.layout(), &manifest.skr_sha256),
        &bytes,
        durable::Replace::Allowed,
    )?)
}

/// Where an SKR's manifest is kept.
pub(crate) fn kept_manifest_path(layout: &crate::layout::Layout, skr_sha256: &str) -> PathBuf {
    layout.skrs().join(format!(
        "{}.{}",
        skr_sha256.get(..16).unwrap_or_default(),
        crate::media::SKR_MANIFEST
    ))
}

fn record_to_media(
    ceremony: &Ceremony,
    manifest: &crate::media::SkrManifest,
    path: &std::path::Path,
    again: bool,
) -> Result<(), Error> {
    ceremony.record(&Event::Transfer {
        event: transfer_event::SKR_TO_MEDIA,
        details: details([
            ("transfer", manifest.id.clone().into()),
            ("skr_sha256", manifest.skr_sha256.clone().into()),
            ("manifest", path.display().to_string().into()),
            ("again", again.into()),
        ]),
        client: None,
    })?;
    Ok(())
}

/// Writes the SKR of the set this signer signed last, and its manifest,
/// into that set again, from the signer's own copies (`sign --media DIR
/// --rewrite`): for a medium that failed or was lost after the signing.
/// No quorum: nothing is signed. The set must verify under the pinned key
/// and be the one the sealed record names; a file already on the medium
/// must be the signer's copy.
///
/// # Errors
///
/// Not that set (`MEDIA-CHAIN`), a copy missing or changed, the medium
/// fails, or the log fails.
pub fn rewrite_media(ceremony: &Ceremony, dir: &std::path::Path) -> Result<PathBuf, Error> {
    let key = ceremony.chain().intake_key.ok_or(MediaError::NoKey)?;
    sweep_set(ceremony, dir)?;
    let set = TransferSet::read(dir, Hop::BackToIntake)?;
    let verified = set.verify(&key)?;
    let last = ceremony
        .chain()
        .last_skr
        .clone()
        .filter(|last| {
            last.transfer.as_deref() == Some(verified.manifest.id.as_str())
                && last
                    .ksr_sha256
                    .eq_ignore_ascii_case(&verified.manifest.ksr_sha256)
        })
        .ok_or_else(|| {
            MediaError::Chain(format!(
                "{}: not the transfer set this signer signed last: it has no SKR to write again",
                dir.display()
            ))
        })?;
    let root = ceremony.layout().root();
    let skr = Document::read(&root.join(&last.file))?;
    let kept = kept_manifest_path(ceremony.layout(), &last.sha256);
    let manifest: crate::media::SkrManifest = serde_json::from_slice(
        &std::fs::read(&kept).map_err(Error::read(&kept))?,
    )
    .map_err(|err| MediaError::Manifest {
        path: kept.clone(),
        why: err.to_string(),
    })?;
    if hex::encode(skr.sha256()) != last.sha256 || manifest.skr_sha256 != last.sha256 {
        return Err(MediaError::Hash {
            path: root.join(&last.file),
            what: "the signer's copy changed".into(),
            expected: last.sha256,
        }
        .into());
    }
    let bytes = skr
        .bytes(DocumentRole::NewSkr)
        .map_err(|finding| Error::Internal(finding.message))?;
    let on_medium = dir.join(&manifest.skr);
    match set.files().get(&manifest.skr) {
        Some(found) if found.as_slice() == bytes => {}
        Some(_) => {
            return Err(MediaError::Hash {
                path: on_medium,
                what: "another SKR".into(),
                expected: last.sha256,
            }
            .into());
        }
        None => durable::write(&on_medium, bytes, durable::Replace::Never)?,
    }
    if let Some(found) = set.files().get(crate::media::SKR_MANIFEST) {
        if serde_json::from_slice::<crate::media::SkrManifest>(found).ok() != Some(manifest.clone())
        {
            return Err(MediaError::Hash {
                path: dir.join(crate::media::SKR_MANIFEST),
                what: "another manifest".into(),
                expected: last.sha256,
            }
            .into());
        }
        record_to_media(
            ceremony,
            &manifest,
            &dir.join(crate::media::SKR_MANIFEST),
            true,
        )?;
        return Ok(dir.join(crate::media::SKR_MANIFEST));
    }
    let path = crate::media::write_skr_manifest(dir, &manifest)?;
    record_to_media(ceremony, &manifest, &path, true)?;
    Ok(path)
}

/// The SKR's manifest for a signing from `transfer`.
pub fn skr_manifest(
    transfer: &Verified,
    done: &crate::flow::Done<Signed>,
    signed: String,
) -> crate::media::SkrManifest {
    crate::media::SkrManifest {
        format: 1,
        id: transfer.manifest.id.clone(),
        skr: format!("skr.{}", crate::document::extension(&done.output.bytes)),
        skr_size: u64::try_from(done.output.bytes.len()).unwrap_or(u64::MAX),
        skr_sha256: done.output.skr_sha256.clone(),
        ksr_sha256: done.output.ksr_sha256.clone(),
        audit_head: done.audit_head.clone(),
        officers: done
            .accepted
            .iter()
            .map(|accepted| accepted.officer.clone())
            .collect(),
        signed,
    }
}

/// The lines that say what a text SKR carries beyond the schema, and
/// whether the policy or the requester's dialect chose it.
fn text_choices(config: &ksr::Config, plan: &ksr::Plan) -> Vec<String> {
    let ksr::Plan::Text(text) = plan else {
        return Vec::new();
    };
    let dialect = match text.dialect() {
        Dialect::Bind => "BIND",
        Dialect::Knot => "Knot",
    };
    let why = |set: bool| {
        if set {
            "as the policy says".to_owned()
        } else {
            format!(
                "the default for a {dialect}-dialect SKR; the policy's [text] can say otherwise"
            )
        }
    };
    let records = match text.cds() {
        ksr::TextCds::None => "no CDS or CDNSKEY records",
        ksr::TextCds::Cdnskey => "CDNSKEY records",
        ksr::TextCds::Cds => "CDS records (SHA-256)",
        ksr::TextCds::Both => "CDS (SHA-256) and CDNSKEY records",
    };
    let profile = match text.profile() {
        ksr::SchemaProfile::Kskm => "kskm: the schema as written",
        ksr::SchemaProfile::Bind => {
            "bind: every published KSK also signs the DNSKEY RRset (named cannot serve a bundle in which one does not)"
        }
    };
    vec![
        format!(
            "text_cds = {:?}: {records} in every bundle ({})",
            text.cds().name(),
            why(config.text.text_cds.is_some())
        ),
        format!(
            "text_schema_profile = {profile} ({})",
            why(config.text.text_schema_profile.is_some())
        ),
    ]
}

/// A warning when the requester's server keeps a bundle's DNSKEY
/// signatures for another time than they are valid: named serves the last
/// bundle for its `signatures-validity-dnskey`, so signatures valid for
/// less would expire while served, and a longer server setting hides a
/// policy the two sides did not agree on.
fn server_validity_warning(config: &ksr::Config, plan: &ksr::Plan) -> Option<String> {
    let ksr::Plan::Text(text) = plan else {
        return None;
    };
    let server = config.text.server_dnskey_validity(text.dialect())?;
    let ours = config.text.text_rrsig_validity;
    (server != ours).then(|| {
        format!(
            "TOOL-CONFIG: the requester's server keeps a bundle's DNSKEY signatures for {server} (BIND's signatures-validity-dnskey{}), but text_rrsig_validity signs them for {ours}: set one to the other (the policy's [text] text_server_dnskey_validity is the server's value)",
            if config.text.text_server_dnskey_validity.is_some() {
                ", as the policy says"
            } else {
                ", its default"
            }
        )
    })
}

/// The KSK columns of a plan's bundle table.
fn ksk_columns(plan: &Plan) -> Vec<KskColumn> {
    plan.model()
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
        .collect()
}

/// Plans the emergency SKR: the same documents checked and planned under a
/// copy of the policy with one more schema, in which every bundle publishes
/// the standby, revokes the current KSK and is signed by both — every check
/// of a signing, before any card.
fn plan_emergency(
    ceremony: &Ceremony,
    documents: &Documents,
    request: &SignRequest,
    asked: &EmergencyRequest,
    dialect: Option<Dialect>,
    end: Option<Timestamp>,
) -> Result<EmergencyPlan, Error> {
    let config = ceremony.policy().config();
    let current = config
        .keys
        .get(ksr::KskRole::Current.name())
        .ok_or_else(|| Error::Key("the policy has no current KSK".into()))?;
    let Some((standby_name, _)) = config
        .keys
        .iter()
        .find(|(_, key)| key.label == asked.standby)
    else {
        return Err(Error::Key(format!(
            "--emergency-standby {:?} is not a KSK of the policy: make the standby first (ceremony keygen), so that a quorum approved it",
            asked.standby
        )));
    };
    if current.label == asked.standby {
        return Err(Error::Key(format!(
            "--emergency-standby {:?} is the current KSK: the emergency SKR rolls to another one (the policy's ksk_next)",
            asked.standby
        )));
    }
    if config.schemas.contains_key(EMERGENCY_SCHEMA) {
        return Err(Error::Key(format!(
            "the policy defines a schema named {EMERGENCY_SCHEMA:?}, the name the emergency SKR's schema takes: rename it"
        )));
    }
    let action = ksr::Action {
        publish: vec![standby_name.clone()],
        revoke: vec![ksr::KskRole::Current.name().to_owned()],
        sign: vec![
            ksr::KskRole::Current.name().to_owned(),
            standby_name.clone(),
        ],
    };
    let mut emergency_config = config.clone();
    // The standby signs at once, unpublished before: the one rule an
    // emergency roll breaks by design. Every other check runs.
    emergency_config.request_policy.check_keys_publish_safety = false;
    emergency_config.schemas.insert(
        EMERGENCY_SCHEMA.to_owned(),
        (1..=documents.bundle_count())
            .map(|number| (number.to_string(), action.clone()))
            .collect(),
    );
    let files = Files::one(&request.ksr.path);
    let refused = |findings: Vec<Finding>| {
        Error::Refused(Report::new(
            files.clone(),
            findings
                .into_iter()
                .map(|mut finding| {
                    finding.message = format!("the emergency SKR: {}", finding.message);
                    finding
                })
                .collect(),
        ))
    };
    let checked = documents
        .check(&emergency_config, request.now.time, end)
        .map_err(refused)?;
    let plan = checked
        .plan(EMERGENCY_SCHEMA, &Sealed(ceremony.hsm()), dialect)
        .map_err(refused)?;
    let output = asked
        .output
        .clone()
        .unwrap_or_else(|| emergency_path(&request.output, &asked.standby));
    if same_place(&output, &request.output) {
        return Err(Error::Key(
            "the emergency SKR cannot go where the SKR goes".into(),
        ));
    }
    durable::check_writable(&output).map_err(|err| match err {
        durable::WriteError::Exists(path) => Error::OutputExists(path),
        other => Error::OutputUnwritable {
            path: output.clone(),
            reason: other.to_string(),
        },
    })?;
    let ksks = ksk_columns(&plan);
    Ok(EmergencyPlan {
        plan,
        config: emergency_config,
        output,
        standby: asked.standby.clone(),
        ksks,
    })
}

/// Whether two output paths name one place: the same file name in the
/// same folder, however the folders are spelt.
fn same_place(one: &std::path::Path, other: &std::path::Path) -> bool {
    let place = |path: &std::path::Path| {
        let folder = durable::directory_of(path);
        (
            std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_owned()),
            path.file_name().map(std::ffi::OsStr::to_owned),
        )
    };
    place(one) == place(other)
}

/// `dir/skr.xml` → `dir/skr.emergency-LABEL.xml` (the label's characters
/// other than letters, digits, `.`, `_` and `-` as `_`).
fn emergency_path(output: &std::path::Path, standby: &str) -> PathBuf {
    let standby: String = standby
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = output
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "skr".into());
    let name = match output.extension() {
        Some(extension) => format!("{stem}.emergency-{standby}.{}", extension.to_string_lossy()),
        None => format!("{stem}.emergency-{standby}"),
    };
    output.with_file_name(name)
}

/// A warning when a KSR of one bundle (BIND's, with ZSKs of unlimited
/// lifetime) is signed with a schema whose bundles differ: only bundle 1's
/// action applies, so `pre-publish` signs as `normal`, `rollover` as
/// pre-publish and `revoke` revokes nothing.
fn one_bundle_schema_warning(config: &Config, schema: &str, bundles: usize) -> Option<String> {
    if bundles != 1 {
        return None;
    }
    let actions = ksr::resolve_schema(config, schema, 9).ok()?;
    let first = actions.first()?;
    actions.iter().any(|action| action != first).then(|| {
        format!(
            "TOOL-CONFIG: the KSR has one bundle, so only bundle 1 of schema {schema:?} applies (publish {}; sign {}): for a KSK roll answer one-bundle KSRs with a schema whose every bundle is the phase's (publish+, rollover+, or one of the policy's)",
            first.publish.join(", "),
            first.sign.join(", ")
        )
    })
}

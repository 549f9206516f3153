//! The checks without an HSM: `ksr check` (stages 1 to 4, as the service's
//! intake runs them too) and `skr check` (an SKR by itself, against its
//! KSR and SKR(n-1), anchored to trusted KSKs).

use ksr::{
    Config, DigestType, Dnskey, DocumentRole, Documents, Ds, Flags, KsrDocument, SkrDocument,
};

use crate::clock::Now;
use crate::document::{Document, join};
use crate::error::Error;
use crate::report::{Files, Report};

/// A KSR checked: the report, and the documents when they parsed.
pub struct KsrChecked {
    /// Every finding, with `TOOL-NOW` first.
    pub report: Report,
    /// The KSR and SKR(n-1), when both parsed.
    pub documents: Option<Documents>,
}

/// Runs stages 1 to 4 on a KSR and, when given, SKR(n-1): what `ksr check`
/// prints and the service's intake answers.
///
/// # Errors
///
/// The KSR and SKR(n-1) are of different formats.
pub fn check_ksr(
    ksr: &Document,
    previous: Option<&Document>,
    config: &Config,
    now: Now,
) -> Result<KsrChecked, Error> {
    let files = Files::with_previous(&ksr.path, previous.map(|document| document.path.as_path()));
    let mut findings = vec![now.finding()];
    let parsed = join(
        ksr.parse(DocumentRole::Ksr, |bytes, _| KsrDocument::parse(bytes)),
        previous.map(|document| document.parse(DocumentRole::PreviousSkr, SkrDocument::parse)),
    );
    let documents = match parsed {
        Err(unreadable) => {
            findings.extend(unreadable);
            None
        }
        Ok((ksr, previous)) => {
            let documents = Documents::new(ksr, previous)?;
            findings.extend(documents.validate(config, now.time, None));
            Some(documents)
        }
    };
    Ok(KsrChecked {
        report: Report::new(files, findings),
        documents,
    })
}

/// What an SKR is anchored to.
#[derive(Clone, Debug)]
pub enum Anchor {
    /// Not anchored.
    None,
    /// Trusted DNSKEY records (`--ksk FILE`).
    Keys(Vec<Dnskey>),
    /// The policy's KSKs, by their DS pins (inside a ceremony).
    Pins,
}

/// What `skr check` checks an SKR against.
pub struct SkrCheck<'a> {
    /// The SKR.
    pub skr: &'a Document,
    /// The KSR it answers.
    pub ksr: Option<&'a Document>,
    /// SKR(n-1), for the safety checks (XML only).
    pub previous: Option<&'a Document>,
    /// The schema it was made with (XML only).
    pub schema: Option<&'a str>,
    /// What it is anchored to.
    pub anchor: Anchor,
}

/// An SKR checked: the report and, when it parsed, the SKR.
pub struct SkrChecked {
    /// Every finding.
    pub report: Report,
    /// The SKR, when it parsed.
    pub skr: Option<SkrDocument>,
    /// The key tags the SKR was anchored to.
    pub anchored_to: Vec<u16>,
}

/// Checks an SKR: its structure, key tags and every signature; with its
/// KSR, that it answers it (`SKR-CONSISTENCY`); with SKR(n-1), that it
/// follows it safely (`KSR-POLICY-SAFETY`); with a schema, each bundle's
/// KSKs and signers; anchored, that each bundle carries a valid signature
/// by a trusted KSK (`SKR-ANCHOR`).
///
/// # Errors
///
/// Options that a text SKR does not take, documents of different formats,
/// or a schema that does not exist.
pub fn check_skr(check: &SkrCheck<'_>, config: &Config) -> Result<SkrChecked, Error> {
    let role = DocumentRole::NewSkr;
    let files = Files {
        main: check.skr.path.clone(),
        previous: check.previous.map(|document| document.path.clone()),
        ksr: check.ksr.map(|document| document.path.clone()),
    };
    let skr = check.skr.parse(role, SkrDocument::parse);
    let ksr = check
        .ksr
        .map(|document| document.parse(DocumentRole::Ksr, |bytes, _| KsrDocument::parse(bytes)));
    let previous = check
        .previous
        .map(|document| document.parse(DocumentRole::PreviousSkr, SkrDocument::parse));
    let (skr, ksr, previous) = match (skr, ksr.transpose(), previous.transpose()) {
        (Ok(skr), Ok(ksr), Ok(previous)) => (skr, ksr, previous),
        (skr, ksr, previous) => {
            let mut findings = skr.err().unwrap_or_default();
            findings.extend(ksr.err().unwrap_or_default());
            findings.extend(previous.err().unwrap_or_default());
            return Ok(SkrChecked {
                report: Report::new(files, findings),
                skr: None,
                anchored_to: Vec::new(),
            });
        }
    };
    let mut findings = skr.check(config, role);
    match (&skr, &ksr) {
        (SkrDocument::Xml(skr), Some(KsrDocument::Xml(request))) => {
            let previous = match previous {
                None => None,
                Some(SkrDocument::Xml(previous)) => Some(previous),
                Some(other) => {
                    return Err(ksr::FormatMismatch {
                        ksr: ksr::Format::Xml,
                        previous: other.format(),
                    }
                    .into());
                }
            };
            let schema = check
                .schema
                .map(|name| ksr::resolve_schema(config, name, request.bundles.len()))
                .transpose()
                .map_err(Error::Schema)?;
            findings.extend(ksr::check_response(
                skr,
                request,
                previous.as_ref(),
                config,
                schema.as_ref(),
            ));
        }
        (SkrDocument::Text(skr), Some(KsrDocument::Text(request))) => {
            if check.previous.is_some() || check.schema.is_some() {
                return Err(Error::Key(
                    "--previous-skr and --schema are for XML SKRs; a text SKR is checked by itself, with --ksr and --ksk".into(),
                ));
            }
            findings.extend(ksr::check_text_answer(skr, request));
        }
        (skr, Some(request)) => {
            return Err(ksr::FormatMismatch {
                ksr: request.format(),
                previous: skr.format(),
            }
            .into());
        }
        (SkrDocument::Text(_), None) if check.previous.is_some() || check.schema.is_some() => {
            return Err(Error::Key(
                "--previous-skr and --schema are for XML SKRs; a text SKR is checked by itself, with --ksr and --ksk".into(),
            ));
        }
        (_, None) => {}
    }
    let model = skr.to_model();
    let trusted: Option<Vec<Dnskey>> = match &check.anchor {
        Anchor::None => None,
        Anchor::Keys(keys) => Some(keys.clone()),
        Anchor::Pins => Some(pinned_keys(&model, config)),
    };
    let mut anchored_to = Vec::new();
    if let Some(trusted) = trusted {
        anchored_to = trusted.iter().map(|key| key.key_tag().to_int()).collect();
        findings.extend(ksr::check_skr_anchor(&model, &trusted, role));
    }
    Ok(SkrChecked {
        report: Report::new(files, findings),
        skr: Some(skr),
        anchored_to,
    })
}

/// The keys of an SKR whose DS with Flags 257 is one of the policy's pins:
/// the KSKs the ceremony's policy trusts.
fn pinned_keys(skr: &ksr::Skr, config: &Config) -> Vec<Dnskey> {
    let mut keys: Vec<Dnskey> = Vec::new();
    for key in skr.bundles.iter().flat_map(|bundle| &bundle.keys) {
        let ksk = key.dnskey.with_flags(Flags::KSK);
        let ds = Ds::compute(&skr.domain, &ksk, DigestType::Sha256).digest_hex();
        let pinned = config
            .keys
            .values()
            .any(|pin| pin.ds_sha256.eq_ignore_ascii_case(&ds));
        if pinned && !keys.contains(&ksk) {
            keys.push(ksk);
        }
    }
    keys
}

/// What marks an emergency SKR (`sign --emergency-standby`): every bundle
/// publishes a KSK revoked, and a KSK that is not revoked signs it. (The
/// revoke schema's first and last bundles revoke nothing.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmergencyShape {
    /// The tags (with REVOKE) of the KSKs revoked in every bundle.
    pub revoked: Vec<u16>,
    /// The tags of the KSKs not revoked that sign every bundle.
    pub standby: Vec<u16>,
}

/// The emergency shape of an SKR, if it has it.
pub fn emergency_shape(skr: &ksr::Skr) -> Option<EmergencyShape> {
    let mut revoked: Option<std::collections::BTreeSet<u16>> = None;
    let mut standby: Option<std::collections::BTreeSet<u16>> = None;
    for bundle in &skr.bundles {
        let ksks = bundle
            .keys
            .iter()
            .filter(|key| key.dnskey.flags().to_int() & 1 == 1);
        let (revoked_here, live_here): (Vec<_>, Vec<_>) =
            ksks.partition(|key| key.dnskey.flags() == ksr::Flags::REVOKED_KSK);
        let revoked_tags: std::collections::BTreeSet<u16> = revoked_here
            .iter()
            .map(|key| key.dnskey.key_tag().to_int())
            .collect();
        let signing: std::collections::BTreeSet<u16> = live_here
            .iter()
            .map(|key| key.dnskey.key_tag().to_int())
            .filter(|tag| {
                bundle
                    .signatures
                    .iter()
                    .any(|signature| signature.rrsig.key_tag.to_int() == *tag)
            })
            .collect();
        if revoked_tags.is_empty() || signing.is_empty() {
            return None;
        }
        revoked = Some(match revoked {
            None => revoked_tags,
            Some(before) => before.intersection(&revoked_tags).copied().collect(),
        });
        standby = Some(match standby {
            None => signing,
            Some(before) => before.intersection(&signing).copied().collect(),
        });
    }
    let (revoked, standby) = (revoked?, standby?);
    (!revoked.is_empty() && !standby.is_empty()).then(|| EmergencyShape {
        revoked: revoked.into_iter().collect(),
        standby: standby.into_iter().collect(),
    })
}

/// The audit log's record of an emergency SKR this ceremony signed, by the
/// SKR's SHA-256 (hex): when, and rolling to which standby. The log is read
/// as it is, unverified (`audit verify` verifies it).
pub fn emergency_record(
    layout: &crate::layout::Layout,
    skr_sha256: &str,
) -> Option<(String, String)> {
    let entries = hsm::read_audit_log(&layout.audit()).ok()?;
    entries.into_iter().rev().find_map(|entry| {
        let matches = entry.event == "emergency-skr-written"
            && entry
                .details
                .get("skr_sha256")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|sha256| sha256.eq_ignore_ascii_case(skr_sha256));
        matches.then(|| {
            let standby = entry
                .details
                .get("standby")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (entry.time, standby)
        })
    })
}

//! `ksr show|check` and `skr show|check` for documents in the Knot DNS /
//! BIND text format (the commands detect the format from the file).

use std::path::Path;

use ksr::DocumentRole;
use ksr::text::{TextKsr, TextSkr};
use sha2::{Digest as _, Sha256};

use crate::ceremony::request::is_text_file;
use crate::document::{join, parse_file, parse_file_with_bytes};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, Files, out};

/// The hashes to compare out of band, as lines: the file's, and for a KSR
/// its ZSK set's.
fn hash_lines(bytes: &[u8], zsk_set: Option<[u8; 32]>) -> Vec<String> {
    let sha256 = Sha256::digest(bytes);
    let mut lines = vec![
        format!("SHA-256 {}", hex::encode(sha256)),
        format!("  {}", ksr::pgp_words(&sha256)),
    ];
    if let Some(zsks) = zsk_set {
        lines.push(format!("ZSK set SHA-256 {}", hex::encode(zsks)));
        lines.push(format!("  {}", ksr::pgp_words(&zsks)));
    }
    lines
}

/// `ksr show` of a text KSR.
pub fn show_ksr(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let (bytes, parsed) =
        parse_file_with_bytes(path, DocumentRole::Ksr, ksr::text::parse_text_ksr)?;
    let ksr = match parsed {
        Ok(ksr) => ksr,
        Err(mut findings) => {
            return render::findings(
                context,
                &Files::one(path),
                &mut findings,
                "not a readable KSR",
            );
        }
    };
    if context.json {
        render::json(&serde_json::json!({
            "file": path.display().to_string(),
            "format": "text",
            "dialect": ksr.dialect,
            "id": ksr.id,
            "domain": ksr.domain.as_str(),
            "sha256": hex::encode(Sha256::digest(&bytes)),
            "zsk_set_sha256": hex::encode(ksr.zsk_set_sha256()),
            "bundles": ksr.bundles.iter().map(|bundle| serde_json::json!({
                "time": bundle.time,
                "keys": bundle.keys.iter().map(key_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "text KSR ({:?} dialect) {} for {}: {} bundles from {} to {}",
        ksr.dialect,
        ksr.id,
        ksr.domain,
        ksr.bundles.len(),
        ksr.bundles
            .first()
            .map(|b| b.time.to_string())
            .unwrap_or_default(),
        ksr.bundles
            .last()
            .map(|b| b.time.to_string())
            .unwrap_or_default(),
    ))?;
    out("no proof of possession: compare the hashes below out of band (TXT-KSR-UNAUTHENTICATED)")?;
    for line in hash_lines(&bytes, Some(ksr.zsk_set_sha256())) {
        out(line)?;
    }
    bundles(&ksr)?;
    Ok(Outcome::Success)
}

fn key_json(key: &ksr::text::TextKey) -> serde_json::Value {
    serde_json::json!({
        "tag": key.dnskey.key_tag().to_int(),
        "flags": key.dnskey.flags().to_int(),
        "algorithm": key.dnskey.algorithm().to_int(),
        "ttl": key.ttl,
    })
}

fn describe_keys(keys: &[ksr::text::TextKey]) -> String {
    keys.iter()
        .map(|key| {
            format!(
                "{}/{} flags {} TTL {}",
                key.dnskey.key_tag(),
                key.dnskey.algorithm().to_int(),
                key.dnskey.flags().to_int(),
                key.ttl
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bundles(ksr: &TextKsr) -> Result<(), CliError> {
    for (index, bundle) in ksr.bundles.iter().enumerate() {
        out(format!(
            "bundle {:>3} {}  {}",
            index + 1,
            bundle.time,
            describe_keys(&bundle.keys)
        ))?;
    }
    Ok(())
}

/// `ksr check` of a text KSR, against a text SKR(n-1) when given.
pub fn check_ksr(
    path: &Path,
    previous_path: Option<&Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    if let Some(previous) = previous_path
        && !is_text_file(previous)?
    {
        return Err(CliError::Usage(format!(
            "{} is not in the text format: the previous SKR of a text KSR must be a text SKR",
            previous.display()
        )));
    }
    let (config, _) = context.config()?;
    let (now, source) = context.now()?;
    let (bytes, ksr) = parse_file_with_bytes(path, DocumentRole::Ksr, ksr::text::parse_text_ksr)?;
    let previous = previous_path
        .map(|previous| {
            parse_file(
                previous,
                DocumentRole::PreviousSkr,
                ksr::text::parse_text_skr,
            )
        })
        .transpose()?;
    let files = Files::with_previous(path, previous_path);
    let mut findings = vec![super::ksr::now_finding(now, source)];
    let (ksr, previous) = match join(ksr, previous) {
        Ok(both) => both,
        Err(unreadable) => {
            findings.extend(unreadable);
            return render::findings(context, &files, &mut findings, "not readable");
        }
    };
    findings.extend(ksr::validate_text_request(&ksr::TextRequest {
        ksr: &ksr,
        previous: previous.as_ref(),
        config: &config,
        now,
        end: None,
    }));
    if !context.json {
        for line in hash_lines(&bytes, Some(ksr.zsk_set_sha256())) {
            out(line)?;
        }
    }
    let summary = format!(
        "text KSR {} for {} ({} bundles){}",
        ksr.id,
        ksr.domain,
        ksr.bundles.len(),
        if previous.is_some() {
            ", chained to the previous SKR"
        } else {
            ""
        }
    );
    render::findings(context, &files, &mut findings, &summary)
}

/// `skr show` of a text SKR.
pub fn show_skr(path: &Path, context: &Context) -> Result<Outcome, CliError> {
    let skr = match parse_file(path, DocumentRole::NewSkr, ksr::text::parse_text_skr)? {
        Ok(skr) => skr,
        Err(mut findings) => {
            return render::findings(
                context,
                &Files::one(path),
                &mut findings,
                "not a readable SKR",
            );
        }
    };
    if context.json {
        render::json(&serde_json::json!({
            "file": path.display().to_string(),
            "format": "text",
            "dialect": skr.dialect,
            "domain": skr.domain.as_str(),
            "bundles": skr.bundles.iter().map(|bundle| serde_json::json!({
                "time": bundle.time,
                "keys": bundle.keys.iter().map(key_json).collect::<Vec<_>>(),
                "signatures": bundle.signatures.iter().map(|s| serde_json::json!({
                    "tag": s.rrsig.key_tag.to_int(),
                    "algorithm": s.rrsig.algorithm.to_int(),
                    "inception": s.rrsig.inception,
                    "expiration": s.rrsig.expiration,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "text SKR ({:?} dialect) for {}: {} bundles from {} to {}",
        skr.dialect,
        skr.domain,
        skr.bundles.len(),
        skr.bundles
            .first()
            .map(|b| b.time.to_string())
            .unwrap_or_default(),
        skr.bundles
            .last()
            .map(|b| b.time.to_string())
            .unwrap_or_default(),
    ))?;
    for (index, bundle) in skr.bundles.iter().enumerate() {
        let signatures = bundle
            .signatures
            .iter()
            .map(|s| {
                format!(
                    "{} {} … {}",
                    s.rrsig.key_tag, s.rrsig.inception, s.rrsig.expiration
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        out(format!(
            "bundle {:>3} {}  keys {}  signed by {signatures}",
            index + 1,
            bundle.time,
            describe_keys(&bundle.keys)
        ))?;
    }
    Ok(Outcome::Success)
}

/// `skr check` of a text SKR: by itself, against its text KSR (`--ksr`),
/// and anchored to trusted KSKs (`--ksk`).
pub fn check_skr(
    path: &Path,
    trusted: Option<&[ksr::Dnskey]>,
    ksr_path: Option<&Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let (config, _) = context.config()?;
    let role = DocumentRole::NewSkr;
    let files = Files::answer(path, ksr_path, None);
    let skr = parse_file(path, role, ksr::text::parse_text_skr)?;
    let request = ksr_path
        .map(|ksr_path| parse_file(ksr_path, DocumentRole::Ksr, ksr::text::parse_text_ksr))
        .transpose()?;
    let (skr, request): (TextSkr, Option<TextKsr>) = match join(skr, request) {
        Ok(both) => both,
        Err(mut findings) => {
            return render::findings(context, &files, &mut findings, "not readable");
        }
    };
    let mut findings = ksr::check_text_skr(&skr, &config, role);
    if let Some(request) = &request {
        findings.extend(ksr::check_text_answer(&skr, request));
    }
    if let Some(trusted) = trusted {
        findings.extend(ksr::check_skr_anchor(&skr.to_model(), trusted, role));
    }
    let signatures: usize = skr.bundles.iter().map(|b| b.signatures.len()).sum();
    let summary = format!(
        "text SKR for {} with {} bundles and {signatures} signatures: each bundle's signatures checked with its keys, continuity checked{}{}",
        skr.domain,
        skr.bundles.len(),
        if trusted.is_some() {
            ", anchored to the given KSKs"
        } else {
            ", not anchored (no --ksk)"
        },
        if request.is_some() {
            ", checked against its KSR"
        } else {
            ""
        }
    );
    render::findings(context, &files, &mut findings, &summary)
}

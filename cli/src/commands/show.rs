//! The summary of a document, shared by `ksr show` and `skr show`, for
//! both formats.

use std::path::Path;

use ksr::text::{TextKey, TextKsr, TextSkr};
use ksr::{AlgorithmParameters, Bundle, DomainName, Policy, Timestamp};
use serde::Serialize;

use crate::error::{CliError, Outcome};
use crate::render::{self, out, short};

/// Prints a whole document as JSON (`show --json`): its kind, its file,
/// and the model under the kind's name (`"ksr"` or `"skr"`).
pub fn json(
    kind: &'static str,
    path: &Path,
    document: &impl Serialize,
) -> Result<Outcome, CliError> {
    let document = serde_json::to_value(document)
        .map_err(|err| CliError::Output(std::io::Error::other(err)))?;
    render::json(&serde_json::json!({
        "kind": kind,
        "file": path.display().to_string(),
        kind: document,
    }))?;
    Ok(Outcome::Success)
}

/// Prints the header lines of a document: kind and id, serial, domain and
/// the optional timestamp.
pub fn header(
    kind: &str,
    id: &str,
    serial: u64,
    domain: &DomainName,
    timestamp: Option<Timestamp>,
) -> Result<(), CliError> {
    out(format!("{kind} {id}"))?;
    out(format!("  serial {serial}  domain {domain}"))?;
    if let Some(timestamp) = timestamp {
        out(format!("  timestamp {timestamp}"))?;
    }
    Ok(())
}

/// Prints a policy block.
pub fn policy(name: &str, policy: &Policy) -> Result<(), CliError> {
    out(format!("{name} policy:"))?;
    out(format!(
        "  PublishSafety {}  RetireSafety {}  SignatureValidity {} … {}  ValidityOverlap {} … {}",
        policy.publish_safety,
        policy.retire_safety,
        policy.min_signature_validity,
        policy.max_signature_validity,
        policy.min_validity_overlap,
        policy.max_validity_overlap
    ))?;
    for entry in &policy.signature_algorithms {
        let parameters = match entry.parameters {
            AlgorithmParameters::Rsa { size, exponent } => {
                format!("RSA size {size} exponent {exponent}")
            }
            AlgorithmParameters::Ecdsa { size } => format!("ECDSA size {size}"),
            AlgorithmParameters::Eddsa { size } => format!("EdDSA size {size}"),
        };
        out(format!("  algorithm {}: {parameters}", entry.algorithm))?;
    }
    Ok(())
}

/// Prints every bundle with its keys and signatures.
pub fn bundles(bundles: &[Bundle]) -> Result<(), CliError> {
    let total = bundles.len();
    for (index, bundle) in bundles.iter().enumerate() {
        out(format!(
            "bundle {}/{total} {}  {} → {}  ({})",
            index + 1,
            bundle.id,
            bundle.inception,
            bundle.expiration,
            span(bundle.expiration.seconds_since(bundle.inception))
        ))?;
        for signer in &bundle.signers {
            out(format!("  signer requested: {signer} (ignored)"))?;
        }
        for key in &bundle.keys {
            let size = key
                .dnskey
                .decode_public_key()
                .map_or_else(|_| "?".to_owned(), |public| public.size_bits().to_string());
            let role = match key.dnskey.flags().to_int() {
                256 => "ZSK",
                257 => "KSK",
                385 => "KSK revoked",
                _ => "key",
            };
            out(format!(
                "  key {:>5}  flags {} ({role})  algorithm {}  {size} bits  ttl {}  {}",
                key.key_tag,
                key.dnskey.flags(),
                key.dnskey.algorithm(),
                key.ttl,
                short(&key.identifier)
            ))?;
        }
        for signature in &bundle.signatures {
            let rrsig = &signature.rrsig;
            out(format!(
                "  signature by {:>5} ({})  algorithm {}  valid {} → {}",
                rrsig.key_tag,
                short(&signature.key_identifier),
                rrsig.algorithm,
                rrsig.inception,
                rrsig.expiration
            ))?;
        }
    }
    Ok(())
}

/// Writes a number of seconds as days, hours, minutes and seconds.
fn span(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, rest) = (rest / 3_600, rest % 3_600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    let mut text = format!("{sign}{days}d");
    if hours + minutes + seconds > 0 {
        text.push_str(&format!(" {hours}h {minutes}m {seconds}s"));
    }
    text
}

//------------ The text format -----------------------------------------------

/// Prints a text KSR: its bundles by time and the hashes to compare out of
/// band (the format has no proof of possession).
pub fn text_ksr(path: &Path, sha256: &[u8; 32], ksr: &TextKsr, json: bool) -> Result<(), CliError> {
    if json {
        return render::json(&serde_json::json!({
            "file": path.display().to_string(),
            "format": "text",
            "dialect": ksr.dialect,
            "id": ksr.id,
            "domain": ksr.domain.as_str(),
            "ksr_sha256": hex::encode(sha256),
            "zsk_set_sha256": hex::encode(ksr.zsk_set_sha256()),
            "bundles": ksr.bundles.iter().map(|bundle| serde_json::json!({
                "time": bundle.time,
                "keys": bundle.keys.iter().map(key_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
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
    hashes(sha256, Some(ksr.zsk_set_sha256()))?;
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

/// The file's hash and, for a text KSR, its ZSK set's, to read aloud.
pub fn hashes(sha256: &[u8; 32], zsk_set: Option<[u8; 32]>) -> Result<(), CliError> {
    out(format!("SHA-256 {}", hex::encode(sha256)))?;
    out(format!("  {}", ksr::pgp_words(sha256)))?;
    if let Some(zsks) = zsk_set {
        out(format!("ZSK set SHA-256 {}", hex::encode(zsks)))?;
        out(format!("  {}", ksr::pgp_words(&zsks)))?;
    }
    Ok(())
}

/// Prints a text SKR.
pub fn text_skr(path: &Path, skr: &TextSkr, json: bool) -> Result<(), CliError> {
    if json {
        return render::json(&serde_json::json!({
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
        }));
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
    Ok(())
}

fn key_json(key: &TextKey) -> serde_json::Value {
    serde_json::json!({
        "tag": key.dnskey.key_tag().to_int(),
        "flags": key.dnskey.flags().to_int(),
        "algorithm": key.dnskey.algorithm().to_int(),
        "ttl": key.ttl,
    })
}

fn describe_keys(keys: &[TextKey]) -> String {
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

//! `ceremony inventory` (what the HSM holds, read while it is sealed) and
//! `ceremony trust-anchor` (RFC 9718 XML for the policy's KSKs).

use ksr::{DigestType, Ds, Flags};
use serde::Serialize;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `inventory` and `trust-anchor`: none but the global ones.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ceremony --config c/ceremony.toml inventory --json")]
pub struct Args {}

/// One key, for the inventory.
#[derive(Serialize)]
struct Entry {
    label: String,
    kind: String,
    key_tag: u16,
    revoked_key_tag: u16,
    flags: u16,
    dnskey: String,
    ds: String,
    created: u64,
    policy_name: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
}

/// Runs `inventory`: the HSM's keys, read while it is sealed.
pub fn inventory(_: &Args, context: &Context) -> Result<Outcome, CliError> {
    let ceremony = context.open_ceremony("inventory")?;
    let config = ceremony.policy().config();
    let domain = ceremony.policy().domain()?;
    let ttl = config.ksk_policy.ttl;
    let mut entries = Vec::new();
    for key in ceremony.inventory()? {
        let configured = config.keys.iter().find(|(_, ksk)| ksk.label == key.label);
        entries.push(Entry {
            label: key.label.clone(),
            kind: key.spec.to_string(),
            key_tag: key.dnskey.key_tag().to_int(),
            revoked_key_tag: key.dnskey.with_flags(Flags::REVOKED_KSK).key_tag().to_int(),
            flags: key.dnskey.flags().to_int(),
            dnskey: signer::dnskey_record(&domain, ttl, &key.dnskey),
            ds: signer::ds_record(&domain, &key.dnskey),
            created: key.created,
            policy_name: configured.map(|(name, _)| name.clone()),
            valid_from: configured.map(|(_, ksk)| ksk.valid_from.to_string()),
            valid_until: configured.and_then(|(_, ksk)| ksk.valid_until.map(|t| t.to_string())),
        });
    }
    if context.json {
        render::json(&entries)?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "{} key(s) in {}",
        entries.len(),
        ceremony.layout().hsm().display()
    ))?;
    for entry in &entries {
        out(format!(
            "{} {} tag {} (revoked {}){}, valid {} … {}",
            entry.label,
            entry.kind,
            entry.key_tag,
            entry.revoked_key_tag,
            entry
                .policy_name
                .as_ref()
                .map(|name| format!(", the policy's {name}"))
                .unwrap_or_else(|| ", not in the policy".to_owned()),
            entry.valid_from.as_deref().unwrap_or("-"),
            entry.valid_until.as_deref().unwrap_or("open"),
        ))?;
        out(format!("  {}", entry.dnskey))?;
        out(format!("  {}", entry.ds))?;
    }
    Ok(Outcome::Success)
}

/// Runs `trust-anchor`: the policy's KSKs as an RFC 9718 trust anchor
/// file (KeyDigest elements with the DS digest, the public key and the
/// flags), read from the sealed HSM's public metadata.
pub fn trust_anchor(_: &Args, context: &Context) -> Result<Outcome, CliError> {
    let ceremony = context.open_ceremony("trust-anchor")?;
    let domain = ceremony.policy().domain()?;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<TrustAnchor id=\"{}\" source=\"ceremony\">\n<Zone>{}</Zone>\n",
        signer::uuid().to_ascii_uppercase(),
        ksr::xml_escape(domain.as_str())
    ));
    for ksk in ceremony.policy().config().keys.values() {
        let dnskey = ceremony.public_key(&ksk.label)?;
        let ds = Ds::compute(&domain, &dnskey, DigestType::Sha256);
        let valid_until = ksk
            .valid_until
            .map(|until| format!(" validUntil=\"{}\"", until.to_document()))
            .unwrap_or_default();
        xml.push_str(&format!(
            "<KeyDigest id=\"{}\" validFrom=\"{}\"{valid_until}>\n<KeyTag>{}</KeyTag>\n<Algorithm>{}</Algorithm>\n<DigestType>2</DigestType>\n<Digest>{}</Digest>\n<PublicKey>{}</PublicKey>\n<Flags>{}</Flags>\n</KeyDigest>\n",
            ksr::xml_escape(&ksk.label),
            ksk.valid_from.to_document(),
            dnskey.key_tag(),
            dnskey.algorithm().to_int(),
            ds.digest_hex().to_ascii_uppercase(),
            ksr::to_base64(dnskey.public_key()),
            dnskey.flags(),
        ));
    }
    xml.push_str("</TrustAnchor>");
    out(xml)?;
    Ok(Outcome::Success)
}

//! `ceremony inventory` (what the HSM holds, no quorum needed) and
//! `ceremony trust-anchor` (RFC 9718 XML for the policy's KSKs).

use std::sync::Arc;
use std::time::Instant;

use hsm::Clock;
use ksr::{DigestType, DomainName, Ds, Flags};
use serde::Serialize;

use crate::ceremony::Layout;
use crate::ceremony::activation::open_hsm;
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};

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

/// The policy, its directory and its domain.
fn setup(context: &Context) -> Result<(ksr::Config, Layout, DomainName), CliError> {
    let (config, path) = context.config()?;
    let path = path.ok_or_else(|| {
        CliError::Usage("this needs the ceremony's policy: --config DIR/ceremony.toml".into())
    })?;
    let domain = config
        .request_policy
        .acceptable_domains
        .first()
        .map_or_else(|| Ok(DomainName::root()), |name| name.parse())
        .map_err(|err| CliError::Usage(format!("the policy's domain: {err}")))?;
    Ok((config, Layout::of_config(&path), domain))
}

/// Runs `inventory`: the HSM's keys, read while it is sealed.
pub fn inventory(context: &Context) -> Result<Outcome, CliError> {
    let (config, layout, domain) = setup(context)?;
    let clock: Clock = Arc::new(Instant::now);
    let hsm = open_hsm(&layout, clock)?;
    let mut entries = Vec::new();
    for key in hsm.inventory()? {
        let configured = config.keys.iter().find(|(_, ksk)| ksk.label == key.label);
        let ds = Ds::compute(&domain, &key.dnskey, DigestType::Sha256);
        entries.push(Entry {
            label: key.label.clone(),
            kind: key.spec.to_string(),
            key_tag: key.dnskey.key_tag().to_int(),
            revoked_key_tag: key.dnskey.with_flags(Flags::REVOKED_KSK).key_tag().to_int(),
            flags: key.dnskey.flags().to_int(),
            dnskey: crate::commands::init::dnskey_line(&domain, &key),
            ds: format!("{domain} IN DS {}", ds.rdata_text()),
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
        layout.hsm().display()
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
pub fn trust_anchor(context: &Context) -> Result<Outcome, CliError> {
    let (config, layout, domain) = setup(context)?;
    let clock: Clock = Arc::new(Instant::now);
    let hsm = open_hsm(&layout, clock)?;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<TrustAnchor id=\"{}\" source=\"ceremony\">\n<Zone>{}</Zone>\n",
        crate::ceremony::files::uuid().to_ascii_uppercase(),
        escape(domain.as_str())
    ));
    for ksk in config.keys.values() {
        let dnskey = hsm.public_key(&ksk.label)?;
        let ds = Ds::compute(&domain, &dnskey, DigestType::Sha256);
        let valid_until = ksk
            .valid_until
            .map(|until| format!(" validUntil=\"{}\"", until.to_document()))
            .unwrap_or_default();
        xml.push_str(&format!(
            "<KeyDigest id=\"{}\" validFrom=\"{}\"{valid_until}>\n<KeyTag>{}</KeyTag>\n<Algorithm>{}</Algorithm>\n<DigestType>2</DigestType>\n<Digest>{}</Digest>\n<PublicKey>{}</PublicKey>\n<Flags>{}</Flags>\n</KeyDigest>\n",
            escape(&ksk.label),
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

/// Escapes text for XML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

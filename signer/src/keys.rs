//! What the HSM holds, read while it is sealed, as `inventory` lists it and
//! as a trust anchor (RFC 9718, named, Unbound, DNSKEY or DS records)
//! publishes the policy's KSKs.

use ksr::{DigestType, Ds, Flags};
use serde::Serialize;

use crate::ceremony::Ceremony;
use crate::error::Error;
use crate::records::{dnskey_record, ds_record, uuid};

/// One key of the HSM, with its place in the policy.
#[derive(Clone, Debug, Serialize)]
pub struct KeyEntry {
    /// Its label.
    pub label: String,
    /// Its kind.
    pub kind: String,
    /// Its tag with Flags 257.
    pub key_tag: u16,
    /// Its tag with Flags 385.
    pub revoked_key_tag: u16,
    /// Its flags as held (257).
    pub flags: u16,
    /// Its DNSKEY record.
    pub dnskey: String,
    /// Its DS record.
    pub ds: String,
    /// When it was made, RFC 3339.
    pub created: String,
    /// Its name in the policy (`ksk_current`, …), if it has one.
    pub policy_name: Option<String>,
    /// Valid from, RFC 3339, as the policy says.
    pub valid_from: Option<String>,
    /// Valid until, RFC 3339, as the policy says.
    pub valid_until: Option<String>,
    /// For a key the policy names: whether it is the key the policy pins
    /// (its tag and SHA-256 DS digest). `false` is a key that was swapped.
    pub matches_pin: Option<bool>,
    /// Whether it is a key the sealed state records under this label (the
    /// state is read here unauthenticated: a quorum's next activation
    /// verifies it).
    pub matches_sealed_state: bool,
}

/// The note every sealed listing carries.
pub const UNVERIFIED: &str = "read while the HSM is sealed: not verified until the next activation checks the sealed state under the quorum's secret";

impl Ceremony {
    /// Every key of the HSM, with what the policy says of it.
    ///
    /// # Errors
    ///
    /// The HSM cannot be read, or the policy's zone is not a name.
    pub fn key_entries(&self) -> Result<Vec<KeyEntry>, Error> {
        let config = self.policy().config();
        let domain = self.policy().domain()?;
        let ttl = config.ksk_policy.ttl;
        let sealed = self
            .sealed_state()
            .map(|state| state.keys.clone())
            .unwrap_or_default();
        Ok(self
            .inventory()?
            .into_iter()
            .map(|key| {
                let configured = config.keys.iter().find(|(_, ksk)| ksk.label == key.label);
                let ds_digest = Ds::compute(&domain, &key.dnskey, DigestType::Sha256).digest_hex();
                let matches_pin = configured.map(|(_, ksk)| {
                    ksk.key_tag == key.dnskey.key_tag().to_int()
                        && ksk.ds_sha256.eq_ignore_ascii_case(&ds_digest)
                });
                let rdata_sha256 =
                    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(key.dnskey.rdata()));
                let matches_sealed_state = sealed.get(&key.label) == Some(&rdata_sha256);
                KeyEntry {
                    label: key.label.clone(),
                    kind: key.spec.to_string(),
                    key_tag: key.dnskey.key_tag().to_int(),
                    revoked_key_tag: key.dnskey.with_flags(Flags::REVOKED_KSK).key_tag().to_int(),
                    flags: key.dnskey.flags().to_int(),
                    dnskey: dnskey_record(&domain, ttl, &key.dnskey),
                    ds: ds_record(&domain, &key.dnskey),
                    created: ksr::Timestamp::from_unix(
                        u32::try_from(key.created).unwrap_or(u32::MAX),
                    )
                    .to_string(),
                    policy_name: configured.map(|(name, _)| name.clone()),
                    valid_from: configured.map(|(_, ksk)| ksk.valid_from.to_string()),
                    valid_until: configured
                        .and_then(|(_, ksk)| ksk.valid_until.map(|until| until.to_string())),
                    matches_pin,
                    matches_sealed_state,
                }
            })
            .collect())
    }

    /// The policy's KSKs as a trust anchor for resolvers, in `format`,
    /// every key checked against the policy's pin first.
    ///
    /// # Errors
    ///
    /// A KSK of the policy is not in the HSM, or is not the key the policy
    /// pins (swapped): then nothing is written.
    pub fn trust_anchor(&self, format: AnchorFormat) -> Result<String, Error> {
        let domain = self.policy().domain()?;
        let ttl = self.policy().config().ksk_policy.ttl;
        let keys = self.pinned_keys()?;
        let ds_text = |dnskey: &ksr::Dnskey| Ds::compute(&domain, dnskey, DigestType::Sha256);
        let mut text = String::new();
        match format {
            AnchorFormat::Rfc9718 => {
                text.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                text.push_str(&format!(
                    "<TrustAnchor id=\"{}\" source=\"ceremony\">\n<Zone>{}</Zone>\n",
                    uuid().to_ascii_uppercase(),
                    ksr::xml_escape(domain.as_str())
                ));
                for (ksk, dnskey) in &keys {
                    let valid_until = ksk
                        .valid_until
                        .map(|until| format!(" validUntil=\"{}\"", until.to_document()))
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "<KeyDigest id=\"{}\" validFrom=\"{}\"{valid_until}>\n<KeyTag>{}</KeyTag>\n<Algorithm>{}</Algorithm>\n<DigestType>2</DigestType>\n<Digest>{}</Digest>\n<PublicKey>{}</PublicKey>\n<Flags>{}</Flags>\n</KeyDigest>\n",
                        ksr::xml_escape(&ksk.label),
                        ksk.valid_from.to_document(),
                        dnskey.key_tag(),
                        dnskey.algorithm().to_int(),
                        ds_text(dnskey).digest_hex().to_ascii_uppercase(),
                        ksr::to_base64(dnskey.public_key()),
                        dnskey.flags(),
                    ));
                }
                text.push_str("</TrustAnchor>");
            }
            AnchorFormat::Bind => {
                // named's and delv's syntax. `initial-ds`: named then keeps
                // the anchor up to date by RFC 5011 from this DS on, which
                // is how a roll by this ceremony (publish, then revoke)
                // reaches it; delv reads it as a static anchor.
                text.push_str("trust-anchors {\n");
                for (ksk, dnskey) in &keys {
                    let ds = ds_text(dnskey);
                    text.push_str(&format!(
                        "\t\"{domain}\" initial-ds {} {} 2 \"{}\"; // {}\n",
                        dnskey.key_tag(),
                        dnskey.algorithm().to_int(),
                        ds.digest_hex().to_ascii_uppercase(),
                        ksk.label
                    ));
                }
                text.push_str("};");
            }
            AnchorFormat::Unbound => {
                // Unbound's `trust-anchor-file` (and `unbound-host -f`):
                // zone-file records, here DS, with `;` comments.
                text.push_str(&format!(
                    "; trust anchor for {domain}, for unbound's trust-anchor-file\n"
                ));
                for (ksk, dnskey) in &keys {
                    text.push_str(&format!(
                        "{domain} {ttl} IN DS {} ; {}\n",
                        ds_text(dnskey).rdata_text(),
                        ksk.label
                    ));
                }
                text.pop();
            }
            AnchorFormat::Dnskey => {
                let lines: Vec<String> = keys
                    .iter()
                    .map(|(_, dnskey)| dnskey_record(&domain, ttl, dnskey))
                    .collect();
                text = lines.join("\n");
            }
            AnchorFormat::Ds => {
                let lines: Vec<String> = keys
                    .iter()
                    .map(|(_, dnskey)| ds_record(&domain, dnskey))
                    .collect();
                text = lines.join("\n");
            }
        }
        Ok(text)
    }

    /// The policy's KSKs with their public keys from the HSM, each checked
    /// against its pin: a trust anchor is what resolvers will trust, never
    /// one for a key that is not the one the policy pins.
    fn pinned_keys(&self) -> Result<Vec<(ksr::KskConfig, ksr::Dnskey)>, Error> {
        let domain = self.policy().domain()?;
        let mut keys = Vec::new();
        for (name, ksk) in &self.policy().config().keys {
            let dnskey = self.public_key(&ksk.label)?;
            let ds = Ds::compute(&domain, &dnskey, DigestType::Sha256);
            if dnskey.key_tag().to_int() != ksk.key_tag
                || !ds.digest_hex().eq_ignore_ascii_case(&ksk.ds_sha256)
            {
                return Err(Error::Key(format!(
                    "the HSM's key {:?} is not the policy's {name} (pinned tag {}, DS {}; the HSM's tag {}, DS {}): it was swapped, and no trust anchor is written",
                    ksk.label,
                    ksk.key_tag,
                    ksk.ds_sha256,
                    dnskey.key_tag(),
                    ds.digest_hex()
                )));
            }
            keys.push((ksk.clone(), dnskey));
        }
        Ok(keys)
    }
}

/// The forms of `trust-anchor`: for whom the policy's KSKs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorFormat {
    /// RFC 9718 XML, as IANA publishes the root's.
    Rfc9718,
    /// A `trust-anchors { … initial-ds … };` block for named and delv.
    Bind,
    /// DS records for Unbound's `trust-anchor-file`.
    Unbound,
    /// DNSKEY records, which `ds` and `skr check --ksk` read.
    Dnskey,
    /// DS records (SHA-256) for the parent.
    Ds,
}

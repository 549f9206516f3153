//! What the HSM holds, read while it is sealed, as `inventory` lists it and
//! as an RFC 9718 trust anchor file publishes the policy's KSKs.

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
}

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
        Ok(self
            .inventory()?
            .into_iter()
            .map(|key| {
                let configured = config.keys.iter().find(|(_, ksk)| ksk.label == key.label);
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
                }
            })
            .collect())
    }

    /// The policy's KSKs as an RFC 9718 trust anchor file: one `KeyDigest`
    /// per KSK with its tag, algorithm, SHA-256 DS digest, public key and
    /// flags, valid from and until as the policy says.
    ///
    /// # Errors
    ///
    /// A KSK of the policy is not in the HSM.
    pub fn trust_anchor(&self) -> Result<String, Error> {
        let domain = self.policy().domain()?;
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<TrustAnchor id=\"{}\" source=\"ceremony\">\n<Zone>{}</Zone>\n",
            uuid().to_ascii_uppercase(),
            ksr::xml_escape(domain.as_str())
        ));
        for ksk in self.policy().config().keys.values() {
            let dnskey = self.public_key(&ksk.label)?;
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
        Ok(xml)
    }
}

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
        for (name, ksk) in &self.policy().config().keys {
            let dnskey = self.public_key(&ksk.label)?;
            let ds = Ds::compute(&domain, &dnskey, DigestType::Sha256);
            // A trust anchor is what resolvers will trust: never one for a
            // key that is not the one the policy pins.
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

//! A new KSK once a quorum has presented — made in the HSM, imported from
//! a key file into the soft HSM, or adopted from the token it already lives
//! on: the policy records it as `ksk_next`, which the built-in schemas roll
//! in.

use hsm::{ImportedKey, KeyInfo, KeySpec};
use ksr::{DigestType, Ds, KskRole};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::policy::ksk_entry;
use crate::records::{dnskey_record, ds_record};
use crate::summary::Detail;

use super::{details, summary};

/// What `keygen` is asked to make.
#[derive(Debug)]
pub struct KeygenRequest {
    /// Where the key comes from.
    pub origin: KskOrigin,
    /// Its HSM label.
    pub label: String,
    /// Now (the key's creation time and the start of its validity).
    pub now: Now,
    /// For a key that exists already: the SHA-256 DS digest the parent
    /// publishes for it (hex); any other key is refused before any card.
    pub expect_ds: Option<String>,
}

/// Where a KSK comes from.
#[derive(Debug)]
pub enum KskOrigin {
    /// Made in the HSM, of this kind.
    Generate(KeySpec),
    /// A key file's private key, taken into the soft HSM.
    Import {
        /// The key, as read.
        key: ImportedKey,
        /// The file, as given.
        file: String,
        /// The file's SHA-256, hex.
        sha256: String,
    },
    /// A key already on the PKCS#11 token, under the request's label.
    Adopt {
        /// Why a key the token did not make, or that was ever extractable,
        /// is taken all the same (recorded); `None` refuses such a key.
        accept_imported: Option<String>,
    },
}

impl KskOrigin {
    /// Its name in the audit log.
    fn name(&self) -> &'static str {
        match self {
            Self::Generate(_) => "generated",
            Self::Import { .. } => "imported",
            Self::Adopt { .. } => "adopted",
        }
    }
}

/// A KSK to make.
pub struct Keygen {
    request: KeygenRequest,
    /// For a key that exists already, its public key as the summary showed
    /// it: the key taken must be this one.
    shown: Option<ksr::Dnskey>,
}

/// The KSK made.
#[derive(Clone, Debug, Serialize)]
pub struct NewKsk {
    /// Its label.
    pub label: String,
    /// Its key tag.
    pub key_tag: u16,
    /// Its DNSKEY record.
    pub dnskey: String,
    /// Its DS record.
    pub ds: String,
    /// Its role in the policy.
    pub role: KskRole,
}

/// Prepares `keygen`: the policy has no next KSK yet, and the label is
/// free in the policy and in the HSM.
///
/// # Errors
///
/// The label is taken or not valid, a next KSK exists, or the log fails.
pub fn prepare_keygen(
    ceremony: &Ceremony,
    request: KeygenRequest,
) -> Result<Prepared<Keygen>, Error> {
    let mut begin = details([
        ("label", request.label.clone().into()),
        ("origin", request.origin.name().into()),
    ]);
    match &request.origin {
        KskOrigin::Generate(spec) => {
            begin.insert("algorithm".into(), spec.to_string().into());
        }
        KskOrigin::Import { key, file, sha256 } => {
            begin.insert("algorithm".into(), key.spec().to_string().into());
            begin.insert("file".into(), file.clone().into());
            begin.insert("file_sha256".into(), sha256.clone().into());
        }
        KskOrigin::Adopt { accept_imported } => {
            if let Some(reason) = accept_imported {
                begin.insert("accept_imported".into(), reason.clone().into());
            }
        }
    }
    let open = ceremony.begin(OperationKind::Keygen, begin)?;
    let checked = (|| {
        if let Some(next) = ceremony.policy().ksk(KskRole::Next) {
            return Err(Error::Key(format!(
                "the policy already has a next KSK ({}); promote it after its roll first (ceremony ksk promote)",
                next.label
            )));
        }
        hsm::check_label(&request.label).map_err(Error::Key)?;
        if ceremony
            .policy()
            .config()
            .keys
            .values()
            .any(|key| key.label == request.label)
        {
            return Err(Error::Key(format!(
                "label {:?} is taken in the policy",
                request.label
            )));
        }
        let soft = ceremony.hsm().binding() == "soft";
        let in_hsm = ceremony
            .inventory()?
            .into_iter()
            .find(|key| key.label == request.label);
        let (algorithm, origin, existing) = match &request.origin {
            KskOrigin::Generate(spec) => {
                if in_hsm.is_some() {
                    return Err(Error::Key(format!(
                        "label {:?} is taken in the HSM",
                        request.label
                    )));
                }
                (spec.to_string(), "made in the HSM now".to_owned(), None)
            }
            KskOrigin::Import { key, file, sha256 } => {
                if !soft {
                    return Err(Error::Key(
                        "a PKCS#11 token imports keys with its own tools (softhsm2-util --import, pkcs11-tool --write-object); then adopt the key: ceremony keygen --adopt LABEL".into(),
                    ));
                }
                if in_hsm.is_some() {
                    return Err(Error::Key(format!(
                        "label {:?} is taken in the HSM",
                        request.label
                    )));
                }
                check_key_file_zone(file, &ceremony.policy().domain()?)?;
                // One key, one label: a key the HSM holds already is
                // refused now, not once the officers have presented.
                let dnskey = key.dnskey();
                if let Some(same) = ceremony.inventory()?.into_iter().find(|held| {
                    held.dnskey.algorithm() == dnskey.algorithm()
                        && held.dnskey.public_key() == dnskey.public_key()
                }) {
                    return Err(Error::Key(format!(
                        "{file}: this key is in the HSM already, labelled {:?}",
                        same.label
                    )));
                }
                (
                    key.spec().to_string(),
                    format!(
                        "imported from {file} ({}, SHA-256 {sha256}): the key existed before, outside any HSM",
                        key.format()
                    ),
                    Some(key.dnskey()),
                )
            }
            KskOrigin::Adopt { accept_imported } => {
                if soft {
                    return Err(Error::Key(
                        "the soft HSM holds only the keys it made or imported: --adopt is for a key on a PKCS#11 token (for a key file: --import FILE)".into(),
                    ));
                }
                let Some(key) = in_hsm else {
                    return Err(Error::Key(format!(
                        "the token holds no public key labelled {:?} (ceremony inventory lists what it holds)",
                        request.label
                    )));
                };
                let provenance = match accept_imported {
                    None => "adopted from the token: refused after activation unless the token made it and it never left (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE; a token shows a private key's attributes only to the logged-in quorum)".to_owned(),
                    Some(reason) => format!(
                        "adopted from the token, even if the token did not make it (--accept-imported: {reason})"
                    ),
                };
                (key.spec.to_string(), provenance, Some(key.dnskey))
            }
        };
        let domain = ceremony.policy().domain()?;
        let ds = existing
            .as_ref()
            .map(|dnskey| {
                check_expected_ds(&domain, dnskey, request.expect_ds.as_deref())?;
                Ok::<_, Error>(ds_record(&domain, dnskey))
            })
            .transpose()?;
        let summary = summary(
            ceremony,
            OperationKind::Keygen,
            request.now,
            Detail::Keygen {
                label: request.label.clone(),
                algorithm,
                role: KskRole::Next.name().into(),
                origin,
                ds,
            },
            Vec::new(),
            Vec::new(),
        )?;
        Ok((summary, existing))
    })();
    match checked {
        Ok((summary, shown)) => Ok(Prepared::new(Keygen { request, shown }, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

/// Refuses a key whose DS is not the one the operator says the parent
/// publishes.
pub(crate) fn check_expected_ds(
    domain: &ksr::DomainName,
    dnskey: &ksr::Dnskey,
    expected: Option<&str>,
) -> Result<(), Error> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let digest = Ds::compute(domain, dnskey, DigestType::Sha256).digest_hex();
    let given: String = expected.chars().filter(|c| !c.is_whitespace()).collect();
    if given.eq_ignore_ascii_case(&digest) {
        Ok(())
    } else {
        Err(Error::Key(format!(
            "the key's SHA-256 DS digest is {} (tag {}), not the {given} given with --expect-ds: it is not the key the parent's DS points to",
            digest.to_ascii_uppercase(),
            dnskey.key_tag()
        )))
    }
}

/// Takes a key the ceremony did not make on the token, after weighing how
/// the token says it was made.
pub(crate) fn adopt(
    hsm: &mut dyn hsm::Hsm,
    label: &str,
    accept_imported: Option<&str>,
    created: u64,
) -> Result<(KeyInfo, Vec<String>), Error> {
    let failures = judge_provenance(label, &hsm.provenance(label)?, accept_imported)?;
    Ok((hsm.adopt(label, created)?, failures))
}

/// What the token says against a key to adopt, in words; refused unless
/// there is nothing, or `--accept-imported` gave a reason.
pub(crate) fn judge_provenance(
    label: &str,
    provenance: &hsm::Provenance,
    accept_imported: Option<&str>,
) -> Result<Vec<String>, Error> {
    let all = provenance.failures();
    let copies: Vec<String> = all
        .iter()
        .filter(|failure| !failure.is_other_use())
        .map(ToString::to_string)
        .collect();
    if !copies.is_empty() && accept_imported.is_none() {
        return Err(Error::Key(format!(
            "the token's key {label:?} was not made on the token, or was exposed once: {}. Adopt it only knowing that, with --accept-imported REASON",
            copies.join("; ")
        )));
    }
    // Uses beyond signing are switched off as the key is adopted; said.
    Ok(all
        .iter()
        .map(|failure| {
            if failure.is_other_use() {
                format!("{failure} (switched off as it was adopted, where the token allows it)")
            } else {
                failure.to_string()
            }
        })
        .collect())
}

impl Operation for Keygen {
    type Output = NewKsk;

    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<NewKsk, Error> {
        let KeygenRequest {
            origin,
            label,
            now,
            expect_ds: _,
        } = self.request;
        let shown = self.shown;
        let created = u64::from(now.time.to_unix());
        let policy = active.ceremony().policy().clone();
        let domain = policy.domain()?;
        let (key, event) = match origin {
            KskOrigin::Generate(spec) => {
                let key = active.hsm_mut().generate(&label, spec, created)?;
                let event = Event::KeyGenerated {
                    label: key.label.clone(),
                    key_tag: key.dnskey.key_tag().to_int(),
                    ds_sha256: Ds::compute(&domain, &key.dnskey, DigestType::Sha256).digest_hex(),
                };
                (key, event)
            }
            KskOrigin::Import { key, file, sha256 } => {
                let format = key.format().to_string();
                let key = active.hsm_mut().import(&label, key, created)?;
                let event = Event::KeyTaken {
                    label: key.label.clone(),
                    key_tag: key.dnskey.key_tag().to_int(),
                    ds_sha256: Ds::compute(&domain, &key.dnskey, DigestType::Sha256).digest_hex(),
                    origin: format!("imported from {file} ({format}, SHA-256 {sha256})"),
                    accepted: None,
                };
                (key, event)
            }
            KskOrigin::Adopt { accept_imported } => {
                // The key on the token now is the one the officers were
                // shown, before anything about it changes.
                let now_there = active.hsm().public_key(&label)?;
                if shown.as_ref().is_some_and(|shown| *shown != now_there) {
                    return Err(Error::Key(format!(
                        "the token's key {label:?} is not the one the summary showed: it changed since"
                    )));
                }
                let (key, failures) = adopt(
                    active.hsm_mut(),
                    &label,
                    accept_imported.as_deref(),
                    created,
                )?;
                let event = Event::KeyTaken {
                    label: key.label.clone(),
                    key_tag: key.dnskey.key_tag().to_int(),
                    ds_sha256: Ds::compute(&domain, &key.dnskey, DigestType::Sha256).digest_hex(),
                    origin: if failures.is_empty() {
                        "adopted: made on the token, never extractable".into()
                    } else {
                        format!("adopted: {}", failures.join("; "))
                    },
                    accepted: accept_imported.filter(|_| !failures.is_empty()),
                };
                (key, event)
            }
        };
        // A key that existed already is the one the officers were shown
        // (a token's key could have been swapped since).
        if shown.as_ref().is_some_and(|shown| *shown != key.dnskey) {
            return Err(Error::Key(format!(
                "the HSM's key {label:?} is not the one the summary showed: it changed since"
            )));
        }
        // Recorded before the policy changes: the key is the HSM's from now on.
        active.ceremony().record(&event)?;
        let mut config = policy.config().clone();
        config.keys.insert(
            KskRole::Next.name().into(),
            ksk_entry(&config, &domain, &key, now.time),
        );
        active.replace_policy(config)?;
        let written = active.ceremony().policy();
        active.ceremony().record(&Event::PolicyWritten {
            sha256: hex::encode(written.sha256()),
            change: format!("{} is ksk_next", key.label),
        })?;
        let ttl = active.ceremony().policy().config().ksk_policy.ttl;
        Ok(NewKsk {
            label: key.label.clone(),
            key_tag: key.dnskey.key_tag().to_int(),
            dnskey: dnskey_record(&domain, ttl, &key.dnskey),
            ds: ds_record(&domain, &key.dnskey),
            role: KskRole::Next,
        })
    }

    fn closing(output: &NewKsk) -> Map<String, Value> {
        details([
            ("label", output.label.clone().into()),
            ("key_tag", output.key_tag.into()),
        ])
    }
}

/// Refuses a BIND key file whose name (`K<zone>+<alg>+<tag>.private`) is
/// for another zone than the ceremony's: the DS would then be another
/// zone's, and only `--expect-ds` would notice.
pub(crate) fn check_key_file_zone(file: &str, domain: &ksr::DomainName) -> Result<(), Error> {
    let name = std::path::Path::new(file)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let zone = name
        .strip_prefix('K')
        .filter(|_| name.ends_with(".private"))
        .and_then(|rest| rest.split_once('+'))
        .map(|(zone, _)| zone);
    match zone {
        Some(zone) if !zone.eq_ignore_ascii_case(domain.as_str()) => Err(Error::Key(format!(
            "{file}: BIND named this key file for zone {zone:?}, not {domain}: a key of another zone (its DS would be another zone's)"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_key_file_zone;

    #[test]
    fn a_bind_key_file_of_another_zone_is_refused() {
        let zone: ksr::DomainName = "example.com.".parse().unwrap();
        assert!(check_key_file_zone("keys/Kexample.com.+013+12345.private", &zone).is_ok());
        assert!(check_key_file_zone("KEXAMPLE.COM.+008+00001.private", &zone).is_ok());
        let err = check_key_file_zone("/x/Kexample.+013+24568.private", &zone).unwrap_err();
        assert!(err.to_string().contains("for zone \"example.\""), "{err}");
        let root: ksr::DomainName = ".".parse().unwrap();
        assert!(check_key_file_zone("K.+008+20326.private", &root).is_ok());
        assert!(check_key_file_zone("K.+008+20326.private", &zone).is_err());
        // Not BIND's naming: nothing to compare.
        assert!(check_key_file_zone("ksk.pem", &zone).is_ok());
        assert!(check_key_file_zone("Kexample.+013+1.key", &zone).is_ok());
    }
}

//! A new KSK, made in the HSM once a quorum has presented: the policy
//! records it as `ksk_next`, which the built-in schemas roll in.

use hsm::KeySpec;
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
#[derive(Clone, Debug)]
pub struct KeygenRequest {
    /// The key's kind.
    pub spec: KeySpec,
    /// Its HSM label.
    pub label: String,
    /// Now (the key's creation time and the start of its validity).
    pub now: Now,
}

/// A KSK to make.
pub struct Keygen {
    request: KeygenRequest,
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
    let open = ceremony.begin(
        OperationKind::Keygen,
        details([
            ("label", request.label.clone().into()),
            ("algorithm", request.spec.to_string().into()),
        ]),
    )?;
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
            || ceremony
                .inventory()?
                .iter()
                .any(|key| key.label == request.label)
        {
            return Err(Error::Key(format!(
                "label {:?} is taken in the policy or the HSM",
                request.label
            )));
        }
        summary(
            ceremony,
            OperationKind::Keygen,
            request.now,
            Detail::Keygen {
                label: request.label.clone(),
                algorithm: request.spec.to_string(),
                role: KskRole::Next.name().into(),
            },
            Vec::new(),
            Vec::new(),
        )
    })();
    match checked {
        Ok(summary) => Ok(Prepared::new(Keygen { request }, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Keygen {
    type Output = NewKsk;

    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<NewKsk, Error> {
        let KeygenRequest { spec, label, now } = self.request;
        let key = active
            .hsm_mut()
            .generate(&label, spec, u64::from(now.time.to_unix()))?;
        let policy = active.ceremony().policy().clone();
        let domain = policy.domain()?;
        let ds = Ds::compute(&domain, &key.dnskey, DigestType::Sha256);
        // Recorded before the policy changes: the key exists from now on.
        active.ceremony().record(&Event::KeyGenerated {
            label: key.label.clone(),
            key_tag: key.dnskey.key_tag().to_int(),
            ds_sha256: ds.digest_hex(),
        })?;
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

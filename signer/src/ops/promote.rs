//! `ksk promote`: after the revoke quarter the next KSK becomes the current
//! one and the old one leaves the policy (it stays in the HSM). The
//! policy decides what an honest quorum signs, so changing it takes one.

use ksr::KskRole;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::summary::Detail;

use super::{details, summary};

/// The promotion to make.
pub struct Promote;

/// What changed.
#[derive(Clone, Debug, Serialize)]
pub struct Promoted {
    /// The label now `ksk_current`, and its tag.
    pub current: (String, u16),
    /// The label that left the policy, and its tag.
    pub retired: Option<(String, u16)>,
}

/// Prepares the promotion: the policy has a next KSK.
///
/// # Errors
///
/// No next KSK, or the log fails.
pub fn prepare_promote(ceremony: &Ceremony, now: Now) -> Result<Prepared<Promote>, Error> {
    let open = ceremony.begin(OperationKind::Promote, Map::new())?;
    let checked = (|| {
        let next = ceremony.policy().ksk(KskRole::Next).ok_or_else(|| {
            Error::Key("the policy has no next KSK to promote (ceremony keygen makes one)".into())
        })?;
        summary(
            ceremony,
            OperationKind::Promote,
            now,
            Detail::Promote {
                current: next.label.clone(),
                retired: ceremony
                    .policy()
                    .ksk(KskRole::Current)
                    .map(|key| key.label.clone()),
            },
            Vec::new(),
            Vec::new(),
        )
    })();
    match checked {
        Ok(summary) => Ok(Prepared::new(Promote, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Promote {
    type Output = Promoted;

    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Promoted, Error> {
        let policy = active.ceremony().policy().clone();
        let mut config = policy.config().clone();
        let next = config
            .keys
            .remove(KskRole::Next.name())
            .ok_or_else(|| Error::Key("the policy has no next KSK to promote".into()))?;
        let old = config
            .keys
            .insert(KskRole::Current.name().into(), next.clone());
        let written = policy.replace(config)?;
        active.ceremony().record(&Event::PolicyWritten {
            sha256: hex::encode(written.sha256()),
            change: format!(
                "{} is ksk_current{}",
                next.label,
                old.as_ref()
                    .map(|key| format!("; {} left the policy", key.label))
                    .unwrap_or_default()
            ),
        })?;
        active.ceremony_mut().set_policy(written);
        Ok(Promoted {
            current: (next.label, next.key_tag),
            retired: old.map(|key| (key.label, key.key_tag)),
        })
    }

    fn closing(output: &Promoted) -> Map<String, Value> {
        details([
            ("current", output.current.0.clone().into()),
            (
                "retired",
                output
                    .retired
                    .as_ref()
                    .map(|(label, _)| label.clone())
                    .into(),
            ),
        ])
    }
}

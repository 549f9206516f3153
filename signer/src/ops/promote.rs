//! `ksk promote`: after the revoke quarter the next KSK becomes the current
//! one and the old one leaves the policy (it stays in the HSM). The
//! policy decides what an honest quorum signs, so changing it takes one.

use ksr::KskRole;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::document::Document;
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

/// Prepares the promotion: the policy has a next KSK, and the evidence
/// shows the roll happened — `revoke_skr`, an SKR every bundle of which is
/// signed by a KSK the policy pins, publishes the current KSK revoked
/// (flags 385) in a bundle that the next KSK signs (the revoke quarter's).
///
/// # Errors
///
/// No next KSK, the evidence does not show the roll, or the log fails.
pub fn prepare_promote(
    ceremony: &Ceremony,
    now: Now,
    revoke_skr: &Document,
) -> Result<Prepared<Promote>, Error> {
    let mut begin = Map::new();
    begin.insert(
        "revoke_skr".into(),
        revoke_skr.path.display().to_string().into(),
    );
    begin.insert(
        "revoke_skr_sha256".into(),
        hex::encode(revoke_skr.sha256()).into(),
    );
    let open = ceremony.begin(OperationKind::Promote, begin)?;
    let checked = (|| {
        let next = ceremony.policy().ksk(KskRole::Next).ok_or_else(|| {
            Error::Key("the policy has no next KSK to promote (ceremony keygen makes one)".into())
        })?;
        let current = ceremony.policy().ksk(KskRole::Current).ok_or_else(|| {
            Error::Key("the policy has no current KSK whose roll could be shown".into())
        })?;
        check_evidence(ceremony, revoke_skr, &current.label, &next.label)?;
        summary(
            ceremony,
            OperationKind::Promote,
            now,
            Detail::Promote {
                evidence: crate::summary::FileRef {
                    path: revoke_skr.path.display().to_string(),
                    sha256: hex::encode(revoke_skr.sha256()),
                },
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

/// The evidence of a roll: the SKR verifies, anchored to the policy's
/// pins, and one of its bundles publishes the current KSK revoked with a
/// signature by the next KSK.
fn check_evidence(
    ceremony: &Ceremony,
    skr: &Document,
    current: &str,
    next: &str,
) -> Result<(), Error> {
    let refused = |why: String| {
        Error::Key(format!(
            "{} does not show the roll ({why}): ksk promote needs the revoke quarter's SKR, in which the next KSK signs and the current one is published revoked",
            skr.path.display()
        ))
    };
    let checked = crate::inspect::check_skr(
        &crate::inspect::SkrCheck {
            skr,
            ksr: None,
            previous: None,
            schema: None,
            anchor: crate::inspect::Anchor::Pins,
        },
        ceremony.policy().config(),
    )?;
    if checked.report.has_errors() {
        return Err(refused(format!(
            "it fails its checks: {}",
            checked.report.error_codes().join(", ")
        )));
    }
    let Some(document) = checked.skr else {
        return Err(refused("it cannot be read".into()));
    };
    let revoked = ceremony
        .public_key(current)?
        .with_flags(ksr::Flags::REVOKED_KSK);
    let next_tag = ceremony.public_key(next)?.key_tag();
    let shown = document.to_model().bundles.iter().any(|bundle| {
        bundle.keys.iter().any(|key| key.dnskey == revoked)
            && bundle
                .signatures
                .iter()
                .any(|signature| signature.rrsig.key_tag == next_tag)
    });
    if shown {
        Ok(())
    } else {
        Err(refused(format!(
            "no bundle publishes {current} revoked with a signature by {next}"
        )))
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
        active.replace_policy(config)?;
        let written = active.ceremony().policy();
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

//! The quorum operations, each prepared here and run by the flow:
//! signing, a new KSK, its promotion, a new card set.

mod approve;
mod generation;
pub(crate) mod keygen;
mod pin;
mod promote;
mod sign;

pub use approve::{Approve, Approved, prepare_approve};
pub use generation::{Generation, GenerationRequest, NewCards, prepare_generation};
pub use keygen::{Keygen, KeygenRequest, KskOrigin, NewKsk, prepare_keygen};
pub use pin::{Pin, Pinned, prepare_pin};
pub use promote::{Promote, Promoted, prepare_promote};
pub use sign::{
    AwaitingWords, EmergencyRequest, EmergencySigned, MediaSignRequest, MediaSource, OutputFormat,
    Previous, Sign, SignRequest, Signed, prepare_sign, prepare_sign_media, rewrite_media,
    skr_manifest, write_to_media,
};
pub(crate) use sign::{keep_skr_manifest, kept_manifest_path};

use serde_json::{Map, Value};

use crate::audit::OperationKind;
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::summary::{Detail, FileRef, RosterRef, Summary};

/// How far from the clock `--now` may be in a production ceremony, in
/// seconds.
pub const MAX_NOW_OFFSET: u32 = 300;

/// A production ceremony judges documents by its own clock: a KSR refused
/// today for its horizon is not signed by moving `--now` (one person's
/// switch); a rehearsal takes any `--now`.
pub(crate) fn check_now(ceremony: &Ceremony, now: Now) -> Result<(), Error> {
    if ceremony.is_rehearsal() || !now.given {
        return Ok(());
    }
    let clock = ceremony.clock().wall();
    let off = now.time.to_unix().abs_diff(clock.to_unix());
    if off > MAX_NOW_OFFSET {
        return Err(Error::Production(format!(
            "--now {} is {off} s from this machine's clock ({clock}); a production ceremony allows at most {MAX_NOW_OFFSET} s (a rehearsal allows any)",
            now.time
        )));
    }
    Ok(())
}

/// The details of an audit entry, from pairs.
pub(crate) fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// The summary of an operation on this ceremony.
pub(crate) fn summary(
    ceremony: &Ceremony,
    operation: OperationKind,
    now: Now,
    detail: Detail,
    warnings: Vec<String>,
    waivers: Vec<String>,
) -> Result<Summary, Error> {
    let policy = ceremony.policy();
    let roster = ceremony.roster();
    let rehearsal = ceremony.is_rehearsal();
    check_now(ceremony, now)?;
    Ok(Summary {
        operation,
        rehearsal,
        epoch: ceremony.sealed_state().map_or(0, |state| state.epoch),
        ceremony: ceremony.layout().root().display().to_string(),
        zone: policy.domain()?.to_string(),
        policy: FileRef {
            path: policy
                .path()
                .map_or_else(String::new, |path| path.display().to_string()),
            sha256: hex::encode(policy.sha256()),
        },
        roster: RosterRef {
            generation: roster.generation(),
            threshold: roster.threshold(),
            officers: roster.officers().len(),
            digest: hex::encode(roster.digest()),
        },
        now: now.time.to_string(),
        now_given: now.given,
        detail,
        warnings,
        waivers,
    })
}

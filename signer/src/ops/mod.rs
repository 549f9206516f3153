//! The quorum operations, each prepared here and run by the flow:
//! signing, a new KSK, its promotion, a new card set.

mod approve;
mod generation;
mod keygen;
mod promote;
mod sign;

pub use approve::{Approve, Approved, prepare_approve};
pub use generation::{Generation, GenerationRequest, NewCards, prepare_generation};
pub use keygen::{Keygen, KeygenRequest, NewKsk, prepare_keygen};
pub use promote::{Promote, Promoted, prepare_promote};
pub use sign::{OutputFormat, Previous, Sign, SignRequest, Signed, prepare_sign};

use serde_json::{Map, Value};

use crate::audit::OperationKind;
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::summary::{Detail, FileRef, RosterRef, Summary};

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
    Ok(Summary {
        operation,
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

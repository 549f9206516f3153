//! Stage 3 of `ksr-checks.md`: SKR(n-1) by itself.

use super::request::{document_ids, order, protocol};
use super::sink::Sink;
use crate::findings::{CheckCode, DocumentRole};
use crate::model::Skr;
use crate::policy::Config;

/// Runs `SKR-PREV-COUNT`, `SKR-PREV-SIGS` (with the key-tag and field
/// rules of [`super::check_skr`]) and the (+) checks `KSR-BUNDLE-ID`,
/// `KSR-BUNDLE-ORDER` and `KSR-KEY-PROTOCOL` on the previous SKR.
pub(super) fn check(skr: &Skr, config: &Config, sink: &mut Sink) {
    let expected = config.response_policy.num_bundles;
    if skr.bundles.len() != expected {
        sink.error(
            CheckCode::SkrPrevCount,
            format!(
                "the previous SKR has {} bundles, response_policy.num_bundles is {expected}",
                skr.bundles.len()
            ),
        );
    }
    let signatures = super::check_skr(skr, DocumentRole::PreviousSkr);
    sink.unless_disabled(
        config.response_policy.validate_signatures,
        &[CheckCode::SkrSignatures],
        "response_policy.validate_signatures",
        |sink| {
            sink.findings.extend(
                signatures
                    .iter()
                    .filter(|f| f.code == CheckCode::SkrSignatures)
                    .cloned(),
            )
        },
    );
    sink.findings.extend(
        signatures
            .into_iter()
            .filter(|f| f.code != CheckCode::SkrSignatures),
    );
    document_ids("SKR", &skr.id, skr, sink);
    order(skr, sink);
    protocol(skr, sink);
}

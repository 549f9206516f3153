//! What the service and its clients say to each other, as JSON: one
//! definition for both ends.

use serde::{Deserialize, Serialize};

/// `GET /session`: the open activation attempt, for an officer's client:
/// the operation the officer authorizes and what the card must sign.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionOffer {
    /// Counts the attempts since the service started.
    pub attempt: u64,
    /// The summary of the operation the attempt is for. The officer's
    /// client shows it and computes its digest itself: the card signs
    /// that digest, so a summary the service misstated signs nothing.
    pub summary: crate::summary::Summary,
    /// The attempt's nonce, hex.
    pub nonce: String,
    /// The roster's generation.
    pub generation: u64,
    /// The roster's digest, hex.
    pub roster_digest: String,
    /// The attempt's ephemeral P-256 key, uncompressed SEC1, hex.
    pub session_key: String,
    /// Cards presented so far, and how many are needed.
    pub presented: usize,
    /// The threshold.
    pub threshold: usize,
}

/// `POST /present`: a card's share sealed to the attempt, and its
/// signature over the challenge.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentRequest {
    /// The nonce of the attempt the card signed for, hex.
    pub nonce: String,
    /// The card's serial.
    pub card_serial: String,
    /// The generation the card was issued in.
    pub generation: u64,
    /// The card's ECDSA P-256 signature (r || s), hex.
    pub signature: String,
    /// The sender's ephemeral P-256 key, uncompressed SEC1, hex.
    pub ephemeral_key: String,
    /// The sealed share, hex.
    pub sealed_share: String,
}

/// The answer to a presentation: progress, or the refusal naming the card
/// and officer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PresentAnswer {
    /// Whether the card counted.
    pub accepted: bool,
    /// Why not, when it did not.
    pub refusal: Option<String>,
    /// Cards counted in this attempt.
    pub presented: usize,
    /// The threshold.
    pub threshold: usize,
    /// The officers who presented, in order.
    pub who: Vec<String>,
    /// Whether the quorum is complete (the HSM is being activated).
    pub complete: bool,
}

/// `POST /present/wrong-pin`: an officer's card refused the PIN typed at
/// their own terminal; the ceremony's log records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrongPinNotice {
    /// The card's serial.
    pub card_serial: String,
    /// The tries the card says are left.
    pub tries_left: u8,
}

/// `POST /ksrs/{id}/sign`: the administrator's confirmation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The SHA-256 of the KSR the administrator read out, hex: the
    /// service signs only if it is the stored KSR's.
    pub ksr_sha256: String,
    /// The signing schema [default: normal].
    #[serde(default)]
    pub schema: Option<String>,
    /// Sign although neither the transfer set nor the signer has a
    /// previous SKR (a first quarter); recorded in the audit log.
    #[serde(default)]
    pub no_previous_skr: bool,
    /// The KSR's words as the administrator heard them over the phone: at
    /// the positions the load answered, or all 32.
    pub heard: crate::oob::Heard,
}

/// `POST /transfers`: the administrator loads a transfer set from the
/// medium into the room's service: its files, hex, by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// The set's folder name on the medium (`<ID>`).
    pub name: String,
    /// Its files, by name, hex.
    pub files: std::collections::BTreeMap<String, String>,
}

/// The answer to a load: the KSR as stored, the intake's findings, and the
/// positions of the words the administrator must type as heard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoadAnswer {
    /// The KSR.
    pub ksr: KsrRecord,
    /// The positions (1 to 32) of the words to type.
    pub positions: Vec<usize>,
}

/// Where a submitted KSR stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KsrState {
    /// Checked and stored; waits for the administrator.
    Accepted,
    /// Written to a medium by the intake; waits for the SKR to come back.
    Exported,
    /// Confirmed; waits for the quorum.
    Confirmed,
    /// Being signed.
    Signing,
    /// Signed: the SKR can be downloaded.
    Signed,
    /// Signing failed; the reason is given.
    Failed,
}

/// A submitted KSR, as `GET /ksrs/{id}` and the status show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KsrRecord {
    /// The service's identifier: `ksr-` and 12 hex digits of its SHA-256.
    pub id: String,
    /// The KSR's format.
    pub format: String,
    /// The KSR's own id attribute.
    pub request_id: String,
    /// Its domain.
    pub domain: String,
    /// Its bundles.
    pub bundles: usize,
    /// Its SHA-256, hex.
    pub ksr_sha256: String,
    /// The same as PGP words.
    pub ksr_pgp_words: String,
    /// Who submitted it (the client certificate's name).
    pub submitted_by: String,
    /// Where it stands.
    pub state: KsrState,
    /// The schema it is, or was, signed with.
    pub schema: Option<String>,
    /// The SKR's SHA-256, once signed.
    pub skr_sha256: Option<String>,
    /// The same as PGP words.
    pub skr_pgp_words: Option<String>,
    /// Why signing failed.
    pub error: Option<String>,
    /// The transfer set it came in (its id), while the service holds it.
    #[serde(default)]
    pub transfer: Option<String>,
    /// Once signed from a transfer set: what goes beside the SKR on the
    /// medium.
    #[serde(default)]
    pub skr_manifest: Option<crate::media::SkrManifest>,
}

impl KsrRecord {
    /// The file name extension of the KSR's format (and of its SKR's).
    pub fn extension(&self) -> &'static str {
        if self.format == ksr::Format::Xml.to_string() {
            "xml"
        } else {
            "txt"
        }
    }
}

/// How [`KsrRecord::error`] begins when the KSR or the SKR failed a check
/// at signing time (rather than the HSM failing).
pub const REFUSED_PREFIX: &str = "refused: ";

/// An error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorAnswer {
    /// What went wrong, in plain English.
    pub error: String,
}

/// Where the ceremony stands, for the witnesses: `GET /status` and each
/// server-sent event. Nothing in it is secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// sealed, collecting, activating, active, signing or done.
    pub phase: String,
    /// One sentence for the room.
    pub headline: String,
    /// The zone.
    pub domain: String,
    /// Counts the activation attempts.
    pub attempt: u64,
    /// Cards counted in this attempt.
    pub presented: usize,
    /// The threshold k.
    pub threshold: usize,
    /// The officers n.
    pub officers: usize,
    /// Who presented, in order.
    pub who: Vec<String>,
    /// Whether the HSM is active.
    pub hsm_active: bool,
    /// The KSR whose signing the open attempt authorizes, if any.
    pub confirmed: Option<String>,
    /// The digest of that operation's summary, hex.
    pub summary_sha256: Option<String>,
    /// While signing: the KSR, the bundle being signed and the bundles.
    pub signing: Option<SigningProgress>,
    /// While an attempt is open: the seconds it has left.
    pub attempt_seconds_left: Option<u64>,
    /// While the HSM is active: the seconds it has been.
    pub hsm_active_seconds: Option<u64>,
    /// The KSRs submitted since the service started.
    pub ksrs: Vec<KsrRecord>,
    /// The last entries of the audit log, oldest first.
    pub audit: Vec<AuditLine>,
    /// The hash of the last audit entry.
    pub audit_head: String,
    /// The same in PGP words, to read aloud.
    pub audit_head_pgp_words: String,
    /// A rehearsal's exercise (`serve --exercise FILE`): its current step
    /// and role, and the faults found so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<ExerciseView>,
}

/// An exercise, as the witnesses see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseView {
    /// The scenario's title.
    pub scenario: String,
    /// The step being run (1 for the first).
    pub step: usize,
    /// How many steps.
    pub steps: usize,
    /// Its action (`done` at the end).
    pub action: String,
    /// Who acts: roles and people.
    pub who: String,
    /// The instruction.
    pub say: String,
    /// The faults detected so far, in words.
    pub detected: Vec<String>,
}

/// Signing in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningProgress {
    /// The service's KSR identifier.
    pub ksr: String,
    /// The bundle being signed, from 1.
    pub bundle: usize,
    /// The bundles.
    pub bundles: usize,
}

/// One audit entry, as the witness page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    /// Its sequence number.
    pub seq: u64,
    /// When.
    pub time: String,
    /// What.
    pub event: String,
    /// Who: the client or the officer.
    pub who: String,
}

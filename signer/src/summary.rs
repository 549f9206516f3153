//! The summary of an operation: what the operator confirms and the
//! officers authorize. Its SHA-256 is what every card signs with its
//! presentation, so a quorum counts for the operation it was shown and no
//! other.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::audit::OperationKind;

/// An operation summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The operation.
    pub operation: OperationKind,
    /// A rehearsal, not a production ceremony.
    pub rehearsal: bool,
    /// The epoch of the ceremony's sealed state: each card checks it is
    /// not older than the last it was told of.
    pub epoch: u64,
    /// The ceremony directory.
    pub ceremony: String,
    /// The zone.
    pub zone: String,
    /// The policy file and its SHA-256.
    pub policy: FileRef,
    /// The roster that must present: generation, k and n, digest.
    pub roster: RosterRef,
    /// The instant documents are judged at, RFC 3339, and whether `--now`
    /// gave it.
    pub now: String,
    /// Whether `--now` gave `now` (else the system clock).
    pub now_given: bool,
    /// What the operation does.
    pub detail: Detail,
    /// Warnings of the checks, and each check switched off, as
    /// `CODE: message` lines.
    pub warnings: Vec<String>,
    /// What the operator waived: no previous SKR, no typed confirmation.
    pub waivers: Vec<String>,
}

impl Summary {
    /// SHA-256 of the summary's canonical JSON: the digest every card signs.
    pub fn digest(&self) -> [u8; 32] {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(bytes).into()
    }

    /// For a signing, the SKR's bundles (0 for other operations).
    pub fn skr_bundles(&self) -> usize {
        match &self.detail {
            Detail::Sign(sign) => sign.bundles.len(),
            _ => 0,
        }
    }
}

/// A file and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The file.
    pub path: String,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The roster that authorizes the operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRef {
    /// The generation.
    pub generation: u64,
    /// k.
    pub threshold: usize,
    /// n.
    pub officers: usize,
    /// The roster's digest, hex.
    pub digest: String,
}

/// What an operation does, in its own terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Detail {
    /// Signing a KSR.
    Sign(Box<SignDetail>),
    /// Making a KSK.
    Keygen {
        /// Its label.
        label: String,
        /// Its kind (`rsasha256-2048`, …).
        algorithm: String,
        /// Its role in the policy.
        role: String,
        /// Where it comes from: made in the HSM, imported from a file or
        /// adopted from the token, in a sentence.
        #[serde(default)]
        origin: String,
        /// For a key that exists already: its SHA-256 DS record, to compare
        /// with the parent's before it is accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ds: Option<String>,
    },
    /// A backup for a second site.
    Backup {
        /// Its folder.
        to: String,
        /// The epoch it holds.
        epoch: u64,
        /// The card set that opens it.
        generation: u64,
        /// The KSKs it holds, one line each.
        keys: Vec<String>,
        /// How many files.
        files: usize,
    },
    /// A backup opened at a second site.
    Restore {
        /// The backup's folder.
        from: String,
        /// Its manifest's SHA-256.
        manifest_sha256: String,
        /// When it was made.
        made: String,
        /// The epoch it holds.
        epoch: u64,
        /// The card set that opens it.
        generation: u64,
        /// The KSKs it holds, one line each.
        keys: Vec<String>,
    },
    /// Promoting the next KSK.
    Promote {
        /// The revoke quarter's SKR, the evidence that the roll happened.
        evidence: FileRef,
        /// The label that becomes `ksk_current`.
        current: String,
        /// The label that leaves the policy.
        retired: Option<String>,
    },
    /// The intake key pinned.
    IntakePin {
        /// The key's fingerprint (SHA-256 of the key), hex.
        fingerprint: String,
        /// The file it was read from.
        file: String,
        /// The fingerprint of the key it replaces, if one was pinned.
        replaces: Option<String>,
    },
    /// A changed policy, approved.
    Policy {
        /// The SHA-256 of the policy approved until now.
        approved_sha256: String,
        /// The lines that differ, marked `-`, `+` (and ` ` for context).
        difference: Vec<String>,
    },
    /// A new card set: reshare or rekey.
    Generation {
        /// The new generation.
        generation: u64,
        /// The new officers.
        officers: Vec<String>,
        /// The new threshold.
        threshold: usize,
        /// Whether the secret is new (rekey) or kept (reshare).
        new_secret: bool,
    },
}

/// What signing a KSR does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignDetail {
    /// The KSR file and its SHA-256.
    pub ksr: FileRef,
    /// The KSR's id.
    pub ksr_id: String,
    /// The KSR's format.
    pub format: String,
    /// For a text KSR, the SHA-256 of its ZSK set, hex.
    pub zsk_set_sha256: Option<String>,
    /// SKR(n-1), unless waived.
    pub previous_skr: Option<FileRef>,
    /// The schema.
    pub schema: String,
    /// Where the SKR goes.
    pub output: String,
    /// The SKR's format.
    pub output_format: String,
    /// For a text SKR, what the requester's dialect decided where the
    /// policy is silent (CDS/CDNSKEY records, the schema profile), one
    /// line each: the officers see what is signed and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_choices: Vec<String>,
    /// The KSKs the schema uses, as the table's columns.
    pub ksks: Vec<KskColumn>,
    /// One row per SKR bundle.
    pub bundles: Vec<BundleRow>,
    /// The transfer set the KSR came in, when it came on a medium.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferRef>,
    /// The emergency SKR signed in the same activation, if asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencyDetail>,
}

/// The emergency SKR of a signing, as the officers are shown it: the same
/// KSR, every bundle publishing the standby KSK and the current one
/// revoked, both signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyDetail {
    /// The standby KSK's label.
    pub standby: String,
    /// Where it goes.
    pub output: String,
    /// Its KSK columns.
    pub ksks: Vec<KskColumn>,
    /// Its bundles.
    pub bundles: Vec<BundleRow>,
}

/// A transfer set, as the officers are shown it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRef {
    /// Its id.
    pub id: String,
    /// Its folder.
    pub dir: String,
    /// The manifest's SHA-256, hex.
    pub manifest_sha256: String,
    /// The intake key that signed it, by fingerprint.
    pub intake_key: String,
    /// When the intake exported it.
    pub exported: String,
    /// The intake's findings, one line each.
    pub findings: Vec<String>,
}

/// A KSK of the bundle table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KskColumn {
    /// Its policy name (`ksk_current`, …).
    pub name: String,
    /// Its HSM label.
    pub label: String,
    /// Its tag with Flags 257.
    pub tag: u16,
    /// Its tag with Flags 385.
    pub revoked_tag: u16,
}

/// One bundle of the table, as kskm prints it before signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRow {
    /// 1, 2, …
    pub number: usize,
    /// The bundle id.
    pub id: String,
    /// Inception, RFC 3339.
    pub inception: String,
    /// Expiration, RFC 3339.
    pub expiration: String,
    /// The ZSKs' tags.
    pub zsk_tags: Vec<u16>,
    /// Per KSK column: what the bundle does with it.
    pub ksks: Vec<KskUse>,
}

/// What a bundle does with a KSK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KskUse {
    /// Published (Flags 257) and signing.
    Signs,
    /// Published, not signing.
    Published,
    /// Published revoked (Flags 385), signing (a revocation signature).
    RevokedSigns,
    /// Published revoked, not signing.
    Revoked,
    /// Not in the bundle.
    Absent,
}

impl KskUse {
    /// A word for the table.
    pub fn word(self) -> &'static str {
        match self {
            Self::Signs => "signs",
            Self::Published => "published",
            Self::RevokedSigns => "revoked+signs",
            Self::Revoked => "revoked",
            Self::Absent => "-",
        }
    }
}

/// The table of an SKR's bundles (planned or signed): per bundle its
/// times, its ZSKs and what it does with each KSK column.
pub fn bundle_table(bundles: &[ksr::Bundle], ksks: &[KskColumn]) -> Vec<BundleRow> {
    bundles
        .iter()
        .enumerate()
        .map(|(index, bundle)| BundleRow {
            number: index + 1,
            id: bundle.id.clone(),
            inception: bundle.inception.to_string(),
            expiration: bundle.expiration.to_string(),
            zsk_tags: bundle
                .keys
                .iter()
                .filter(|key| key.dnskey.flags() == ksr::Flags::ZSK)
                .map(|key| key.key_tag.to_int())
                .collect(),
            ksks: ksks
                .iter()
                .map(|column| {
                    let key = bundle
                        .keys
                        .iter()
                        .find(|key| key.identifier == column.label);
                    let signs = bundle
                        .signatures
                        .iter()
                        .any(|signature| signature.key_identifier == column.label);
                    match key.map(|key| key.dnskey.flags().is_revoked()) {
                        None => KskUse::Absent,
                        Some(false) if signs => KskUse::Signs,
                        Some(false) => KskUse::Published,
                        Some(true) if signs => KskUse::RevokedSigns,
                        Some(true) => KskUse::Revoked,
                    }
                })
                .collect(),
        })
        .collect()
}

//! The ceremony's sealed state (`DIR/hsm/state.json`): everything that
//! decides what an activation may do — the roster, the approved policy,
//! the HSM's keys and binding, an epoch that only grows, and the audit
//! anchor — authenticated under a key only the quorum's secret derives.
//!
//! Who can write it: anyone with access to the directory can write the
//! file, but only a quorum can make its MAC. So the state is checked twice:
//! sealed, before the first card (every comparison, so an honest mistake
//! or a clumsy edit is refused before anyone presents), and after the
//! quorum combined the secret, before the HSM is activated (the MAC, so a
//! forged state is refused before any key is used). Each quorum operation
//! ends by sealing the state again with the next epoch, anchored to the
//! last audit entry before it and recorded as `state-sealed`.
//!
//! What it catches: the policy edited since the quorum approved it; a key
//! store or token record restored from an older copy (its roster or keys
//! are not the sealed ones, or the state file itself is older than the
//! log); the PKCS#11 module or token swapped; the audit log cut before
//! the anchor, rewritten, or deleted. The directory rolled back as a whole
//! (state, store and log together) is caught by a token, which keeps the
//! MAC, and by every card told a later epoch; with the soft HSM and cards
//! not used since, only the witnesses' head shows it (`audit verify
//! --head`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use hmac::{KeyInit as _, Mac as _};
use quorum::ActivationSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::audit::{self, Event, SharedTrail};
use crate::ceremony::Ceremony;
use crate::error::Error;
use crate::layout::Layout;
use crate::policy::Policy;

/// The file in `DIR/hsm`.
pub const STATE_FILE: &str = "state.json";
/// The state an operation is about to leave, written before it changes
/// the HSM's card set (sealed under the new secret) or the policy file
/// (`keygen`, `ksk promote`): a run killed between that change and the
/// sealing leaves an HSM and a policy that this state, not the old one,
/// describes. Only a state that follows the sealed one (its MAC) and
/// describes what is on disk is taken; its own MAC is verified at
/// activation like any other.
pub const PENDING_FILE: &str = "state.pending.json";

/// What the MAC key is derived for.
const MAC_PURPOSE: &str = "ceremony state mac";

/// The format written.
const FORMAT: u32 = 1;

type HmacSha256 = hmac::Hmac<Sha256>;

//------------ State ---------------------------------------------------------

/// The state a quorum sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// One more at every sealing.
    pub epoch: u64,
    /// The roster's generation.
    pub generation: u64,
    /// The roster's digest, hex.
    pub roster_sha256: String,
    /// SHA-256 of the approved policy file, hex.
    pub policy_sha256: String,
    /// The approved policy file, for the difference `policy approve`
    /// shows.
    pub policy: String,
    /// SHA-256 of each key's DNSKEY RDATA, by label.
    pub keys: BTreeMap<String, String>,
    /// The HSM: backend, module and its SHA-256, token.
    pub hsm: String,
    /// The audit entry the state was sealed after.
    pub anchor: Anchor,
    /// A rehearsal (`init --rehearsal`): light-KDF cards, cards in the
    /// directory and a `--now` far from the clock are allowed, and every
    /// screen and record says so. Sealed, so that nobody turns a
    /// production ceremony into one.
    pub rehearsal: bool,
    /// The MAC of the state this one replaced (empty for the first), hex:
    /// a token that still keeps that one is a run that ended between the
    /// file and the token, not a restored copy.
    pub previous_mac: String,
    /// The intake key whose signature a transfer set's manifest needs, hex
    /// (`init --intake-key`, `intake pin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_key: Option<String>,
    /// The last SKR this signer signed: a transfer set's previous SKR
    /// must be it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_skr: Option<LastSkr>,
}

/// The signer's own record of the last SKR it signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastSkr {
    /// Its copy in the ceremony directory, relative to it.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The SHA-256 of the KSR it answers, hex.
    pub ksr_sha256: String,
    /// The transfer set it was signed from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
}

/// What links the signer to the intake: the pinned intake key and the last
/// SKR. Kept by the open ceremony, changed by the operations that change it
/// (`intake pin`, `sign`), sealed with the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    /// The pinned intake key.
    pub intake_key: Option<crate::media::IntakeKey>,
    /// The last SKR signed.
    pub last_skr: Option<LastSkr>,
}

impl State {
    /// The chain it seals. A key that is not one (the file was edited;
    /// its MAC will not verify) pins nothing: every transfer set is then
    /// refused before any card.
    pub fn chain(&self) -> Chain {
        Chain {
            intake_key: self
                .intake_key
                .as_deref()
                .and_then(|key| crate::media::IntakeKey::from_hex(key).ok()),
            last_skr: self.last_skr.clone(),
        }
    }
}

/// An audit entry: its sequence number and the SHA-256 of its line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// The entry's sequence number.
    pub seq: u64,
    /// The SHA-256 of its line, hex.
    pub hash: String,
}

/// The state file as read, once, when the ceremony opens: everything that
/// decides anything is taken from this one read, which the MAC check
/// authenticates (a file swapped on disk afterwards changes nothing).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sealed {
    format: u32,
    state: State,
    /// HMAC-SHA-256 of the state's JSON under the quorum's key, hex.
    mac: String,
}

impl Sealed {
    /// The state (authenticated only once [`verify`] passed).
    pub(crate) fn state(&self) -> &State {
        &self.state
    }
}

/// Why the sealed state refuses an operation.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StateError {
    /// No state file.
    #[error(
        "{} is missing: the ceremony's sealed state was deleted (or the ceremony predates it); nothing is activated without it",
        .0.display()
    )]
    Missing(PathBuf),
    /// The file is not a state.
    #[error("{}: not a sealed state ({why}): it was edited", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The policy file is not the approved one.
    #[error(
        "the policy changed since the quorum approved it (approved SHA-256 {approved}, the file's {file}): review the difference and approve it with a quorum (ceremony policy approve), or restore the approved file"
    )]
    PolicyChanged {
        /// The approved policy's digest.
        approved: String,
        /// The file's.
        file: String,
    },
    /// The HSM's roster is not the sealed one.
    #[error(
        "the key store's roster (generation {found}) is not the one the quorum sealed (generation {sealed}): the key store is {age}, or was replaced"
    )]
    RosterChanged {
        /// The sealed generation.
        sealed: u64,
        /// The key store's.
        found: u64,
        /// "older than the cards" or "not the sealed one".
        age: &'static str,
    },
    /// The HSM's keys are not the sealed ones.
    #[error(
        "the HSM's keys are not those the quorum sealed ({0}): the key store was restored or altered"
    )]
    KeysChanged(String),
    /// The HSM is not the bound one.
    #[error("the HSM is not the one the quorum bound: sealed {sealed:?}, found {found:?}")]
    HsmChanged {
        /// The sealed binding.
        sealed: String,
        /// The HSM's.
        found: String,
    },
    /// The log does not start with `init`.
    #[error("the audit log has no init entry (it starts with {0:?}): it was deleted or replaced")]
    NoInit(String),
    /// The log does not hold the anchor.
    #[error("the audit log does not hold entry {seq} as the quorum sealed it: the log was {how}")]
    LogCut {
        /// The anchor's sequence number.
        seq: u64,
        /// "cut", or "cut or rewritten" when the entry is there but another.
        how: &'static str,
    },
    /// The state is older than the log.
    #[error(
        "the ceremony state (epoch {epoch}) is older than the audit log, which records epoch {logged} sealed at entry {entry}: the state or the key store was restored from a copy"
    )]
    OlderThanLog {
        /// The state's epoch.
        epoch: u64,
        /// The latest epoch the log records.
        logged: u64,
        /// Where.
        entry: u64,
    },
    /// The token keeps another state.
    #[error(
        "the ceremony state is not the one the token keeps: the directory (state, key store record and log) was restored from an older copy; nothing was signed"
    )]
    TokenDisagrees,
    /// The epoch cannot grow any more.
    #[error("the ceremony state's epoch is at its end ({0}): it was forged")]
    EpochExhausted(u64),
    /// The MAC does not verify under the quorum's secret.
    #[error(
        "the ceremony state does not verify under the quorum's secret: it was written without this quorum (edited, or from another card set); nothing was activated"
    )]
    Forged,
}

/// What a sealing records: everything of the state but its epoch and
/// anchor.
pub(crate) struct Parts<'a> {
    pub(crate) roster: &'a quorum::Roster,
    pub(crate) policy: &'a crate::policy::Policy,
    pub(crate) keys: &'a [hsm::KeyInfo],
    pub(crate) hsm: String,
    pub(crate) rehearsal: bool,
    pub(crate) chain: Chain,
}

impl Parts<'_> {
    fn into_state(self, epoch: u64, anchor: Anchor, previous_mac: String) -> State {
        State {
            epoch,
            generation: self.roster.generation(),
            roster_sha256: hex::encode(self.roster.digest()),
            policy_sha256: hex::encode(self.policy.sha256()),
            policy: self.policy.text().to_owned(),
            keys: digests(self.keys),
            hsm: self.hsm,
            anchor,
            rehearsal: self.rehearsal,
            previous_mac,
            intake_key: self.chain.intake_key.map(|key| key.to_hex()),
            last_skr: self.chain.last_skr,
        }
    }
}

/// The key the state's MAC is made with, derived from the quorum's secret;
/// wiped on drop.
pub(crate) struct StateKey(Zeroizing<[u8; 32]>);

impl StateKey {
    pub(crate) fn derive(secret: &ActivationSecret) -> Self {
        Self(secret.derive_key(MAC_PURPOSE))
    }
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

/// The digests of the HSM's public keys, by label.
fn digests(keys: &[hsm::KeyInfo]) -> BTreeMap<String, String> {
    keys.iter()
        .map(|key| {
            (
                key.label.clone(),
                hex::encode(Sha256::digest(key.dnskey.rdata())),
            )
        })
        .collect()
}

fn path(layout: &Layout) -> PathBuf {
    layout.hsm().join(STATE_FILE)
}

/// Reads the state file, once per open ceremony; or the pending state of a
/// new card set, when the HSM's roster is the one it records and not the
/// sealed one (the run that moved the HSM was killed before it sealed).
/// The pending state is authenticated like any other, under the new
/// secret, by the new cards' quorum.
///
/// # Errors
///
/// No state file, or not one.
pub(crate) fn load(
    layout: &Layout,
    roster: &quorum::Roster,
    policy: &Policy,
) -> Result<Sealed, StateError> {
    let sealed = read(path(layout))?;
    let hsm_roster = hex::encode(roster.digest());
    let file_policy = hex::encode(policy.sha256());
    let moved =
        |state: &State| state.roster_sha256 != hsm_roster || state.policy_sha256 != file_policy;
    if moved(&sealed.state)
        && let Ok(pending) = read(layout.hsm().join(PENDING_FILE))
        && !moved(&pending.state)
        && pending.state.previous_mac == sealed.mac
    {
        return Ok(pending);
    }
    Ok(sealed)
}

/// Writes the pending state (see [`PENDING_FILE`]) of a new card set or
/// a new policy, before the HSM or the policy file moves to it.
///
/// # Errors
///
/// The file cannot be written.
pub(crate) fn write_pending(
    ceremony: &Ceremony,
    roster: &quorum::Roster,
    policy: &Policy,
    key: &StateKey,
) -> Result<(), Error> {
    let previous = ceremony.sealed()?;
    let keys = ceremony.inventory()?;
    let parts = Parts {
        roster,
        policy,
        keys: &keys,
        hsm: ceremony.hsm().binding(),
        rehearsal: previous.state.rehearsal,
        chain: ceremony.chain().clone(),
    };
    let anchor = anchor(&audit::lock(ceremony.trail()));
    let pending = make(parts, Some(previous), anchor, key)?;
    write(&ceremony.layout().hsm().join(PENDING_FILE), &pending)
}

/// The state after `previous` (the first without one), MAC'd.
///
/// # Errors
///
/// The epoch is exhausted.
fn make(
    parts: Parts<'_>,
    previous: Option<&Sealed>,
    anchor: Anchor,
    key: &StateKey,
) -> Result<Sealed, Error> {
    let epoch = match previous {
        None => 1,
        Some(file) => file
            .state
            .epoch
            .checked_add(1)
            .ok_or(StateError::EpochExhausted(file.state.epoch))?,
    };
    let previous_mac = previous.map(|file| file.mac.clone()).unwrap_or_default();
    let state = parts.into_state(epoch, anchor, previous_mac);
    Ok(Sealed {
        format: FORMAT,
        mac: hex::encode(mac(&state, key)?),
        state,
    })
}

/// Writes a state file, atomically.
fn write(path: &std::path::Path, file: &Sealed) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(file).map_err(|err| Error::Internal(err.to_string()))?;
    Ok(durable::write(path, &json, durable::Replace::Allowed)?)
}

/// The last entry of the log, where a state is anchored.
fn anchor(trail: &audit::Trail) -> Anchor {
    Anchor {
        seq: trail.recent().last().map_or(0, |entry| entry.seq),
        hash: trail.head(),
    }
}

/// Removes a pending state that is not, or no longer, needed.
pub(crate) fn discard_pending(layout: &Layout) {
    let _ = durable::remove(&layout.hsm().join(PENDING_FILE));
}

fn read(path: PathBuf) -> Result<Sealed, StateError> {
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(StateError::Missing(path));
        }
        Err(err) => {
            return Err(StateError::Malformed {
                path,
                why: err.to_string(),
            });
        }
    };
    parse(path, &text)
}

/// Parses the text of a state file; `path` names it in errors. Split from
/// [`read`] so the parser can be fuzzed without a file.
fn parse(path: PathBuf, text: &str) -> Result<Sealed, StateError> {
    serde_json::from_str(text).map_err(|err| StateError::Malformed {
        path,
        why: err.to_string(),
    })
}

/// Parses a sealed state file (`state.json`) from its text, as a ceremony
/// reads it when it opens, and answers the state (not authenticated: only
/// the quorum's key checks its MAC) and the file written back as a
/// sealing writes it. For fuzzing and tools that hold no key.
///
/// # Errors
///
/// Not a sealed state ([`StateError::Malformed`]).
pub fn parse_state_file(text: &str) -> Result<(State, Vec<u8>), StateError> {
    let path = PathBuf::from(STATE_FILE);
    let sealed = parse(path.clone(), text)?;
    let written = serde_json::to_vec_pretty(&sealed).map_err(|err| StateError::Malformed {
        path,
        why: err.to_string(),
    })?;
    Ok((sealed.state, written))
}

/// The MAC of a state.
fn mac(state: &State, key: &StateKey) -> Result<[u8; 32], Error> {
    let mut mac = HmacSha256::new_from_slice(key.0.as_ref())
        .map_err(|_| Error::Internal("an HMAC key of 32 bytes".into()))?;
    let json = serde_json::to_vec(state).map_err(|err| Error::Internal(err.to_string()))?;
    mac.update(&json);
    Ok(mac.finalize().into_bytes().into())
}

//------------ The checks ----------------------------------------------------

/// The sealed check, before the first card: the state file is there and
/// everything it records is what the ceremony holds now — the policy
/// (unless the operation is the approval of a new one), the roster, the
/// keys, the HSM — and the audit log starts with `init`, holds the anchor
/// and records no later epoch.
///
/// # Errors
///
/// [`StateError`], naming what differs.
pub(crate) fn check_sealed(ceremony: &Ceremony, policy_may_differ: bool) -> Result<(), Error> {
    let state = &ceremony.sealed()?.state;
    let file_sha = hex::encode(ceremony.policy().sha256());
    if !policy_may_differ && state.policy_sha256 != file_sha {
        return Err(StateError::PolicyChanged {
            approved: state.policy_sha256.clone(),
            file: file_sha,
        }
        .into());
    }
    let roster = ceremony.roster();
    if hex::encode(roster.digest()) != state.roster_sha256 {
        return Err(StateError::RosterChanged {
            sealed: state.generation,
            found: roster.generation(),
            age: if roster.generation() < state.generation {
                "older than the cards"
            } else {
                "not the sealed one"
            },
        }
        .into());
    }
    // Every sealed key is there and the same, and every key the policy
    // names was sealed. A key made by an operation killed before it
    // sealed the state is not named by the approved policy, so it is
    // sealed by the next operation rather than refused.
    let keys = digests(&ceremony.inventory()?);
    let mut differences: Vec<String> = Vec::new();
    for (label, digest) in &state.keys {
        match keys.get(label) {
            None => differences.push(format!("{label} is missing")),
            Some(found) if found != digest => {
                differences.push(format!("{label} is another key"));
            }
            Some(_) => {}
        }
    }
    differences.extend(
        ceremony
            .policy()
            .config()
            .keys
            .values()
            .filter(|ksk| keys.contains_key(&ksk.label) && !state.keys.contains_key(&ksk.label))
            .map(|ksk| format!("{} was not sealed", ksk.label)),
    );
    if !differences.is_empty() {
        return Err(StateError::KeysChanged(differences.join(", ")).into());
    }
    let binding = ceremony.hsm().binding();
    if binding != state.hsm {
        return Err(StateError::HsmChanged {
            sealed: state.hsm.clone(),
            found: binding,
        }
        .into());
    }
    check_log(ceremony, state)
}

/// The log starts with `init`, holds the anchor as sealed, and records no
/// epoch after the state's.
fn check_log(ceremony: &Ceremony, state: &State) -> Result<(), Error> {
    let entries = hsm::read_audit_log(&ceremony.layout().audit())?;
    match entries.first() {
        Some(first) if first.event == "init-begin" => {}
        first => {
            return Err(StateError::NoInit(
                first.map_or_else(|| "nothing".to_owned(), |entry| entry.event.clone()),
            )
            .into());
        }
    }
    let seq = state.anchor.seq;
    let index = usize::try_from(seq).unwrap_or(usize::MAX);
    // An entry's hash is the next one's `prev`, or the head for the last.
    let hash = match entries.get(index) {
        Some(next) => Some(next.prev.clone()),
        None if index == entries.len() => Some(ceremony.audit_head()),
        None => None,
    };
    match hash {
        None => return Err(StateError::LogCut { seq, how: "cut" }.into()),
        Some(hash) if !hash.eq_ignore_ascii_case(&state.anchor.hash) => {
            return Err(StateError::LogCut {
                seq,
                how: "cut or rewritten",
            }
            .into());
        }
        Some(_) => {}
    }
    let latest = entries
        .iter()
        .filter(|entry| entry.event == "state-sealed")
        .filter_map(|entry| {
            let epoch = entry.details.get("epoch")?.as_u64()?;
            Some((epoch, entry.seq))
        })
        .max();
    if let Some((logged, entry)) = latest
        && logged > state.epoch
    {
        return Err(StateError::OlderThanLog {
            epoch: state.epoch,
            logged,
            entry,
        }
        .into());
    }
    Ok(())
}

/// The check after the quorum combined the secret, before the HSM is
/// activated: the MAC of the state the sealed check compared (the one read
/// at open) verifies under the secret.
///
/// # Errors
///
/// [`StateError::Forged`].
pub(crate) fn verify(file: &Sealed, key: &StateKey) -> Result<(), Error> {
    let expected = mac(&file.state, key)?;
    let given = hex::decode(&file.mac).unwrap_or_default();
    // Both are public once written; a plain comparison leaks nothing.
    if file.format != FORMAT || given != expected {
        return Err(StateError::Forged.into());
    }
    Ok(())
}

/// Seals a ceremony's state as it is now, with the next epoch, anchored
/// to the last audit entry, and records it.
///
/// # Errors
///
/// The state cannot be read or written, or the log fails.
pub(crate) fn seal(ceremony: &mut Ceremony, key: &StateKey) -> Result<u64, Error> {
    // The state this one follows is the one read at open and verified at
    // activation, never a fresh read of a file someone may have swapped.
    let previous = ceremony.sealed()?.clone();
    let keys = ceremony.inventory()?;
    let roster = ceremony.roster().clone();
    let policy = ceremony.policy().clone();
    let parts = Parts {
        roster: &roster,
        policy: &policy,
        keys: &keys,
        hsm: ceremony.hsm().binding(),
        rehearsal: previous.state.rehearsal,
        chain: ceremony.chain().clone(),
    };
    let (layout, trail) = (
        ceremony.layout().clone(),
        std::sync::Arc::clone(ceremony.trail()),
    );
    let sealed = seal_parts(
        &layout,
        &trail,
        ceremony.hsm_mut(),
        parts,
        key,
        Some(&previous),
    )?;
    let epoch = sealed.state.epoch;
    ceremony.set_sealed(sealed);
    Ok(epoch)
}

/// The check after activation: an HSM that keeps the state's MAC (a
/// token) keeps this file's, or the one this file replaced (a run that
/// ended between writing the file and telling the token, which is then
/// told now). A restored older file matches neither.
///
/// # Errors
///
/// [`StateError::TokenDisagrees`], or the HSM cannot be read or written.
pub(crate) fn check_bound(file: &Sealed, hsm: &mut dyn hsm::Hsm) -> Result<(), Error> {
    let Some(bound) = hsm.bound_state()? else {
        return Ok(());
    };
    let current = hex::decode(&file.mac).unwrap_or_default();
    let replaced = hex::decode(&file.state.previous_mac).unwrap_or_default();
    if !current.is_empty() && bound == current {
        Ok(())
    } else if !replaced.is_empty() && bound == replaced {
        hsm.bind_state(&current)?;
        Ok(())
    } else {
        Err(StateError::TokenDisagrees.into())
    }
}

/// Seals a state made of `parts` (for `init`, before there is a
/// `Ceremony`).
///
/// # Errors
///
/// As [`seal`].
pub(crate) fn seal_parts(
    layout: &Layout,
    trail: &SharedTrail,
    hsm: &mut dyn hsm::Hsm,
    parts: Parts<'_>,
    key: &StateKey,
    previous: Option<&Sealed>,
) -> Result<Sealed, Error> {
    let mut trail = audit::lock(trail);
    let file = make(parts, previous, anchor(&trail), key)?;
    // The file first, then the token: a run that ends between the two
    // leaves a file whose `previous_mac` the token keeps (see
    // `check_bound`).
    write(&path(layout), &file)?;
    discard_pending(layout);
    hsm.bind_state(&hex::decode(&file.mac).unwrap_or_default())?;
    trail.record(&Event::StateSealed {
        epoch: file.state.epoch,
        anchor: file.state.anchor.seq,
        policy_sha256: file.state.policy_sha256.clone(),
        roster_sha256: file.state.roster_sha256.clone(),
    })?;
    Ok(file)
}

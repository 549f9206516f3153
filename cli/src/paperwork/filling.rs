//! The record: one signing found in the audit log, and the script's steps
//! filled from its entries — who did what when, every hash, every refusal.

use hsm::Entry;
use serde_json::Value as Json;

use super::model::{Body, Field, Logged, Section, Slot, Status, Step, StepKey, Value};

//------------ Log -----------------------------------------------------------

/// The verified log: its entries, each with its own hash (the next
/// entry's `prev`; the last one's is the head).
pub struct Log {
    entries: Vec<Entry>,
    hashes: Vec<String>,
}

impl Log {
    /// The entries of a verified log and its head.
    pub fn new(entries: Vec<Entry>, head: &str) -> Self {
        let hashes = entries
            .iter()
            .skip(1)
            .map(|entry| entry.prev.clone())
            .chain(std::iter::once(head.to_owned()))
            .take(entries.len())
            .collect();
        Self { entries, hashes }
    }

    /// The hash of the entry with this sequence number.
    pub fn hash(&self, seq: u64) -> Option<&str> {
        let index = self.entries.iter().position(|entry| entry.seq == seq)?;
        self.hashes.get(index).map(String::as_str)
    }

    /// The number of entries.
    pub fn count(&self) -> usize {
        self.entries.len()
    }
}

//------------ Operation -----------------------------------------------------

/// Which signing the record is of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The last one in the log.
    Last,
    /// The one whose opening entry has this number.
    Begun(u64),
    /// The last one of this transfer set (id, and its folder as given).
    Transfer {
        /// `ksr-…`.
        id: String,
        /// The folder.
        dir: String,
    },
}

/// Why no signing could be picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotFound {
    /// The log holds no signing.
    NoSigning,
    /// The entry given opens no signing.
    NotASigning,
    /// No signing of that transfer set.
    NoSigningOfSet,
}

impl NotFound {
    /// What the option takes, for the error.
    pub fn expected(self) -> &'static str {
        match self {
            Self::NoSigning => {
                "the audit log holds no signing yet: the record is filled from a signing that took place"
            }
            Self::NotASigning => {
                "the number of a sign-begin entry of the audit log (ceremony audit show lists them)"
            }
            Self::NoSigningOfSet => {
                "a transfer set this ceremony signed from (or tried to): the log holds no signing of it"
            }
        }
    }
}

/// One signing in the log: its entries from the opening to the closing
/// one, and the entry that wrote its SKR to the medium after it.
pub struct Operation<'l> {
    log: &'l Log,
    /// The opening entry.
    pub begin: &'l Entry,
    /// The closing entry, if the log has it.
    pub close: Option<&'l Entry>,
    /// Every entry from the opening to the closing one.
    pub entries: Vec<&'l Entry>,
    /// `skr-written-to-media` after the closing entry.
    pub to_media: Option<&'l Entry>,
}

/// A text detail of an entry.
fn detail<'e>(entry: &'e Entry, key: &str) -> Option<&'e str> {
    entry.details.get(key).and_then(Json::as_str)
}

/// The opening entries of signings, with their index.
fn signings(log: &Log) -> impl Iterator<Item = (usize, &Entry)> {
    log.entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.event == "sign-begin")
}

/// The transfer id a signing verified, if it got that far.
fn transfer_of(log: &Log, index: usize) -> Option<&str> {
    let begin = log.entries.get(index)?;
    log.entries
        .iter()
        .skip(index + 1)
        .take_while(|entry| entry.details.get("begun").and_then(Json::as_u64) != Some(begin.seq))
        .find(|entry| entry.event == "transfer-verified")
        .and_then(|entry| detail(entry, "transfer"))
}

impl<'l> Operation<'l> {
    /// Finds the signing `pick` names.
    ///
    /// # Errors
    ///
    /// No such signing.
    pub fn find(log: &'l Log, pick: &Pick) -> Result<Self, NotFound> {
        let index = match pick {
            Pick::Last => signings(log).last().map(|(index, _)| index),
            Pick::Begun(seq) => {
                let found = log.entries.iter().position(|entry| entry.seq == *seq);
                match found {
                    Some(index)
                        if log
                            .entries
                            .get(index)
                            .is_some_and(|entry| entry.event == "sign-begin") =>
                    {
                        Some(index)
                    }
                    _ => return Err(NotFound::NotASigning),
                }
            }
            Pick::Transfer { id, dir } => {
                let matching: Vec<usize> = signings(log)
                    .filter(|(index, begin)| {
                        transfer_of(log, *index) == Some(id.as_str())
                            || detail(begin, "media") == Some(dir.as_str())
                    })
                    .map(|(index, _)| index)
                    .collect();
                if matching.is_empty() {
                    return Err(NotFound::NoSigningOfSet);
                }
                matching.last().copied()
            }
        };
        let index = index.ok_or(NotFound::NoSigning)?;
        let begin = log.entries.get(index).ok_or(NotFound::NoSigning)?;
        let mut entries = Vec::new();
        let mut close = None;
        for entry in log.entries.iter().skip(index) {
            if entry.seq != begin.seq && entry.event == "sign-begin" {
                break;
            }
            entries.push(entry);
            if entry.details.get("begun").and_then(Json::as_u64) == Some(begin.seq) {
                close = Some(entry);
                break;
            }
        }
        let transfer = transfer_of(log, index);
        let to_media = close.and_then(|close| {
            log.entries
                .iter()
                .skip_while(|entry| entry.seq <= close.seq)
                .take_while(|entry| entry.event != "sign-begin")
                .find(|entry| {
                    entry.event == "skr-written-to-media"
                        && transfer.is_some()
                        && detail(entry, "transfer") == transfer
                })
        });
        Ok(Self {
            log,
            begin,
            close,
            entries,
            to_media,
        })
    }

    /// The first entry of an event.
    pub fn first(&self, event: &str) -> Option<&'l Entry> {
        self.entries
            .iter()
            .copied()
            .find(|entry| entry.event == event)
    }

    /// How it ended: `done`, `refused`, … (`open` when the log has no
    /// closing entry).
    pub fn outcome(&self) -> &'l str {
        self.close
            .and_then(|close| close.event.strip_prefix("sign-"))
            .unwrap_or("open")
    }

    /// The hash of an entry.
    pub fn hash(&self, entry: &Entry) -> &'l str {
        self.log.hash(entry.seq).unwrap_or_default()
    }

    /// The officer a card file was inserted as, in this operation: a card
    /// refused before it could name itself is still the officer's.
    fn officer_of_file(&self, file: &str) -> Option<&'l str> {
        self.entries
            .iter()
            .filter(|entry| detail(entry, "card_file") == Some(file))
            .find_map(|entry| entry.actor.as_ref().map(|actor| actor.officer.as_str()))
    }

    /// The officer an entry concerns.
    fn officer(&self, entry: &Entry) -> Option<String> {
        if let Some(actor) = &entry.actor {
            return Some(actor.officer.clone());
        }
        detail(entry, "card_file")
            .and_then(|file| self.officer_of_file(file))
            .map(str::to_owned)
    }

    /// Every entry of the operation, and the one to the medium.
    pub fn all(&self) -> Vec<&'l Entry> {
        let mut all = self.entries.clone();
        all.extend(self.to_media);
        all
    }

    /// The closing entry's codes and reason.
    pub fn reason(&self) -> Option<String> {
        let close = self.close?;
        let codes: Vec<&str> = close
            .details
            .get("codes")
            .and_then(Json::as_array)
            .map(|codes| codes.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let reason = detail(close, "reason");
        match (codes.is_empty(), reason) {
            (true, None) => None,
            (true, Some(reason)) => Some(reason.to_owned()),
            (false, None) => Some(codes.join(", ")),
            (false, Some(reason)) => Some(format!("{}: {reason}", codes.join(", "))),
        }
    }
}

//------------ Filling the steps ---------------------------------------------

/// Whether an event records a refusal or a failure.
fn is_refusal(entry: &Entry) -> bool {
    matches!(
        entry.event.as_str(),
        "card-refused"
            | "wrong-pin"
            | "transfer-refused"
            | "hsm-activation-failed"
            | "activation-expired"
            | "request-refused"
            | "sign-refused"
            | "sign-failed"
            | "sign-aborted"
            | "sign-interrupted"
    )
}

/// How many refusals, wrong PINs and failures the operation records.
pub fn refusals(operation: &Operation<'_>) -> usize {
    operation
        .all()
        .into_iter()
        .filter(|entry| is_refusal(entry))
        .count()
}

/// One line for an entry: what it records.
fn describe(entry: &Entry) -> String {
    let text = |key: &str| detail(entry, key).unwrap_or_default().to_owned();
    let card = entry
        .actor
        .as_ref()
        .map(|actor| format!("card {} ({})", actor.card, actor.officer));
    let what = match entry.event.as_str() {
        "sign-begin" => format!(
            "opened: media {}, schema {}, --now {}",
            text("media"),
            text("schema"),
            text("now")
        ),
        "transfer-verified" => format!(
            "transfer set {} verified under the pinned intake key",
            text("transfer")
        ),
        "oob-checked" => {
            let positions = entry
                .details
                .get("positions")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            format!(
                "the words read over the phone matched at {positions} of 32 positions ({})",
                text("how")
            )
        }
        "sign-confirmed" => format!(
            "confirmed ({}); summary SHA-256 {}",
            text("how"),
            text("summary_sha256")
        ),
        "card-inserted" => format!("{} inserted", card.unwrap_or_else(|| "a card".into())),
        "card-accepted" => format!(
            "{} accepted: {}",
            card.unwrap_or_else(|| "a card".into()),
            text("progress")
        ),
        "card-refused" => format!(
            "{} refused: {}",
            card.unwrap_or_else(|| format!("card file {}", text("card_file"))),
            text("reason")
        ),
        "wrong-pin" => format!(
            "{}: wrong PIN, {} tries left",
            card.unwrap_or_else(|| "a card".into()),
            entry
                .details
                .get("tries_left")
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        "hsm-activated" => "the HSM was activated".into(),
        "hsm-deactivated" => "the HSM was sealed".into(),
        "hsm-activation-failed" => format!("the HSM refused: {}", text("error")),
        "activation-expired" => "the activation attempt ran out of time".into(),
        "skr-written" => format!(
            "SKR written and read back: {} bundles, SHA-256 {}",
            entry
                .details
                .get("bundles")
                .map(ToString::to_string)
                .unwrap_or_default(),
            text("skr_sha256")
        ),
        "state-sealed" => format!(
            "state sealed, epoch {}",
            entry
                .details
                .get("epoch")
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        "skr-written-to-media" => format!("SKR and manifest to the medium: {}", text("manifest")),
        "stale-files-removed" => "temporaries of a killed run removed".into(),
        event if event.starts_with("sign-") => {
            let mut line = format!("closed: {}", event.trim_start_matches("sign-"));
            if let Some(reason) = detail(entry, "reason") {
                line.push_str(&format!(": {reason}"));
            }
            line
        }
        event => event.to_owned(),
    };
    format!("entry {} at {}: {what}", entry.seq, entry.time)
}

/// The log's account of some entries.
fn logged(entries: &[&Entry]) -> Logged {
    let status = if entries.is_empty() {
        Status::NotReached
    } else if entries.iter().any(|entry| is_refusal(entry)) {
        Status::Refused
    } else {
        Status::Done
    };
    Logged {
        status,
        time: entries.first().map(|entry| entry.time.clone()),
        entries: entries.iter().map(|entry| entry.seq).collect(),
        notes: entries.iter().map(|entry| describe(entry)).collect(),
    }
}

/// Fills the script's steps from the operation's entries.
pub fn fill(steps: &mut [Step], operation: &Operation<'_>) {
    let of = |events: &[&str]| -> Vec<&Entry> {
        operation
            .entries
            .iter()
            .copied()
            .filter(|entry| events.contains(&entry.event.as_str()))
            .collect()
    };
    let skr = operation.first("skr-written");
    for step in steps.iter_mut() {
        let entries: Option<Vec<&Entry>> = match &step.key {
            StepKey::Open
            | StepKey::Safe
            | StepKey::Boot
            | StepKey::AuditHead
            | StepKey::Inventory
            | StepKey::Return
            | StepKey::Close => None,
            StepKey::Load => Some(of(&[
                "sign-begin",
                "stale-files-removed",
                "transfer-verified",
                "transfer-refused",
            ])),
            StepKey::Words => Some(of(&["oob-checked", "sign-confirmed"])),
            StepKey::Card(name) => Some(
                operation
                    .entries
                    .iter()
                    .copied()
                    .filter(|entry| operation.officer(entry).as_deref() == Some(name.as_str()))
                    .collect(),
            ),
            StepKey::Signed => Some(of(&[
                "hsm-activated",
                "hsm-activation-failed",
                "activation-expired",
                "skr-written",
                "state-sealed",
                "hsm-deactivated",
            ])),
            StepKey::Head => Some(operation.close.into_iter().collect()),
            StepKey::Media => Some(operation.to_media.into_iter().collect()),
        };
        let mut filled = match entries {
            None => Logged {
                status: Status::NotLogged,
                time: None,
                entries: Vec::new(),
                notes: Vec::new(),
            },
            Some(entries) => logged(&entries),
        };
        if let StepKey::Card(_) = step.key {
            let accepted = filled.notes.iter().any(|note| note.contains(" accepted: "));
            filled.status = match (filled.entries.is_empty(), accepted) {
                (true, _) => Status::NotPresented,
                (false, true) => Status::Done,
                (false, false) => Status::Refused,
            };
        }
        if step.key == StepKey::Head
            && let Some(close) = operation.close
            && close.event != "sign-done"
        {
            filled.status = Status::Refused;
            filled.notes.extend(operation.reason());
        }
        for compare in &mut step.compare {
            match compare.slot {
                Some(Slot::SkrSha256) => {
                    compare.field.value = skr
                        .and_then(|entry| detail(entry, "skr_sha256"))
                        .map_or_else(|| Value::text("no SKR was written"), Value::spoken);
                }
                Some(Slot::AuditHead) => {
                    compare.field.value = operation.close.map_or_else(
                        || Value::text("the operation has no closing entry"),
                        |close| Value::spoken(operation.hash(close)),
                    );
                    compare.field.label = operation.close.map_or_else(
                        || "Audit head".into(),
                        |close| format!("Audit head (the hash of entry {})", close.seq),
                    );
                }
                None => {}
            }
        }
        step.logged = Some(filled);
    }
}

//------------ The record's own sections -------------------------------------

/// What the medium holds, for the comparison with the log.
pub struct Medium {
    /// Its folder.
    pub dir: String,
    /// The KSR's SHA-256, as verified against its file.
    pub ksr_sha256: String,
    /// `manifest-skr.json`'s SKR hash, verified against the SKR file, and
    /// its audit head; or why they could not be read.
    pub skr: Result<(String, String), String>,
}

/// The sections after the steps.
pub fn sections(
    operation: &Operation<'_>,
    medium: Option<&Medium>,
    log: &Log,
    head: &str,
) -> Vec<Section> {
    let begin = operation.begin;
    let mut summary = vec![
        Field::new(
            "Opened",
            Value::text(format!("audit entry {} at {}", begin.seq, begin.time)),
        ),
        Field::new(
            "Closed",
            Value::text(operation.close.map_or_else(
                || "no closing entry: the operation is still open".into(),
                |close| {
                    format!(
                        "audit entry {} at {}: {}",
                        close.seq,
                        close.time,
                        operation.outcome()
                    )
                },
            )),
        ),
        Field::new("Outcome", Value::text(operation.outcome())),
    ];
    if let Some(reason) = operation.reason() {
        summary.push(Field::new("Reason", Value::text(reason)));
    }
    for (key, label) in [("schema", "Schema"), ("now", "--now"), ("media", "Medium")] {
        if let Some(value) = detail(begin, key) {
            summary.push(Field::new(label, Value::code(value)));
        }
    }
    let counted: Vec<String> = operation
        .entries
        .iter()
        .filter(|entry| entry.event == "card-accepted")
        .filter_map(|entry| entry.actor.as_ref())
        .map(|actor| format!("{} (card {})", actor.officer, actor.card))
        .collect();
    summary.push(Field::new(
        "Cards that counted",
        Value::text(if counted.is_empty() {
            "none".into()
        } else {
            counted.join(", ")
        }),
    ));
    let mut sections = vec![Section {
        heading: "The operation".into(),
        note: None,
        body: Body::Fields(summary),
    }];
    sections.push(hashes(operation, medium));
    let refusals: Vec<Vec<Value>> = operation
        .all()
        .into_iter()
        .filter(|entry| is_refusal(entry))
        .map(|entry| {
            vec![
                Value::code(entry.seq.to_string()),
                Value::code(&entry.time),
                Value::code(&entry.event),
                Value::text(
                    operation
                        .officer(entry)
                        .map(|officer| {
                            let card = entry
                                .actor
                                .as_ref()
                                .map(|actor| format!(" card {}", actor.card))
                                .unwrap_or_default();
                            format!("{officer}{card}")
                        })
                        .unwrap_or_else(|| "—".into()),
                ),
                Value::text(what_went_wrong(entry)),
            ]
        })
        .collect();
    sections.push(Section {
        heading: "Refusals, wrong PINs and failures".into(),
        note: Some(if refusals.is_empty() {
            "None: the log records no refusal in this operation.".into()
        } else {
            format!(
                "{} in this operation, as the log records them.",
                refusals.len()
            )
        }),
        body: Body::Table {
            columns: ["Entry", "Time", "Event", "Officer", "Why"]
                .map(String::from)
                .to_vec(),
            widths: vec![8, 20, 17, 15, 40],
            rows: refusals,
        },
    });
    let rows: Vec<Vec<Value>> = operation
        .all()
        .into_iter()
        .map(|entry| {
            vec![
                Value::code(entry.seq.to_string()),
                Value::code(&entry.time),
                Value::code(&entry.event),
                Value::text(
                    entry
                        .actor
                        .as_ref()
                        .map(|actor| format!("{} {}", actor.officer, actor.card))
                        .unwrap_or_else(|| "—".into()),
                ),
                Value::hex(operation.hash(entry)),
            ]
        })
        .collect();
    sections.push(Section {
        heading: "Audit entries of the operation".into(),
        note: Some(
            "Each entry's SHA-256 is the hash of its line in the audit log (the next entry's prev): an auditor finds each one with ceremony audit verify --head.".into(),
        ),
        body: Body::Table {
            columns: ["Entry", "Time", "Event", "Card", "Entry SHA-256"].map(String::from).to_vec(),
            widths: vec![7, 19, 19, 15, 40],
            rows,
        },
    });
    sections.push(Section {
        heading: "The audit log when this record was made".into(),
        note: None,
        body: Body::Fields(vec![
            Field::new("Entries", Value::text(log.count().to_string())),
            Field::new("Head", Value::spoken(head)),
        ]),
    });
    sections
}

/// A refusal's reason.
fn what_went_wrong(entry: &Entry) -> String {
    let mut parts = Vec::new();
    if let Some(codes) = entry.details.get("codes").and_then(Json::as_array) {
        let codes: Vec<&str> = codes.iter().filter_map(Json::as_str).collect();
        if !codes.is_empty() {
            parts.push(codes.join(", "));
        }
    }
    for key in ["reason", "error"] {
        if let Some(text) = detail(entry, key) {
            parts.push(text.to_owned());
        }
    }
    if let Some(tries) = entry.details.get("tries_left") {
        parts.push(format!("wrong PIN, {tries} tries left"));
    }
    if parts.is_empty() {
        entry.event.clone()
    } else {
        parts.join(": ")
    }
}

/// The hashes of the log beside those on the medium.
fn hashes(operation: &Operation<'_>, medium: Option<&Medium>) -> Section {
    let skr = operation.first("skr-written");
    let log_ksr = skr
        .and_then(|entry| detail(entry, "ksr_sha256"))
        .or_else(|| {
            operation
                .first("transfer-verified")
                .and_then(|entry| detail(entry, "ksr_sha256"))
        });
    let log_skr = skr.and_then(|entry| detail(entry, "skr_sha256"));
    let log_head = operation.close.map(|close| operation.hash(close));
    let (medium_ksr, medium_skr, medium_head, note) = match medium {
        None => (
            None,
            None,
            None,
            "The medium was not read: give --media MEDIA/<ID> to compare with it.".to_owned(),
        ),
        Some(medium) => match &medium.skr {
            Ok((skr, head)) => (
                Some(medium.ksr_sha256.as_str()),
                Some(skr.as_str()),
                Some(head.as_str()),
                format!(
                    "The medium {} was verified under the pinned intake key; the KSR's and the SKR's hashes are those of the files on it (manifest-skr.json checked against the SKR file).",
                    medium.dir
                ),
            ),
            Err(why) => (
                Some(medium.ksr_sha256.as_str()),
                None,
                None,
                format!("The medium {}: {why}", medium.dir),
            ),
        },
    };
    let row = |label: &str, log: Option<&str>, medium: Option<&str>| {
        let equal = match (log, medium) {
            (Some(log), Some(medium)) if log.eq_ignore_ascii_case(medium) => "equal",
            (Some(_), Some(_)) => "DIFFERENT",
            _ => "—",
        };
        vec![
            Value::text(label),
            log.map_or_else(
                || Value::text("—"),
                |hex| Value::hex(hex.to_ascii_lowercase()),
            ),
            medium.map_or_else(
                || Value::text("—"),
                |hex| Value::hex(hex.to_ascii_lowercase()),
            ),
            Value::text(equal),
        ]
    };
    Section {
        heading: "Hashes: the audit log and the medium".into(),
        note: Some(note),
        body: Body::Table {
            columns: ["Value", "In the audit log", "On the medium", "Compared"]
                .map(String::from)
                .to_vec(),
            widths: vec![18, 36, 36, 10],
            rows: vec![
                row("KSR SHA-256", log_ksr, medium_ksr),
                row("SKR SHA-256", log_skr, medium_skr),
                row("Audit head at the close", log_head, medium_head),
            ],
        },
    }
}

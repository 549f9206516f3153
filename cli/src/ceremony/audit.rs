//! The ceremony's audit trail: every step in `DIR/audit.log`, stamped with
//! the clock of the machine (not `--now`, which is the instant documents
//! are judged at).

use hsm::{Actor, AuditLog};

use crate::ceremony::Layout;
use crate::error::CliError;

/// The open audit log of a ceremony.
pub struct Audit {
    log: AuditLog,
}

impl Audit {
    /// Opens the log, verifying its chain first.
    pub fn open(layout: &Layout) -> Result<Self, CliError> {
        AuditLog::open(&layout.audit())
            .map(|log| Self { log })
            .map_err(CliError::Audit)
    }

    /// Appends an entry, synced to disk before this returns.
    pub fn record(
        &mut self,
        event: &str,
        actor: Option<(&str, &str)>,
        details: serde_json::Value,
    ) -> Result<hsm::Entry, CliError> {
        let details = match details {
            serde_json::Value::Object(map) => map,
            other => {
                let mut map = serde_json::Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        let actor = actor.map(|(card, officer)| Actor {
            card: card.to_owned(),
            officer: officer.to_owned(),
        });
        self.log
            .append(&clock(), event, actor, details)
            .map_err(CliError::Audit)
    }

    /// The hash of the last entry, for the witnesses' minutes.
    pub fn head(&self) -> &str {
        self.log.head()
    }
}

/// The machine's clock in RFC 3339 UTC.
fn clock() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    ksr::Timestamp::from_unix(u32::try_from(seconds).unwrap_or(u32::MAX)).to_string()
}

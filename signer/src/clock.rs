//! Time, as the binary gives it: this crate reads no clock (DESIGN.md).

use std::sync::Arc;
use std::time::Instant;

use ksr::Timestamp;

/// The machine's clocks: the wall clock for the audit log's times, and a
/// monotonic one for time limits (activation attempts, idle HSMs).
#[derive(Clone)]
pub struct Clock {
    wall: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    monotonic: hsm::Clock,
}

impl Clock {
    /// A clock from its two readings.
    pub fn new(
        wall: impl Fn() -> Timestamp + Send + Sync + 'static,
        monotonic: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> Self {
        Self {
            wall: Arc::new(wall),
            monotonic: Arc::new(monotonic),
        }
    }

    /// The wall clock now.
    pub fn wall(&self) -> Timestamp {
        (self.wall)()
    }

    /// The monotonic clock now.
    pub fn instant(&self) -> Instant {
        (self.monotonic)()
    }

    /// The monotonic clock, as the HSM takes it.
    pub fn hsm(&self) -> hsm::Clock {
        Arc::clone(&self.monotonic)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("wall", &self.wall()).finish()
    }
}

/// The instant documents are judged at (`TOOL-NOW`), and where it came
/// from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// The instant.
    pub time: Timestamp,
    /// Whether `--now` gave it (else the system clock, read once).
    pub given: bool,
}

impl Now {
    /// The TOOL-NOW info finding.
    pub fn finding(self) -> ksr::Finding {
        ksr::Finding {
            severity: ksr::Severity::Info,
            ..ksr::Finding::error(
                ksr::CheckCode::ToolNow,
                ksr::DocumentRole::Ksr,
                format!(
                    "evaluated as of {} ({})",
                    self.time,
                    if self.given {
                        "--now"
                    } else {
                        "the system clock"
                    }
                ),
            )
        }
    }
}

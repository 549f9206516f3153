//! Faults a tabletop exercise injects into a rehearsal ceremony's own
//! flow, so that a team sees the real refusal, recovery and audit trail:
//! an HSM whose self-test fails, an activation attempt that runs out of
//! time, a power cut in the middle of signing. A production ceremony
//! refuses every one of them ([`crate::Ceremony::inject_fault`]); the
//! hook is in the flow, not only in a test build, because exercises run
//! on the release binary.

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RehearsalFault {
    /// The HSM's power-on self-test fails at activation: the HSM stays
    /// sealed and the operation closes as failed.
    HsmSelfTest,
    /// The activation attempt expires once the cards are in: the
    /// operation closes as refused.
    AttemptExpires,
    /// The power fails halfway through the work: the binary stops and
    /// waits to be killed (the exercise kills it), so that the next
    /// command finds the operation open and closes it as interrupted.
    PowerCut,
}

impl RehearsalFault {
    /// Every fault, for help texts and parsing.
    pub const ALL: [Self; 3] = [Self::HsmSelfTest, Self::AttemptExpires, Self::PowerCut];

    /// Its name on the command line and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Self::HsmSelfTest => "hsm-self-test",
            Self::AttemptExpires => "attempt-expires",
            Self::PowerCut => "power-cut",
        }
    }

    /// The fault of that name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|fault| fault.name() == name)
    }
}

impl std::fmt::Display for RehearsalFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

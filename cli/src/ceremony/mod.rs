//! What the ceremony commands share: the layout of a ceremony directory,
//! random identifiers, atomic files, the audit trail and the activation of
//! the HSM by a quorum of cards.

pub mod activation;
pub mod audit;
pub mod files;
pub mod issue;
pub mod request;

use std::path::{Path, PathBuf};

/// A ceremony directory, as `ceremony init` lays it out.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The directory.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory a policy file is in: where its HSM, cards and audit
    /// log are.
    pub fn of_config(config: &Path) -> Self {
        Self::new(
            config
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        )
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/ceremony.toml`: the policy, the KSKs and the schemas.
    pub fn config(&self) -> PathBuf {
        self.root.join("ceremony.toml")
    }

    /// `DIR/hsm`: the soft HSM's store, or the PKCS#11 token's record.
    pub fn hsm(&self) -> PathBuf {
        self.root.join("hsm")
    }

    /// `DIR/cards`: one card file per officer.
    pub fn cards(&self) -> PathBuf {
        self.root.join("cards")
    }

    /// An officer's card file.
    pub fn card(&self, officer: &str) -> PathBuf {
        self.cards().join(format!("{officer}.card"))
    }

    /// `DIR/audit.log`.
    pub fn audit(&self) -> PathBuf {
        self.root.join("audit.log")
    }
}

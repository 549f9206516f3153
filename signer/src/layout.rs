//! A ceremony directory, as `ceremony init` lays it out.

use std::path::{Path, PathBuf};

/// The paths of a ceremony directory.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fn of_policy(policy: &Path) -> Self {
        Self::new(durable::directory_of(policy))
    }

    /// The ceremony whose `cards/` folder (or a generation's folder in it)
    /// holds a card file, if one does.
    pub fn of_card(card: &Path) -> Option<Self> {
        let absolute = std::path::absolute(card).ok()?;
        absolute
            .ancestors()
            .skip(1)
            .take(2)
            .find(|folder| folder.file_name().is_some_and(|name| name == "cards"))
            .and_then(Path::parent)
            .filter(|dir| dir.join("ceremony.toml").is_file())
            .map(Self::new)
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/ceremony.toml`: the policy, the KSKs and the schemas.
    pub fn policy(&self) -> PathBuf {
        self.root.join("ceremony.toml")
    }

    /// `DIR/hsm`: the soft HSM's store, or the PKCS#11 token's record.
    pub fn hsm(&self) -> PathBuf {
        self.root.join("hsm")
    }

    /// `DIR/cards`: the first generation's cards, and a folder per later
    /// generation.
    pub fn cards(&self) -> PathBuf {
        self.root.join("cards")
    }

    /// The first generation's card of an officer.
    pub fn card(&self, officer: &str) -> PathBuf {
        self.cards().join(format!("{officer}.card"))
    }

    /// The folder of a generation's cards.
    pub fn generation(&self, generation: u64) -> PathBuf {
        if generation <= 1 {
            self.cards()
        } else {
            self.cards().join(format!("generation-{generation}"))
        }
    }

    /// `DIR/audit.log`.
    pub fn audit(&self) -> PathBuf {
        self.root.join("audit.log")
    }

    /// `DIR/ceremony.lock`: held by the one process working on the
    /// ceremony, naming it; removed when it is done.
    pub fn lock(&self) -> PathBuf {
        self.root.join("ceremony.lock")
    }

    /// `DIR/service`: the KSRs submitted to `ceremony serve`, and their SKRs.
    pub fn service(&self) -> PathBuf {
        self.root.join("service")
    }

    /// `DIR/skrs`: a copy of every SKR signed, named by its SHA-256; the
    /// last one's hash is sealed (the chain a transfer set must follow).
    pub fn skrs(&self) -> PathBuf {
        self.root.join("skrs")
    }

    /// Every directory the ceremony writes state files in, for the sweep
    /// of a crashed run's temporaries.
    pub(crate) fn state_directories(&self) -> Vec<PathBuf> {
        let mut directories = vec![
            self.root.clone(),
            self.hsm(),
            self.cards(),
            self.service(),
            self.skrs(),
        ];
        if let Ok(entries) = std::fs::read_dir(self.cards()) {
            let mut generations: Vec<PathBuf> = entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.path())
                .collect();
            generations.sort();
            directories.extend(generations);
        }
        directories
    }
}

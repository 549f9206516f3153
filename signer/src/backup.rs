//! A second site: `hsm backup` copies what makes the ceremony — the soft
//! HSM's sealed key store, the sealed state, the policy, the audit log and
//! the signer's SKR copies — with a manifest, once a quorum has shown the
//! store opens; `hsm restore` lays the copy out at site B and a quorum of
//! the same cards opens it there before it counts as a ceremony.
//!
//! The copy is sealed as the original is: the keys under a key only the
//! quorum's secret derives, the state under its MAC. Without a quorum of
//! the cards it opens nothing; with cards of a later card set, or after
//! the cards have seen a later epoch at site A, it is refused before any
//! PIN (the cards remember the newest epoch they saw).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::audit::{Event, OperationKind};
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::summary::Detail;

use crate::ops::{details, summary};

/// The manifest's name in a backup folder.
pub const BACKUP_MANIFEST: &str = "backup.json";

/// What a backup holds, written last into its folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    /// 1.
    pub format: u32,
    /// The zone.
    pub domain: String,
    /// When it was made (the wall clock, RFC 3339).
    pub made: String,
    /// The sealed state's epoch it holds.
    pub epoch: u64,
    /// The card set (roster generation) that opens it.
    pub generation: u64,
    /// The policy's KSKs: name, label, key tag and SHA-256 DS record.
    pub keys: Vec<BackupKey>,
    /// Every file, by its path in the folder, with its SHA-256 (hex).
    pub files: BTreeMap<String, String>,
}

/// A KSK a backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupKey {
    /// Its name in the policy.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Its key tag.
    pub key_tag: u16,
    /// Its DS record.
    pub ds: String,
}

impl BackupManifest {
    /// The keys, one line each, as the officers are shown them.
    fn key_lines(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| format!("{} {} tag {}: {}", key.name, key.label, key.key_tag, key.ds))
            .collect()
    }
}

/// The files of a ceremony a backup copies, by their path in it: what
/// makes it, not what a run leaves (locks, counters, the service's work).
fn files_of(ceremony: &Ceremony) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let layout = ceremony.layout();
    let mut files = BTreeMap::new();
    let mut read = |name: String, path: PathBuf| -> Result<(), Error> {
        let bytes = std::fs::read(&path).map_err(Error::read(&path))?;
        files.insert(name, bytes);
        Ok(())
    };
    read("ceremony.toml".into(), layout.policy())?;
    read("audit.log".into(), layout.audit())?;
    read(
        format!("hsm/{}", hsm::STORE_FILE),
        layout.hsm().join(hsm::STORE_FILE),
    )?;
    read(
        format!("hsm/{}", crate::state::STATE_FILE),
        layout.hsm().join(crate::state::STATE_FILE),
    )?;
    if let Ok(entries) = std::fs::read_dir(layout.skrs()) {
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
            .collect();
        names.sort();
        for name in names {
            read(format!("skrs/{name}"), layout.skrs().join(&name))?;
        }
    }
    Ok(files)
}

//------------ Backup ---------------------------------------------------------

/// A backup to write once the quorum has opened the store.
pub struct Backup {
    to: PathBuf,
    manifest: BackupManifest,
    files: BTreeMap<String, Vec<u8>>,
}

/// A backup written.
#[derive(Clone, Debug, Serialize)]
pub struct BackedUp {
    /// Its folder.
    pub dir: String,
    /// The manifest's SHA-256, hex.
    pub manifest_sha256: String,
    /// The epoch it holds.
    pub epoch: u64,
    /// The card set that opens it.
    pub generation: u64,
    /// Its keys, one line each.
    pub keys: Vec<String>,
}

/// Prepares `hsm backup --to DIR`: the HSM is the soft one (a token's keys
/// do not leave it as files), the folder is new or empty, and the files
/// are read now, as they are before the operation's own entries.
///
/// # Errors
///
/// A token, a folder that holds files, a file that cannot be read, or the
/// log fails.
pub fn prepare_backup(ceremony: &Ceremony, to: &Path, now: Now) -> Result<Prepared<Backup>, Error> {
    // The log as copied ends before this operation: site B's log then
    // holds no operation left open.
    let files = files_of(ceremony);
    let open = ceremony.begin(
        OperationKind::Backup,
        details([("to", to.display().to_string().into())]),
    )?;
    let checked = (|| {
        if ceremony.hsm().binding() != "soft" {
            return Err(Error::Backup(
                "the KSKs are on a PKCS#11 token, which made them non-extractable: they do not leave it as files. A second site needs a token of its own holding the same keys, cloned by the token's own means (an HSM vendor's backup or cloning under its security officers), then `ceremony init --adopt` there".into(),
            ));
        }
        if to.exists() && std::fs::read_dir(to).map_or(true, |mut entries| entries.next().is_some())
        {
            return Err(Error::Backup(format!(
                "{} exists and is not an empty folder: a backup is never written over anything",
                to.display()
            )));
        }
        let files = files?;
        let state = ceremony
            .sealed_state()
            .ok_or_else(|| Error::Backup("the ceremony has no sealed state to back up".into()))?;
        let domain = ceremony.policy().domain()?;
        let keys = ceremony
            .policy()
            .config()
            .keys
            .iter()
            .map(|(name, ksk)| {
                let dnskey = ceremony.public_key(&ksk.label)?;
                Ok(BackupKey {
                    name: name.clone(),
                    label: ksk.label.clone(),
                    key_tag: dnskey.key_tag().to_int(),
                    ds: crate::records::ds_record(&domain, &dnskey),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let manifest = BackupManifest {
            format: 1,
            domain: domain.to_string(),
            made: ceremony.clock().wall().to_string(),
            epoch: state.epoch,
            generation: state.generation,
            keys,
            files: files
                .iter()
                .map(|(name, bytes)| (name.clone(), hex::encode(Sha256::digest(bytes))))
                .collect(),
        };
        let summary = summary(
            ceremony,
            OperationKind::Backup,
            now,
            Detail::Backup {
                to: to.display().to_string(),
                epoch: manifest.epoch,
                generation: manifest.generation,
                keys: manifest.key_lines(),
                files: manifest.files.len(),
            },
            Vec::new(),
            Vec::new(),
        )?;
        Ok((manifest, files, summary))
    })();
    match checked {
        Ok((manifest, files, summary)) => Ok(Prepared::new(
            Backup {
                to: to.to_owned(),
                manifest,
                files,
            },
            summary,
            open,
        )),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Backup {
    type Output = BackedUp;

    const SEALS_STATE: bool = false;

    /// The quorum opened the store (the flow activated the HSM with it, and
    /// verified the sealed state): the copy is written, each file synced
    /// and read back, the manifest last. A folder half written is removed.
    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BackedUp, Error> {
        let created = !self.to.exists();
        let written = write_backup(&self.to, &self.manifest, &self.files);
        let manifest_sha256 = match written {
            Ok(sha256) => sha256,
            Err(err) => {
                if created {
                    let _ = std::fs::remove_dir_all(&self.to);
                }
                return Err(err);
            }
        };
        active.ceremony().record(&Event::BackupWritten {
            dir: self.to.display().to_string(),
            manifest_sha256: manifest_sha256.clone(),
            epoch: self.manifest.epoch,
            generation: self.manifest.generation,
        })?;
        Ok(BackedUp {
            dir: self.to.display().to_string(),
            manifest_sha256,
            epoch: self.manifest.epoch,
            generation: self.manifest.generation,
            keys: self.manifest.key_lines(),
        })
    }

    fn closing(output: &BackedUp) -> Map<String, Value> {
        details([
            ("dir", output.dir.clone().into()),
            ("manifest_sha256", output.manifest_sha256.clone().into()),
            ("epoch", output.epoch.into()),
        ])
    }
}

/// Writes the files and then the manifest; returns its SHA-256.
fn write_backup(
    to: &Path,
    manifest: &BackupManifest,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<String, Error> {
    for dir in [to.to_owned(), to.join("hsm"), to.join("skrs")] {
        crate::process::private_dir(&dir)?;
    }
    for (name, bytes) in files {
        durable::write_checked(&to.join(name), bytes, durable::Replace::Never, |back| {
            back == bytes.as_slice()
        })?;
    }
    let text =
        serde_json::to_vec_pretty(manifest).map_err(|err| Error::Internal(err.to_string()))?;
    durable::write_checked(
        &to.join(BACKUP_MANIFEST),
        &text,
        durable::Replace::Never,
        |back| back == text.as_slice(),
    )?;
    Ok(hex::encode(Sha256::digest(&text)))
}

//------------ Restore ---------------------------------------------------------

/// A backup read and checked, its files laid out at site B, waiting for
/// the quorum that opens them.
pub struct Staged {
    /// The manifest.
    pub manifest: BackupManifest,
    /// Its SHA-256, hex.
    pub manifest_sha256: String,
    /// The backup's folder.
    pub from: PathBuf,
    /// Site B's ceremony folder.
    pub dir: PathBuf,
}

/// Reads a backup, checks every file against its manifest, and lays the
/// files out in `dir` (new, or an empty folder). Not yet a ceremony that
/// counts: [`prepare_restore`] and a quorum open it.
///
/// # Errors
///
/// No manifest, a file missing, changed or unlisted, a folder that holds
/// something, or the files cannot be written (nothing is left then).
pub fn stage_restore(from: &Path, dir: &Path) -> Result<Staged, Error> {
    let manifest_path = from.join(BACKUP_MANIFEST);
    let text = std::fs::read(&manifest_path).map_err(Error::read(&manifest_path))?;
    let manifest: BackupManifest = serde_json::from_slice(&text).map_err(|err| {
        Error::Backup(format!(
            "{}: not a backup manifest: {err}",
            manifest_path.display()
        ))
    })?;
    if manifest.format != 1 {
        return Err(Error::Backup(format!(
            "{}: backup format {} is not one this version reads (1)",
            manifest_path.display(),
            manifest.format
        )));
    }
    let mut files = BTreeMap::new();
    for (name, sha256) in &manifest.files {
        let known = ["ceremony.toml", "audit.log"].contains(&name.as_str())
            || [hsm::STORE_FILE, crate::state::STATE_FILE]
                .iter()
                .any(|file| *name == format!("hsm/{file}"))
            || name.strip_prefix("skrs/").is_some_and(|rest| {
                !rest.is_empty() && !rest.contains(['/', '\\']) && rest != ".."
            });
        if !known {
            return Err(Error::Backup(format!(
                "{}: lists {name:?}, which no backup holds",
                manifest_path.display()
            )));
        }
        let path = from.join(name);
        let bytes = std::fs::read(&path).map_err(Error::read(&path))?;
        if !hex::encode(Sha256::digest(&bytes)).eq_ignore_ascii_case(sha256) {
            return Err(Error::Backup(format!(
                "{}: its SHA-256 is not the one the manifest gives: the backup was changed or damaged",
                path.display()
            )));
        }
        files.insert(name.clone(), bytes);
    }
    for required in ["ceremony.toml", "audit.log"] {
        if !files.contains_key(required) {
            return Err(Error::Backup(format!(
                "{}: holds no {required}",
                manifest_path.display()
            )));
        }
    }
    if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_some()) {
        let there = std::fs::read_to_string(dir.join("hsm").join(crate::state::STATE_FILE))
            .ok()
            .and_then(|text| crate::state::parse_state_file(&text).ok())
            .map(|(state, _)| state);
        let what = match there {
            Some(state) => format!(
                "it holds a ceremony at epoch {} (this backup is of epoch {}: {})",
                state.epoch,
                manifest.epoch,
                match state.epoch.cmp(&manifest.epoch) {
                    std::cmp::Ordering::Greater => "older than what is there",
                    std::cmp::Ordering::Equal => "the same",
                    std::cmp::Ordering::Less => "newer than what is there",
                }
            ),
            None => "it is not an empty folder".to_owned(),
        };
        return Err(Error::Backup(format!(
            "{}: {what}; a backup is restored only into a new folder",
            dir.display()
        )));
    }
    let created = !dir.exists();
    let laid = (|| {
        for sub in [dir.to_owned(), dir.join("hsm"), dir.join("skrs")] {
            crate::process::private_dir(&sub)?;
        }
        for (name, bytes) in &files {
            durable::write(&dir.join(name), bytes, durable::Replace::Never)?;
        }
        Ok::<_, Error>(())
    })();
    if let Err(err) = laid {
        if created {
            let _ = std::fs::remove_dir_all(dir);
        }
        return Err(err);
    }
    Ok(Staged {
        manifest,
        manifest_sha256: hex::encode(Sha256::digest(&text)),
        from: from.to_owned(),
        dir: dir.to_owned(),
    })
}

/// The restore that a quorum confirms.
pub struct Restore {
    staged: Staged,
}

/// A backup restored.
#[derive(Clone, Debug, Serialize)]
pub struct Restored {
    /// Site B's ceremony folder.
    pub dir: String,
    /// The epoch the backup held.
    pub epoch: u64,
    /// Its keys, one line each, as the HSM here holds them.
    pub keys: Vec<String>,
}

/// Prepares the restore of a staged backup, opened as `ceremony`: the HSM
/// here holds exactly the keys the manifest lists (read sealed), and the
/// summary says what the quorum opens.
///
/// # Errors
///
/// A key missing or other than listed, or the log fails.
pub fn prepare_restore(
    ceremony: &Ceremony,
    staged: Staged,
    now: Now,
) -> Result<Prepared<Restore>, Error> {
    let open = ceremony.begin(
        OperationKind::Restore,
        details([
            ("from", staged.from.display().to_string().into()),
            ("manifest_sha256", staged.manifest_sha256.clone().into()),
            ("epoch", staged.manifest.epoch.into()),
        ]),
    )?;
    let checked = (|| {
        let domain = ceremony.policy().domain()?;
        for key in &staged.manifest.keys {
            let dnskey = ceremony.public_key(&key.label)?;
            if crate::records::ds_record(&domain, &dnskey) != key.ds {
                return Err(Error::Backup(format!(
                    "the restored HSM's key {:?} is not the one the manifest lists ({})",
                    key.label, key.ds
                )));
            }
        }
        summary(
            ceremony,
            OperationKind::Restore,
            now,
            Detail::Restore {
                from: staged.from.display().to_string(),
                manifest_sha256: staged.manifest_sha256.clone(),
                made: staged.manifest.made.clone(),
                epoch: staged.manifest.epoch,
                generation: staged.manifest.generation,
                keys: staged.manifest.key_lines(),
            },
            Vec::new(),
            Vec::new(),
        )
    })();
    match checked {
        Ok(summary) => Ok(Prepared::new(Restore { staged }, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Restore {
    type Output = Restored;

    const SEALS_STATE: bool = false;

    /// The quorum opened the restored store and state (the flow's
    /// activation): site B is a ceremony from now on, and says so.
    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Restored, Error> {
        active.ceremony().record(&Event::BackupRestored {
            from: self.staged.from.display().to_string(),
            manifest_sha256: self.staged.manifest_sha256.clone(),
            epoch: self.staged.manifest.epoch,
        })?;
        Ok(Restored {
            dir: self.staged.dir.display().to_string(),
            epoch: self.staged.manifest.epoch,
            keys: self.staged.manifest.key_lines(),
        })
    }

    fn closing(output: &Restored) -> Map<String, Value> {
        details([
            ("dir", output.dir.clone().into()),
            ("epoch", output.epoch.into()),
        ])
    }
}

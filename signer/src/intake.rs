//! The online intake (DESIGN.md, "Where each part runs"): no HSM, no
//! cards. ZSK operators submit KSRs over mutually authenticated TLS; each
//! is checked (stages 1 to 4 against the last SKR the intake holds) and
//! kept; the intake's administrator exports one to removable media as a
//! signed transfer set, and imports the set back once the signer added
//! the SKR, which is then checked (it answers that KSR, every bundle is
//! signed by a KSK the policy pins, it follows the previous SKR) and
//! becomes the intake's last SKR and the ZSK operator's to fetch.
//!
//! `IDIR` holds `ceremony.toml` (the ceremony's policy, carried from the
//! signer), `intake.key` (0600) and `intake.pub`, `tls/` (the intake's
//! own CA and certificates), `ksrs/` (each KSR, its record, its SKR),
//! `last-skr.xml` or `last-skr.txt`, and the hash-chained `audit.log`.
//!
//! Every command takes the intake's lock for the time of one change and
//! reads the folder afresh, so `intake export` and `intake import` run
//! beside a running `intake serve`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ksr::{DocumentRole, KskRole, Severity};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::audit::{Client, Event, Trail, transfer_event};
use crate::clock::{Clock, Now};
use crate::document::Document;
use crate::error::Error;
use crate::inspect::{Anchor, SkrCheck, check_ksr, check_skr};
use crate::media::{self, Hop, IntakeKey, IntakeSigningKey, MediaError, TransferSet};
use crate::ops::details;
use crate::report::Report;
use crate::service::wire::{KsrRecord, KsrState};

/// The intake's files.
struct Paths(PathBuf);

impl Paths {
    fn policy(&self) -> PathBuf {
        self.0.join("ceremony.toml")
    }
    fn key(&self) -> PathBuf {
        self.0.join("intake.key")
    }
    fn public(&self) -> PathBuf {
        self.0.join("intake.pub")
    }
    fn audit(&self) -> PathBuf {
        self.0.join("audit.log")
    }
    fn lock(&self) -> PathBuf {
        self.0.join("intake.lock")
    }
    fn ksrs(&self) -> PathBuf {
        self.0.join("ksrs")
    }
    fn tls(&self) -> PathBuf {
        self.0.join("tls")
    }
    fn last_skr(&self, extension: &str) -> PathBuf {
        self.0.join(format!("last-skr.{extension}"))
    }
}

/// A new intake, as made.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Created {
    /// The folder.
    pub dir: String,
    /// `IDIR/intake.pub`.
    pub public_key: String,
    /// The key's fingerprint, hex: compared when the signer pins it.
    pub fingerprint: String,
    /// The TLS certificates made.
    pub tls: crate::tls::Issued,
}

/// What `intake init` is asked.
pub struct CreateRequest<'a> {
    /// The new folder.
    pub dir: &'a Path,
    /// The ceremony's policy file.
    pub policy: &'a Path,
    /// The SKR of the last quarter, if the zone has one.
    pub previous: Option<&'a Path>,
    /// More names for the server certificate.
    pub hosts: &'a [String],
    /// Certificate validity, days.
    pub days: u32,
    /// Now.
    pub now: Now,
}

/// The intake in a folder.
pub struct Intake {
    paths: Paths,
    clock: Clock,
    holder: String,
}

/// The result of a submission.
pub struct Submitted {
    /// The record.
    pub record: KsrRecord,
    /// The findings.
    pub report: Report,
    /// Whether it is new.
    pub created: bool,
}

impl Intake {
    /// Makes an intake in `dir`: the policy copied, the SKR of the last
    /// quarter checked against it, a new Ed25519 key, the TLS PKI for
    /// `zsk-operator` clients, the log.
    ///
    /// # Errors
    ///
    /// The folder holds something, the policy or the SKR is not usable, or
    /// a file cannot be written.
    pub fn create(request: &CreateRequest<'_>, clock: Clock) -> Result<Created, Error> {
        let dir = request.dir;
        let paths = Paths(dir.to_owned());
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(Error::read(dir))?
                .next()
                .is_some()
        {
            return Err(Error::CeremonyExists {
                dir: dir.to_owned(),
                what: "files".into(),
            });
        }
        crate::process::private_dir(dir)?;
        crate::process::private_dir(&paths.ksrs())?;
        let policy_text = std::fs::read(request.policy).map_err(Error::read(request.policy))?;
        durable::write(&paths.policy(), &policy_text, durable::Replace::Never)?;
        let policy = crate::policy::Policy::load(&paths.policy())?;
        if let Some(previous) = request.previous {
            let document = Document::read(previous)?;
            let report = check_skr(
                &SkrCheck {
                    skr: &document,
                    ksr: None,
                    previous: None,
                    schema: None,
                    anchor: Anchor::Pins,
                },
                policy.config(),
            )?
            .report;
            if report.has_errors() {
                return Err(Error::Refused(report));
            }
            durable::write(
                &paths.last_skr(document.extension()),
                bytes_of(&document)?,
                durable::Replace::Never,
            )?;
        }
        let key = IntakeSigningKey::generate();
        durable::write(
            &paths.key(),
            key.to_file().as_bytes(),
            durable::Replace::Never,
        )?;
        // durable writes through a 0600 temporary: the key is the owner's.
        let public = key.public();
        let comment = format!(
            "ceremony intake key for {}, made {}",
            policy
                .domain()
                .map(|domain| domain.to_string())
                .unwrap_or_default(),
            request.now.time
        );
        durable::write(
            &paths.public(),
            public.to_file(&comment).as_bytes(),
            durable::Replace::Never,
        )?;
        let tls = crate::tls::init_tls(
            &paths.tls(),
            crate::tls::Place::Intake,
            &[],
            request.hosts,
            request.days,
            request.now.time,
        )?;
        let (mut trail, _) = Trail::open(&paths.audit(), clock)?;
        trail.record(&Event::Transfer {
            event: transfer_event::INTAKE_INIT,
            details: details([
                ("intake_key", public.fingerprint().into()),
                ("policy_sha256", hex::encode(policy.sha256()).into()),
                (
                    "previous_skr",
                    request
                        .previous
                        .map_or(Value::Null, |path| path.display().to_string().into()),
                ),
            ]),
            client: None,
        })?;
        Ok(Created {
            dir: dir.display().to_string(),
            public_key: paths.public().display().to_string(),
            fingerprint: public.fingerprint(),
            tls,
        })
    }

    /// The intake in `dir`.
    ///
    /// # Errors
    ///
    /// It is not an intake.
    pub fn open(dir: &Path, clock: Clock, holder: &str) -> Result<Self, Error> {
        let paths = Paths(dir.to_owned());
        if !paths.key().is_file() || !paths.policy().is_file() {
            return Err(Error::NotACeremony {
                dir: dir.to_owned(),
                missing: "intake.key (make an intake with ceremony intake init)",
            });
        }
        Ok(Self {
            paths,
            clock,
            holder: holder.to_owned(),
        })
    }

    /// The intake's TLS folder.
    pub fn tls_dir(&self) -> PathBuf {
        self.paths.tls()
    }

    /// The intake's public key.
    ///
    /// # Errors
    ///
    /// The key file is unreadable.
    pub fn public_key(&self) -> Result<IntakeKey, Error> {
        Ok(IntakeSigningKey::read(&self.paths.key())?.public())
    }

    /// Replaces the intake's copy of the ceremony's policy with the one
    /// carried from the signer after a quorum changed it (a new KSK made
    /// or promoted): the SKRs coming back are then checked against the
    /// KSKs it pins. The signer checks everything again, so this copy
    /// decides only what the intake accepts; the change is recorded with
    /// both hashes and the KSK labels.
    ///
    /// # Errors
    ///
    /// The file is not a valid policy, is the one the intake holds, or a
    /// file or the log fails.
    pub fn replace_policy(&self, path: &Path) -> Result<PolicyReplaced, Error> {
        let mut locked = self.locked()?;
        // Read once: what is checked is what is written.
        let text = std::fs::read(path).map_err(Error::read(path))?;
        let new = crate::policy::Policy::from_bytes(path, text.clone())?;
        if new.sha256() == locked.policy.sha256() {
            return Err(Error::NothingToApprove);
        }
        // The signer's policy after keygen or ksk promote: the same zone,
        // and its current KSK is the one the intake pins as current or
        // next (pinned by tag and DS). A policy that names another
        // current KSK is not the signer's next one.
        if new.domain()? != locked.policy.domain()? {
            return Err(Error::IntakePolicy(format!(
                "it is the policy of {}, and this intake's is of {}",
                new.domain()?,
                locked.policy.domain()?
            )));
        }
        let pinned = |policy: &crate::policy::Policy, role: KskRole| {
            policy
                .ksk(role)
                .map(|ksk| (ksk.key_tag, ksk.ds_sha256.to_ascii_lowercase()))
        };
        let current = pinned(&new, KskRole::Current);
        let continues = current.is_some()
            && (current == pinned(&locked.policy, KskRole::Current)
                || current == pinned(&locked.policy, KskRole::Next));
        if !continues {
            return Err(Error::IntakePolicy(
                "its current KSK is neither the current nor the next KSK this intake pins: the signer's policy changes its KSKs one role at a time".into(),
            ));
        }
        let labels = |policy: &crate::policy::Policy| -> Vec<String> {
            [KskRole::Current, KskRole::Next]
                .into_iter()
                .filter_map(|role| {
                    policy
                        .ksk(role)
                        .map(|ksk| format!("{}={}", role.name(), ksk.label))
                })
                .collect()
        };
        let replaced = PolicyReplaced {
            old_sha256: hex::encode(locked.policy.sha256()),
            new_sha256: hex::encode(new.sha256()),
            old_ksks: labels(&locked.policy),
            new_ksks: labels(&new),
        };
        durable::write(&self.paths.policy(), &text, durable::Replace::Allowed)?;
        locked.trail.record(&Event::PolicyWritten {
            sha256: replaced.new_sha256.clone(),
            change: format!(
                "the signer's policy, carried to the intake: {} (was {}, {})",
                replaced.new_ksks.join(" "),
                replaced.old_ksks.join(" "),
                replaced.old_sha256
            ),
        })?;
        Ok(replaced)
    }

    /// The audit log's head.
    ///
    /// # Errors
    ///
    /// The log does not verify.
    pub fn audit_head(&self) -> Result<String, Error> {
        Ok(self.locked()?.trail.head())
    }

    /// A ZSK operator's KSR: checked (stages 1 to 4 against the intake's
    /// last SKR) and kept, or refused with its findings (recorded).
    ///
    /// # Errors
    ///
    /// Refused (with the report), another KSR with its id, or a file or
    /// the log fails.
    pub fn submit(&self, client: &Client, bytes: Vec<u8>, now: Now) -> Result<Submitted, Error> {
        let mut locked = self.locked()?;
        let sha256 = Sha256::digest(&bytes);
        let id = format!("ksr-{}", hex::encode(sha256.get(..6).unwrap_or_default()));
        let extension = crate::document::extension(&bytes);
        let document = Document::received(format!("{id}.{extension}"), bytes);
        let previous = self.last_skr()?;
        let checked = check_ksr(&document, previous.as_ref(), locked.policy.config(), now)?;
        let report = checked.report;
        let Some(documents) = checked.documents.filter(|_| !report.has_errors()) else {
            locked.trail.record(&Event::KsrRefused {
                ksr_sha256: hex::encode(sha256),
                codes: report.error_codes(),
                client: client.clone(),
            })?;
            return Err(Error::Refused(report));
        };
        if let Some(record) = self.read_record(&id)? {
            if record.ksr_sha256 != hex::encode(sha256) {
                return Err(Error::Key(format!(
                    "another KSR is stored as {id}; nothing was stored"
                )));
            }
            return Ok(Submitted {
                record,
                report,
                created: false,
            });
        }
        let path = self.paths.ksrs().join(format!("{id}.{extension}"));
        durable::write(&path, bytes_of(&document)?, durable::Replace::Never)?;
        let record = crate::service::record_of(
            &id,
            &crate::service::documents_ksr(&documents),
            &document,
            &client.name,
        );
        self.write_record(&record)?;
        locked.trail.record(&Event::KsrSubmitted {
            id,
            ksr_sha256: record.ksr_sha256.clone(),
            warnings: report
                .findings
                .iter()
                .filter(|finding| finding.severity == Severity::Warning)
                .map(|finding| finding.code.as_str())
                .collect(),
            client: client.clone(),
        })?;
        Ok(Submitted {
            record,
            report,
            created: true,
        })
    }

    /// Every KSR's record, oldest id first.
    ///
    /// # Errors
    ///
    /// The folder cannot be read.
    pub fn records(&self) -> Result<Vec<KsrRecord>, Error> {
        let folder = self.paths.ksrs();
        let mut records = Vec::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(Error::read(&folder))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        names.sort();
        for path in names {
            if let Some(id) = path.file_stem().and_then(|stem| stem.to_str())
                && let Some(record) = self.read_record(id)?
            {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// A KSR's record.
    ///
    /// # Errors
    ///
    /// The record is unreadable.
    pub fn read_record(&self, id: &str) -> Result<Option<KsrRecord>, Error> {
        if !media::is_transfer_id(id) {
            return Ok(None);
        }
        let path = self.paths.ksrs().join(format!("{id}.json"));
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|err| Error::Internal(format!("{}: {err}", path.display()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::read(&path)(err)),
        }
    }

    /// The SKR of a KSR, once imported; the file must still be the one
    /// imported.
    ///
    /// # Errors
    ///
    /// Unknown, not signed, or changed since.
    pub fn skr(&self, client: &Client, id: &str) -> Result<Option<Vec<u8>>, Error> {
        let Some(record) = self.read_record(id)? else {
            return Ok(None);
        };
        let Some(sha256) = record.skr_sha256.as_deref() else {
            return Ok(None);
        };
        let path = self
            .paths
            .ksrs()
            .join(format!("{id}.skr.{}", record.extension()));
        let bytes = std::fs::read(&path).map_err(Error::read(&path))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(Error::Media(MediaError::Hash {
                path,
                what: "changed since it was imported".into(),
                expected: sha256.to_owned(),
            }));
        }
        self.locked()?.trail.record(&Event::Transfer {
            event: transfer_event::FETCHED,
            details: details([("ksr", id.into()), ("skr_sha256", sha256.into())]),
            client: Some(client.clone()),
        })?;
        Ok(Some(bytes))
    }

    /// Exports a KSR to `media/<ID>/` with the intake's last SKR, the
    /// signed manifest and the findings of the checks run again now.
    ///
    /// # Errors
    ///
    /// Unknown, signed already, the checks now refuse it, or the medium
    /// fails; recorded.
    pub fn export(
        &self,
        id: &str,
        media_dir: &Path,
        now: Now,
    ) -> Result<(PathBuf, media::Manifest), Error> {
        let mut locked = self.locked()?;
        let result = (|| {
            let record = self
                .read_record(id)?
                .ok_or_else(|| Error::Key(format!("no KSR {id:?} in this intake")))?;
            if record.state == KsrState::Signed {
                return Err(MediaError::Replay(format!(
                    "{id} is signed already (SKR {}): nothing to export",
                    record.skr_sha256.as_deref().unwrap_or_default()
                ))
                .into());
            }
            let ksr = Document::read(
                &self
                    .paths
                    .ksrs()
                    .join(format!("{id}.{}", record.extension())),
            )?;
            // The file is the one submitted, not one put in its place.
            let sha256 = hex::encode(ksr.sha256());
            if sha256 != record.ksr_sha256 {
                return Err(MediaError::Hash {
                    path: ksr.path.clone(),
                    what: format!("SHA-256 {sha256}"),
                    expected: format!("{} (as submitted)", record.ksr_sha256),
                }
                .into());
            }
            let previous = self.last_skr()?;
            let checked = check_ksr(&ksr, previous.as_ref(), locked.policy.config(), now)?;
            if checked.report.has_errors() {
                return Err(Error::Refused(checked.report));
            }
            let findings = checked
                .report
                .findings
                .iter()
                .filter(|finding| finding.severity == Severity::Warning)
                .map(|finding| media::IntakeFinding {
                    code: finding.code.as_str().to_owned(),
                    severity: "warning".into(),
                    message: finding.message.clone(),
                })
                .collect();
            let extension = record.extension();
            let ksr_name = format!("ksr.{extension}");
            let previous_name = previous
                .as_ref()
                .map(|document| format!("previous-skr.{}", document.extension()));
            let key = IntakeSigningKey::read(&self.paths.key())?;
            let export = media::Export {
                id,
                ksr: (&ksr_name, bytes_of(&ksr)?),
                previous: match (&previous_name, &previous) {
                    (Some(name), Some(document)) => Some((name.as_str(), bytes_of(document)?)),
                    _ => None,
                },
                domain: record.domain.clone(),
                ksr_id: record.request_id.clone(),
                ksr_format: record.format.clone(),
                bundles: record.bundles,
                findings,
                exported: self.clock.wall().to_string(),
            };
            let (path, manifest) = media::export(media_dir, &export, &key)?;
            let mut record = record;
            record.state = KsrState::Exported;
            record.transfer = Some(id.to_owned());
            self.write_record(&record)?;
            Ok((path, manifest))
        })();
        match result {
            Ok((path, manifest)) => {
                locked.trail.record(&Event::Transfer {
                    event: transfer_event::EXPORTED,
                    details: details([
                        ("transfer", id.into()),
                        ("dir", path.display().to_string().into()),
                        ("ksr_sha256", manifest.ksr_sha256.clone().into()),
                        (
                            "previous_skr_sha256",
                            manifest
                                .file(media::Role::PreviousSkr)
                                .map_or(Value::Null, |file| file.sha256.clone().into()),
                        ),
                    ]),
                    client: None,
                })?;
                Ok((path, manifest))
            }
            Err(err) => {
                locked.trail.record(&Event::Transfer {
                    event: transfer_event::EXPORT_REFUSED,
                    details: details([
                        ("transfer", id.into()),
                        ("codes", err.codes().into()),
                        ("reason", err.to_string().into()),
                    ]),
                    client: None,
                })?;
                Err(err)
            }
        }
    }

    /// Imports a set the signer added the SKR to: the set is the intake's
    /// own (its key's signature, the KSR it holds for that id, exported
    /// with its current last SKR), the SKR's manifest matches, and the SKR
    /// answers that KSR, follows the previous SKR and is signed in every
    /// bundle by a KSK the policy pins. Only then is it kept, and the
    /// intake's last SKR advances.
    ///
    /// # Errors
    ///
    /// The first check that refuses, by name (recorded).
    pub fn import(&self, set_dir: &Path) -> Result<KsrRecord, Error> {
        let mut locked = self.locked()?;
        let result = self.import_locked(&locked, set_dir);
        match result {
            Ok(record) => {
                locked.trail.record(&Event::Transfer {
                    event: transfer_event::IMPORTED,
                    details: details([
                        ("transfer", record.id.clone().into()),
                        ("dir", set_dir.display().to_string().into()),
                        (
                            "skr_sha256",
                            record.skr_sha256.clone().unwrap_or_default().into(),
                        ),
                        ("ksr_sha256", record.ksr_sha256.clone().into()),
                        // Unsigned on the medium: what it says, not a fact
                        // the intake could check (the minutes are).
                        (
                            "stated_signer_audit_head",
                            record
                                .skr_manifest
                                .as_ref()
                                .map(|manifest| manifest.audit_head.clone())
                                .unwrap_or_default()
                                .into(),
                        ),
                    ]),
                    client: None,
                })?;
                Ok(record)
            }
            Err(err) => {
                locked.trail.record(&Event::Transfer {
                    event: transfer_event::IMPORT_REFUSED,
                    details: details([
                        ("dir", set_dir.display().to_string().into()),
                        ("codes", err.codes().into()),
                        ("reason", err.to_string().into()),
                    ]),
                    client: None,
                })?;
                Err(err)
            }
        }
    }

    fn import_locked(&self, locked: &Locked, set_dir: &Path) -> Result<KsrRecord, Error> {
        let set = TransferSet::read(set_dir, Hop::BackToIntake)?;
        let key = IntakeSigningKey::read(&self.paths.key())?.public();
        let verified = set.verify(&key)?;
        let id = verified.manifest.id.clone();
        let mut record = self
            .read_record(&id)?
            .ok_or_else(|| MediaError::Chain(format!("this intake holds no KSR {id}")))?;
        if record.state == KsrState::Signed {
            return Err(MediaError::Replay(format!(
                "{id} was imported already (SKR {})",
                record.skr_sha256.as_deref().unwrap_or_default()
            ))
            .into());
        }
        if record.ksr_sha256 != verified.manifest.ksr_sha256 {
            return Err(MediaError::Chain(format!(
                "the set's KSR {} is not the KSR this intake holds as {id}",
                verified.manifest.ksr_sha256
            ))
            .into());
        }
        let previous = self.last_skr()?;
        let previous_sha = previous
            .as_ref()
            .map(|document| hex::encode(document.sha256()));
        let exported_with = verified
            .previous
            .as_ref()
            .map(|document| hex::encode(document.sha256()));
        if previous_sha != exported_with {
            return Err(MediaError::Chain(format!(
                "the set was exported with previous SKR {}, but the intake's last SKR is now {}: an older transfer set",
                exported_with.as_deref().unwrap_or("none"),
                previous_sha.as_deref().unwrap_or("none")
            ))
            .into());
        }
        let (skr, skr_manifest) = set.skr(&verified)?;
        let checked = check_skr(
            &SkrCheck {
                skr: &skr,
                ksr: Some(&verified.ksr),
                previous: previous.as_ref().filter(|_| skr.extension() == "xml"),
                schema: None,
                anchor: Anchor::Pins,
            },
            locked.policy.config(),
        )?;
        if checked.report.has_errors() {
            return Err(Error::Refused(checked.report));
        }
        let bytes = bytes_of(&skr)?;
        let extension = skr.extension();
        durable::write(
            &self.paths.ksrs().join(format!("{id}.skr.{extension}")),
            bytes,
            durable::Replace::Allowed,
        )?;
        let sha256 = skr.sha256();
        record.state = KsrState::Signed;
        record.skr_sha256 = Some(hex::encode(sha256));
        record.skr_pgp_words = Some(ksr::pgp_words(&sha256));
        record.skr_manifest = Some(skr_manifest);
        record.error = None;
        self.write_record(&record)?;
        // The last SKR advances only now, after the record says signed.
        durable::write(
            &self.paths.last_skr(extension),
            bytes,
            durable::Replace::Allowed,
        )?;
        let other = if extension == "xml" { "txt" } else { "xml" };
        let _ = std::fs::remove_file(self.paths.last_skr(other));
        Ok(record)
    }

    /// The intake's last SKR.
    fn last_skr(&self) -> Result<Option<Document>, Error> {
        for extension in ["xml", "txt"] {
            let path = self.paths.last_skr(extension);
            if path.exists() {
                return Document::read(&path).map(Some);
            }
        }
        Ok(None)
    }

    fn write_record(&self, record: &KsrRecord) -> Result<(), Error> {
        let json =
            serde_json::to_vec_pretty(record).map_err(|err| Error::Internal(err.to_string()))?;
        let path = self.paths.ksrs().join(format!("{}.json", record.id));
        Ok(durable::write(&path, &json, durable::Replace::Allowed)?)
    }

    /// The lock, the log and the policy, for one change.
    fn locked(&self) -> Result<Locked, Error> {
        let mut tries = 0;
        let lock = loop {
            match durable::LockFile::acquire(self.paths.lock(), &self.holder) {
                Ok(lock) => break lock,
                Err(durable::LockError::Busy { .. }) if tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(durable::LockError::Busy { holder, .. }) => {
                    return Err(Error::Busy {
                        what: format!("the intake in {}", self.paths.0.display()),
                        holder,
                    });
                }
                Err(durable::LockError::Io { path, source }) => {
                    return Err(Error::Read { path, source });
                }
            }
        };
        for directory in [self.paths.0.clone(), self.paths.ksrs()] {
            durable::sweep(&directory).map_err(Error::read(&directory))?;
        }
        let (mut trail, left_open) = Trail::open(&self.paths.audit(), self.clock.clone())?;
        if let Some(left) = left_open {
            trail.close_interrupted(left)?;
        }
        let policy = crate::policy::Policy::load(&self.paths.policy())?;
        Ok(Locked {
            _lock: lock,
            trail,
            policy,
        })
    }
}

/// The intake's policy, replaced (`Intake::replace_policy`).
#[derive(Debug, Serialize)]
pub struct PolicyReplaced {
    /// The SHA-256 of the copy it held.
    pub old_sha256: String,
    /// The new one's.
    pub new_sha256: String,
    /// The KSK roles and labels before.
    pub old_ksks: Vec<String>,
    /// After.
    pub new_ksks: Vec<String>,
}

struct Locked {
    _lock: durable::LockFile,
    trail: Trail,
    policy: crate::policy::Policy,
}

fn bytes_of(document: &Document) -> Result<&[u8], Error> {
    document
        .bytes(DocumentRole::Ksr)
        .map_err(|finding| Error::Internal(finding.message))
}

//! Transfer sets: what the removable medium carries between the online
//! intake and the offline signer (DESIGN.md, "Where each part runs").
//!
//! `MEDIA/<ID>/` holds the KSR (`ksr.xml` or `ksr.txt`), the intake's last
//! SKR (`previous-skr.*`, absent for a first quarter), `manifest.json`
//! (each file's name, role, size and SHA-256, the domain, the KSR's ids,
//! the intake's findings, the time) and `manifest.sig` (the intake key's
//! Ed25519 signature over the manifest). On the way back the signer adds
//! the SKR (`skr.*`) and `manifest-skr.json`.
//!
//! Who can write a medium: anyone who holds it between the two machines.
//! So the reader trusts nothing it finds: only regular files with the
//! expected names (no symlinks, devices, FIFOs or folders; an unexpected
//! file is refused by name), each size checked before it is read, every
//! byte hashed and compared with a manifest that the key pinned in the
//! signer's sealed state signed. What the signer then signs is the KSR
//! the intake checked, chained to the signer's own record of its last SKR
//! (see `ops::sign`), and confirmed by the words read over the phone
//! (`oob`).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::document::Document;

/// The manifest's name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest signature's name.
pub const MANIFEST_SIG: &str = "manifest.sig";
/// The signer's record of the SKR it added.
pub const SKR_MANIFEST: &str = "manifest-skr.json";

/// The manifest format written.
const FORMAT: u32 = 1;
/// What the intake key signs, before the manifest's bytes: a signature
/// made for anything else never verifies as a manifest's.
const CONTEXT: &[u8] = b"ceremony transfer manifest v1\0";
/// The most entries a transfer set's folder is read for.
const MAX_ENTRIES: usize = 16;
/// The largest manifest (either one).
const MAX_MANIFEST: u64 = 64 * 1024;
/// The largest signature file.
const MAX_SIGNATURE: u64 = 512;

//------------ MediaError ----------------------------------------------------

/// Why a transfer set is refused, naming the file and the check.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// A folder entry that is not a regular file.
    #[error(
        "MEDIA-ENTRY: {}: {what}: a transfer set holds regular files only; nothing was read from it",
        .path.display()
    )]
    Entry {
        /// The entry.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// A file no transfer set holds at this hop.
    #[error(
        "MEDIA-EXTRA: {}: not a file of a transfer set {at} (expected {expected}); remove it after finding out who put it there",
        .path.display()
    )]
    Extra {
        /// The file.
        path: PathBuf,
        /// At which hop.
        at: &'static str,
        /// The names expected there.
        expected: &'static str,
    },
    /// A file over its limit.
    #[error("MEDIA-SIZE: {}: {size} bytes, over the limit of {limit}", .path.display())]
    Size {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A file the set must hold is missing.
    #[error("MEDIA-MISSING: {}: missing ({why})", .path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// Why it is needed.
        why: &'static str,
    },
    /// The manifest is malformed or does not describe the set.
    #[error("MEDIA-MANIFEST: {}: {why}", .path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The manifest's signature is not the pinned intake key's.
    #[error("MEDIA-SIGNATURE: {}: {why}; the transfer set was not exported by the intake this ceremony pinned, or was changed since", .path.display())]
    Signature {
        /// The signature file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A file is not the one the manifest describes.
    #[error(
        "MEDIA-HASH: {}: {what}, the manifest says {expected}: the file changed after export; nothing is signed",
        .path.display()
    )]
    Hash {
        /// The file.
        path: PathBuf,
        /// What was found.
        what: String,
        /// What the manifest says.
        expected: String,
    },
    /// No intake key is pinned.
    #[error(
        "MEDIA-KEY: this ceremony pins no intake key: pin the intake's key with a quorum (ceremony intake pin IDIR/intake.pub) or at init (--intake-key)"
    )]
    NoKey,
    /// The set does not chain to this side's record.
    #[error("MEDIA-CHAIN: {0}")]
    Chain(String),
    /// The set was used already.
    #[error("MEDIA-REPLAY: {0}")]
    Replay(String),
    /// A key file is malformed.
    #[error("MEDIA-KEY: {}: {why}", .path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The medium cannot be read or written.
    #[error("MEDIA-IO: {}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file written to the medium did not read back as written.
    #[error("MEDIA-READBACK: {}: the medium did not give back what was written; use another medium", .0.display())]
    ReadBack(PathBuf),
}

impl MediaError {
    /// The check's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Entry { .. } => "MEDIA-ENTRY",
            Self::Extra { .. } => "MEDIA-EXTRA",
            Self::Size { .. } => "MEDIA-SIZE",
            Self::Missing { .. } => "MEDIA-MISSING",
            Self::Manifest { .. } => "MEDIA-MANIFEST",
            Self::Signature { .. } => "MEDIA-SIGNATURE",
            Self::Hash { .. } => "MEDIA-HASH",
            Self::NoKey | Self::KeyFile { .. } => "MEDIA-KEY",
            Self::Chain(_) => "MEDIA-CHAIN",
            Self::Replay(_) => "MEDIA-REPLAY",
            Self::Io { .. } => "MEDIA-IO",
            Self::ReadBack(_) => "MEDIA-READBACK",
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

//------------ Keys ----------------------------------------------------------

/// The intake's public key, as `IDIR/intake.pub` holds it and the sealed
/// state pins it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntakeKey(ed25519_dalek::VerifyingKey);

impl IntakeKey {
    /// Reads `intake.pub`: comment lines (`#`) and one line
    /// `ed25519 HEX`.
    ///
    /// # Errors
    ///
    /// Unreadable, or not such a file.
    pub fn read(path: &Path) -> Result<Self, MediaError> {
        let bytes = read_file(path, 4096, Links::Follow)?;
        let text = String::from_utf8(bytes).map_err(|_| MediaError::KeyFile {
            path: path.to_owned(),
            why: "not text".into(),
        })?;
        Self::parse(&text).map_err(|why| MediaError::KeyFile {
            path: path.to_owned(),
            why,
        })
    }

    /// Parses the text of `intake.pub`.
    ///
    /// # Errors
    ///
    /// What is wrong, with the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(number, line)| (number + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
        let (number, line) = lines
            .next()
            .ok_or("no key line (ed25519 followed by 64 hex digits)")?;
        if let Some((extra, _)) = lines.next() {
            return Err(format!("line {extra}: a second key line"));
        }
        let hex_key = line
            .strip_prefix("ed25519 ")
            .ok_or(format!("line {number}: not \"ed25519 HEX\""))?;
        Self::from_hex(hex_key.trim()).map_err(|why| format!("line {number}: {why}"))
    }

    /// The key from 64 hex digits.
    ///
    /// # Errors
    ///
    /// Not 32 bytes of hex, not a point of the curve, or a weak key (of
    /// small order: one signature would verify for every manifest).
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes: [u8; 32] = hex::decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("not 64 hex digits")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| "not an Ed25519 public key".to_owned())?;
        if key.is_weak() {
            return Err("a weak Ed25519 key (of small order), which any signature matches".into());
        }
        Ok(Self(key))
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// The text of `intake.pub`.
    pub fn to_file(&self, comment: &str) -> String {
        format!("# {comment}\ned25519 {}\n", self.to_hex())
    }

    /// Its fingerprint: the SHA-256 of the key, hex, to compare between
    /// the two machines.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    fn verify(&self, manifest: &[u8], signature: &[u8]) -> Result<(), String> {
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| "not an Ed25519 signature".to_owned())?;
        self.0
            .verify_strict(&signed_bytes(manifest), &signature)
            .map_err(|_| "the signature does not verify under the pinned intake key".to_owned())
    }
}

/// The intake's signing key (`IDIR/intake.key`, 0600: the seed in hex).
pub struct IntakeSigningKey(ed25519_dalek::SigningKey);

impl IntakeSigningKey {
    /// A new key from the operating system's random numbers.
    pub fn generate() -> Self {
        let seed = crate::records::random::<32>();
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads `intake.key`.
    ///
    /// # Errors
    ///
    /// Unreadable or malformed (the file's text is not quoted).
    pub fn read(path: &Path) -> Result<Self, MediaError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(MediaError::io(path))?);
        let seed: Zeroizing<Vec<u8>> =
            Zeroizing::new(hex::decode(text.trim()).map_err(|_| MediaError::KeyFile {
                path: path.to_owned(),
                why: "not hex".into(),
            })?);
        let seed: &[u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| MediaError::KeyFile {
                path: path.to_owned(),
                why: "not 32 bytes".into(),
            })?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(seed)))
    }

    /// The file's text (secret).
    pub fn to_file(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}\n", hex::encode(self.0.as_bytes())))
    }

    /// The public half.
    pub fn public(&self) -> IntakeKey {
        IntakeKey(self.0.verifying_key())
    }

    fn sign(&self, manifest: &[u8]) -> String {
        hex::encode(self.0.sign(&signed_bytes(manifest)).to_bytes())
    }
}

fn signed_bytes(manifest: &[u8]) -> Vec<u8> {
    [CONTEXT, manifest].concat()
}

//------------ Manifest ------------------------------------------------------

/// What a file of the set is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The KSR.
    Ksr,
    /// The intake's last SKR.
    PreviousSkr,
}

/// One file of the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Its name in the set's folder.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// A finding of the intake's checks, as the manifest carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeFinding {
    /// The check's code.
    pub code: String,
    /// error, warning or info.
    pub severity: String,
    /// What it found.
    pub message: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format (1).
    pub format: u32,
    /// The transfer's id: the intake's id of the KSR.
    pub id: String,
    /// The zone.
    pub domain: String,
    /// The KSR's own id.
    pub ksr_id: String,
    /// The KSR's format.
    pub ksr_format: String,
    /// Its bundles.
    pub bundles: usize,
    /// The KSR's SHA-256, hex.
    pub ksr_sha256: String,
    /// The files.
    pub files: Vec<FileEntry>,
    /// The intake's findings (warnings and notes; a KSR with errors is
    /// never exported).
    pub findings: Vec<IntakeFinding>,
    /// When it was exported, RFC 3339.
    pub exported: String,
    /// The intake key, hex (the signature is checked against the pinned
    /// key, never this one).
    pub intake_key: String,
}

impl Manifest {
    /// The entry of a role.
    pub fn file(&self, role: Role) -> Option<&FileEntry> {
        self.files.iter().find(|file| file.role == role)
    }
}

/// `manifest-skr.json`: what the signer added to the set. Not signed: the
/// SKR it names is checked on its own (its KSR, its KSKs, its chain); the
/// officers and the audit head are what the medium states, to compare with
/// the ceremony's minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkrManifest {
    /// The format (1).
    pub format: u32,
    /// The transfer's id.
    pub id: String,
    /// The SKR's file name in the set.
    pub skr: String,
    /// Its size.
    pub skr_size: u64,
    /// Its SHA-256, hex.
    pub skr_sha256: String,
    /// The SHA-256 of the KSR it answers, hex.
    pub ksr_sha256: String,
    /// The ceremony's audit head after the signing, hex.
    pub audit_head: String,
    /// The officers whose cards activated the HSM.
    pub officers: Vec<String>,
    /// When it was signed, RFC 3339.
    pub signed: String,
}

//------------ Reading a set -------------------------------------------------

/// Which hop reads the set: what it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// The signer reads what the intake exported.
    ToSigner,
    /// The intake reads the set with the SKR added.
    BackToIntake,
}

impl Hop {
    const fn expected(self) -> &'static str {
        match self {
            Self::ToSigner => "ksr.xml or ksr.txt, previous-skr.*, manifest.json, manifest.sig",
            Self::BackToIntake => {
                "ksr.*, previous-skr.*, manifest.json, manifest.sig, skr.*, manifest-skr.json"
            }
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::ToSigner => "for the signer",
            Self::BackToIntake => "coming back to the intake",
        }
    }

    /// The size limit of a file this hop takes, or why it takes none: at
    /// the signer, what the signer adds means the set was signed already.
    fn limit(self, path: &Path, name: &str) -> Result<u64, MediaError> {
        match self.allows(name) {
            Some(limit) => Ok(limit),
            None if self == Self::ToSigner && Self::BackToIntake.allows(name).is_some() => {
                Err(MediaError::Replay(format!(
                    "{} is on the medium: this transfer set was signed already (a medium that lost part of it: sign --media DIR --rewrite)",
                    path.display()
                )))
            }
            None => Err(MediaError::Extra {
                path: path.to_owned(),
                at: self.name(),
                expected: self.expected(),
            }),
        }
    }

    fn allows(self, name: &str) -> Option<u64> {
        let document = u64::try_from(ksr::MAX_DOCUMENT_SIZE).unwrap_or(u64::MAX);
        match name {
            "ksr.xml" | "ksr.txt" | "previous-skr.xml" | "previous-skr.txt" => Some(document),
            MANIFEST => Some(MAX_MANIFEST),
            MANIFEST_SIG => Some(MAX_SIGNATURE),
            "skr.xml" | "skr.txt" if self == Self::BackToIntake => Some(document),
            SKR_MANIFEST if self == Self::BackToIntake => Some(MAX_MANIFEST),
            _ => None,
        }
    }
}

/// A transfer set as read, before anything in it is believed.
#[derive(Clone, Debug)]
pub struct TransferSet {
    dir: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
}

impl TransferSet {
    /// Reads a set's folder: every entry must be a regular file with a
    /// name this hop expects, within its size, read through a descriptor
    /// that follows no symlink.
    ///
    /// # Errors
    ///
    /// The first entry or file refused, by name.
    pub fn read(dir: &Path, hop: Hop) -> Result<Self, MediaError> {
        let metadata = std::fs::symlink_metadata(dir).map_err(MediaError::io(dir))?;
        if !metadata.is_dir() {
            return Err(MediaError::Entry {
                path: dir.to_owned(),
                what: kind(&metadata.file_type()),
            });
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(MediaError::io(dir))? {
            let entry = entry.map_err(MediaError::io(dir))?;
            names.push(entry.path());
            if names.len() > MAX_ENTRIES {
                return Err(MediaError::Extra {
                    path: dir.to_owned(),
                    at: hop.name(),
                    expected: hop.expected(),
                });
            }
        }
        names.sort();
        let mut files = BTreeMap::new();
        for path in names {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default()
                .to_owned();
            let metadata = std::fs::symlink_metadata(&path).map_err(MediaError::io(&path))?;
            if !metadata.is_file() {
                return Err(MediaError::Entry {
                    what: kind(&metadata.file_type()),
                    path,
                });
            }
            let limit = hop.limit(&path, &name)?;
            let bytes = read_file(&path, limit, Links::Refuse)?;
            files.insert(name, bytes);
        }
        Self::from_files(dir, files, hop)
    }

    /// A set received as bytes (the room's service gets it uploaded): the
    /// same names and limits.
    ///
    /// # Errors
    ///
    /// A name this hop does not expect, or a file over its limit.
    pub fn from_files(
        dir: &Path,
        files: BTreeMap<String, Vec<u8>>,
        hop: Hop,
    ) -> Result<Self, MediaError> {
        for (name, bytes) in &files {
            let path = dir.join(name);
            let limit = hop.limit(&path, name)?;
            let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            if size > limit {
                return Err(MediaError::Size { path, size, limit });
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            files,
        })
    }

    /// The folder it was read from (or is named after).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files, by name.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// Checks the set against the intake key: the signature over the
    /// manifest, the manifest's form (each name once, one KSR, at most one
    /// previous SKR), and each file against its entry; a file the manifest
    /// does not name is refused. Answers the KSR and the previous SKR as
    /// documents named by their place on the medium.
    ///
    /// # Errors
    ///
    /// The first check that fails, by name.
    pub fn verify(&self, key: &IntakeKey) -> Result<Verified, MediaError> {
        let path = |name: &str| self.dir.join(name);
        let manifest_bytes = self.files.get(MANIFEST).ok_or(MediaError::Missing {
            path: path(MANIFEST),
            why: "every transfer set has one",
        })?;
        let signature = self.files.get(MANIFEST_SIG).ok_or(MediaError::Missing {
            path: path(MANIFEST_SIG),
            why: "the intake signs every manifest",
        })?;
        let signature = std::str::from_utf8(signature)
            .ok()
            .and_then(|text| hex::decode(text.trim()).ok())
            .ok_or_else(|| MediaError::Signature {
                path: path(MANIFEST_SIG),
                why: "not hex".into(),
            })?;
        key.verify(manifest_bytes, &signature)
            .map_err(|why| MediaError::Signature {
                path: path(MANIFEST_SIG),
                why,
            })?;
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|err| MediaError::Manifest {
                path: path(MANIFEST),
                why: format!("not a manifest: {err}"),
            })?;
        let bad = |why: String| MediaError::Manifest {
            path: path(MANIFEST),
            why,
        };
        if manifest.format != FORMAT {
            return Err(bad(format!("format {} is not 1", manifest.format)));
        }
        // The id names files on both sides: only the intake's own form.
        if !is_transfer_id(&manifest.id) {
            return Err(bad(format!(
                "its id {:?} is not ksr- and 12 hex digits",
                manifest.id
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for file in &manifest.files {
            if !seen.insert(file.name.as_str()) {
                return Err(bad(format!("names {} twice", file.name)));
            }
            let allowed = match file.role {
                Role::Ksr => ["ksr.xml", "ksr.txt"],
                Role::PreviousSkr => ["previous-skr.xml", "previous-skr.txt"],
            };
            if !allowed.contains(&file.name.as_str()) {
                return Err(bad(format!(
                    "names {} as the {:?} file",
                    file.name, file.role
                )));
            }
        }
        for role in [Role::Ksr, Role::PreviousSkr] {
            if manifest
                .files
                .iter()
                .filter(|file| file.role == role)
                .count()
                > 1
            {
                return Err(bad(format!("names more than one {role:?} file")));
            }
        }
        for name in self.files.keys() {
            let ours = [MANIFEST, MANIFEST_SIG, SKR_MANIFEST, "skr.xml", "skr.txt"];
            if !ours.contains(&name.as_str()) && !seen.contains(name.as_str()) {
                return Err(MediaError::Extra {
                    path: path(name),
                    at: "that its manifest names",
                    expected: "only the files the manifest lists",
                });
            }
        }
        let document = |entry: &FileEntry| -> Result<Document, MediaError> {
            self.described(
                &entry.name,
                entry.size,
                &entry.sha256,
                "the manifest names it",
            )
        };
        let ksr_entry = manifest
            .file(Role::Ksr)
            .ok_or_else(|| bad("names no KSR".into()))?;
        let ksr = document(ksr_entry)?;
        if !hex::encode(ksr.sha256()).eq_ignore_ascii_case(&manifest.ksr_sha256) {
            return Err(bad("its ksr_sha256 is not its KSR file's".into()));
        }
        let previous = manifest.file(Role::PreviousSkr).map(document).transpose()?;
        Ok(Verified {
            dir: self.dir.clone(),
            key: *key,
            manifest_sha256: hex::encode(Sha256::digest(manifest_bytes)),
            manifest,
            ksr,
            previous,
        })
    }

    /// The SKR the signer added and its manifest, checked against each
    /// other and against the set's KSR.
    ///
    /// # Errors
    ///
    /// Missing, malformed, or not matching.
    pub fn skr(&self, verified: &Verified) -> Result<(Document, SkrManifest), MediaError> {
        let path = |name: &str| self.dir.join(name);
        let bytes = self.files.get(SKR_MANIFEST).ok_or(MediaError::Missing {
            path: path(SKR_MANIFEST),
            why: "the signer writes it beside the SKR",
        })?;
        let manifest: SkrManifest =
            serde_json::from_slice(bytes).map_err(|err| MediaError::Manifest {
                path: path(SKR_MANIFEST),
                why: format!("not an SKR manifest: {err}"),
            })?;
        let bad = |why: String| MediaError::Manifest {
            path: path(SKR_MANIFEST),
            why,
        };
        if manifest.format != FORMAT || manifest.id != verified.manifest.id {
            return Err(bad(format!(
                "it is for transfer {}, not {}",
                manifest.id, verified.manifest.id
            )));
        }
        if !["skr.xml", "skr.txt"].contains(&manifest.skr.as_str()) {
            return Err(bad(format!("names {} as the SKR", manifest.skr)));
        }
        if !manifest
            .ksr_sha256
            .eq_ignore_ascii_case(&verified.manifest.ksr_sha256)
        {
            return Err(bad(format!(
                "it answers KSR {}, not this set's {}",
                manifest.ksr_sha256, verified.manifest.ksr_sha256
            )));
        }
        let skr = self.described(
            &manifest.skr,
            manifest.skr_size,
            &manifest.skr_sha256,
            "manifest-skr.json names it",
        )?;
        Ok((skr, manifest))
    }

    /// A file of the set as a manifest describes it: there, of that size
    /// and SHA-256; as a document named by its place on the medium.
    fn described(
        &self,
        name: &str,
        size: u64,
        sha256: &str,
        why: &'static str,
    ) -> Result<Document, MediaError> {
        let path = self.dir.join(name);
        let Some(bytes) = self.files.get(name) else {
            return Err(MediaError::Missing { path, why });
        };
        let found = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if found != size {
            return Err(MediaError::Hash {
                path,
                what: format!("{found} bytes"),
                expected: format!("{size} bytes"),
            });
        }
        let found = hex::encode(Sha256::digest(bytes));
        if !found.eq_ignore_ascii_case(sha256) {
            return Err(MediaError::Hash {
                path,
                what: format!("SHA-256 {found}"),
                expected: sha256.to_owned(),
            });
        }
        Ok(Document::received(path, bytes.clone()))
    }
}

/// Whether `id` has the form of a transfer's id: `ksr-` and 12 hex
/// digits (the first 48 bits of the KSR's SHA-256, as the intake names it).
pub fn is_transfer_id(id: &str) -> bool {
    id.len() == 16
        && id.starts_with("ksr-")
        && id
            .bytes()
            .skip(4)
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A set whose manifest the pinned key signed and whose files it
/// describes.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Where it was read.
    pub dir: PathBuf,
    /// The key its manifest verified under (the pinned one).
    pub key: IntakeKey,
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's SHA-256, hex.
    pub manifest_sha256: String,
    /// The KSR.
    pub ksr: Document,
    /// The intake's last SKR, if it had one.
    pub previous: Option<Document>,
}

impl Verified {
    /// Where the SKR goes in the set by default.
    pub fn skr_path(&self) -> PathBuf {
        self.dir.join(format!("skr.{}", self.ksr.extension()))
    }
}

fn kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Whether a file's last name may be a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Links {
    /// A file the operator names (a key, the words heard).
    Follow,
    /// A file of a transfer set: refused.
    Refuse,
}

/// Reads a regular file within `limit` (checked on the open descriptor,
/// and by reading one byte past it); opened without blocking, so a FIFO or
/// a device is refused rather than waited on.
pub(crate) fn read_file(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, MediaError> {
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if links == Links::Refuse {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)
        .map_err(MediaError::io(path))?;
    let metadata = file.metadata().map_err(MediaError::io(path))?;
    if !metadata.is_file() {
        return Err(MediaError::Entry {
            path: path.to_owned(),
            what: kind(&metadata.file_type()),
        });
    }
    if metadata.len() > limit {
        return Err(MediaError::Size {
            path: path.to_owned(),
            size: metadata.len(),
            limit,
        });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(MediaError::io(path))?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limit {
        return Err(MediaError::Size {
            path: path.to_owned(),
            size,
            limit,
        });
    }
    Ok(bytes)
}

//------------ Writing a set -------------------------------------------------

/// What the intake exports.
pub struct Export<'a> {
    /// The transfer's id.
    pub id: &'a str,
    /// The KSR's file name (`ksr.xml` or `ksr.txt`) and bytes.
    pub ksr: (&'a str, &'a [u8]),
    /// The previous SKR's, if any.
    pub previous: Option<(&'a str, &'a [u8])>,
    /// The manifest's other fields.
    pub domain: String,
    /// The KSR's own id.
    pub ksr_id: String,
    /// The KSR's format.
    pub ksr_format: String,
    /// Its bundles.
    pub bundles: usize,
    /// The intake's findings.
    pub findings: Vec<IntakeFinding>,
    /// The time, RFC 3339.
    pub exported: String,
}

/// Writes `MEDIA/<ID>/` with [`durable::write_directory`] (a hidden
/// folder beside it, each file synced, renamed into place, the medium's
/// folder synced); the set is then read back from the medium and verified
/// before this returns. An existing `MEDIA/<ID>` is never touched; a failure
/// leaves no `MEDIA/<ID>`.
///
/// # Errors
///
/// The medium cannot be written, or did not read back.
pub fn export(
    media: &Path,
    export: &Export<'_>,
    key: &IntakeSigningKey,
) -> Result<(PathBuf, Manifest), MediaError> {
    let target = media.join(export.id);
    if target.symlink_metadata().is_ok() {
        return Err(MediaError::Replay(format!(
            "{} exists: a transfer set is never overwritten (take a fresh medium, or remove the old set after checking it)",
            target.display()
        )));
    }
    let entry = |(name, bytes): (&str, &[u8]), role| FileEntry {
        name: name.to_owned(),
        role,
        size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        sha256: hex::encode(Sha256::digest(bytes)),
    };
    let mut files = vec![entry(export.ksr, Role::Ksr)];
    files.extend(
        export
            .previous
            .map(|previous| entry(previous, Role::PreviousSkr)),
    );
    let manifest = Manifest {
        format: FORMAT,
        id: export.id.to_owned(),
        domain: export.domain.clone(),
        ksr_id: export.ksr_id.clone(),
        ksr_format: export.ksr_format.clone(),
        bundles: export.bundles,
        ksr_sha256: hex::encode(Sha256::digest(export.ksr.1)),
        files,
        findings: export.findings.clone(),
        exported: export.exported.clone(),
        intake_key: key.public().to_hex(),
    };
    let mut manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|err| MediaError::Manifest {
            path: target.join(MANIFEST),
            why: err.to_string(),
        })?;
    manifest_bytes.push(b'\n');
    let signature = format!("{}\n", key.sign(&manifest_bytes));
    let mut contents: Vec<(&str, &[u8])> = vec![export.ksr];
    contents.extend(export.previous);
    contents.push((MANIFEST, &manifest_bytes));
    contents.push((MANIFEST_SIG, signature.as_bytes()));
    durable::write_directory(&target, &contents).map_err(|err| match err {
        durable::WriteError::ReadBack(path) => MediaError::ReadBack(path),
        durable::WriteError::Exists(path) => MediaError::Replay(format!(
            "{} exists: a transfer set is never overwritten",
            path.display()
        )),
        durable::WriteError::Io { path, source } => MediaError::Io { path, source },
    })?;
    // Read back from the medium, as the signer will.
    let reread =
        TransferSet::read(&target, Hop::ToSigner).and_then(|set| set.verify(&key.public()));
    match reread {
        Ok(reread) if reread.manifest == manifest => {}
        result => {
            // Never a set that does not read back as written.
            let _ = std::fs::remove_dir_all(&target);
            return Err(result
                .err()
                .unwrap_or(MediaError::ReadBack(target.join(MANIFEST))));
        }
    }
    Ok((target, manifest))
}

/// Removes what a killed signing left in a set while writing the SKR or
/// its manifest there: only temporaries named after those files (their
/// names are the signer's own), never anything else a set holds. Returns
/// what was removed, for the audit log.
///
/// # Errors
///
/// The set's folder cannot be read or a temporary cannot be removed.
pub fn sweep_signer_leftovers(dir: &Path) -> Result<Vec<PathBuf>, MediaError> {
    let mut removed = Vec::new();
    for name in ["skr.xml", "skr.txt", SKR_MANIFEST] {
        let target = dir.join(name);
        removed.extend(durable::sweep_for(&target).map_err(MediaError::io(&target))?);
    }
    Ok(removed)
}

/// Writes the SKR's manifest into a set, synced and read back (the SKR
/// itself was written there by the signing, read back the same way).
///
/// # Errors
///
/// The medium cannot be written, or did not read back.
pub fn write_skr_manifest(dir: &Path, manifest: &SkrManifest) -> Result<PathBuf, MediaError> {
    let path = dir.join(SKR_MANIFEST);
    let mut bytes = serde_json::to_vec_pretty(manifest).map_err(|err| MediaError::Manifest {
        path: path.clone(),
        why: err.to_string(),
    })?;
    bytes.push(b'\n');
    durable::write(&path, &bytes, durable::Replace::Never).map_err(|err| match err {
        durable::WriteError::ReadBack(path) => MediaError::ReadBack(path),
        durable::WriteError::Exists(path) => MediaError::Replay(format!(
            "{} exists: this set was signed already",
            path.display()
        )),
        durable::WriteError::Io { path, source } => MediaError::Io { path, source },
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export_set(media: &Path, key: &IntakeSigningKey) -> PathBuf {
        let set = Export {
            id: "ksr-000000000001",
            ksr: ("ksr.xml", b"<KSR/>"),
            previous: Some(("previous-skr.xml", b"<SKR/>")),
            domain: ".".into(),
            ksr_id: "x".into(),
            ksr_format: "IANA XML".into(),
            bundles: 1,
            findings: Vec::new(),
            exported: "2030-01-01T00:00:00Z".into(),
        };
        export(media, &set, key).unwrap().0
    }

    #[test]
    fn a_set_verifies_under_its_key_only() {
        let media = tempfile::tempdir().unwrap();
        let key = IntakeSigningKey::generate();
        let dir = export_set(media.path(), &key);
        let set = TransferSet::read(&dir, Hop::ToSigner).unwrap();
        let verified = set.verify(&key.public()).unwrap();
        assert_eq!(
            verified.ksr.sha256(),
            <[u8; 32]>::from(Sha256::digest(b"<KSR/>"))
        );
        let other = IntakeSigningKey::generate().public();
        assert_eq!(set.verify(&other).unwrap_err().code(), "MEDIA-SIGNATURE");
        // Exported again to the same medium: never overwritten.
        let again = Export {
            id: "ksr-000000000001",
            ksr: ("ksr.xml", b"<KSR/>"),
            previous: None,
            domain: ".".into(),
            ksr_id: "x".into(),
            ksr_format: "IANA XML".into(),
            bundles: 1,
            findings: Vec::new(),
            exported: "2030-01-01T00:00:00Z".into(),
        };
        assert!(export(media.path(), &again, &key).is_err());
    }

    #[test]
    fn a_manifest_naming_a_file_twice_is_refused_even_when_signed() {
        let media = tempfile::tempdir().unwrap();
        let key = IntakeSigningKey::generate();
        let dir = export_set(media.path(), &key);
        let mut manifest: Manifest =
            serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
        let first = manifest.files[0].clone();
        manifest.files.push(first);
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let mut files = TransferSet::read(&dir, Hop::ToSigner)
            .unwrap()
            .files()
            .clone();
        files.insert(MANIFEST.into(), bytes.clone());
        files.insert(MANIFEST_SIG.into(), key.sign(&bytes).into_bytes());
        let set = TransferSet::from_files(&dir, files.clone(), Hop::ToSigner).unwrap();
        let err = set.verify(&key.public()).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        // An id that would name files elsewhere, signed all the same.
        let mut manifest: Manifest =
            serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
        manifest.id = "../../etc".into();
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let mut moved = TransferSet::read(&dir, Hop::ToSigner)
            .unwrap()
            .files()
            .clone();
        moved.insert(MANIFEST.into(), bytes.clone());
        moved.insert(MANIFEST_SIG.into(), key.sign(&bytes).into_bytes());
        let set = TransferSet::from_files(&dir, moved, Hop::ToSigner).unwrap();
        let err = set.verify(&key.public()).unwrap_err();
        assert!(
            err.to_string().contains("not ksr- and 12 hex digits"),
            "{err}"
        );
        // A file the manifest does not list, even a known name.
        let mut listed = TransferSet::read(&dir, Hop::ToSigner)
            .unwrap()
            .files()
            .clone();
        listed.insert("ksr.txt".into(), b"x".to_vec());
        let set = TransferSet::from_files(&dir, listed, Hop::ToSigner).unwrap();
        assert_eq!(set.verify(&key.public()).unwrap_err().code(), "MEDIA-EXTRA");
        // The SKR's names at the signer's hop: a set signed already.
        files.insert("skr.xml".into(), b"x".to_vec());
        assert_eq!(
            TransferSet::from_files(&dir, files, Hop::ToSigner)
                .unwrap_err()
                .code(),
            "MEDIA-REPLAY"
        );
    }

    #[test]
    fn a_weak_key_is_not_an_intake_key() {
        // The identity point and another of small order: a signature made
        // of it matches any manifest under non-strict verification.
        for weak in [
            format!("01{}", "00".repeat(31)),
            format!("ec{}7f", "ff".repeat(30)),
        ] {
            let err = IntakeKey::from_hex(&weak).unwrap_err();
            assert!(err.contains("weak"), "{weak}: {err}");
        }
        let good = IntakeSigningKey::generate().public();
        assert_eq!(IntakeKey::from_hex(&good.to_hex()).unwrap(), good);
    }

    #[test]
    fn a_key_or_words_file_that_is_a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("intake.pub");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert_eq!(IntakeKey::read(&fifo).unwrap_err().code(), "MEDIA-ENTRY");
        let err = crate::oob::Heard::read_file(&fifo).unwrap_err();
        assert!(err.to_string().contains("MEDIA-ENTRY"), "{err}");
    }

    #[test]
    fn a_fifo_or_an_oversized_file_is_refused_before_it_is_read() {
        let media = tempfile::tempdir().unwrap();
        let key = IntakeSigningKey::generate();
        let dir = export_set(media.path(), &key);
        std::fs::remove_file(dir.join("previous-skr.xml")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("previous-skr.xml"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = TransferSet::read(&dir, Hop::ToSigner).unwrap_err();
        assert_eq!(err.code(), "MEDIA-ENTRY", "{err}");
        std::fs::remove_file(dir.join("previous-skr.xml")).unwrap();
        let big = vec![b'x'; ksr::MAX_DOCUMENT_SIZE + 1];
        std::fs::write(dir.join("previous-skr.xml"), big).unwrap();
        let err = TransferSet::read(&dir, Hop::ToSigner).unwrap_err();
        assert_eq!(err.code(), "MEDIA-SIZE", "{err}");
    }
}

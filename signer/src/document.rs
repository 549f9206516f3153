//! Documents as read from disk or received: read once, within the size
//! limit, so that the bytes hashed are the bytes parsed.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use ksr::{CheckCode, DocumentRole, Finding, MAX_DOCUMENT_SIZE};
use sha2::{Digest as _, Sha256};

use crate::error::Error;

/// A document's bytes and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Its file, or the name it was received under.
    pub path: PathBuf,
    /// Its bytes; `None` when it is over the limit (`KSR-PARSE-SIZE`).
    bytes: Option<Vec<u8>>,
    /// Its size in bytes.
    size: u64,
}

impl Document {
    /// Reads a document: the size is checked before reading, and at most
    /// the limit plus one byte is read, so a huge or growing file costs
    /// nothing (`ksr-skr-format.md` §4.2 P2).
    ///
    /// # Errors
    ///
    /// The file cannot be opened or read.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = File::open(path).map_err(Error::read(path))?;
        let limit = u64::try_from(MAX_DOCUMENT_SIZE).unwrap_or(u64::MAX);
        let size = file.metadata().map_err(Error::read(path))?.len();
        if size > limit {
            return Ok(Self {
                path: path.to_owned(),
                bytes: None,
                size,
            });
        }
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(Error::read(path))?;
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        Ok(Self {
            path: path.to_owned(),
            bytes: (size <= limit).then_some(bytes),
            size,
        })
    }

    /// A document received (by the service) under a name.
    pub fn received(name: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let within = bytes.len() <= MAX_DOCUMENT_SIZE;
        Self {
            path: name.into(),
            bytes: within.then_some(bytes),
            size,
        }
    }

    /// The bytes, or the finding that there are too many.
    ///
    /// # Errors
    ///
    /// `KSR-PARSE-SIZE`.
    pub fn bytes(&self, role: DocumentRole) -> Result<&[u8], Finding> {
        self.bytes.as_deref().ok_or_else(|| {
            Finding::error(
                CheckCode::ParseSize,
                role,
                format!(
                    "{}: the file has {} bytes, over the limit of {MAX_DOCUMENT_SIZE} bytes (1 MiB)",
                    self.path.display(),
                    self.size
                ),
            )
        })
    }

    /// The file name extension of its format: `xml` for IANA XML, `txt`
    /// for the Knot/BIND text format (and for a document over the limit).
    pub fn extension(&self) -> &'static str {
        extension(self.bytes.as_deref().unwrap_or_default())
    }

    /// The SHA-256 of the bytes (of nothing, for a document over the
    /// limit).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.bytes.as_deref().unwrap_or_default()).into()
    }

    /// Parses the document with `parse`.
    ///
    /// # Errors
    ///
    /// The findings of stage 1.
    pub fn parse<T>(
        &self,
        role: DocumentRole,
        parse: impl FnOnce(&[u8], DocumentRole) -> Result<T, Vec<Finding>>,
    ) -> Result<T, Vec<Finding>> {
        parse(self.bytes(role).map_err(|finding| vec![finding])?, role)
    }
}

/// Two parse results as one: both, or every finding of either.
///
/// # Errors
///
/// The findings of the one or both that did not parse.
pub fn join<A, B>(
    one: Result<A, Vec<Finding>>,
    other: Option<Result<B, Vec<Finding>>>,
) -> Result<(A, Option<B>), Vec<Finding>> {
    match (one, other.transpose()) {
        (Ok(one), Ok(other)) => Ok((one, other)),
        (one, other) => {
            let mut findings = one.err().unwrap_or_default();
            findings.extend(other.err().unwrap_or_default());
            Err(findings)
        }
    }
}

/// The file name extension of a KSR's or SKR's format, from its bytes.
pub(crate) fn extension(bytes: &[u8]) -> &'static str {
    if ksr::detect_format(bytes) == ksr::Format::Xml {
        "xml"
    } else {
        "txt"
    }
}

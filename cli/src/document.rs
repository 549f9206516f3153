//! Reading documents from disk within the size limit.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ksr::{CheckCode, DocumentRole, Finding, MAX_DOCUMENT_SIZE};

use crate::error::CliError;

/// A document's bytes, or the finding that it is too large.
pub enum Loaded {
    /// The bytes, at most the limit.
    Bytes(Vec<u8>),
    /// The file is over the limit (`KSR-PARSE-SIZE`).
    TooLarge(Finding),
}

/// Reads a document: the size is checked before reading, and at most the
/// limit plus one byte is read, so a huge or growing file costs nothing
/// (`ksr-skr-format.md` §4.2 P2).
///
/// # Errors
///
/// The file cannot be opened or read.
pub fn load(path: &Path, role: DocumentRole) -> Result<Loaded, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let limit = u64::try_from(MAX_DOCUMENT_SIZE).unwrap_or(u64::MAX);
    let too_large = |size: u64| {
        Loaded::TooLarge(Finding::error(
            CheckCode::ParseSize,
            role,
            format!(
                "{}: the file has {size} bytes, over the limit of {MAX_DOCUMENT_SIZE} bytes (1 MiB)",
                path.display()
            ),
        ))
    };
    let size = file.metadata().map_err(read_error)?.len();
    if size > limit {
        return Ok(too_large(size));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > MAX_DOCUMENT_SIZE {
        return Ok(too_large(u64::try_from(bytes.len()).unwrap_or(u64::MAX)));
    }
    Ok(Loaded::Bytes(bytes))
}

//! Reading documents from disk within the size limit.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ksr::{CheckCode, DocumentRole, Finding, MAX_DOCUMENT_SIZE};

use crate::error::{CliError, Outcome};
use crate::render::{self, Context, Files};

/// A document's bytes, or the finding that it is too large.
enum Loaded {
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
fn load(path: &Path, role: DocumentRole) -> Result<Loaded, CliError> {
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

/// Reads and parses a document, returning its findings if it cannot be
/// parsed.
///
/// # Errors
///
/// The file cannot be read.
pub fn parse_file<T>(
    path: &Path,
    role: DocumentRole,
    parse: impl FnOnce(&[u8], DocumentRole) -> Result<T, Vec<Finding>>,
) -> Result<Result<T, Vec<Finding>>, CliError> {
    Ok(match load(path, role)? {
        Loaded::Bytes(bytes) => parse(&bytes, role),
        Loaded::TooLarge(finding) => Err(vec![finding]),
    })
}

/// A parsed document, or why it is not one.
pub type Parsed<T> = Result<T, Vec<Finding>>;

/// Reads a document once, within the limit, and parses those bytes:
/// returns the bytes too, so what is hashed is what is parsed.
///
/// # Errors
///
/// The file cannot be read.
pub fn parse_file_with_bytes<T>(
    path: &Path,
    role: DocumentRole,
    parse: impl FnOnce(&[u8], DocumentRole) -> Result<T, Vec<Finding>>,
) -> Result<(Vec<u8>, Parsed<T>), CliError> {
    Ok(match load(path, role)? {
        Loaded::Bytes(bytes) => {
            let parsed = parse(&bytes, role);
            (bytes, parsed)
        }
        Loaded::TooLarge(finding) => (Vec::new(), Err(vec![finding])),
    })
}

/// Reads and parses a document; if it cannot be parsed, prints its
/// findings and returns the outcome they mean instead. `kind` names the
/// document for the summary line ("KSR", "SKR").
///
/// # Errors
///
/// The file cannot be read, or the findings cannot be printed.
pub fn read_parsed<T>(
    path: &Path,
    role: DocumentRole,
    kind: &str,
    parse: impl FnOnce(&[u8], DocumentRole) -> Result<T, Vec<Finding>>,
    context: &Context,
) -> Result<Result<T, Outcome>, CliError> {
    match parse_file(path, role, parse)? {
        Ok(document) => Ok(Ok(document)),
        Err(mut findings) => {
            let summary = format!("not a readable {kind}");
            render::findings(context, &Files::one(path), &mut findings, &summary).map(Err)
        }
    }
}

/// A document and an optional second one (SKR(n-1), the KSR answered)
/// as parsed: both, or every finding of either.
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

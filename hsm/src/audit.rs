//! The audit log: an append-only file of JSON lines, each entry chained to
//! the SHA-256 of the line before it and synced to disk as it happens.
//!
//! The chain shows an entry edited, removed or moved anywhere but at the
//! end: the entry after it records another hash, or the sequence breaks.
//! What the chain cannot show alone is a change to the last entries; so
//! the hash of the last line (the head) is printed when a ceremony ends,
//! for the witnesses' minutes, and `verify` checks a log against it.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The `prev` of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The largest log read (a ceremony writes a few hundred lines).
pub const MAX_LOG: u64 = 64 * 1024 * 1024;

//------------ Entry ---------------------------------------------------------

/// Who acted: a card and its officer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The card's serial.
    pub card: String,
    /// The officer's name.
    pub officer: String,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1 for the first entry, then one more each.
    pub seq: u64,
    /// When, RFC 3339 UTC, as the caller's clock said.
    pub time: String,
    /// What happened, such as `activation-refused` or `skr-written`.
    pub event: String,
    /// The card and officer, where one acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// What it concerned: hashes of documents, key tags, reasons.
    pub details: serde_json::Map<String, serde_json::Value>,
    /// SHA-256 of the previous line, hex (zeros for the first).
    pub prev: String,
}

//------------ AuditError ----------------------------------------------------

/// What `verify` found, naming the first entry concerned.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The chain is broken at an entry.
    #[error("entry {entry} (line {line}): {problem}")]
    Broken {
        /// The first entry that was edited, removed or reordered.
        entry: u64,
        /// The line where it shows.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// No entry of the log hashes to the witnesses' head.
    #[error(
        "no entry of the log hashes to the witnessed head {expected} (a head is the 64 hex digits printed at the end of an operation; this log's is {found}): the entries up to the witnessed one were changed or removed"
    )]
    Head {
        /// The head given.
        expected: String,
        /// The log's.
        found: String,
    },
}

//------------ AuditLog ------------------------------------------------------

/// The log, open for appending.
pub struct AuditLog {
    path: PathBuf,
    /// Open for appending and locked against other processes.
    file: durable::AppendFile,
    head: String,
    next: u64,
    /// A write failed: the file may end in a torn line, so nothing more is
    /// appended through this handle.
    failed: bool,
}

impl AuditLog {
    /// Opens a log (made if absent), after verifying its whole chain.
    ///
    /// # Errors
    ///
    /// It cannot be opened, or its chain is broken: nothing is appended to
    /// a log that does not verify.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_owned(),
            source,
        };
        // Mode 0600 whatever the umask (the log names officers and cards),
        // one writer at a time (two would fork the chain).
        let file = durable::AppendFile::open(path).map_err(|err| {
            if err.kind() == io::ErrorKind::WouldBlock {
                io(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the audit log is open in another process",
                ))
            } else {
                io(err)
            }
        })?;
        let (entries, head) = read_chain(path, true)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            head,
            next: u64::try_from(entries.len())
                .unwrap_or(u64::MAX)
                .saturating_add(1),
            failed: false,
        })
    }

    /// Appends an entry and syncs it to disk before returning.
    ///
    /// # Errors
    ///
    /// The write or the sync failed.
    pub fn append(
        &mut self,
        time: &str,
        event: &str,
        actor: Option<Actor>,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Entry, AuditError> {
        if self.failed {
            return Err(AuditError::Io {
                path: self.path.clone(),
                source: io::Error::other("an earlier write failed; reopen and verify the log"),
            });
        }
        let entry = Entry {
            seq: self.next,
            time: time.to_owned(),
            event: event.to_owned(),
            actor,
            details,
            prev: self.head.clone(),
        };
        let line = serde_json::to_string(&entry).map_err(|err| AuditError::Io {
            path: self.path.clone(),
            source: io::Error::other(err),
        })?;
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        if let Err(source) = self.file.append(&bytes) {
            self.failed = true;
            return Err(AuditError::Io {
                path: self.path.clone(),
                source,
            });
        }
        self.head = hex::encode(Sha256::digest(line.as_bytes()));
        self.next += 1;
        Ok(entry)
    }

    /// The SHA-256 of the last line: what witnesses write down.
    pub fn head(&self) -> &str {
        &self.head
    }
}

/// Reads and verifies a whole log; returns its entries.
///
/// # Errors
///
/// [`AuditError::Broken`] naming the first entry edited, removed or
/// reordered; or the file cannot be read.
pub fn read(path: &Path) -> Result<Vec<Entry>, AuditError> {
    read_chain(path, false).map(|(entries, _)| entries)
}

/// Reads and verifies a whole log (an absent one is empty if
/// `absent_is_empty`, as for a log about to be started); returns its
/// entries and its head, the hash of the last line exactly as checked.
fn read_chain(path: &Path, absent_is_empty: bool) -> Result<(Vec<Entry>, String), AuditError> {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(AuditError::Io { source, .. })
            if absent_is_empty && source.kind() == io::ErrorKind::NotFound =>
        {
            return Ok((Vec::new(), GENESIS.to_owned()));
        }
        Err(err) => return Err(err),
    };
    parse_chain(&text)
}

/// Verifies the text of a whole log (at most [`MAX_LOG`] bytes, as read
/// from its file); returns its entries and its head. Every problem names
/// the entry and the line.
///
/// # Errors
///
/// [`AuditError::Broken`] naming the first entry edited, removed or
/// reordered, or a line that is not an entry.
pub fn parse_chain(text: &str) -> Result<(Vec<Entry>, String), AuditError> {
    let mut entries = Vec::new();
    let mut prev = GENESIS.to_owned();
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let expected = u64::try_from(line).unwrap_or(u64::MAX);
        let broken = |entry: u64, problem: String| AuditError::Broken {
            entry,
            line,
            problem,
        };
        let Some(content) = raw.strip_suffix('\n') else {
            return Err(broken(
                expected,
                "the last line is cut short (a write did not finish)".into(),
            ));
        };
        let entry: Entry = serde_json::from_str(content)
            .map_err(|err| broken(expected, format!("not an entry: {err}")))?;
        if entry.seq != expected {
            let problem = if entry.seq > expected {
                format!(
                    "line {line} holds entry {} where entry {expected} belongs: entry {expected} was removed or moved",
                    entry.seq
                )
            } else {
                format!(
                    "line {line} holds entry {} where entry {expected} belongs: entries were reordered or repeated",
                    entry.seq
                )
            };
            // A line holding seq 0 still names an entry that exists.
            return Err(broken(expected.min(entry.seq).max(1), problem));
        }
        if entry.prev != prev {
            return Err(AuditError::Broken {
                entry: expected.saturating_sub(1).max(1),
                line: line.saturating_sub(1).max(1),
                problem: format!(
                    "entry {expected} records {} as the hash of the entry before it, which hashes to {prev}: that entry was edited",
                    entry.prev
                ),
            });
        }
        prev = hex::encode(Sha256::digest(content.as_bytes()));
        entries.push(entry);
    }
    Ok((entries, prev))
}

/// What [`verify`] found: an intact chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The number of entries.
    pub entries: usize,
    /// The hash of the last line.
    pub head: String,
    /// When a witnessed head was given: the entry it is the hash of, and
    /// how many entries followed it.
    pub witnessed: Option<(u64, usize)>,
}

/// Verifies a log and, when given, that a head the witnesses wrote down
/// is the hash of one of its entries: the last one when the log has not
/// grown since, or an earlier one, followed by the entries written after.
///
/// # Errors
///
/// As [`read`]; [`AuditError::Head`] when no entry hashes to the
/// witnessed head (the entries up to it were changed or removed), or it
/// is not a whole SHA-256.
pub fn verify(path: &Path, witnessed: Option<&str>) -> Result<Verified, AuditError> {
    let (entries, head) = read_chain(path, false)?;
    let found = match witnessed {
        None => None,
        Some(expected) => {
            if expected.len() != 64 || !expected.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(AuditError::Head {
                    expected: expected.to_owned(),
                    found: head,
                });
            }
            // The hash of entry n is entry n + 1's `prev`; the last one's
            // is the head.
            let hashes = entries
                .iter()
                .skip(1)
                .map(|entry| entry.prev.as_str())
                .chain(std::iter::once(head.as_str()));
            let position = hashes
                .zip(&entries)
                .position(|(hash, _)| hash.eq_ignore_ascii_case(expected));
            match position {
                Some(index) => {
                    let seq = entries.get(index).map_or(0, |entry| entry.seq);
                    Some((seq, entries.len() - index - 1))
                }
                None => {
                    return Err(AuditError::Head {
                        expected: expected.to_owned(),
                        found: head,
                    });
                }
            }
        }
    };
    Ok(Verified {
        entries: entries.len(),
        head,
        witnessed: found,
    })
}

/// The log's text; a log larger than [`MAX_LOG`] is an error, never read
/// in part.
fn read_text(path: &Path) -> Result<String, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_LOG + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_LOG {
        return Err(io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_LOG} bytes"),
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a panic in a test is a failing test"
    )]

    use super::*;

    /// A log of five entries; returns its path and lines.
    fn log(dir: &Path) -> (PathBuf, Vec<String>) {
        let path = dir.join("audit.log");
        let mut log = AuditLog::open(&path).unwrap();
        for number in 1..=5 {
            let mut details = serde_json::Map::new();
            details.insert("number".into(), number.into());
            let actor = (number == 3).then(|| Actor {
                card: "070001".into(),
                officer: "CO-1".into(),
            });
            log.append("2026-11-28T06:00:00Z", "test", actor, details)
                .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text.lines().map(str::to_owned).collect())
    }

    fn write(path: &Path, lines: &[String]) {
        std::fs::write(
            path,
            lines
                .iter()
                .map(|line| format!("{line}\n"))
                .collect::<String>(),
        )
        .unwrap();
    }

    fn broken_entry(path: &Path) -> u64 {
        match read(path) {
            Err(AuditError::Broken { entry, .. }) => entry,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_untouched_log_verifies_and_reopens_where_it_ended() {
        let dir = tempfile::tempdir().unwrap();
        let (path, lines) = log(dir.path());
        let verified = verify(&path, None).unwrap();
        let head = verified.head.clone();
        assert_eq!(verified.entries, 5);
        assert_eq!(head, hex::encode(Sha256::digest(lines[4].as_bytes())));
        assert_eq!(verify(&path, Some(&head)).unwrap().witnessed, Some((5, 0)));
        let mut log = AuditLog::open(&path).unwrap();
        let entry = log
            .append("2026-11-28T06:01:00Z", "more", None, serde_json::Map::new())
            .unwrap();
        assert_eq!((entry.seq, entry.prev), (6, head.clone()));
        assert_eq!(read(&path).unwrap().len(), 6);
        // A head witnessed before the log grew is still found, with the
        // entries after it counted; so is an earlier one, in capitals.
        assert_eq!(verify(&path, Some(&head)).unwrap().witnessed, Some((5, 1)));
        let second = hex::encode(Sha256::digest(lines[1].as_bytes())).to_uppercase();
        assert_eq!(
            verify(&path, Some(&second)).unwrap().witnessed,
            Some((2, 4))
        );
        // A short form is not a head.
        assert!(matches!(
            verify(&path, Some(&head[..16])),
            Err(AuditError::Head { .. })
        ));
    }

    #[test]
    fn an_edit_a_deletion_and_a_swap_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (path, lines) = log(dir.path());
        // An edit of entry 2.
        let mut edited = lines.clone();
        edited[1] = edited[1].replace("\"number\":2", "\"number\":7");
        write(&path, &edited);
        assert_eq!(broken_entry(&path), 2);
        // Entry 3 deleted.
        let mut deleted = lines.clone();
        deleted.remove(2);
        write(&path, &deleted);
        assert_eq!(broken_entry(&path), 3);
        // Entries 4 and 5 swapped.
        let mut swapped = lines.clone();
        swapped.swap(3, 4);
        write(&path, &swapped);
        assert_eq!(broken_entry(&path), 4);
        // The last entry edited: only the witnessed head shows it.
        let mut last = lines.clone();
        last[4] = last[4].replace("\"number\":5", "\"number\":6");
        write(&path, &last);
        assert!(read(&path).is_ok());
        let head = hex::encode(Sha256::digest(lines[4].as_bytes()));
        assert!(matches!(
            verify(&path, Some(&head)),
            Err(AuditError::Head { .. })
        ));
        // A line cut short by a crash.
        write(&path, &lines);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(broken_entry(&path), 5);
        // A log that does not verify is not appended to.
        assert!(AuditLog::open(&path).is_err());
    }
}

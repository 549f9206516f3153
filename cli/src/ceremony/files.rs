//! Small things the ceremony commands write and make: atomic files,
//! random identifiers, digits, times.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;

use ksr::DocumentRole;
use rand::TryRng as _;
use zeroize::Zeroizing;

use crate::error::CliError;

/// Writes a file atomically: a fresh temporary file beside it, synced,
/// renamed over the target, the directory synced. With `exclusive`, an
/// existing target is an error and is left as it is.
pub fn write_atomically(path: &Path, bytes: &[u8], exclusive: bool) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    if exclusive {
        temporary.persist_noclobber(path).map_err(|err| {
            if err.error.kind() == io::ErrorKind::AlreadyExists {
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists; it is not overwritten", path.display()),
                )
            } else {
                err.error
            }
        })?;
    } else {
        temporary.persist(path).map_err(|err| err.error)?;
    }
    File::open(directory)?.sync_all()
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0; N]);
    if rand::rngs::SysRng.try_fill_bytes(bytes.as_mut()).is_err() {
        // Nothing may go on with predictable bytes.
        panic!("the operating system's random number generator failed");
    }
    bytes
}

/// A random RFC 9562 version 4 UUID in lowercase, as KSR and bundle ids.
pub fn uuid() -> String {
    let mut bytes = *random::<16>();
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let (time_low, rest) = bytes.split_at(4);
    let (time_mid, rest) = rest.split_at(2);
    let (version, rest) = rest.split_at(2);
    let (variant, node) = rest.split_at(2);
    [time_low, time_mid, version, variant, node]
        .map(hex::encode)
        .join("-")
}

/// A random string of decimal digits (a PUK), uniformly drawn.
pub fn digits(count: usize) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(count));
    while text.len() < count {
        let [byte] = *random::<1>();
        // 250 = 25 · 10: rejecting 250..=255 keeps the digits uniform.
        if byte < 250 {
            text.push(char::from(b'0' + byte % 10));
        }
    }
    text
}

/// A card serial: eight random hexadecimal digits, upper case.
pub fn serial() -> String {
    hex::encode_upper(*random::<4>())
}

/// Writes the SKR: a fresh temporary file beside the target, synced,
/// read back from disk and checked (SKR-REREAD), and only then renamed
/// into place; an existing file is never overwritten.
pub fn write_skr(path: &Path, signed: &ksr::Signed) -> Result<(), CliError> {
    write_checked(path, signed.xml.as_bytes(), |reread| {
        ksr::parse_skr(reread, DocumentRole::NewSkr).is_ok_and(|back| {
            back == signed.skr && ksr::check_skr(&back, DocumentRole::NewSkr).is_empty()
        })
    })
}

/// Writes `bytes` to a fresh temporary file beside `path`, synced, reads it
/// back from disk, and renames it into place only if it reads back the
/// same and `good` accepts it (SKR-REREAD); an existing file is never
/// overwritten.
pub fn write_checked(
    path: &Path,
    bytes: &[u8],
    good: impl Fn(&[u8]) -> bool,
) -> Result<(), CliError> {
    let error = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(directory).map_err(error)?;
    temporary.write_all(bytes).map_err(error)?;
    temporary.as_file().sync_all().map_err(error)?;
    let reread = std::fs::read(temporary.path()).map_err(error)?;
    if reread != bytes || !good(&reread) {
        return Err(CliError::Runtime(
            "SKR-REREAD: the SKR on disk differs from what was signed; nothing was kept".into(),
        ));
    }
    temporary
        .persist_noclobber(path)
        .map_err(|err| error(err.error))?;
    File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(error)
}

//! The PEM armour around one private key (RFC 7468 §2, with RFC 1421's
//! headers recognized only to refuse an encrypted key).
//!
//! Stricter than RFC 7468 asks of parsers: only blank lines may come
//! before the BEGIN line and after the END line, so a file of two keys, or
//! a key with something pasted after it, is refused rather than read in
//! part. One exception: `openssl ecparam -genkey` writes an
//! `EC PARAMETERS` block before the `EC PRIVATE KEY`; that pair is read.

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::KeyFileError;
use crate::import::KeyFileFormat;

//------------ Label ---------------------------------------------------------

/// What the BEGIN line says the block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    /// `PRIVATE KEY`: PKCS#8 `PrivateKeyInfo` (RFC 5208 §5, RFC 5958 §2).
    Pkcs8,
    /// `RSA PRIVATE KEY`: PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2).
    Pkcs1,
    /// `EC PRIVATE KEY`: SEC1 `ECPrivateKey` (RFC 5915 §3).
    Sec1,
}

impl Label {
    /// The format a block of this label is.
    pub(crate) fn format(self) -> KeyFileFormat {
        match self {
            Self::Pkcs8 => KeyFileFormat::Pkcs8Pem,
            Self::Pkcs1 => KeyFileFormat::Pkcs1Pem,
            Self::Sec1 => KeyFileFormat::Sec1Pem,
        }
    }
}

//------------ Block ---------------------------------------------------------

/// One decoded private key block.
pub(crate) struct Block {
    /// What it is.
    pub label: Label,
    /// The DER inside (wiped on drop).
    pub der: Zeroizing<Vec<u8>>,
    /// The DER of an `EC PARAMETERS` block before it, if any (public).
    pub parameters: Option<Vec<u8>>,
}

/// Whether the text holds PEM at all (perhaps after other text, which
/// [`parse`] then refuses).
pub(crate) fn is_pem(text: &str) -> bool {
    text.contains("-----BEGIN ")
}

/// Reads the one private key block of a text.
pub(crate) fn parse(text: &str) -> Result<Block, KeyFileError> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty());
    let mut label = begin(lines.next())?;
    let mut parameters = None;
    if label == "EC PARAMETERS" {
        parameters = Some(body(&mut lines, label)?.to_vec());
        let after =
            KeyFileError::Pem("EC PARAMETERS is followed by something other than EC PRIVATE KEY");
        label = begin(lines.by_ref().find(|line| !line.is_empty())).map_err(|_| after.clone())?;
        if label != "EC PRIVATE KEY" {
            return Err(after);
        }
    }
    let kind = match label {
        "PRIVATE KEY" => Label::Pkcs8,
        "RSA PRIVATE KEY" => Label::Pkcs1,
        "EC PRIVATE KEY" => Label::Sec1,
        "ENCRYPTED PRIVATE KEY" => {
            return Err(KeyFileError::Encrypted("a PKCS#8 ENCRYPTED PRIVATE KEY"));
        }
        other => return Err(KeyFileError::PemLabel(printable(other))),
    };
    let der = body(&mut lines, label)?;
    if lines.any(|line| !line.is_empty()) {
        return Err(KeyFileError::Trailing {
            format: kind.format(),
            what: "text follows the END line",
        });
    }
    Ok(Block {
        label: kind,
        der,
        parameters,
    })
}

/// The label of a BEGIN line.
fn begin(line: Option<&str>) -> Result<&str, KeyFileError> {
    let line = line.ok_or(KeyFileError::Pem("ends before its BEGIN line"))?;
    line.strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.strip_suffix("-----"))
        .ok_or(KeyFileError::Pem("is preceded by other text"))
}

/// The decoded body of a block, up to and including its END line.
fn body<'a>(
    lines: &mut impl Iterator<Item = &'a str>,
    label: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let mut text = Zeroizing::new(String::new());
    let mut first = true;
    loop {
        let line = lines.next().ok_or(KeyFileError::Pem("has no END line"))?;
        if let Some(end) = line.strip_prefix("-----END ") {
            if end.strip_suffix("-----") == Some(label) {
                break;
            }
            return Err(KeyFileError::Pem(
                "ends with an END line that does not match its BEGIN line",
            ));
        }
        // RFC 1421 headers come first; an unencrypted key has none.
        if first && line.contains(':') {
            if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                return Err(KeyFileError::Encrypted("Proc-Type: 4,ENCRYPTED"));
            }
            return Err(KeyFileError::Pem(
                "has headers (such as DEK-Info), which an unencrypted key never has",
            ));
        }
        first = false;
        if text.capacity() == 0 {
            // Large enough for the whole body, so it is never reallocated
            // (and a copy of it left unwiped).
            text.reserve(crate::import::MAX_KEY_FILE);
        }
        text.push_str(line);
    }
    let mut der = Zeroizing::new(Vec::with_capacity(text.len() + 3));
    base64::engine::general_purpose::STANDARD
        .decode_vec(text.as_bytes(), &mut der)
        .map_err(|_| KeyFileError::Pem("body is not base64"))?;
    Ok(der)
}

/// A label as it may be shown: printable ASCII, at most 40 characters.
fn printable(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(40)
        .collect()
}

//! A small DER reader and writer (ITU-T X.690 §10), enough for the private
//! key structures of PKCS#8 (RFC 5208, RFC 5958), PKCS#1 (RFC 8017
//! §A.1.2) and SEC1 (RFC 5915).
//!
//! Only what those structures use: one-byte tags, definite lengths (at most
//! three length octets, far above any key file), nothing indefinite. The
//! reader never recurses: callers open each level they expect, so depth is
//! bounded by the code, not by the input. The writer sizes each buffer
//! before filling it, so no secret is left behind in a reallocated one.

use zeroize::Zeroizing;

//------------ Tags ----------------------------------------------------------

/// INTEGER.
pub(crate) const INTEGER: u8 = 0x02;
/// BIT STRING.
pub(crate) const BIT_STRING: u8 = 0x03;
/// OCTET STRING.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// NULL.
pub(crate) const NULL: u8 = 0x05;
/// OBJECT IDENTIFIER.
pub(crate) const OID: u8 = 0x06;
/// SEQUENCE.
pub(crate) const SEQUENCE: u8 = 0x30;
/// `[0]`, constructed (SEC1's parameters, PKCS#8's attributes).
pub(crate) const CONTEXT_0: u8 = 0xa0;
/// `[1]`, constructed (SEC1's public key).
pub(crate) const CONTEXT_1: u8 = 0xa1;
/// `[1] IMPLICIT`, primitive (RFC 5958's public key).
pub(crate) const IMPLICIT_1: u8 = 0x81;

/// The largest length read: three length octets.
const MAX_LENGTH: usize = 0xff_ffff;

//------------ DerError ------------------------------------------------------

/// What is wrong with DER input. Names what was expected, never what was
/// there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DerError {
    /// The input ends inside an element.
    Truncated,
    /// A length that DER does not allow (indefinite, not minimal, too big).
    Length,
    /// Another element than the one expected.
    Expected(&'static str),
    /// A value that is not what its type allows.
    Value(&'static str),
    /// Bytes after the last element.
    Trailing,
}

impl DerError {
    /// The problem in words.
    pub(crate) fn problem(self) -> &'static str {
        match self {
            Self::Truncated => "the input ends inside an element",
            Self::Length => "a length that DER does not allow",
            Self::Expected(what) | Self::Value(what) => what,
            Self::Trailing => "bytes follow the last element",
        }
    }
}

//------------ Reader --------------------------------------------------------

/// Reads the elements of one level, in order.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over these bytes.
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element's tag and contents.
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let (&tag, rest) = self.rest.split_first().ok_or(DerError::Truncated)?;
        let (&first, mut rest) = rest.split_first().ok_or(DerError::Truncated)?;
        let length = match first {
            0..=0x7f => usize::from(first),
            0x81..=0x83 => {
                let count = usize::from(first & 0x7f);
                let (octets, after) = rest.split_at_checked(count).ok_or(DerError::Truncated)?;
                rest = after;
                let length = octets
                    .iter()
                    .fold(0usize, |length, octet| (length << 8) | usize::from(*octet));
                // DER: the shortest form, so no leading zero octet and no
                // long form for what fits in the short one.
                if octets.first() == Some(&0) || !(0x80..=MAX_LENGTH).contains(&length) {
                    return Err(DerError::Length);
                }
                length
            }
            _ => return Err(DerError::Length),
        };
        let (contents, after) = rest.split_at_checked(length).ok_or(DerError::Truncated)?;
        self.rest = after;
        Ok((tag, contents))
    }

    /// The contents of the next element, which must have this tag;
    /// `what` names it in the error.
    pub(crate) fn read(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], DerError> {
        match self.peek() {
            Some(next) if next == tag => Ok(self.any()?.1),
            Some(_) => Err(DerError::Expected(what)),
            None => Err(DerError::Truncated),
        }
    }

    /// The contents of the next element if it has this tag.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, DerError> {
        if self.peek() == Some(tag) {
            Ok(Some(self.any()?.1))
        } else {
            Ok(None)
        }
    }

    /// A non-negative INTEGER, big-endian without leading zeros (zero is
    /// empty).
    pub(crate) fn unsigned(&mut self, what: &'static str) -> Result<&'a [u8], DerError> {
        let contents = self.read(INTEGER, what)?;
        match contents.first() {
            None => Err(DerError::Value("an INTEGER without contents")),
            Some(first) if first & 0x80 != 0 => Err(DerError::Value("a negative INTEGER")),
            Some(_) => {
                let start = contents
                    .iter()
                    .position(|octet| *octet != 0)
                    .unwrap_or(contents.len());
                Ok(contents.get(start..).unwrap_or_default())
            }
        }
    }

    /// A small non-negative INTEGER, such as a version.
    pub(crate) fn small(&mut self, what: &'static str) -> Result<u8, DerError> {
        match self.unsigned(what)? {
            [] => Ok(0),
            [value] => Ok(*value),
            _ => Err(DerError::Value(what)),
        }
    }

    /// Whether every element was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails if anything is left.
    pub(crate) fn finish(&self) -> Result<(), DerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DerError::Trailing)
        }
    }
}

/// The contents of a BIT STRING of whole octets.
pub(crate) fn bit_string_octets(contents: &[u8]) -> Result<&[u8], DerError> {
    match contents.split_first() {
        Some((0, octets)) => Ok(octets),
        _ => Err(DerError::Value("a BIT STRING that is not whole octets")),
    }
}

/// An OBJECT IDENTIFIER's contents in dotted form, for messages.
pub(crate) fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for octet in oid {
        value = value
            .saturating_mul(128)
            .saturating_add(u64::from(octet & 0x7f));
        if octet & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    let mut text = String::new();
    if let Some((&first, rest)) = arcs.split_first() {
        let (a, b) = match first {
            0..=39 => (0, first),
            40..=79 => (1, first - 40),
            _ => (2, first - 80),
        };
        text = format!("{a}.{b}");
        for arc in rest {
            text.push('.');
            text.push_str(&arc.to_string());
        }
    }
    if text.is_empty() || value != 0 || oid.last().is_some_and(|octet| octet & 0x80 != 0) {
        return "(a malformed OID)".into();
    }
    text
}

//------------ Writer --------------------------------------------------------

/// The length octets of a length: the short form below 128, else the
/// long form with no leading zero octet.
fn length_octets(length: usize) -> Vec<u8> {
    if let Ok(short) = u8::try_from(length)
        && short < 0x80
    {
        return vec![short];
    }
    let octets = length.to_be_bytes();
    let start = octets
        .iter()
        .position(|octet| *octet != 0)
        .unwrap_or(octets.len());
    let significant = octets.get(start..).unwrap_or_default();
    let mut out = Vec::with_capacity(1 + significant.len());
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0x7f));
    out.extend_from_slice(significant);
    out
}

/// One element: a tag and the concatenation of `parts`, in a buffer of
/// exactly its size (wiped on drop).
pub(crate) fn element(tag: u8, parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let length: usize = parts.iter().map(|part| part.len()).sum();
    let header = length_octets(length);
    let mut out = Zeroizing::new(Vec::with_capacity(1 + header.len() + length));
    out.push(tag);
    out.extend_from_slice(&header);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// A non-negative INTEGER from big-endian octets (leading zeros dropped,
/// one added where the top bit is set).
pub(crate) fn unsigned(value: &[u8]) -> Zeroizing<Vec<u8>> {
    let start = value
        .iter()
        .position(|octet| *octet != 0)
        .unwrap_or(value.len());
    let value = value.get(start..).unwrap_or_default();
    match value.first() {
        None => element(INTEGER, &[&[0]]),
        Some(first) if first & 0x80 != 0 => element(INTEGER, &[&[0], value]),
        Some(_) => element(INTEGER, &[value]),
    }
}

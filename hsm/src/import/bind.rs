//! BIND's private key files, `K<zone>+<algorithm>+<tag>.private`, as
//! `dnssec-keygen` writes them (the format of BIND's `lib/dns/dst_parse.c`).
//!
//! ```text
//! Private-key-format: v1.3
//! Algorithm: 13 (ECDSAP256SHA256)
//! PrivateKey: <base64 of the 32-octet scalar>
//! Created: 20260101000000
//! Publish: 20260101000000
//! Activate: 20260101000000
//! ```
//!
//! An RSA key has `Modulus`, `PublicExponent`, `PrivateExponent`,
//! `Prime1`, `Prime2`, `Exponent1`, `Exponent2` and `Coefficient`: the
//! PKCS#1 numbers (RFC 8017 §A.1.2) in that order, each big-endian in
//! base64. ECDSA and Ed25519 keys have `PrivateKey`: the scalar, or the
//! RFC 8032 seed. Timing and other metadata lines are ignored; a field BIND
//! does not write is refused, as BIND itself refuses it. A key whose file
//! names an engine or a label (`Engine:`, `Label:`) lives in an HSM and has
//! no private key here.

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::{BindProblem, KeyFileError};
use crate::import::der::{self, SEQUENCE};
use crate::import::pkcs::p256_scalar;
use crate::import::{KeyFileFormat, Material};

/// The first line's field.
const FORMAT_FIELD: &str = "Private-key-format:";
/// The second line's field.
const ALGORITHM_FIELD: &str = "Algorithm:";

/// An RSA key's fields, in PKCS#1's order.
const RSA_FIELDS: [&str; 8] = [
    "Modulus",
    "PublicExponent",
    "PrivateExponent",
    "Prime1",
    "Prime2",
    "Exponent1",
    "Exponent2",
    "Coefficient",
];

/// An ECDSA or EdDSA key's one field.
const PRIVATE_KEY: &str = "PrivateKey";

/// Fields that say the key is kept elsewhere.
const EXTERNAL: [&str; 4] = ["Engine", "Label", "PIN", "External"];

/// Timing and other metadata BIND writes; ignored.
const METADATA: [&str; 17] = [
    "Created",
    "Publish",
    "Activate",
    "Revoke",
    "Inactive",
    "Delete",
    "DSPublish",
    "DSDelete",
    "SyncPublish",
    "SyncDelete",
    "Predecessor",
    "Successor",
    "MaxTTL",
    "RollPeriod",
    "Lifetime",
    "DSPubCount",
    "DSRemCount",
];

/// Whether the text is a BIND private key file (by its first line).
pub(crate) fn is_bind(text: &str) -> bool {
    text.starts_with(FORMAT_FIELD)
}

/// Reads a BIND private key file.
pub(crate) fn parse(text: &str) -> Result<Material, KeyFileError> {
    let at = |line: usize| move |problem: BindProblem| KeyFileError::Bind { line, problem };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line));

    let (number, line) = lines.next().unwrap_or((1, ""));
    let version = line
        .strip_prefix(FORMAT_FIELD)
        .map(str::trim)
        .ok_or(BindProblem::FormatLine)
        .map_err(at(number))?;
    if !matches!(version, "v1.2" | "v1.3") {
        return Err(at(number)(BindProblem::Version(
            version
                .chars()
                .filter(char::is_ascii_graphic)
                .take(16)
                .collect(),
        )));
    }

    let (number, line) = lines.next().unwrap_or((2, ""));
    let algorithm = line
        .strip_prefix(ALGORITHM_FIELD)
        .map(str::trim_start)
        .and_then(|rest| {
            let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
            digits.parse::<u8>().ok()
        })
        .ok_or(BindProblem::AlgorithmLine)
        .map_err(at(number))?;
    let fields: &[&'static str] = match algorithm {
        8 => &RSA_FIELDS,
        13 | 15 => &[PRIVATE_KEY],
        other => return Err(at(number)(BindProblem::Algorithm(other))),
    };

    let mut values: [Option<Zeroizing<Vec<u8>>>; 8] = Default::default();
    for (number, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(BindProblem::NoColon)
            .map_err(at(number))?;
        let name = name.trim();
        if METADATA
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name))
        {
            continue;
        }
        if let Some(external) = EXTERNAL
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name))
        {
            return Err(at(number)(BindProblem::External(external)));
        }
        let Some(index) = fields
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name))
        else {
            let other = RSA_FIELDS
                .iter()
                .chain([&PRIVATE_KEY])
                .find(|known| known.eq_ignore_ascii_case(name));
            return Err(at(number)(match other {
                Some(other) => BindProblem::OtherAlgorithm(other),
                None => BindProblem::UnknownField(
                    name.chars()
                        .filter(char::is_ascii_graphic)
                        .take(32)
                        .collect(),
                ),
            }));
        };
        let field = fields.get(index).copied().unwrap_or(PRIVATE_KEY);
        let slot = values
            .get_mut(index)
            .ok_or(BindProblem::UnknownField(field.into()))
            .map_err(at(number))?;
        if slot.is_some() {
            return Err(at(number)(BindProblem::Duplicate(field)));
        }
        *slot = Some(decode(value, field).map_err(at(number))?);
    }

    let mut taken = values.into_iter();
    let mut take = |field: &'static str| {
        taken
            .next()
            .flatten()
            .ok_or(KeyFileError::BindMissing { field, algorithm })
    };
    match algorithm {
        8 => {
            let mut numbers = Vec::with_capacity(RSA_FIELDS.len());
            for field in RSA_FIELDS {
                numbers.push(take(field)?);
            }
            let version = der::unsigned(&[0]);
            let encoded: Vec<Zeroizing<Vec<u8>>> =
                numbers.iter().map(|number| der::unsigned(number)).collect();
            let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + encoded.len());
            parts.push(version.as_slice());
            parts.extend(encoded.iter().map(|number| number.as_slice()));
            let public = |index: usize| {
                numbers.get(index).map_or_else(Vec::new, |number| {
                    number
                        .iter()
                        .copied()
                        .skip_while(|octet| *octet == 0)
                        .collect()
                })
            };
            Ok(Material::Rsa {
                pkcs1: der::element(SEQUENCE, &parts),
                modulus: public(0),
                exponent: public(1),
            })
        }
        13 => {
            let value = take(PRIVATE_KEY)?;
            let (scalar, leading_zero) = p256_scalar(&value, KeyFileFormat::Bind)?;
            Ok(Material::P256 {
                scalar,
                public: None,
                leading_zero,
            })
        }
        _ => {
            let value = take(PRIVATE_KEY)?;
            let seed: [u8; 32] =
                value
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyFileError::PrivateLength {
                        format: KeyFileFormat::Bind,
                        what: "Ed25519 private key",
                        length: value.len(),
                        expected: "expected 32 (RFC 8080 §3)",
                    })?;
            Ok(Material::Ed25519 {
                seed: Zeroizing::new(seed),
                public: None,
            })
        }
    }
}

/// A field's base64 value (BIND's reader also takes it spread over
/// several words).
fn decode(value: &str, field: &'static str) -> Result<Zeroizing<Vec<u8>>, BindProblem> {
    let mut joined = Zeroizing::new(String::with_capacity(value.len()));
    joined.extend(value.chars().filter(|c| !c.is_ascii_whitespace()));
    if joined.is_empty() {
        return Err(BindProblem::Empty(field));
    }
    let mut decoded = Zeroizing::new(Vec::with_capacity(joined.len() + 3));
    base64::engine::general_purpose::STANDARD
        .decode_vec(joined.as_bytes(), &mut decoded)
        .map_err(|_| BindProblem::NotBase64(field))?;
    Ok(decoded)
}

//! Base64 as the documents write it (RFC 4648 §4, `xsd:base64Binary`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Encodes octets as canonical base64: standard alphabet, padding, no line
/// breaks.
pub fn to_base64(octets: &[u8]) -> String {
    STANDARD.encode(octets)
}

/// Decodes document base64: XML white space may stand anywhere and is
/// removed first (`ksr-skr-format.md` §4.2 P8). Padding must be correct and
/// unused bits zero, so that the canonical re-encoding gives the same text.
///
/// # Errors
///
/// An empty value, a character outside the alphabet, or wrong padding.
pub fn from_document_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    if compact.is_empty() {
        return Err("the base64 value is empty".into());
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|err| format!("not valid base64: {err}"))
}

/// Serializes octets as base64 (for `serde`'s `serialize_with`).
pub(crate) fn serialize_base64<S: serde::Serializer>(
    octets: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_base64(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_ignored_and_padding_enforced() {
        assert_eq!(from_document_base64(" AwEA\n AQ== "), Ok(vec![3, 1, 0, 1]));
        assert!(from_document_base64("AwEAAQ").is_err());
        assert!(from_document_base64("AwEAAR==").is_err());
        assert!(from_document_base64(" \n").is_err());
        assert!(from_document_base64("Aw-_AQ==").is_err());
    }
}

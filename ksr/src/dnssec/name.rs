//! Absolute domain names, through NLnet Labs' `domain` crate.

use std::fmt;
use std::str::FromStr;

use domain::base::ToName;
use domain::base::name::Name;

//------------ DomainName ----------------------------------------------------

/// An absolute domain name, such as the zone of a KSR or an RRSIG's
/// Signer's Name.
///
/// It keeps the presentation text it was read from, because the documents
/// compare zone names as strings (`KSR-DOMAIN`) and the writer echoes them;
/// the wire form comes from `domain`'s parser, which handles escapes and
/// label limits (RFC 1035 §5.1).
#[derive(Clone, Debug)]
pub struct DomainName {
    text: String,
    name: Name<Vec<u8>>,
}

impl DomainName {
    /// Returns the root name, `.`.
    pub fn root() -> Self {
        Self {
            text: ".".into(),
            name: Name::root_vec(),
        }
    }

    /// Makes a name from a parsed `domain` name, written with its final
    /// dot.
    pub(crate) fn from_name(name: Name<Vec<u8>>) -> Self {
        let text = name.fmt_with_dot().to_string();
        Self { text, name }
    }

    /// Returns the text the name was read from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the canonical wire form (RFC 4034 §6.2): uncompressed, with
    /// every US-ASCII letter in lowercase.
    pub fn canonical_wire(&self) -> Vec<u8> {
        let mut wire = Vec::with_capacity(self.name.len());
        for label in self.name.iter() {
            let octets = label.as_slice();
            // A label is at most 63 octets, so the length fits the octet.
            wire.push(u8::try_from(octets.len()).unwrap_or(u8::MAX));
            wire.extend(octets.iter().map(u8::to_ascii_lowercase));
        }
        wire
    }

    /// Returns the RRSIG Labels value for this owner (RFC 4034 §3.1.3): the
    /// number of labels, not counting the root label or a leading `*`.
    pub fn rrsig_labels(&self) -> u8 {
        self.name.rrsig_label_count()
    }

    /// Returns whether two names are equal in DNS terms (case-insensitive).
    pub fn same_name(&self, other: &Self) -> bool {
        self.canonical_wire() == other.canonical_wire()
    }
}

//--- FromStr, Display, PartialEq

impl FromStr for DomainName {
    type Err = NameError;

    /// Reads a name in presentation format. A missing final dot is allowed:
    /// the name is absolute either way. The empty string is not a name.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(NameError("the name is empty".into()));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(NameError("the name contains white space".into()));
        }
        let name = Name::<Vec<u8>>::from_str(text).map_err(|err| NameError(err.to_string()))?;
        Ok(Self {
            text: text.to_owned(),
            name,
        })
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for DomainName {
    /// Names are equal when their text is equal, as the documents compare
    /// them; use [`DomainName::same_name`] for DNS equality.
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DomainName {}

//------------ NameError -----------------------------------------------------

/// A domain name that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid domain name: {0}")]
pub struct NameError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_wire_is_lowercase_and_uncompressed() {
        let name: DomainName = "Example.COM.".parse().unwrap();
        assert_eq!(name.canonical_wire(), b"\x07example\x03com\x00");
        assert_eq!(name.rrsig_labels(), 2);
        assert_eq!(DomainName::root().canonical_wire(), [0]);
        assert_eq!(DomainName::root().rrsig_labels(), 0);
    }

    #[test]
    fn wildcard_label_is_not_counted() {
        let name: DomainName = "*.example.".parse().unwrap();
        assert_eq!(name.rrsig_labels(), 1);
    }

    #[test]
    fn bad_names_are_refused() {
        assert!("".parse::<DomainName>().is_err());
        assert!("a..b".parse::<DomainName>().is_err());
        assert!("a b.".parse::<DomainName>().is_err());
        assert!(
            format!("{}.", "a".repeat(64))
                .parse::<DomainName>()
                .is_err()
        );
    }
}

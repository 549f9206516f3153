//! DNSKEY records in zone-file form (RFC 1035 §5), read with `domain`'s
//! zone-file scanner: for `ceremony ds` and for trusted KSKs.

use domain::base::ToName as _;
use domain::base::iana::Class;
use domain::rdata::ZoneRecordData;
use domain::zonefile::inplace::{Entry, Zonefile};

use crate::dnssec::algorithm::Algorithm;
use crate::dnssec::dnskey::{Dnskey, Flags};
use crate::dnssec::name::DomainName;

//------------ DnskeyRecord --------------------------------------------------

/// A DNSKEY record read from a zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnskeyRecord {
    /// The owner name.
    pub owner: DomainName,
    /// The TTL.
    pub ttl: u32,
    /// The RDATA.
    pub dnskey: Dnskey,
}

/// Reads the DNSKEY records of a zone-file text. Records of other types
/// (such as the RRSIGs `dig` prints beside the keys) are passed over;
/// relative names are taken relative to the root.
///
/// # Errors
///
/// A syntax error (with line and column), a class other than IN, an
/// `$INCLUDE` (no file is ever opened), or a text with no DNSKEY at all.
pub fn read_dnskeys(text: &str) -> Result<Vec<DnskeyRecord>, ZoneFileError> {
    let mut zonefile = Zonefile::new();
    zonefile.extend_from_slice(text.as_bytes());
    // The scanner needs the last entry to end with a line break.
    zonefile.extend_from_slice(b"\n");
    zonefile.set_origin(domain::base::Name::root_bytes());
    zonefile.set_default_class(Class::IN);
    let mut records = Vec::new();
    loop {
        let entry = zonefile
            .next_entry()
            .map_err(|err| ZoneFileError(err.to_string()))?;
        match entry {
            None => break,
            Some(Entry::Include { .. }) => {
                return Err(ZoneFileError("$INCLUDE is not allowed".into()));
            }
            Some(Entry::Record(record)) => {
                if record.class() != Class::IN {
                    return Err(ZoneFileError(format!(
                        "{}: class {} is not IN",
                        record.owner(),
                        record.class()
                    )));
                }
                let ZoneRecordData::Dnskey(rdata) = record.data() else {
                    continue;
                };
                let owner = DomainName::from_name(record.owner().to_vec());
                records.push(DnskeyRecord {
                    owner,
                    ttl: record.ttl().as_secs(),
                    dnskey: Dnskey::new(
                        Flags::from_int(rdata.flags()),
                        rdata.protocol(),
                        Algorithm::from_int(rdata.algorithm().to_int()),
                        rdata.public_key().to_vec(),
                    ),
                });
            }
        }
    }
    if records.is_empty() {
        return Err(ZoneFileError("no DNSKEY record found".into()));
    }
    Ok(records)
}

//------------ ZoneFileError -------------------------------------------------

/// Why a zone-file text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZoneFileError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_skips_other_types() {
        let text = "; comment\nexample.com. 3600 IN DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )\n\
                    example.com. 3600 IN TXT \"x\"\n. 172800 DNSKEY 256 3 13 AAAA\n";
        let records = read_dnskeys(text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].owner.as_str(), "example.com.");
        assert_eq!(records[0].dnskey.flags(), Flags::KSK);
        assert_eq!(records[1].owner.as_str(), ".");
        assert_eq!(records[1].ttl, 172_800);
    }

    #[test]
    fn refuses_garbage_and_empty_input() {
        assert!(read_dnskeys("example. IN DNSKEY 257 3 x\n").is_err());
        assert!(read_dnskeys("").is_err());
        assert!(read_dnskeys("$INCLUDE /etc/passwd\n").is_err());
        assert!(read_dnskeys("example. 60 CH DNSKEY 257 3 15 AAAA\n").is_err());
    }
}

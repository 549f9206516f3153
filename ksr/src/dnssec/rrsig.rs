//! RRSIG records and the data they sign (RFC 4034 §3).

use super::algorithm::Algorithm;
use super::dnskey::Dnskey;
use super::keytag::KeyTag;
use super::name::DomainName;
use super::time::Timestamp;

/// The RR type number of DNSKEY (RFC 4034 §2).
pub const RTYPE_DNSKEY: u16 = 48;

/// The class number of IN (RFC 1035 §3.2.4).
const CLASS_IN: u16 = 1;

//------------ Rrsig ---------------------------------------------------------

/// The RDATA of an RRSIG record over a DNSKEY RRset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rrsig {
    /// The algorithm of the signing key.
    pub algorithm: Algorithm,
    /// The number of labels of the owner name (RFC 4034 §3.1.3).
    pub labels: u8,
    /// The TTL the signed records carry in the signing input.
    pub original_ttl: u32,
    /// The end of the validity period.
    pub expiration: Timestamp,
    /// The start of the validity period.
    pub inception: Timestamp,
    /// The key tag of the signing key, with the flags it has in the RRset.
    pub key_tag: KeyTag,
    /// The zone that signs: the owner of the signing key.
    pub signer_name: DomainName,
    /// The signature value in the algorithm's DNSSEC encoding (§3.6 of the
    /// format spec): PKCS#1 v1.5 octets, r | s, or the Ed25519 signature.
    pub signature: Vec<u8>,
}

impl Rrsig {
    /// Returns the data this RRSIG signs over a DNSKEY RRset at `owner`.
    ///
    /// RFC 4034 §3.1.8.1: "signature = sign(RRSIG_RDATA | RR(1) | RR(2)...)"
    /// where each RR is "owner | type | class | TTL | RDATA length | RDATA"
    /// in canonical form: the owner lowercased and uncompressed, the TTL
    /// replaced by the Original TTL, and the RRs in canonical order (§6.3),
    /// sorted by RDATA as left-justified octet strings. Identical RDATA is
    /// counted once, as an RRset holds no duplicates (RFC 2181 §5).
    pub fn signing_input<'a>(
        &self,
        owner: &DomainName,
        keys: impl IntoIterator<Item = &'a Dnskey>,
    ) -> Vec<u8> {
        let rdatas: Vec<Vec<u8>> = keys.into_iter().map(Dnskey::rdata).collect();
        self.signing_input_of(RTYPE_DNSKEY, owner, rdatas)
    }

    /// The same for an RRset of another type (CDNSKEY, CDS) with these
    /// RDATA, signed with this RRSIG's fields.
    pub fn signing_input_of(
        &self,
        rtype: u16,
        owner: &DomainName,
        mut rdatas: Vec<Vec<u8>>,
    ) -> Vec<u8> {
        rdatas.sort();
        rdatas.dedup();
        let owner = owner.canonical_wire();
        let mut input = Vec::with_capacity(32);
        input.extend_from_slice(&rtype.to_be_bytes());
        input.push(self.algorithm.to_int());
        input.push(self.labels);
        input.extend_from_slice(&self.original_ttl.to_be_bytes());
        input.extend_from_slice(&self.expiration.to_unix().to_be_bytes());
        input.extend_from_slice(&self.inception.to_unix().to_be_bytes());
        input.extend_from_slice(&self.key_tag.to_int().to_be_bytes());
        input.extend_from_slice(&self.signer_name.canonical_wire());
        for rdata in rdatas {
            input.extend_from_slice(&owner);
            input.extend_from_slice(&rtype.to_be_bytes());
            input.extend_from_slice(&CLASS_IN.to_be_bytes());
            input.extend_from_slice(&self.original_ttl.to_be_bytes());
            // RDATA of a parsed document is far below 64 KiB (the whole
            // document is at most 1 MiB, and keys are checked).
            let length = u16::try_from(rdata.len()).unwrap_or(u16::MAX);
            input.extend_from_slice(&length.to_be_bytes());
            input.extend_from_slice(&rdata);
        }
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnssec::dnskey::Flags;

    #[test]
    fn signing_input_sorts_by_rdata_and_uses_original_ttl() {
        let zsk = Dnskey::new(Flags::ZSK, 3, Algorithm::ED25519, vec![2; 32]);
        let ksk = Dnskey::new(Flags::KSK, 3, Algorithm::ED25519, vec![1; 32]);
        let rrsig = Rrsig {
            algorithm: Algorithm::ED25519,
            labels: 1,
            original_ttl: 3600,
            expiration: Timestamp::from_unix(0x0102_0304),
            inception: Timestamp::from_unix(0x0506_0708),
            key_tag: KeyTag::from_int(0xABCD),
            signer_name: "Example.".parse().unwrap(),
            signature: vec![],
        };
        let owner: DomainName = "EXAMPLE.".parse().unwrap();
        let input = rrsig.signing_input(&owner, [&ksk, &zsk, &ksk]);
        let mut expected = vec![
            0, 48, 15, 1, 0, 0, 0x0E, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 0xAB, 0xCD,
        ];
        expected.extend_from_slice(b"\x07example\x00");
        for key in [&zsk, &ksk] {
            expected.extend_from_slice(b"\x07example\x00\x00\x30\x00\x01\x00\x00\x0E\x10\x00\x24");
            expected.extend_from_slice(&key.rdata());
        }
        assert_eq!(input, expected);
    }
}

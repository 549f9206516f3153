//! CDNSKEY and CDS records in a text SKR (`ksr-skr-format.md` §5.4 rule
//! 5, RFC 7344): the published KSKs of each bundle (Flags 257), as CDNSKEY
//! and as CDS with SHA-256, each RRset signed by the bundle's signing KSKs
//! with the times of its DNSKEY signatures. They are written and read as
//! one-line records among a bundle's `other` records, and checked here.

use super::TextResponseBundle;
use crate::dnssec::dnskey::Dnskey;
use crate::dnssec::ds::{DigestType, Ds};
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::octets::to_base64;
use crate::policy::TextCds;

/// RR type numbers (RFC 7344 §7).
const RTYPE_CDS: u16 = 59;
const RTYPE_CDNSKEY: u16 = 60;

/// One of the two record types, with its records' RDATA and presentation.
struct Rrset {
    rtype: u16,
    name: &'static str,
    rdatas: Vec<Vec<u8>>,
    lines: Vec<String>,
}

/// The CDNSKEY and CDS RRsets `cds` asks for, of the bundle's published
/// (not revoked) KSKs.
fn rrsets(bundle: &TextResponseBundle, owner: &DomainName, cds: TextCds) -> Vec<Rrset> {
    let ksks: Vec<&Dnskey> = bundle
        .keys
        .iter()
        .map(|key| &key.dnskey)
        .filter(|key| key.flags().to_int() == 257)
        .collect();
    let ttl = bundle.keys.first().map_or(0, |key| key.ttl);
    let mut sets = Vec::new();
    if cds.cdnskey() {
        sets.push(Rrset {
            rtype: RTYPE_CDNSKEY,
            name: "CDNSKEY",
            rdatas: ksks.iter().map(|key| key.rdata()).collect(),
            lines: ksks
                .iter()
                .map(|key| {
                    format!(
                        "{owner} {ttl} IN CDNSKEY {} {} {} {}",
                        key.flags().to_int(),
                        key.protocol(),
                        key.algorithm().to_int(),
                        to_base64(key.public_key())
                    )
                })
                .collect(),
        });
    }
    if cds.cds() {
        let records: Vec<Ds> = ksks
            .iter()
            .map(|key| Ds::compute(owner, key, DigestType::Sha256))
            .collect();
        sets.push(Rrset {
            rtype: RTYPE_CDS,
            name: "CDS",
            rdatas: records.iter().map(Ds::rdata).collect(),
            lines: records
                .iter()
                .map(|ds| format!("{owner} {ttl} IN CDS {}", ds.rdata_text()))
                .collect(),
        });
    }
    sets
}

/// Adds the CDNSKEY and CDS RRsets and their signatures to a bundle:
/// `sign` signs with the KSK of a DNSKEY signature of the bundle (given
/// its RRSIG) and returns the signature, already verified.
///
/// # Errors
///
/// What `sign` returns.
pub(crate) fn add<E>(
    bundle: &mut TextResponseBundle,
    owner: &DomainName,
    cds: TextCds,
    mut sign: impl FnMut(&Rrsig, &[u8]) -> Result<Vec<u8>, E>,
) -> Result<(), E> {
    let mut lines = Vec::new();
    for set in rrsets(bundle, owner, cds) {
        if set.rdatas.is_empty() {
            continue;
        }
        lines.extend(set.lines);
        for dnskey_signature in &bundle.signatures {
            let like = &dnskey_signature.rrsig;
            let input = like.signing_input_of(set.rtype, owner, set.rdatas.clone());
            let signature = sign(like, &input)?;
            lines.push(super::write::rrsig_line(
                owner.as_str(),
                dnskey_signature.ttl,
                set.name,
                like,
                &signature,
            ));
        }
    }
    bundle.other.extend(lines);
    Ok(())
}

/// Checks the CDNSKEY and CDS records of a bundle as read: each RRSIG
/// over them verifies with the bundle's DNSKEY of its tag and algorithm,
/// over exactly the records of its type in the bundle. Returns what is
/// wrong, one sentence each.
pub(crate) fn problems(bundle: &TextResponseBundle, owner: &DomainName) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut cdnskeys, mut cds) = (Vec::new(), Vec::new());
    let mut signatures = Vec::new();
    for line in &bundle.other {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        // `<owner> <ttl> IN <TYPE> <data…>`, as the reader normalized it.
        let (Some(kind), Some(data)) = (words.get(3), words.get(4..)) else {
            continue;
        };
        match kind.as_str() {
            "CDNSKEY" => match super::parse::dnskey(data) {
                Ok(key) => cdnskeys.push(key.rdata()),
                Err(why) => problems.push(format!("CDNSKEY: {why}")),
            },
            "CDS" => match cds_rdata(data) {
                Ok(rdata) => cds.push(rdata),
                Err(why) => problems.push(format!("CDS: {why}")),
            },
            "RRSIG" => match super::parse::rrsig(data) {
                Ok(rrsig) => signatures.push((data.first().cloned().unwrap_or_default(), rrsig)),
                Err(why) => problems.push(format!("RRSIG: {why}")),
            },
            _ => {}
        }
    }
    let sets = [
        (RTYPE_CDNSKEY, "CDNSKEY", cdnskeys),
        (RTYPE_CDS, "CDS", cds),
    ];
    for (covered, rrsig) in &signatures {
        let Some((rtype, _, rdatas)) = sets
            .iter()
            .find(|(_, name, _)| name.eq_ignore_ascii_case(covered))
        else {
            continue;
        };
        let Some(key) = bundle.keys.iter().find(|key| {
            key.dnskey.key_tag() == rrsig.key_tag && key.dnskey.algorithm() == rrsig.algorithm
        }) else {
            problems.push(format!(
                "the RRSIG over {covered} names key {}, which the bundle does not hold",
                rrsig.key_tag
            ));
            continue;
        };
        let input = rrsig.signing_input_of(*rtype, owner, rdatas.clone());
        if let Err(err) = crate::verify(&key.dnskey, &input, &rrsig.signature) {
            problems.push(format!(
                "the RRSIG over {covered} by key {} does not verify: {err}",
                rrsig.key_tag
            ));
        }
    }
    for (_, name, rdatas) in &sets {
        if !rdatas.is_empty()
            && !signatures
                .iter()
                .any(|(covered, _)| covered.eq_ignore_ascii_case(name))
        {
            problems.push(format!("the {name} records carry no RRSIG"));
        }
    }
    problems
}

/// CDS RDATA from its presentation: tag, algorithm, digest type, hex.
fn cds_rdata(data: &[String]) -> Result<Vec<u8>, String> {
    let [tag, algorithm, digest_type, digest @ ..] = data else {
        return Err("CDS needs a key tag, algorithm, digest type and digest".into());
    };
    let tag: u16 = tag.parse().map_err(|_| format!("key tag {tag:?}"))?;
    let algorithm: u8 = algorithm
        .parse()
        .map_err(|_| format!("algorithm {algorithm:?}"))?;
    let digest_type: u8 = digest_type
        .parse()
        .map_err(|_| format!("digest type {digest_type:?}"))?;
    let digest =
        hex::decode(digest.concat()).map_err(|_| "the digest is not hexadecimal".to_owned())?;
    let mut rdata = tag.to_be_bytes().to_vec();
    rdata.push(algorithm);
    rdata.push(digest_type);
    rdata.extend_from_slice(&digest);
    Ok(rdata)
}

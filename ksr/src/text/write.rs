//! Writing a text SKR (`ksr-skr-format.md` §5.4, rule 6): one record per
//! line, `<owner> <TTL> IN <TYPE> <RDATA>` with base64 on one line, the
//! DNSKEY records in canonical order, then the RRSIGs by key tag, a blank
//! line between bundles, and the footer. Knot DNS and BIND read it.

use std::fmt::Write as _;

use super::{Dialect, TextSkr};
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::Timestamp;
use crate::octets::to_base64;

/// Writes `skr` with headers in `dialect`, and a footer that says when and
/// by what it was made.
pub fn write_text_skr(skr: &TextSkr, dialect: Dialect, generated: Timestamp, by: &str) -> String {
    let mut out = String::new();
    let owner = skr.domain.as_str();
    for (index, bundle) in skr.bundles.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let time = bundle.time;
        let _ = match dialect {
            Dialect::Knot => writeln!(
                out,
                ";; SignedKeyResponse 1.0 {} ({time}) =========",
                time.to_unix()
            ),
            Dialect::Bind => writeln!(
                out,
                ";; SignedKeyResponse 1.0 {} ({})",
                time.to_rrsig_text(),
                time.to_ctime()
            ),
        };
        let mut keys: Vec<_> = bundle.keys.iter().collect();
        keys.sort_by_key(|key| key.dnskey.rdata());
        for key in keys {
            let _ = writeln!(
                out,
                "{owner} {} IN DNSKEY {} {} {} {}",
                key.ttl,
                key.dnskey.flags().to_int(),
                key.dnskey.protocol(),
                key.dnskey.algorithm().to_int(),
                to_base64(key.dnskey.public_key())
            );
        }
        let mut signatures: Vec<_> = bundle.signatures.iter().collect();
        signatures.sort_by_key(|signature| signature.rrsig.key_tag);
        for signature in signatures {
            let rrsig = &signature.rrsig;
            let _ = writeln!(
                out,
                "{}",
                rrsig_line(owner, signature.ttl, "DNSKEY", rrsig, &rrsig.signature)
            );
        }
        for record in &bundle.other {
            let _ = writeln!(out, "{record}");
        }
    }
    let _ = writeln!(
        out,
        ";; SignedKeyResponse 1.0 generated at {generated} by {by}"
    );
    out
}

/// An RRSIG record over `covered` in one line: the fields of `rrsig` with
/// `signature` as its value.
pub(super) fn rrsig_line(
    owner: &str,
    ttl: u32,
    covered: &str,
    rrsig: &Rrsig,
    signature: &[u8],
) -> String {
    format!(
        "{owner} {ttl} IN RRSIG {covered} {} {} {} {} {} {} {} {}",
        rrsig.algorithm.to_int(),
        rrsig.labels,
        rrsig.original_ttl,
        rrsig.expiration.to_rrsig_text(),
        rrsig.inception.to_rrsig_text(),
        rrsig.key_tag.to_int(),
        rrsig.signer_name,
        to_base64(signature)
    )
}

//! Reading the text format: `;;` headers, master-file records (owner,
//! explicit TTL, optional class IN, type, RDATA; parentheses continue a
//! record over lines and `;` starts a comment), a footer last.
//! Every problem is a finding with its line (`TXT-PARSE-HEADER`,
//! `TXT-PARSE-RR`); nothing panics on any input.

use std::collections::BTreeSet;

use sha2::Digest as _;

use super::{
    Dialect, TextKey, TextKsr, TextRequestBundle, TextResponseBundle, TextSignature, TextSkr,
};
use crate::dnssec::algorithm::Algorithm;
use crate::dnssec::dnskey::{Dnskey, Flags};
use crate::dnssec::keytag::KeyTag;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::Timestamp;
use crate::findings::{CheckCode, DocumentRole, Finding, Position};
use crate::octets::from_document_base64;
use crate::xml::MAX_DOCUMENT_SIZE;

/// The longest public key or signature accepted: 2048 octets, an RSA
/// modulus of 16384 bits, well above any DNSSEC key, so that RDATA stays
/// far below its 65535-octet limit.
const MAX_KEY_OCTETS: usize = 2048;

/// The most bundles a text document may have, and DNSKEY records a bundle
/// may hold (the limits of the XML format, KSR-PARSE-LIMITS).
const MAX_BUNDLES: usize = 256;
const MAX_KEYS: usize = 64;

/// The two kinds of text document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Self::Request => "KeySigningRequest",
            Self::Response => "SignedKeyResponse",
        }
    }
}

/// Whether a document is in the text format: its first character other
/// than white space is `;`, a `;;` header or a comment before it, which
/// the reader skips (an XML document starts with `<`). Checking for `;;`
/// alone sent a text document that opens with a comment to the XML
/// reader (found by the `text` fuzz target).
pub fn is_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b';')
}

/// Reads a text KSR: DNSKEY records of ZSKs only.
///
/// # Errors
///
/// Every finding of stage 1, when there is one.
pub fn parse_text_ksr(bytes: &[u8], role: DocumentRole) -> Result<TextKsr, Vec<Finding>> {
    let parsed = parse(bytes, role, Kind::Request)?;
    Ok(TextKsr {
        dialect: parsed.dialect,
        domain: parsed.domain,
        id: parsed.id,
        bundles: parsed
            .bundles
            .into_iter()
            .map(|bundle| TextRequestBundle {
                time: bundle.time,
                line: bundle.line,
                keys: bundle.keys,
            })
            .collect(),
    })
}

/// Reads a text SKR: DNSKEY RRsets with their RRSIGs, and CDNSKEY / CDS
/// records, which are kept as read.
///
/// # Errors
///
/// Every finding of stage 1, when there is one.
pub fn parse_text_skr(bytes: &[u8], role: DocumentRole) -> Result<TextSkr, Vec<Finding>> {
    let parsed = parse(bytes, role, Kind::Response)?;
    Ok(TextSkr {
        dialect: parsed.dialect,
        domain: parsed.domain,
        id: parsed.id,
        bundles: parsed
            .bundles
            .into_iter()
            .map(|bundle| TextResponseBundle {
                time: bundle.time,
                line: bundle.line,
                keys: bundle.keys,
                signatures: bundle.signatures,
                other: bundle.other,
            })
            .collect(),
    })
}

struct RawBundle {
    time: Timestamp,
    line: u32,
    keys: Vec<TextKey>,
    signatures: Vec<TextSignature>,
    other: Vec<String>,
    rdatas: BTreeSet<(String, Vec<u8>)>,
}

struct Parsed {
    dialect: Dialect,
    domain: DomainName,
    id: String,
    bundles: Vec<RawBundle>,
}

/// The reader's state while it walks the lines.
struct Reader {
    role: DocumentRole,
    kind: Kind,
    findings: Vec<Finding>,
    dialect: Option<Dialect>,
    domain: Option<DomainName>,
    bundles: Vec<RawBundle>,
    footer: Option<u32>,
}

impl Reader {
    fn error(&mut self, code: CheckCode, line: u32, message: impl Into<String>) {
        // One document can hold thousands of broken lines; a hundred
        // findings say enough.
        if self.findings.len() < 100 {
            self.findings
                .push(Finding::error(code, self.role, message).at(Position { line, column: 1 }));
        }
    }
}

fn parse(bytes: &[u8], role: DocumentRole, kind: Kind) -> Result<Parsed, Vec<Finding>> {
    if bytes.len() > MAX_DOCUMENT_SIZE {
        return Err(vec![Finding::error(
            CheckCode::ParseSize,
            role,
            format!(
                "the document has {} bytes, over the limit of {MAX_DOCUMENT_SIZE} bytes (1 MiB)",
                bytes.len()
            ),
        )]);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![Finding::error(
            CheckCode::TxtParseRr,
            role,
            "the document is not UTF-8 text",
        )]);
    };
    let mut reader = Reader {
        role,
        kind,
        findings: Vec::new(),
        dialect: None,
        domain: None,
        bundles: Vec::new(),
        footer: None,
    };
    // A record being read: its first line and its tokens so far, and how
    // many parentheses are open.
    let mut pending: Option<(u32, Vec<String>)> = None;
    let mut depth = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if depth == 0 && trimmed.starts_with(";;") {
            header(&mut reader, number, trimmed);
            continue;
        }
        let (content, comment) = line.split_once(';').unwrap_or((line, ""));
        // A header anywhere but on a line of its own would split the
        // document differently for Knot than for us: refused.
        if comment.contains(Kind::Request.word()) || comment.contains(Kind::Response.word()) {
            reader.error(
                CheckCode::TxtParseHeader,
                number,
                "a bundle header inside a record or after one: a header is a line of its own, \";; \" and the header",
            );
        }
        let mut tokens = Vec::new();
        for word in content
            .replace('(', " ( ")
            .replace(')', " ) ")
            .split_whitespace()
        {
            match word {
                "(" => depth += 1,
                ")" if depth == 0 => {
                    reader.error(CheckCode::TxtParseRr, number, "a ')' without its '('");
                }
                ")" => depth -= 1,
                _ => tokens.push(word.to_owned()),
            }
        }
        if tokens.is_empty() && pending.is_none() {
            continue;
        }
        let (start, mut words) = pending.take().unwrap_or((number, Vec::new()));
        words.extend(tokens);
        if depth > 0 {
            pending = Some((start, words));
            continue;
        }
        record(&mut reader, start, &words);
    }
    if let Some((start, _)) = pending {
        reader.error(
            CheckCode::TxtParseRr,
            start,
            "the record's '(' is never closed",
        );
    }
    if reader.footer.is_none() {
        let last = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
        reader.error(
            CheckCode::TxtParseHeader,
            last.max(1),
            format!(
                "no footer: the last line must be \";; {} 1.0 generated at …\" (a truncated document?)",
                kind.word()
            ),
        );
    }
    if reader.bundles.is_empty() {
        reader.error(CheckCode::TxtParseHeader, 1, "no bundle header");
    }
    // An empty bundle, unless a record of it was refused already.
    let refused = !reader.findings.is_empty();
    for bundle in reader.bundles.iter().filter(|_| !refused) {
        if bundle.keys.is_empty() {
            let line = bundle.line;
            reader.findings.push(
                Finding::error(
                    CheckCode::TxtParseRr,
                    role,
                    "a bundle without DNSKEY records",
                )
                .at(Position { line, column: 1 }),
            );
        }
    }
    match reader {
        Reader {
            findings,
            dialect: Some(dialect),
            domain: Some(domain),
            bundles,
            ..
        } if findings.is_empty() => Ok(Parsed {
            dialect,
            domain,
            id: hex_id(bytes),
            bundles,
        }),
        Reader { mut findings, .. } => {
            if findings.is_empty() {
                findings.push(Finding::error(
                    CheckCode::TxtParseRr,
                    role,
                    "the document holds no record",
                ));
            }
            Err(findings)
        }
    }
}

/// The first 16 hex digits of the document's SHA-256: its name in reports.
fn hex_id(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A `;;` line: a bundle header, the footer, or a comment.
fn header(reader: &mut Reader, line: u32, text: &str) {
    let mut words = text.trim_start_matches(';').split_whitespace();
    let Some(word) = words.next() else { return };
    let is_header_word = word == Kind::Request.word() || word == Kind::Response.word();
    let well_formed = text.starts_with(";; ") && !text.starts_with(";; ;");
    if is_header_word && !well_formed {
        reader.error(
            CheckCode::TxtParseHeader,
            line,
            "a header starts with exactly \";; \" (two semicolons and a space)",
        );
        return;
    }
    let other = match reader.kind {
        Kind::Request => Kind::Response,
        Kind::Response => Kind::Request,
    };
    if word == other.word() {
        reader.error(
            CheckCode::TxtParseHeader,
            line,
            format!("a {word} header in a {}", reader.kind.word()),
        );
        return;
    }
    if word != reader.kind.word() {
        // Any other `;;` line is a comment.
        return;
    }
    if let Some(footer) = reader.footer {
        reader.error(
            CheckCode::TxtParseHeader,
            line,
            format!("a header after the footer of line {footer}: the footer must come last"),
        );
        return;
    }
    if words.next() != Some("1.0") {
        reader.error(
            CheckCode::TxtParseHeader,
            line,
            format!("{word} must be followed by the version 1.0"),
        );
        return;
    }
    let Some(time) = words.next() else {
        reader.error(CheckCode::TxtParseHeader, line, "the header has no time");
        return;
    };
    if time == "generated" {
        reader.footer = Some(line);
        return;
    }
    let parsed = match header_time(time) {
        Ok((parsed, dialect)) => {
            reader.dialect.get_or_insert(dialect);
            Some(parsed)
        }
        Err(why) => {
            reader.error(
                CheckCode::TxtParseHeader,
                line,
                format!("time {time:?}: {why}"),
            );
            None
        }
    };
    // A bad time still opens a bundle, so that its records are not taken
    // for the previous bundle's.
    let parsed = parsed.unwrap_or_else(|| {
        reader
            .bundles
            .last()
            .map_or(Timestamp::from_unix(0), |bundle| bundle.time)
    });
    if let Some(previous) = reader.bundles.last()
        && parsed <= previous.time
        && reader
            .findings
            .last()
            .and_then(|f| f.position)
            .map(|p| p.line)
            != Some(line)
    {
        let message = format!(
            "header time {parsed} is not after the previous header's {} (line {}): times must strictly increase",
            previous.time, previous.line
        );
        reader.error(CheckCode::TxtParseHeader, line, message);
    }
    if reader.bundles.len() == MAX_BUNDLES {
        reader.error(
            CheckCode::ParseLimits,
            line,
            format!("more than {MAX_BUNDLES} bundles"),
        );
    }
    reader.bundles.push(RawBundle {
        time: parsed,
        line,
        keys: Vec::new(),
        signatures: Vec::new(),
        other: Vec::new(),
        rdatas: BTreeSet::new(),
    });
}

/// A header time: 14 digits are `YYYYMMDDhhmmss` in UTC (BIND), 1 to 10
/// digits are Unix seconds (Knot); anything else is an error.
fn header_time(text: &str) -> Result<(Timestamp, Dialect), String> {
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("not 14 digits (YYYYMMDDhhmmss) or Unix seconds".into());
    }
    match text.len() {
        14 => ymdhms(text).map(|time| (time, Dialect::Bind)),
        1..=10 => text
            .parse::<u32>()
            .map(|seconds| (Timestamp::from_unix(seconds), Dialect::Knot))
            .map_err(|_| "Unix seconds beyond 2106".to_owned()),
        _ => Err("not 14 digits (YYYYMMDDhhmmss) or 1 to 10 digits (Unix seconds)".into()),
    }
}

/// `YYYYMMDDhhmmss` in UTC, a valid calendar date and time.
fn ymdhms(text: &str) -> Result<Timestamp, String> {
    let part = |range: std::ops::Range<usize>| text.get(range).unwrap_or("00");
    Timestamp::parse_document(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0..4),
        part(4..6),
        part(6..8),
        part(8..10),
        part(10..12),
        part(12..14)
    ))
    .map_err(|err| format!("not a valid UTC time: {err}"))
}

/// An RRSIG time: `YYYYMMDDHHmmSS`, or decimal seconds (RFC 4034 §3.2).
fn rrsig_time(text: &str) -> Result<Timestamp, String> {
    if text.len() == 14 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        ymdhms(text)
    } else {
        text.parse::<u32>()
            .map(Timestamp::from_unix)
            .map_err(|_| format!("{text:?} is not YYYYMMDDHHmmSS or seconds"))
    }
}

/// One complete record.
fn record(reader: &mut Reader, line: u32, words: &[String]) {
    match read_record(reader, words) {
        Ok(Record::Key(key)) => add(reader, line, "DNSKEY", key.dnskey.rdata(), |bundle| {
            bundle.keys.push(key);
        }),
        Ok(Record::Signature(signature)) => {
            let mut rdata = signature.rrsig.key_tag.to_int().to_be_bytes().to_vec();
            rdata.extend_from_slice(&signature.rrsig.signature);
            add(reader, line, "RRSIG", rdata, |bundle| {
                bundle.signatures.push(signature);
            });
        }
        Ok(Record::Other(kind, text)) => {
            add(reader, line, &kind, text.clone().into_bytes(), |bundle| {
                bundle.other.push(text);
            })
        }
        Err(why) => reader.error(CheckCode::TxtParseRr, line, why),
    }
}

/// Adds a record to the current bundle, refusing duplicates and DNSKEYs
/// whose TTL differs from the bundle's.
fn add(
    reader: &mut Reader,
    line: u32,
    kind: &str,
    rdata: Vec<u8>,
    put: impl FnOnce(&mut RawBundle),
) {
    let role_word = reader.kind.word();
    if reader.bundles.is_empty() {
        reader.error(
            CheckCode::TxtParseHeader,
            line,
            format!("a record before the first \";; {role_word} 1.0 <time>\" header"),
        );
        return;
    }
    if reader.footer.is_some() {
        reader.error(CheckCode::TxtParseHeader, line, "a record after the footer");
        return;
    }
    let mut problem = None;
    if let Some(bundle) = reader.bundles.last_mut() {
        if bundle.rdatas.len() >= 4 * MAX_KEYS {
            problem = Some(format!(
                "more than {} records in the bundle of line {}",
                4 * MAX_KEYS,
                bundle.line
            ));
        } else if bundle.rdatas.insert((kind.to_owned(), rdata)) {
            put(bundle);
            if let (Some(first), Some(last)) = (bundle.keys.first(), bundle.keys.last())
                && first.ttl != last.ttl
            {
                problem = Some(format!(
                    "DNSKEY TTL {} differs from {} of the bundle's first: a bundle has one TTL",
                    last.ttl, first.ttl
                ));
            }
        } else {
            problem = Some(format!(
                "a {kind} record repeated in the bundle of line {}",
                bundle.line
            ));
        }
    }
    if let Some(problem) = problem {
        reader.error(CheckCode::TxtParseRr, line, problem);
    }
}

enum Record {
    Key(TextKey),
    Signature(TextSignature),
    Other(String, String),
}

fn read_record(reader: &mut Reader, words: &[String]) -> Result<Record, String> {
    let [owner, ttl, rest @ ..] = words else {
        return Err("a record needs an owner, a TTL, a type and its data".into());
    };
    let owner: DomainName = owner
        .parse()
        .map_err(|err| format!("owner {owner:?}: {err}"))?;
    if !owner.as_str().ends_with('.') {
        return Err(format!(
            "owner {owner} is not absolute (it must end with a dot)"
        ));
    }
    match &reader.domain {
        Some(domain) if !domain.same_name(&owner) => {
            return Err(format!(
                "owner {owner} is not the zone {domain} of the other records"
            ));
        }
        Some(_) => {}
        None => reader.domain = Some(owner.clone()),
    }
    // RFC 2181 §8: a TTL is 0 to 2^31 - 1, written in digits.
    let ttl: u32 = ttl
        .bytes()
        .all(|byte| byte.is_ascii_digit())
        .then(|| ttl.parse().ok())
        .flatten()
        .filter(|ttl| *ttl <= 0x7FFF_FFFF)
        .ok_or_else(|| {
            format!("{ttl:?} is not a TTL (0 to 2147483647): every record needs an explicit TTL")
        })?;
    let rest = match rest {
        [class, rest @ ..] if class.eq_ignore_ascii_case("IN") => rest,
        [class, ..]
            if ["CH", "HS", "CS"]
                .iter()
                .any(|c| class.eq_ignore_ascii_case(c)) =>
        {
            return Err(format!("class {class}: only IN"));
        }
        rest => rest,
    };
    let [kind, data @ ..] = rest else {
        return Err("the record has no type".into());
    };
    let kind = kind.to_ascii_uppercase();
    match (reader.kind, kind.as_str()) {
        (_, "DNSKEY") => dnskey(data).map(|dnskey| Record::Key(TextKey { ttl, dnskey })),
        (Kind::Response, "RRSIG") => match data.first().map(|covered| covered.to_ascii_uppercase())
        {
            Some(covered) if covered == "DNSKEY" => {
                rrsig(data).map(|rrsig| Record::Signature(TextSignature { ttl, rrsig }))
            }
            Some(covered) if covered == "CDNSKEY" || covered == "CDS" => Ok(Record::Other(
                format!("RRSIG {covered}"),
                normal(&owner, ttl, "RRSIG", data),
            )),
            _ => Err("an RRSIG must cover DNSKEY, CDNSKEY or CDS".into()),
        },
        (Kind::Response, "CDNSKEY") => {
            dnskey(data)?;
            Ok(Record::Other(
                kind.clone(),
                normal(&owner, ttl, &kind, data),
            ))
        }
        (Kind::Response, "CDS") if data.len() >= 4 => Ok(Record::Other(
            kind.clone(),
            normal(&owner, ttl, &kind, data),
        )),
        (Kind::Request, other) => Err(format!(
            "a {other} record in a KSR, which holds DNSKEY records only"
        )),
        (Kind::Response, other) => Err(format!(
            "a {other} record: an SKR holds DNSKEY, RRSIG, CDNSKEY and CDS records"
        )),
    }
}

/// A record in one-line presentation form.
fn normal(owner: &DomainName, ttl: u32, kind: &str, data: &[String]) -> String {
    format!("{owner} {ttl} IN {kind} {}", data.join(" "))
}

fn number<T: std::str::FromStr>(text: Option<&String>, what: &str) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("the {what} is missing"))?;
    text.parse()
        .map_err(|_| format!("{what} {text:?} is not a number in range"))
}

pub(super) fn dnskey(data: &[String]) -> Result<Dnskey, String> {
    let [flags, protocol, algorithm, key @ ..] = data else {
        return Err("DNSKEY needs flags, protocol, algorithm and a public key".into());
    };
    let flags: u16 = number(Some(flags), "flags")?;
    let protocol: u8 = number(Some(protocol), "protocol")?;
    let algorithm: u8 = number(Some(algorithm), "algorithm")?;
    if key.is_empty() {
        return Err("DNSKEY has no public key".into());
    }
    let public = from_document_base64(&key.concat()).map_err(|err| format!("public key: {err}"))?;
    if public.len() > MAX_KEY_OCTETS {
        return Err(format!(
            "a public key of {} octets: DNSKEY RDATA is at most {MAX_KEY_OCTETS} octets here",
            public.len()
        ));
    }
    let dnskey = Dnskey::new(
        Flags::from_int(flags),
        protocol,
        Algorithm::from_int(algorithm),
        public,
    );
    dnskey
        .decode_public_key()
        .map_err(|err| format!("public key: {err}"))?;
    Ok(dnskey)
}

pub(super) fn rrsig(data: &[String]) -> Result<Rrsig, String> {
    let [
        _covered,
        algorithm,
        labels,
        original_ttl,
        expiration,
        inception,
        key_tag,
        signer,
        signature @ ..,
    ] = data
    else {
        return Err("RRSIG needs 9 fields".into());
    };
    if signature.is_empty() {
        return Err("RRSIG has no signature".into());
    }
    let signer_name: DomainName = signer
        .parse()
        .map_err(|err| format!("signer's name {signer:?}: {err}"))?;
    Ok(Rrsig {
        algorithm: Algorithm::from_int(number(Some(algorithm), "algorithm")?),
        labels: number(Some(labels), "labels")?,
        original_ttl: number(Some(original_ttl), "original TTL")?,
        expiration: rrsig_time(expiration)?,
        inception: rrsig_time(inception)?,
        key_tag: KeyTag::from_int(number(Some(key_tag), "key tag")?),
        signer_name,
        signature: from_document_base64(&signature.concat())
            .map_err(|err| format!("signature: {err}"))
            .and_then(|octets| {
                if octets.len() > MAX_KEY_OCTETS {
                    Err(format!(
                        "a signature of {} octets is too long",
                        octets.len()
                    ))
                } else {
                    Ok(octets)
                }
            })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOT: &str = ";; KeySigningRequest 1.0 1491004800 (2017-04-01T00:00:00Z) =========
example.com.  3600 DNSKEY 256 3 13 (
    5iZ7RJtLp3kxLbCr9Z9d9Nc7+uWyqT/Uw14Mgylq
    pfX+jyxjB5q48VPsYuYjf8T/cct2jSv/Pm0cforU
    nx0q1Q==
    ) ; ZSK, ECDSAP256SHA256 (256b), id = 36967
;; KeySigningRequest 1.0 1491868800 (2017-04-11T00:00:00Z) =========
example.com.  3600 IN DNSKEY 256 3 13 5iZ7RJtLp3kxLbCr9Z9d9Nc7+uWyqT/Uw14MgylqpfX+jyxjB5q48VPsYuYjf8T/cct2jSv/Pm0cforUnx0q1Q==
;; KeySigningRequest 1.0 generated at 2017-03-01T12:00:00Z by Knot DNS 3.2.6
";

    #[test]
    fn reads_both_dialects() {
        let ksr = parse_text_ksr(KNOT.as_bytes(), DocumentRole::Ksr).unwrap();
        assert_eq!(ksr.dialect, Dialect::Knot);
        assert_eq!(ksr.bundles.len(), 2);
        assert_eq!(ksr.bundles[0].time, Timestamp::from_unix(1_491_004_800));
        assert_eq!(ksr.bundles[0].keys[0].dnskey.key_tag().to_int(), 36967);
        assert_eq!(ksr.bundles[0].keys, ksr.bundles[1].keys);
        let bind = KNOT
            .replace(
                "1491004800 (2017-04-01T00:00:00Z) =========",
                "20170401000000 (Sat Apr  1 00:00:00 2017)",
            )
            .replace(
                "1491868800 (2017-04-11T00:00:00Z) =========",
                "20170411000000 (Tue Apr 11 00:00:00 2017)",
            );
        let ksr = parse_text_ksr(bind.as_bytes(), DocumentRole::Ksr).unwrap();
        assert_eq!(ksr.dialect, Dialect::Bind);
        assert_eq!(ksr.bundles[1].time, Timestamp::from_unix(1_491_868_800));
        assert!(is_text(b"\n  ;; KeySigningRequest"));
        assert!(is_text(b"; a comment\n;; KeySigningRequest"));
        assert!(!is_text(b"<?xml"));
    }

    fn codes(text: &str) -> Vec<(&'static str, Option<u32>)> {
        parse_text_ksr(text.as_bytes(), DocumentRole::Ksr)
            .unwrap_err()
            .iter()
            .map(|finding| (finding.code.as_str(), finding.position.map(|p| p.line)))
            .collect()
    }

    #[test]
    fn names_each_problem_with_its_line() {
        let truncated = KNOT.lines().take(8).collect::<Vec<_>>().join("\n");
        assert_eq!(codes(&truncated), [("TXT-PARSE-HEADER", Some(8))]);
        let empty_bundle = KNOT
            .lines()
            .filter(|line| !line.contains("IN DNSKEY"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(codes(&empty_bundle), [("TXT-PARSE-RR", Some(7))]);
        let backwards = KNOT.replace("1491868800", "1491004800");
        assert_eq!(codes(&backwards), [("TXT-PARSE-HEADER", Some(7))]);
        let odd_time = KNOT.replace("1491868800", "2017041100000");
        assert_eq!(codes(&odd_time), [("TXT-PARSE-HEADER", Some(7))]);
        let bad_date = KNOT.replace("1491868800", "20170231000000");
        assert_eq!(codes(&bad_date), [("TXT-PARSE-HEADER", Some(7))]);
        let no_ttl = KNOT.replace("example.com.  3600 IN", "example.com. IN");
        assert_eq!(codes(&no_ttl), [("TXT-PARSE-RR", Some(8))]);
        let other_zone = KNOT.replace("example.com.  3600 IN", "example.org. 3600 IN");
        assert_eq!(codes(&other_zone), [("TXT-PARSE-RR", Some(8))]);
        let other_type = KNOT.replace("IN DNSKEY 256 3 13 5iZ", "IN TXT 256 3 13 5iZ");
        assert_eq!(codes(&other_type), [("TXT-PARSE-RR", Some(8))]);
        let open = KNOT.replace("nx0q1Q==\n    )", "nx0q1Q==\n");
        assert!(codes(&open).iter().any(|(code, _)| *code == "TXT-PARSE-RR"));
        let twice = KNOT.replacen(
            ";; KeySigningRequest 1.0 1491868800",
            "example.com. 3600 DNSKEY 256 3 13 5iZ7RJtLp3kxLbCr9Z9d9Nc7+uWyqT/Uw14MgylqpfX+jyxjB5q48VPsYuYjf8T/cct2jSv/Pm0cforUnx0q1Q==\n;; KeySigningRequest 1.0 1491868800",
            1,
        );
        assert_eq!(codes(&twice), [("TXT-PARSE-RR", Some(7))]);
        let before = format!(
            "example.com. 3600 DNSKEY 256 3 13 5iZ7RJtLp3kxLbCr9Z9d9Nc7+uWyqT/Uw14MgylqpfX+jyxjB5q48VPsYuYjf8T/cct2jSv/Pm0cforUnx0q1Q==\n{KNOT}"
        );
        assert!(
            codes(&before)
                .iter()
                .any(|(code, _)| *code == "TXT-PARSE-HEADER")
        );
        let response = KNOT.replace("KeySigningRequest", "SignedKeyResponse");
        assert!(
            codes(&response)
                .iter()
                .all(|(code, _)| *code == "TXT-PARSE-HEADER")
        );
    }

    #[test]
    fn headers_hidden_in_records_and_huge_keys_are_refused() {
        let inside = KNOT.replace(
            "    nx0q1Q==\n    )",
            "    nx0q1Q==\n;; KeySigningRequest 1.0 1491400000\n    )",
        );
        assert!(codes(&inside).contains(&("TXT-PARSE-HEADER", Some(6))));
        let trailing = KNOT.replace(
            "    ) ; ZSK, ECDSAP256SHA256 (256b), id = 36967",
            "    ) ;; KeySigningRequest 1.0 1491400000",
        );
        assert!(codes(&trailing).contains(&("TXT-PARSE-HEADER", Some(6))));
        let squashed = KNOT.replace(
            ";; KeySigningRequest 1.0 1491868800",
            ";;KeySigningRequest 1.0 1491868800",
        );
        assert!(codes(&squashed).contains(&("TXT-PARSE-HEADER", Some(7))));
        // A 140 KB "RSA key" once overflowed the key tag sum.
        let mut key = vec![3u8, 1, 0, 1];
        key.extend(std::iter::repeat_n(0xFF, 140_000));
        let huge = format!(
            ";; KeySigningRequest 1.0 1491004800\nexample.com. 3600 DNSKEY 256 3 8 {}\n;; KeySigningRequest 1.0 generated at x by y\n",
            crate::octets::to_base64(&key)
        );
        assert_eq!(codes(&huge), [("TXT-PARSE-RR", Some(2))]);
        let big_ttl = KNOT.replace("example.com.  3600 IN", "example.com.  4294967295 IN");
        assert_eq!(codes(&big_ttl), [("TXT-PARSE-RR", Some(8))]);
    }

    #[test]
    fn every_truncation_and_byte_flip_ends_in_a_finding_or_a_document() {
        let bytes = KNOT.as_bytes();
        for end in 0..bytes.len() {
            let _ = parse_text_ksr(&bytes[..end], DocumentRole::Ksr);
        }
        for index in 0..bytes.len() {
            let mut copy = bytes.to_vec();
            copy[index] ^= 0x20;
            let _ = parse_text_ksr(&copy, DocumentRole::Ksr);
        }
    }
}

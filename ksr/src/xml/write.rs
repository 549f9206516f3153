//! Writing KSRs and SKRs in the byte layout of `ksr-skr-format.md` §2.3,
//! which is kskm's: 4 spaces per level, one element per line, fixed
//! attribute and element order, one LF at the end.

use crate::dnssec::time::Duration;
use crate::model::{AlgorithmParameters, Bundle, Key, Ksr, Policy, Signature, Skr};
use crate::octets::to_base64;

/// Writes an SKR. Keys are written by ascending key tag (then identifier,
/// then RDATA) and signatures by ascending KeyTag (then identifier), so the
/// output does not depend on the order of the model (§2.3 rules 7 and 8).
pub fn write_skr(skr: &Skr) -> String {
    let mut out = Writer::new();
    out.open_root(&skr.id, skr.domain.as_str(), skr.serial);
    out.open("Response", &[]);
    out.open("ResponsePolicy", &[]);
    out.policy("KSK", &skr.ksk_policy);
    out.policy("ZSK", &skr.zsk_policy);
    out.close("ResponsePolicy");
    for bundle in &skr.bundles {
        out.bundle("ResponseBundle", bundle, true);
    }
    out.close("Response");
    out.close("KSR");
    out.finish()
}

/// Writes a KSR in the same layout, keeping the document order of keys and
/// signatures (proofs of possession have no order of their own).
pub fn write_ksr(ksr: &Ksr) -> String {
    let mut out = Writer::new();
    out.open_root(&ksr.id, ksr.domain.as_str(), ksr.serial);
    out.open("Request", &[]);
    out.open("RequestPolicy", &[]);
    out.policy("ZSK", &ksr.zsk_policy);
    out.close("RequestPolicy");
    for bundle in &ksr.bundles {
        out.bundle("RequestBundle", bundle, false);
    }
    out.close("Request");
    out.close("KSR");
    out.finish()
}

/// Returns the keys in the order an SKR lists them.
fn sorted_keys(keys: &[Key]) -> Vec<&Key> {
    let mut sorted: Vec<&Key> = keys.iter().collect();
    sorted.sort_by(|a, b| key_order(a, b));
    sorted
}

/// Returns the signatures in the order an SKR lists them.
fn sorted_signatures(signatures: &[Signature]) -> Vec<&Signature> {
    let mut sorted: Vec<&Signature> = signatures.iter().collect();
    sorted.sort_by(|a, b| signature_order(a, b));
    sorted
}

/// Puts a bundle's keys and signatures in the order [`write_skr`] writes
/// them, so a built SKR equals what is read back from its file.
pub(crate) fn sort_as_written(bundle: &mut Bundle) {
    bundle.keys.sort_by(key_order);
    bundle.signatures.sort_by(signature_order);
}

/// Keys by tag, then identifier, then RDATA (§2.3 rule 7).
fn key_order(a: &Key, b: &Key) -> std::cmp::Ordering {
    (a.key_tag, &a.identifier, a.dnskey.rdata()).cmp(&(b.key_tag, &b.identifier, b.dnskey.rdata()))
}

/// Signatures by KeyTag, then identifier (§2.3 rule 8).
fn signature_order(a: &Signature, b: &Signature) -> std::cmp::Ordering {
    (a.rrsig.key_tag, &a.key_identifier).cmp(&(b.rrsig.key_tag, &b.key_identifier))
}

//------------ Writer --------------------------------------------------------

/// An indenting XML writer for the one layout the format uses.
struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn finish(self) -> String {
        self.out
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, value);
            self.out.push('"');
        }
    }

    fn open_root(&mut self, id: &str, domain: &str, serial: u64) {
        let serial = serial.to_string();
        self.open(
            "KSR",
            &[("id", id), ("domain", domain), ("serial", &serial)],
        );
    }

    fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes);
        self.out.push_str("/>\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape_text(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn policy(&mut self, name: &str, policy: &Policy) {
        self.open(name, &[]);
        let durations: [(&str, Duration); 6] = [
            ("PublishSafety", policy.publish_safety),
            ("RetireSafety", policy.retire_safety),
            ("MaxSignatureValidity", policy.max_signature_validity),
            ("MinSignatureValidity", policy.min_signature_validity),
            ("MaxValidityOverlap", policy.max_validity_overlap),
            ("MinValidityOverlap", policy.min_validity_overlap),
        ];
        for (element, duration) in durations {
            self.leaf(element, &duration.to_document());
        }
        for entry in &policy.signature_algorithms {
            let algorithm = entry.algorithm.to_int().to_string();
            self.open("SignatureAlgorithm", &[("algorithm", &algorithm)]);
            match entry.parameters {
                AlgorithmParameters::Rsa { size, exponent } => {
                    let (size, exponent) = (size.to_string(), exponent.to_string());
                    self.empty("RSA", &[("size", &size), ("exponent", &exponent)]);
                }
                AlgorithmParameters::Ecdsa { size } => {
                    self.empty("ECDSA", &[("size", &size.to_string())])
                }
                AlgorithmParameters::Eddsa { size } => {
                    self.empty("EdDSA", &[("size", &size.to_string())])
                }
            }
            self.close("SignatureAlgorithm");
        }
        self.close(name);
    }

    fn bundle(&mut self, name: &str, bundle: &Bundle, sort: bool) {
        self.open(name, &[("id", &bundle.id)]);
        self.leaf("Inception", &bundle.inception.to_document());
        self.leaf("Expiration", &bundle.expiration.to_document());
        for signer in &bundle.signers {
            self.empty("Signer", &[("keyIdentifier", signer)]);
        }
        let (keys, signatures) = if sort {
            (
                sorted_keys(&bundle.keys),
                sorted_signatures(&bundle.signatures),
            )
        } else {
            (
                bundle.keys.iter().collect(),
                bundle.signatures.iter().collect(),
            )
        };
        for key in keys {
            self.key(key);
        }
        for signature in signatures {
            self.signature(signature);
        }
        self.close(name);
    }

    fn key(&mut self, key: &Key) {
        let tag = key.key_tag.to_string();
        self.open(
            "Key",
            &[("keyIdentifier", &key.identifier), ("keyTag", &tag)],
        );
        self.leaf("TTL", &key.ttl.to_string());
        self.leaf("Flags", &key.dnskey.flags().to_string());
        self.leaf("Protocol", &key.dnskey.protocol().to_string());
        self.leaf("Algorithm", &key.dnskey.algorithm().to_int().to_string());
        self.leaf("PublicKey", &to_base64(key.dnskey.public_key()));
        self.close("Key");
    }

    fn signature(&mut self, signature: &Signature) {
        let rrsig = &signature.rrsig;
        self.open("Signature", &[("keyIdentifier", &signature.key_identifier)]);
        self.leaf("TTL", &signature.ttl.to_string());
        self.leaf("TypeCovered", "DNSKEY");
        self.leaf("Algorithm", &rrsig.algorithm.to_int().to_string());
        self.leaf("Labels", &rrsig.labels.to_string());
        self.leaf("OriginalTTL", &rrsig.original_ttl.to_string());
        self.leaf("SignatureExpiration", &rrsig.expiration.to_document());
        self.leaf("SignatureInception", &rrsig.inception.to_document());
        self.leaf("KeyTag", &rrsig.key_tag.to_string());
        self.leaf("SignersName", rrsig.signer_name.as_str());
        self.leaf("SignatureData", &to_base64(&rrsig.signature));
        self.close("Signature");
    }
}

/// Escapes text for an XML (or HTML) attribute value or element: `&`,
/// `<`, `>` and `"`, and white space a reader would normalize. One place
/// for every document the workspace writes (trust anchors, pages).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '>' => out.push_str("&gt;"),
            c => escape_attribute(&mut out, c.encode_utf8(&mut [0; 4])),
        }
    }
    out
}

/// Escapes `&`, `<` and `>` in text (§2.3 rule 9).
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be read back as LF (XML 1.0 §2.11).
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
}

/// Escapes `&`, `<` and `"` in attribute values (§2.3 rule 9).
fn escape_attribute(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            // Literal white space other than a space would be normalized to
            // a space by a conforming reader (XML 1.0 §3.3.3).
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
}

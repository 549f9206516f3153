//! From the element tree to the document model: the structure of ksr.rnc
//! (plus EdDSA) and the value checks of stage 1 of `ksr-checks.md`.
//!
//! Every structure and value error is collected, with its position; only
//! well-formedness stops at the first error, which [`super::tree`] reports.

use std::str::FromStr;

use super::tree::{Element, Locator, MAX_DOCUMENT_SIZE, TreeError, is_xml_space, read_tree};
use crate::dnssec::algorithm::{Algorithm, AlgorithmFamily};
use crate::dnssec::dnskey::{Dnskey, Flags};
use crate::dnssec::keytag::KeyTag;
use crate::dnssec::name::DomainName;
use crate::dnssec::rrsig::Rrsig;
use crate::dnssec::time::{Duration, Timestamp};
use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{
    AlgorithmParameters, Bundle, Key, Ksr, Policy, Signature, SignatureAlgorithm, Skr,
};
use crate::octets::from_document_base64;

/// The largest TTL a document may carry (RFC 2181 §8: 2^31 − 1).
const MAX_TTL: u64 = 2_147_483_647;

/// The six policy durations, in schema order.
const DURATIONS: [&str; 6] = [
    "PublishSafety",
    "RetireSafety",
    "MaxSignatureValidity",
    "MinSignatureValidity",
    "MaxValidityOverlap",
    "MinValidityOverlap",
];

/// Reads an XML KSR.
///
/// # Errors
///
/// The stage-1 findings (`KSR-PARSE-*`), all errors, when the document is
/// not a well-formed KSR.
pub fn parse_ksr(input: &[u8], role: DocumentRole) -> Result<Ksr, Vec<Finding>> {
    let mut parser = Parser::new(input, role);
    let root = parser.tree()?;
    let ksr = parser.ksr(&root);
    parser.finish(ksr)
}

/// Reads an XML SKR.
///
/// # Errors
///
/// The stage-1 findings (`KSR-PARSE-*`), all errors, when the document is
/// not a well-formed SKR.
pub fn parse_skr(input: &[u8], role: DocumentRole) -> Result<Skr, Vec<Finding>> {
    let mut parser = Parser::new(input, role);
    let root = parser.tree()?;
    let skr = parser.skr(&root);
    parser.finish(skr)
}

//------------ Parser --------------------------------------------------------

/// The state of one structure pass: where findings go and which bundle is
/// being read.
struct Parser<'a> {
    input: &'a [u8],
    locator: Locator<'a>,
    role: DocumentRole,
    findings: Vec<Finding>,
    bundle: Option<(usize, String)>,
}

/// The attributes of the root element shared by KSR and SKR.
struct Header {
    id: String,
    serial: u64,
    domain: DomainName,
    timestamp: Option<Timestamp>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], role: DocumentRole) -> Self {
        Self {
            input,
            locator: Locator::new(input),
            role,
            findings: Vec::new(),
            bundle: None,
        }
    }

    /// Checks the size and reads the element tree.
    fn tree(&mut self) -> Result<Element, Vec<Finding>> {
        if self.input.len() > MAX_DOCUMENT_SIZE {
            return Err(vec![Finding::error(
                CheckCode::ParseSize,
                self.role,
                format!(
                    "the document has {} bytes or more, over the limit of {MAX_DOCUMENT_SIZE} bytes (1 MiB)",
                    self.input.len()
                ),
            )]);
        }
        read_tree(self.input).map_err(
            |TreeError {
                 code,
                 offset,
                 message,
             }| {
                vec![Finding::error(code, self.role, message).at(self.locator.position(offset))]
            },
        )
    }

    /// Returns the document if no error was found, else every finding.
    fn finish<T>(self, document: Option<T>) -> Result<T, Vec<Finding>> {
        match document {
            Some(document) if !self.findings.iter().any(Finding::is_error) => Ok(document),
            _ => Err(self.findings),
        }
    }

    /// Records an error at an element.
    fn error(&mut self, code: CheckCode, element: &Element, message: impl Into<String>) {
        let mut finding =
            Finding::error(code, self.role, message).at(self.locator.position(element.offset));
        if let Some((number, id)) = &self.bundle {
            finding = finding.in_bundle(*number, id);
        }
        self.findings.push(finding);
    }

    //--- Documents

    fn ksr(&mut self, root: &Element) -> Option<Ksr> {
        let (header, body) = self.root(root, "Request", "Response", "an SKR", "a KSR")?;
        let header = header?;
        let timestamp = self.body_timestamp(&header, body)?;
        let mut children = Children::new(body);
        let policy = children.one(self, "RequestPolicy");
        let bundles = children.many(self, "RequestBundle", 1);
        children.finish(self);
        let zsk_policy = policy.and_then(|policy| {
            self.attributes(policy, &[], &[], CheckCode::ParseStructure);
            self.container_text(policy);
            let mut inner = Children::new(policy);
            let zsk = inner.one(self, "ZSK");
            inner.finish(self);
            zsk.and_then(|zsk| self.policy(zsk))
        });
        let bundles = self.bundles(&bundles, true);
        Some(Ksr {
            id: header.id,
            serial: header.serial,
            domain: header.domain,
            timestamp,
            zsk_policy: zsk_policy?,
            bundles: bundles?,
        })
    }

    fn skr(&mut self, root: &Element) -> Option<Skr> {
        let (header, body) = self.root(root, "Response", "Request", "a KSR", "an SKR")?;
        let header = header?;
        let timestamp = self.body_timestamp(&header, body)?;
        let mut children = Children::new(body);
        let policy = children.one(self, "ResponsePolicy");
        let bundles = children.many(self, "ResponseBundle", 1);
        children.finish(self);
        let policies = policy.and_then(|policy| {
            self.attributes(policy, &[], &[], CheckCode::ParseStructure);
            self.container_text(policy);
            let mut inner = Children::new(policy);
            let ksk = inner.one(self, "KSK");
            let zsk = inner.one(self, "ZSK");
            inner.finish(self);
            let ksk = ksk.and_then(|ksk| self.policy(ksk));
            let zsk = zsk.and_then(|zsk| self.policy(zsk));
            Some((ksk?, zsk?))
        });
        let bundles = self.bundles(&bundles, false);
        let (ksk_policy, zsk_policy) = policies?;
        Some(Skr {
            id: header.id,
            serial: header.serial,
            domain: header.domain,
            timestamp,
            ksk_policy,
            zsk_policy,
            bundles: bundles?,
        })
    }

    /// Checks the root element and finds its one child of the expected
    /// kind (`KSR-PARSE-ROOT`).
    fn root<'e>(
        &mut self,
        root: &'e Element,
        body: &str,
        other: &str,
        other_kind: &str,
        kind: &str,
    ) -> Option<(Option<Header>, &'e Element)> {
        if root.name != "KSR" {
            self.error(
                CheckCode::ParseRoot,
                root,
                format!("the root element is <{}>, expected <KSR>", root.name),
            );
            return None;
        }
        self.container_text(root);
        let header = self.header(root);
        let found: Vec<&Element> = root.children.iter().collect();
        match found.as_slice() {
            [only] if only.name == body => Some((header, only)),
            [only] if only.name == other => {
                self.error(
                    CheckCode::ParseRoot,
                    only,
                    format!("this is {other_kind} (<KSR><{other}>), where {kind} (<KSR><{body}>) is expected"),
                );
                None
            }
            _ => {
                self.error(
                    CheckCode::ParseRoot,
                    root,
                    format!("<KSR> must have exactly one child, <{body}>"),
                );
                None
            }
        }
    }

    /// Reads the attributes of `<KSR>`.
    fn header(&mut self, root: &Element) -> Option<Header> {
        self.attributes(
            root,
            &["id", "domain", "serial"],
            &["timestamp"],
            CheckCode::ParseRoot,
        );
        let id = root.attribute("id").map(str::to_owned);
        let serial = root
            .attribute("serial")
            .and_then(|text| self.unsigned(root, "serial", text, u64::MAX));
        let domain = root
            .attribute("domain")
            .and_then(|text| match DomainName::from_str(text) {
                Ok(name) => Some(name),
                Err(err) => {
                    self.error(
                        CheckCode::ParseValue,
                        root,
                        format!("domain {text:?}: {err}"),
                    );
                    None
                }
            });
        let timestamp = match root.attribute("timestamp") {
            Some(text) => Some(self.timestamp(root, "timestamp", text)?),
            None => None,
        };
        Some(Header {
            id: id?,
            serial: serial?,
            domain: domain?,
            timestamp,
        })
    }

    /// Reads the optional `timestamp` of `<Request>`/`<Response>`, which
    /// must equal the root's if both are given.
    fn body_timestamp(&mut self, header: &Header, body: &Element) -> Option<Option<Timestamp>> {
        self.attributes(body, &[], &["timestamp"], CheckCode::ParseStructure);
        self.container_text(body);
        let Some(text) = body.attribute("timestamp") else {
            return Some(header.timestamp);
        };
        let timestamp = self.timestamp(body, "timestamp", text)?;
        if header.timestamp.is_some_and(|root| root != timestamp) {
            self.error(
                CheckCode::ParseRoot,
                body,
                format!("timestamp {text:?} differs from the timestamp of <KSR>"),
            );
            return None;
        }
        Some(Some(timestamp))
    }

    //--- Policy

    fn policy(&mut self, element: &Element) -> Option<Policy> {
        self.attributes(element, &[], &[], CheckCode::ParseStructure);
        self.container_text(element);
        let mut children = Children::new(element);
        let durations: Vec<Option<Duration>> = DURATIONS
            .iter()
            .map(|name| {
                children
                    .one(self, name)
                    .and_then(|child| self.leaf(child))
                    .and_then(|(child, text)| self.duration(child, text))
            })
            .collect();
        let algorithms: Vec<Option<SignatureAlgorithm>> = children
            .many(self, "SignatureAlgorithm", 1)
            .into_iter()
            .map(|child| self.signature_algorithm(child))
            .collect();
        children.finish(self);
        let algorithms: Option<Vec<SignatureAlgorithm>> = algorithms.into_iter().collect();
        let [
            publish,
            retire,
            max_validity,
            min_validity,
            max_overlap,
            min_overlap,
        ] = durations.as_slice()
        else {
            return None;
        };
        Some(Policy {
            publish_safety: (*publish)?,
            retire_safety: (*retire)?,
            max_signature_validity: (*max_validity)?,
            min_signature_validity: (*min_validity)?,
            max_validity_overlap: (*max_overlap)?,
            min_validity_overlap: (*min_overlap)?,
            signature_algorithms: algorithms?,
        })
    }

    fn signature_algorithm(&mut self, element: &Element) -> Option<SignatureAlgorithm> {
        self.attributes(element, &["algorithm"], &[], CheckCode::ParseStructure);
        self.container_text(element);
        let algorithm = element
            .attribute("algorithm")
            .and_then(|text| self.algorithm(element, text));
        let [parameters] = element.children.as_slice() else {
            self.error(
                CheckCode::ParseStructure,
                element,
                "<SignatureAlgorithm> must hold exactly one of <RSA>, <ECDSA> or <EdDSA>",
            );
            return None;
        };
        if !parameters.children.is_empty() || !parameters.text.chars().all(is_xml_space) {
            self.error(
                CheckCode::ParseStructure,
                parameters,
                format!("<{}> must be empty", parameters.name),
            );
        }
        let (family, parameters) = match parameters.name.as_str() {
            "RSA" => {
                self.attributes(
                    parameters,
                    &["size", "exponent"],
                    &[],
                    CheckCode::ParseAlgorithm,
                );
                let size = self.size_attribute(parameters, "size");
                let exponent = parameters
                    .attribute("exponent")
                    .and_then(|text| self.unsigned(parameters, "exponent", text, u64::MAX))
                    .and_then(|exponent| self.at_least_one(parameters, "exponent", exponent));
                (
                    AlgorithmFamily::Rsa,
                    size.zip(exponent)
                        .map(|(size, exponent)| AlgorithmParameters::Rsa { size, exponent }),
                )
            }
            "ECDSA" => {
                self.attributes(parameters, &["size"], &[], CheckCode::ParseAlgorithm);
                let size = self.size_attribute(parameters, "size");
                (
                    AlgorithmFamily::Ecdsa,
                    size.map(|size| AlgorithmParameters::Ecdsa { size }),
                )
            }
            "EdDSA" => {
                self.attributes(parameters, &["size"], &[], CheckCode::ParseAlgorithm);
                let size = self.size_attribute(parameters, "size");
                (
                    AlgorithmFamily::Eddsa,
                    size.map(|size| AlgorithmParameters::Eddsa { size }),
                )
            }
            other => {
                self.error(
                    CheckCode::ParseStructure,
                    parameters,
                    format!("unknown element <{other}> in <SignatureAlgorithm>: expected <RSA>, <ECDSA> or <EdDSA>"),
                );
                return None;
            }
        };
        let algorithm = algorithm?;
        if algorithm.family() != Some(family) {
            self.error(
                CheckCode::ParseAlgorithm,
                element,
                format!(
                    "algorithm {algorithm} does not take <{}> parameters",
                    element
                        .children
                        .first()
                        .map_or("", |child| child.name.as_str())
                ),
            );
            return None;
        }
        Some(SignatureAlgorithm {
            algorithm,
            parameters: parameters?,
        })
    }

    fn size_attribute(&mut self, element: &Element, name: &str) -> Option<u32> {
        let size = element
            .attribute(name)
            .and_then(|text| self.unsigned(element, name, text, u64::from(u32::MAX)))?;
        self.at_least_one(element, name, size)
            .and_then(|size| u32::try_from(size).ok())
    }

    fn at_least_one(&mut self, element: &Element, name: &str, value: u64) -> Option<u64> {
        if value == 0 {
            self.error(
                CheckCode::ParseValue,
                element,
                format!("{name} must be at least 1"),
            );
            return None;
        }
        Some(value)
    }

    //--- Bundles

    fn bundles(&mut self, elements: &[&Element], request: bool) -> Option<Vec<Bundle>> {
        let bundles: Vec<Option<Bundle>> = elements
            .iter()
            .enumerate()
            .map(|(index, element)| {
                let bundle = self.bundle(index + 1, element, request);
                self.bundle = None;
                bundle
            })
            .collect();
        bundles.into_iter().collect()
    }

    fn bundle(&mut self, number: usize, element: &Element, request: bool) -> Option<Bundle> {
        self.attributes(element, &["id"], &[], CheckCode::ParseStructure);
        let id = element.attribute("id").unwrap_or_default().to_owned();
        self.bundle = Some((number, id.clone()));
        self.container_text(element);
        let mut children = Children::new(element);
        let inception = children.one(self, "Inception");
        let expiration = children.one(self, "Expiration");
        let signers = if request {
            children.many(self, "Signer", 0)
        } else {
            Vec::new()
        };
        let keys = children.many(self, "Key", 1);
        let signatures = children.many(self, "Signature", 1);
        children.finish(self);

        let inception = inception
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.timestamp(child, "Inception", text));
        let expiration = expiration
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.timestamp(child, "Expiration", text));
        let signers: Vec<Option<String>> =
            signers.iter().map(|signer| self.signer(signer)).collect();
        let keys: Vec<Option<Key>> = keys.iter().map(|key| self.key(key)).collect();
        let signatures: Vec<Option<Signature>> = signatures
            .iter()
            .map(|signature| self.signature(signature))
            .collect();
        Some(Bundle {
            id: element.attribute("id")?.to_owned(),
            inception: inception?,
            expiration: expiration?,
            signers: signers.into_iter().collect::<Option<_>>()?,
            keys: keys.into_iter().collect::<Option<_>>()?,
            signatures: signatures.into_iter().collect::<Option<_>>()?,
        })
    }

    fn signer(&mut self, element: &Element) -> Option<String> {
        // An empty element whose one attribute is the value.
        self.attributes(element, &["keyIdentifier"], &[], CheckCode::ParseStructure);
        if !element.children.is_empty() || !element.text.chars().all(is_xml_space) {
            self.error(CheckCode::ParseStructure, element, "<Signer> must be empty");
            return None;
        }
        self.identifier(element)
    }

    fn identifier(&mut self, element: &Element) -> Option<String> {
        let identifier = element.attribute("keyIdentifier")?;
        if identifier.is_empty() {
            self.error(CheckCode::ParseValue, element, "keyIdentifier is empty");
            return None;
        }
        Some(identifier.to_owned())
    }

    fn key(&mut self, element: &Element) -> Option<Key> {
        self.attributes(
            element,
            &["keyIdentifier", "keyTag"],
            &[],
            CheckCode::ParseStructure,
        );
        self.container_text(element);
        let identifier = self.identifier(element);
        let key_tag = element
            .attribute("keyTag")
            .and_then(|text| self.unsigned(element, "keyTag", text, u64::from(u16::MAX)))
            .and_then(|tag| u16::try_from(tag).ok())
            .map(KeyTag::from_int);
        let mut children = Children::new(element);
        let ttl = self.child_unsigned(&mut children, "TTL", MAX_TTL);
        let flags = self.child_unsigned(&mut children, "Flags", u64::from(u16::MAX));
        let protocol = self.child_unsigned(&mut children, "Protocol", u64::from(u8::MAX));
        let algorithm = children
            .one(self, "Algorithm")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.algorithm(child, text));
        let public_key = children
            .one(self, "PublicKey")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.base64(child, text).map(|octets| (child, octets)));
        children.finish(self);

        let flags = flags.and_then(|(child, flags)| {
            let flags = Flags::from_int(u16::try_from(flags).ok()?);
            if !flags.is_document_value() {
                self.error(
                    CheckCode::ParseFlags,
                    child,
                    format!("Flags {flags} is not allowed: only 256 (ZSK), 257 (KSK) and 385 (revoked KSK)"),
                );
                return None;
            }
            Some(flags)
        });
        let (public_key_element, public_key) = public_key?;
        let algorithm = algorithm?;
        let dnskey = Dnskey::new(
            flags?,
            u8::try_from(protocol?.1).ok()?,
            algorithm,
            public_key,
        );
        if let Err(err) = dnskey.decode_public_key() {
            self.error(
                CheckCode::ParsePublicKey,
                public_key_element,
                err.to_string(),
            );
            return None;
        }
        Some(Key {
            identifier: identifier?,
            key_tag: key_tag?,
            ttl: u32::try_from(ttl?.1).ok()?,
            dnskey,
        })
    }

    fn signature(&mut self, element: &Element) -> Option<Signature> {
        self.attributes(element, &["keyIdentifier"], &[], CheckCode::ParseStructure);
        self.container_text(element);
        let identifier = self.identifier(element);
        let mut children = Children::new(element);
        let ttl = self.child_unsigned(&mut children, "TTL", MAX_TTL);
        let type_covered = children
            .one(self, "TypeCovered")
            .and_then(|child| self.leaf(child));
        let algorithm = children
            .one(self, "Algorithm")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.algorithm(child, text));
        let labels = self.child_unsigned(&mut children, "Labels", u64::from(u8::MAX));
        let original_ttl = self.child_unsigned(&mut children, "OriginalTTL", MAX_TTL);
        let expiration = children
            .one(self, "SignatureExpiration")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.timestamp(child, "SignatureExpiration", text));
        let inception = children
            .one(self, "SignatureInception")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.timestamp(child, "SignatureInception", text));
        let key_tag = self.child_unsigned(&mut children, "KeyTag", u64::from(u16::MAX));
        let signer_name = children
            .one(self, "SignersName")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.signer_name(child, text));
        let data = children
            .one(self, "SignatureData")
            .and_then(|child| self.leaf(child))
            .and_then(|(child, text)| self.base64(child, text));
        children.finish(self);

        let type_covered = type_covered.and_then(|(child, text)| {
            if text != "DNSKEY" {
                self.error(
                    CheckCode::ParseRrsig,
                    child,
                    format!("TypeCovered is {text:?}, expected the mnemonic DNSKEY"),
                );
                return None;
            }
            Some(())
        });
        type_covered?;
        Some(Signature {
            key_identifier: identifier?,
            ttl: u32::try_from(ttl?.1).ok()?,
            rrsig: Rrsig {
                algorithm: algorithm?,
                labels: u8::try_from(labels?.1).ok()?,
                original_ttl: u32::try_from(original_ttl?.1).ok()?,
                expiration: expiration?,
                inception: inception?,
                key_tag: KeyTag::from_int(u16::try_from(key_tag?.1).ok()?),
                signer_name: signer_name?,
                signature: data?,
            },
        })
    }

    //--- Values

    /// Checks an element's attributes: every required one present, no
    /// others.
    fn attributes(
        &mut self,
        element: &Element,
        required: &[&str],
        optional: &[&str],
        code: CheckCode,
    ) {
        for name in required {
            if element.attribute(name).is_none() {
                self.error(
                    code,
                    element,
                    format!("<{}> lacks the attribute {name}", element.name),
                );
            }
        }
        for (name, _) in &element.attributes {
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                self.error(
                    code,
                    element,
                    format!("<{}> has an unknown attribute {name}", element.name),
                );
            }
        }
    }

    /// Checks that a container holds only white space as text.
    fn container_text(&mut self, element: &Element) {
        if !element.text.chars().all(is_xml_space) {
            self.error(
                CheckCode::ParseStructure,
                element,
                format!("<{}> may contain elements only, not text", element.name),
            );
        }
    }

    /// Returns the trimmed text of a leaf element.
    fn leaf<'e>(&mut self, element: &'e Element) -> Option<(&'e Element, &'e str)> {
        if let Some(child) = element.children.first() {
            self.error(
                CheckCode::ParseStructure,
                child,
                format!(
                    "<{}> may not contain elements, found <{}>",
                    element.name, child.name
                ),
            );
            return None;
        }
        self.attributes(element, &[], &[], CheckCode::ParseStructure);
        Some((element, element.text.trim_matches(is_xml_space)))
    }

    fn child_unsigned<'e>(
        &mut self,
        children: &mut Children<'e>,
        name: &str,
        max: u64,
    ) -> Option<(&'e Element, u64)> {
        let (child, text) = children
            .one(self, name)
            .and_then(|child| self.leaf(child))?;
        self.unsigned(child, name, text, max)
            .map(|value| (child, value))
    }

    /// Reads a decimal integer: digits only, no sign, separator or space.
    fn unsigned(&mut self, element: &Element, name: &str, text: &str, max: u64) -> Option<u64> {
        let value = if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
            text.parse::<u64>().ok().filter(|value| *value <= max)
        } else {
            None
        };
        if value.is_none() {
            self.error(
                CheckCode::ParseValue,
                element,
                format!("{name} {text:?} is not a decimal integer from 0 to {max}"),
            );
        }
        value
    }

    fn algorithm(&mut self, element: &Element, text: &str) -> Option<Algorithm> {
        let number = self.unsigned(element, "algorithm", text, u64::from(u8::MAX))?;
        let algorithm = Algorithm::from_int(u8::try_from(number).ok()?);
        if !algorithm.is_known() {
            self.error(
                CheckCode::ParseAlgorithm,
                element,
                format!("algorithm {algorithm} is unknown: expected one of 1, 3, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16"),
            );
            return None;
        }
        Some(algorithm)
    }

    fn timestamp(&mut self, element: &Element, name: &str, text: &str) -> Option<Timestamp> {
        match Timestamp::parse_document(text) {
            Ok(time) => Some(time),
            Err(err) => {
                self.error(
                    CheckCode::ParseTime,
                    element,
                    format!("{name} {text:?}: {err}"),
                );
                None
            }
        }
    }

    fn duration(&mut self, element: &Element, text: &str) -> Option<Duration> {
        match Duration::parse_document(text) {
            Ok(duration) => Some(duration),
            Err(err) => {
                self.error(
                    CheckCode::ParseDuration,
                    element,
                    format!("{} {text:?}: {err}", element.name),
                );
                None
            }
        }
    }

    fn base64(&mut self, element: &Element, text: &str) -> Option<Vec<u8>> {
        match from_document_base64(text) {
            Ok(octets) => Some(octets),
            Err(err) => {
                self.error(
                    CheckCode::ParseValue,
                    element,
                    format!("{}: {err}", element.name),
                );
                None
            }
        }
    }

    fn signer_name(&mut self, element: &Element, text: &str) -> Option<DomainName> {
        let name = if text.ends_with('.') {
            DomainName::from_str(text).map_err(|err| err.to_string())
        } else {
            Err("an absolute name ends with a dot".to_owned())
        };
        match name {
            Ok(name) => Some(name),
            Err(err) => {
                self.error(
                    CheckCode::ParseRrsig,
                    element,
                    format!("SignersName {text:?}: {err}"),
                );
                None
            }
        }
    }
}

//------------ Children ------------------------------------------------------

/// A cursor over the child elements of a container that checks schema
/// order: each expected child is taken in turn, and what is left at the end
/// is unknown, repeated or misplaced.
struct Children<'e> {
    parent: &'e Element,
    used: Vec<bool>,
    next: usize,
    expected: Vec<String>,
}

impl<'e> Children<'e> {
    fn new(parent: &'e Element) -> Self {
        Self {
            parent,
            used: vec![false; parent.children.len()],
            next: 0,
            expected: Vec::new(),
        }
    }

    /// Takes the one child of this name, reporting it missing or out of
    /// order.
    fn one(&mut self, parser: &mut Parser<'_>, name: &str) -> Option<&'e Element> {
        self.expected.push(name.to_owned());
        let Some(found) = self.find(name) else {
            parser.error(
                CheckCode::ParseStructure,
                self.parent,
                format!("<{}> lacks the element <{name}>", self.parent.name),
            );
            return None;
        };
        Some(self.take(parser, found))
    }

    /// Takes every child of this name, at least `min`.
    fn many(&mut self, parser: &mut Parser<'_>, name: &str, min: usize) -> Vec<&'e Element> {
        self.expected.push(name.to_owned());
        let mut found = Vec::new();
        while let Some(next) = self.find(name) {
            found.push(self.take(parser, next));
        }
        if found.len() < min {
            parser.error(
                CheckCode::ParseStructure,
                self.parent,
                format!(
                    "<{}> needs at least {min} <{name}> element(s), found {}",
                    self.parent.name,
                    found.len()
                ),
            );
        }
        found
    }

    fn find(&self, name: &str) -> Option<(usize, &'e Element)> {
        let parent: &'e Element = self.parent;
        parent
            .children
            .iter()
            .enumerate()
            .zip(&self.used)
            .find(|((_, child), used)| !**used && child.name == name)
            .map(|(found, _)| found)
    }

    fn take(
        &mut self,
        parser: &mut Parser<'_>,
        (index, child): (usize, &'e Element),
    ) -> &'e Element {
        if let Some(used) = self.used.get_mut(index) {
            *used = true;
        }
        if index < self.next {
            parser.error(
                CheckCode::ParseStructure,
                child,
                format!("<{}> is out of order in <{}>", child.name, self.parent.name),
            );
        }
        self.next = self.next.max(index + 1);
        child
    }

    /// Reports every child that was not taken.
    fn finish(self, parser: &mut Parser<'_>) {
        for (child, used) in self.parent.children.iter().zip(&self.used) {
            if !used {
                let message = if self.expected.contains(&child.name) {
                    format!("<{}> is repeated in <{}>", child.name, self.parent.name)
                } else {
                    format!(
                        "unknown element <{}> in <{}>: expected {}",
                        child.name,
                        self.parent.name,
                        self.expected
                            .iter()
                            .map(|name| format!("<{name}>"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                parser.error(CheckCode::ParseStructure, child, message);
            }
        }
    }
}

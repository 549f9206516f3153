//! Findings: the results of checks, each with the code of
//! `ksr-checks.md`.

use std::fmt;

use serde::Serialize;

use crate::dnssec::keytag::KeyTag;

//------------ CheckCode -----------------------------------------------------

/// Defines [`CheckCode`] with its text and its stage in one table, so the
/// three cannot drift apart.
macro_rules! check_codes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, stage $stage:literal; )*) => {
        /// The code of a check, as `ksr-checks.md` names it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckCode {
            $( $(#[$doc])* $variant, )*
        }

        impl CheckCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// Returns the code as the spec writes it, such as
            /// `KSR-BUNDLE-POP.2`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            /// Returns the pipeline stage of the check (1 parse, 2 KSR,
            /// 3 previous SKR, 4 chain, 5 signing, 6 new SKR, 7 tool).
            pub const fn stage(self) -> u8 {
                match self { $(Self::$variant => $stage,)* }
            }
        }
    };
}

check_codes! {
    /// The document is larger than 1 MiB.
    ParseSize => "KSR-PARSE-SIZE", stage 1;
    /// Not well-formed XML 1.0 in UTF-8, or a DOCTYPE, entity or namespace.
    ParseXml => "KSR-PARSE-XML", stage 1;
    /// Depth, attribute, text or count limits exceeded.
    ParseLimits => "KSR-PARSE-LIMITS", stage 1;
    /// The root element or its attributes are wrong, or the document is of
    /// the other kind (an SKR where a KSR is expected).
    ParseRoot => "KSR-PARSE-ROOT", stage 1;
    /// The element structure does not follow ksr.rnc.
    ParseStructure => "KSR-PARSE-STRUCTURE", stage 1;
    /// An integer, base64 or identifier value is malformed or out of range.
    ParseValue => "KSR-PARSE-VALUE", stage 1;
    /// A timestamp is not of the accepted form.
    ParseTime => "KSR-PARSE-TIME", stage 1;
    /// A duration is not of the accepted grammar.
    ParseDuration => "KSR-PARSE-DURATION", stage 1;
    /// An unknown algorithm number, or parameters of the wrong family.
    ParseAlgorithm => "KSR-PARSE-ALG", stage 1;
    /// Flags other than 256, 257 and 385.
    ParseFlags => "KSR-PARSE-FLAGS", stage 1;
    /// A public key that does not decode for its algorithm.
    ParsePublicKey => "KSR-PARSE-PUBKEY", stage 1;
    /// TypeCovered is not DNSKEY, or SignersName is not a domain name.
    ParseRrsig => "KSR-PARSE-RRSIG", stage 1;
    /// A text-format header or footer is malformed, missing or out of
    /// order, or the header times do not increase.
    TxtParseHeader => "TXT-PARSE-HEADER", stage 1;
    /// A text-format record is malformed, of the wrong owner, class or
    /// type, repeated, or of another TTL than its bundle's.
    TxtParseRr => "TXT-PARSE-RR", stage 1;
    /// A DNSKEY of a text KSR is not a ZSK (Flags 256, Protocol 3).
    TxtKsrZskOnly => "TXT-KSR-ZSK-ONLY", stage 2;
    /// A text KSR carries no proof of possession (a warning, always).
    TxtKsrUnauthenticated => "TXT-KSR-UNAUTHENTICATED", stage 2;
    /// A text KSR starts after SKR(n-1)'s last signatures expire.
    TxtChainGap => "TXT-CHAIN-GAP", stage 4;
    /// In a text SKR, a bundle's signatures expire less than
    /// text_rrsig_refresh after the next bundle takes over, or before it
    /// (a bundle missing); a code of ours.
    TxtSkrGap => "TXT-SKR-GAP", stage 3;
    /// A key's keyTag attribute differs from the tag of its RDATA.
    BundleKeysTag => "KSR-BUNDLE-KEYS.3", stage 2;
    /// Bundle shape: keys and signatures present, identifiers unique and
    /// resolvable, no duplicate RDATA.
    BundlePopShape => "KSR-BUNDLE-POP.1", stage 2;
    /// A proof-of-possession signature does not verify.
    BundlePopSignature => "KSR-BUNDLE-POP.2", stage 2;
    /// A key of a request bundle made none of its signatures.
    BundlePopEveryKey => "KSR-BUNDLE-POP.3", stage 2;
    /// RRSIG fields inconsistent with the signing key or the zone.
    BundleSigFields => "KSR-BUNDLE-SIGFIELDS", stage 2;
    /// A request bundle names Signers, which are ignored.
    BundleSigner => "KSR-BUNDLE-SIGNER", stage 2;
    /// An SKR bundle's signatures are missing, unresolvable or invalid.
    SkrSignatures => "SKR-PREV-SIGS", stage 3;
    /// An SKR signature's fields do not follow the response rules
    /// (`ksr-skr-format.md` §1.7).
    SkrSignatureFields => "SKR-CONSISTENCY.4", stage 6;
    /// An SKR bundle carries no valid signature by a given trusted KSK.
    SkrAnchor => "SKR-ANCHOR", stage 3;
    /// The KSR's domain is not acceptable.
    Domain => "KSR-DOMAIN", stage 2;
    /// A KSR or bundle id is empty, too long or of bad characters.
    BundleId => "KSR-BUNDLE-ID", stage 2;
    /// Two bundles of the KSR share an id.
    BundleUniqueInKsr => "KSR-BUNDLE-UNIQUE.1", stage 2;
    /// Bundles out of order, or Inception not before Expiration.
    BundleOrder => "KSR-BUNDLE-ORDER", stage 2;
    /// One keyIdentifier denotes different keys in different bundles.
    BundleKeysSame => "KSR-BUNDLE-KEYS.1", stage 2;
    /// A KSR key with Flags other than 256.
    BundleKeysZsk => "KSR-BUNDLE-KEYS.2", stage 2;
    /// A deprecated algorithm in the RequestPolicy.
    PolicyAlgDeprecated => "KSR-POLICY-ALG.1", stage 2;
    /// An unsupported algorithm in the RequestPolicy.
    PolicyAlgSupported => "KSR-POLICY-ALG.2", stage 2;
    /// An algorithm not in approved_algorithms.
    PolicyAlgApproved => "KSR-POLICY-ALG.3", stage 2;
    /// An RSA size not in rsa_approved_key_sizes.
    PolicyAlgRsaSize => "KSR-POLICY-ALG.4", stage 2;
    /// An RSA exponent not in rsa_approved_exponents.
    PolicyAlgRsaExponent => "KSR-POLICY-ALG.5", stage 2;
    /// A key that matches no SignatureAlgorithm of the RequestPolicy.
    PolicyAlgKeyMatch => "KSR-POLICY-ALG.6", stage 2;
    /// ECDSA without enable_unsupported_ecdsa.
    PolicyAlgEcdsa => "KSR-POLICY-ALG.7", stage 2;
    /// EdDSA without enable_unsupported_edwards_dsa.
    PolicyAlgEddsa => "KSR-POLICY-ALG.8", stage 2;
    /// A key with Protocol other than 3.
    KeyProtocol => "KSR-KEY-PROTOCOL", stage 2;
    /// An RSA key that fails the sanity checks.
    KeyRsa => "KSR-KEY-RSA", stage 2;
    /// Two keys, or a key and a KSK or reserved tag, share a key tag.
    KeyTagClash => "KSR-KEYTAG-CLASH", stage 2;
    /// The number of bundles differs from num_bundles.
    BundleCount => "KSR-BUNDLE-COUNT", stage 2;
    /// The cycle is too short or too long.
    BundleCycleDuration => "KSR-BUNDLE-CYCLE-DURATION", stage 2;
    /// The bundle count differs from the length of num_keys_per_bundle.
    PolicyKeysBundles => "KSR-POLICY-KEYS.4", stage 2;
    /// A bundle with another number of keys than num_keys_per_bundle says.
    PolicyKeysPerBundle => "KSR-POLICY-KEYS.5", stage 2;
    /// Another number of distinct keys than num_different_keys_in_all_bundles.
    PolicyKeysDistinct => "KSR-POLICY-KEYS.6", stage 2;
    /// Consecutive bundles overlap too little, too much, or leave a gap.
    PolicySigOverlap => "KSR-POLICY-SIG-OVERLAP", stage 2;
    /// A bundle valid for less than the KSR's MinSignatureValidity.
    PolicySigValidityMin => "KSR-POLICY-SIG-VALIDITY.1", stage 2;
    /// A bundle valid for more than the KSR's MaxSignatureValidity.
    PolicySigValidityMax => "KSR-POLICY-SIG-VALIDITY.2", stage 2;
    /// A bundle that expires beyond the signature horizon.
    PolicySigHorizon => "KSR-POLICY-SIG-HORIZON.1", stage 2;
    /// A bundle that has already expired.
    PolicySigExpired => "KSR-POLICY-SIG-HORIZON.2", stage 2;
    /// Bundle inceptions too close or too far apart.
    PolicyBundleIntervals => "KSR-POLICY-BUNDLE-INTERVALS", stage 2;
    /// A KSR TTL other than ksk_policy.ttl (a warning).
    PolicyTtl => "KSR-POLICY-TTL", stage 2;
    /// SKR(n-1) has another number of bundles than the response policy.
    SkrPrevCount => "SKR-PREV-COUNT", stage 3;
    /// The KSR repeats the id of SKR(n-1).
    KsrId => "KSR-ID", stage 4;
    /// A KSR bundle id is also a bundle id of SKR(n-1).
    BundleUniqueAcross => "KSR-BUNDLE-UNIQUE.2", stage 4;
    /// A KSK that signed SKR(n-1)'s last bundle is not a trusted KSK.
    ChainKeysHsm => "KSR-CHAIN-KEYS.1", stage 4;
    /// A key of the KSR's first bundle is not in SKR(n-1)'s last bundle.
    ChainKeys => "KSR-CHAIN-KEYS.2", stage 4;
    /// The overlap of SKR(n-1)'s last bundle and the KSR's first is out of range.
    ChainOverlap => "KSR-CHAIN-OVERLAP", stage 4;
    /// A key that signs the new SKR's first bundle is not in SKR(n-1)'s last.
    PolicySafetyPublishKeys => "KSR-POLICY-SAFETY.1", stage 6;
    /// The new first bundle, less PublishSafety, is not within SKR(n-1)'s last.
    PolicySafetyPublishTime => "KSR-POLICY-SAFETY.2", stage 6;
    /// A key that signed SKR(n-1)'s last bundle is retired too early.
    PolicySafetyRetire => "KSR-POLICY-SAFETY.3", stage 6;
    /// A key that signs a bundle is missing from a later one.
    PolicySafetyLater => "KSR-POLICY-SAFETY.4", stage 6;
    /// The SKR's bundles, id, serial or domain differ from the KSR's.
    SkrConsistencyBundles => "SKR-CONSISTENCY.1", stage 6;
    /// A ZSK of the KSR is missing or changed in the SKR, or an extra one is there.
    SkrConsistencyZsks => "SKR-CONSISTENCY.2", stage 6;
    /// A KSK of the SKR is not a configured one, or has the wrong flags or tag.
    SkrConsistencyKsks => "SKR-CONSISTENCY.3", stage 6;
    /// The signing schema is unknown, too short, or names an unknown key.
    SignSchema => "SIGN-SCHEMA", stage 5;
    /// A KSK is used outside its valid_from … valid_until.
    SignKeyValidity => "SIGN-KEY-VALIDITY", stage 5;
    /// A KSK label is not found in the HSM, or its public key cannot be read.
    SignKeyLookup => "SIGN-KEY-LOOKUP", stage 5;
    /// A KSK label occurs in more than one module, slot or object.
    SignKeyLabel => "SIGN-KEY-LABEL", stage 5;
    /// The HSM key's type or size differs from the configured algorithm.
    SignKeyType => "SIGN-KEY-TYPE", stage 5;
    /// The HSM key's DS differs from the configured ds_sha256.
    SignKeyDs => "SIGN-KEY-DS", stage 5;
    /// The HSM key's tag differs from the configured key_tag.
    SignKeyTag => "SIGN-KEY-TAG", stage 5;
    /// A key of the RRset to be signed has another TTL than ksk_policy.ttl.
    SignTtl => "SIGN-TTL", stage 5;
    /// A signature made by the HSM does not verify in software.
    SkrVerify => "SKR-VERIFY", stage 5;
    /// The ZSK algorithms of a bundle differ from its signature algorithms.
    SignAlgCoverage => "SIGN-ALG-COVERAGE", stage 5;
    /// An assembled response bundle fails the SKR-PREV-SIGS checks.
    SignBundleSigs => "SIGN-BUNDLE-SIGS", stage 5;
    /// The written SKR does not read back equal and clean.
    SkrReread => "SKR-REREAD", stage 7;
    /// The configuration is not valid.
    ToolConfig => "TOOL-CONFIG", stage 7;
    /// No previous SKR was given, so the chain was not checked.
    ToolPrevSkr => "TOOL-PREV-SKR", stage 7;
    /// The evaluation instant and where it came from.
    ToolNow => "TOOL-NOW", stage 7;
    /// A check that was switched off.
    CheckDisabled => "CHECK-DISABLED", stage 7;
    /// A stage that did not run, and why (a code of ours).
    StageSkipped => "STAGE-SKIPPED", stage 7;
}

impl fmt::Display for CheckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

//------------ Severity ------------------------------------------------------

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the SKR; `check` exits 3.
    Error,
    /// Reported, does not block.
    Warning,
    /// For the record, such as a stage that did not run.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        })
    }
}

//------------ DocumentRole --------------------------------------------------

/// Which document a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentRole {
    /// The KSR being checked or signed.
    Ksr,
    /// SKR(n-1), or an SKR given to `skr check`.
    PreviousSkr,
    /// The SKR being produced.
    NewSkr,
}

impl fmt::Display for DocumentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ksr => "ksr",
            Self::PreviousSkr => "previous-skr",
            Self::NewSkr => "new-skr",
        })
    }
}

//------------ Position, BundleRef, KeyRef -----------------------------------

/// A place in a document: 1-based line and column, the column counted in
/// characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// The line, from 1.
    pub line: u32,
    /// The column in characters, from 1.
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The bundle a finding is about: its 1-based number in document order and
/// its id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BundleRef {
    /// The position in document order, from 1.
    pub number: usize,
    /// The bundle's `id` attribute.
    pub id: String,
}

/// The key a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KeyRef {
    /// The key's `keyIdentifier`.
    pub identifier: String,
    /// The key tag recomputed from the RDATA.
    pub tag: KeyTag,
}

//------------ Finding -------------------------------------------------------

/// One result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's code.
    pub code: CheckCode,
    /// Error, warning or info.
    pub severity: Severity,
    /// The document the finding is about.
    pub document: DocumentRole,
    /// Where in the document, for parse findings.
    pub position: Option<Position>,
    /// The bundle, when the finding concerns one.
    pub bundle: Option<BundleRef>,
    /// The key, when the finding concerns one.
    pub key: Option<KeyRef>,
    /// One line of plain English: what was found and what was expected.
    pub message: String,
}

impl Finding {
    /// Makes an error finding about a whole document.
    pub fn error(code: CheckCode, document: DocumentRole, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            document,
            position: None,
            bundle: None,
            key: None,
            message: message.into(),
        }
    }

    /// Makes a warning finding about a whole document.
    pub fn warning(code: CheckCode, document: DocumentRole, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, document, message)
        }
    }

    /// Returns the finding placed at a position.
    pub fn at(self, position: Position) -> Self {
        Self {
            position: Some(position),
            ..self
        }
    }

    /// Returns the finding about a bundle.
    pub fn in_bundle(self, number: usize, id: &str) -> Self {
        Self {
            bundle: Some(BundleRef {
                number,
                id: id.to_owned(),
            }),
            ..self
        }
    }

    /// Returns the finding about a key.
    pub fn about_key(self, identifier: &str, tag: KeyTag) -> Self {
        Self {
            key: Some(KeyRef {
                identifier: identifier.to_owned(),
                tag,
            }),
            ..self
        }
    }

    /// Returns whether this finding blocks.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The sort key of `ksr-checks.md`: stage, document, bundle number,
    /// code, key tag (then position and message, so the order is total).
    fn sort_key(&self) -> impl Ord + '_ {
        (
            self.code.stage(),
            self.document,
            self.bundle.as_ref().map(|bundle| bundle.number),
            self.position,
            self.code,
            self.key.as_ref().map(|key| key.tag),
            &self.message,
        )
    }
}

/// Sorts findings into the deterministic report order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// One line: the code, the severity, where, and the message, as a log or
/// an error message shows a finding.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.code, self.severity, self.document)?;
        if let Some(position) = &self.position {
            write!(f, " at {position}")?;
        }
        if let Some(bundle) = &self.bundle {
            write!(f, ", bundle {} ({})", bundle.number, bundle.id)?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key {} (tag {})", key.identifier, key.tag)?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_spelled_as_the_spec() {
        let mut texts: Vec<&str> = CheckCode::ALL.iter().map(|code| code.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), CheckCode::ALL.len());
        assert!(texts.iter().all(|text| {
            text.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '.')
        }));
    }
}

//! The sections of `ceremony.toml` and their root-zone defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::serde_helpers::{
    duration, instant, optional_duration, optional_instant, write_duration, write_instant,
    write_optional_duration, write_optional_instant,
};
use crate::dnssec::time::{Duration, Timestamp};
use crate::response::Action;

const DAY: u32 = 86_400;

//------------ Config --------------------------------------------------------

/// The whole policy of one KSK operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What a KSR must satisfy, and the switches of the checks.
    pub request_policy: RequestPolicy,
    /// What the previous SKR must satisfy.
    pub response_policy: ResponsePolicy,
    /// The KSK operator's own policy, written into every SKR.
    pub ksk_policy: KskPolicy,
    /// How text-format (Knot DNS / BIND) SKRs are signed.
    pub text: TextPolicy,
    /// The KSKs by name.
    pub keys: BTreeMap<String, KskConfig>,
    /// Signing schemas of the operator's own, by name and then by bundle
    /// number ("1", "2", …); they come before the built-in ones of the same
    /// name.
    pub schemas: BTreeMap<String, BTreeMap<String, Action>>,
}

impl Default for Config {
    /// The root zone's practice, with the three published root KSKs pinned.
    fn default() -> Self {
        Self {
            request_policy: RequestPolicy::default(),
            response_policy: ResponsePolicy::default(),
            ksk_policy: KskPolicy::default(),
            text: TextPolicy::default(),
            keys: root_ksks(),
            schemas: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Reads `ceremony.toml`; keys not given take the defaults.
    ///
    /// # Errors
    ///
    /// A TOML syntax error, an unknown or mistyped key (named, with its
    /// line and column), or a value the checks cannot work with
    /// (`TOOL-CONFIG`).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|err| {
            let (line, column) = match err.span() {
                Some(span) => line_column(text, span.start),
                None => (0, 0),
            };
            ConfigError {
                line,
                column,
                message: err.message().trim().to_owned(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes the effective policy as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self)
            .unwrap_or_else(|err| format!("# the policy cannot be written: {err}\n"))
    }

    /// Checks the values serde cannot (`TOOL-CONFIG`).
    fn validate(&self) -> Result<(), ConfigError> {
        let error = |message: String| {
            Err(ConfigError {
                line: 0,
                column: 0,
                message,
            })
        };
        let request = &self.request_policy;
        if request.signature_horizon_days == 0 {
            return error("request_policy.signature_horizon_days must be at least 1".into());
        }
        if request.num_bundles == 0 || self.response_policy.num_bundles == 0 {
            return error("num_bundles must be at least 1".into());
        }
        if request.num_different_keys_in_all_bundles == 0 {
            return error(
                "request_policy.num_different_keys_in_all_bundles must be at least 1".into(),
            );
        }
        let text = &self.text;
        if text.text_rrsig_refresh.as_seconds() == 0
            || text.text_rrsig_refresh >= text.text_rrsig_validity
        {
            return error(format!(
                "text.text_rrsig_refresh ({}) must be above zero and below text.text_rrsig_validity ({})",
                text.text_rrsig_refresh, text.text_rrsig_validity
            ));
        }
        for (name, schema) in &self.schemas {
            // A schema name means one thing: the officers are shown the
            // name, so a file may not give a built-in one other actions.
            if crate::response::builtin(1).contains_key(name.as_str()) {
                return error(format!(
                    "schemas.{name}: {name:?} is a built-in schema and cannot be redefined; give the schema a name of its own"
                ));
            }
            for number in schema.keys() {
                if !number.parse::<usize>().is_ok_and(|number| number >= 1) {
                    return error(format!(
                        "schemas.{name}: {number:?} is not a bundle number (1, 2, …)"
                    ));
                }
            }
        }
        for (name, key) in &self.keys {
            if key.key_tag == 0 {
                return error(format!("keys.{name}.key_tag must be 1 to 65535"));
            }
            if key.ds_sha256.len() != 64
                || !key.ds_sha256.bytes().all(|byte| byte.is_ascii_hexdigit())
            {
                return error(format!(
                    "keys.{name}.ds_sha256 must be exactly 64 hexadecimal digits"
                ));
            }
            if key.label.is_empty() {
                return error(format!("keys.{name}.label is empty"));
            }
        }
        Ok(())
    }
}

/// Returns the 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

//------------ RequestPolicy -------------------------------------------------

/// The request policy (`ksr-checks.md` §2): limits and switches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "each field is the ksr-checks.md parameter of the same name"
)]
pub struct RequestPolicy {
    pub acceptable_domains: Vec<String>,
    pub num_bundles: usize,
    pub validate_signatures: bool,
    pub keys_match_zsk_policy: bool,
    pub rsa_exponent_match_zsk_policy: bool,
    pub enable_unsupported_ecdsa: bool,
    pub enable_unsupported_edwards_dsa: bool,
    pub signature_algorithms_match_zsk_policy: bool,
    pub approved_algorithms: Vec<String>,
    pub rsa_approved_key_sizes: Vec<u32>,
    pub rsa_approved_exponents: Vec<u64>,
    pub check_bundle_overlap: bool,
    pub signature_validity_match_zsk_policy: bool,
    pub kskm_strict_validity: bool,
    pub signature_check_expire_horizon: bool,
    pub signature_horizon_days: u32,
    pub check_cycle_length: bool,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub min_cycle_inception_length: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub max_cycle_inception_length: Duration,
    pub check_bundle_intervals: bool,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub min_bundle_interval: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub max_bundle_interval: Duration,
    pub check_keys_match_ksk_operator_policy: bool,
    pub num_keys_per_bundle: Vec<usize>,
    pub num_different_keys_in_all_bundles: usize,
    pub check_ksr_ttl: bool,
    pub check_rsa_key_sanity: bool,
    pub check_key_tag_clashes: bool,
    pub reserved_key_tags: Vec<u16>,
    pub allow_unsorted_bundles: bool,
    pub check_chain_keys: bool,
    pub check_chain_overlap: bool,
    pub check_chain_keys_in_hsm: bool,
    pub check_keys_publish_safety: bool,
    pub check_keys_retire_safety: bool,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        Self {
            acceptable_domains: vec![".".into()],
            num_bundles: 9,
            validate_signatures: true,
            keys_match_zsk_policy: true,
            rsa_exponent_match_zsk_policy: true,
            enable_unsupported_ecdsa: false,
            enable_unsupported_edwards_dsa: false,
            signature_algorithms_match_zsk_policy: true,
            approved_algorithms: vec!["RSASHA256".into()],
            rsa_approved_key_sizes: vec![2048],
            rsa_approved_exponents: vec![65537],
            check_bundle_overlap: true,
            signature_validity_match_zsk_policy: true,
            kskm_strict_validity: false,
            signature_check_expire_horizon: true,
            signature_horizon_days: 180,
            check_cycle_length: true,
            min_cycle_inception_length: Duration::from_seconds(79 * DAY),
            max_cycle_inception_length: Duration::from_seconds(81 * DAY),
            check_bundle_intervals: true,
            min_bundle_interval: Duration::from_seconds(9 * DAY),
            max_bundle_interval: Duration::from_seconds(11 * DAY),
            check_keys_match_ksk_operator_policy: true,
            num_keys_per_bundle: vec![2, 1, 1, 1, 1, 1, 1, 1, 2],
            num_different_keys_in_all_bundles: 3,
            check_ksr_ttl: true,
            check_rsa_key_sanity: true,
            check_key_tag_clashes: true,
            reserved_key_tags: Vec::new(),
            allow_unsorted_bundles: false,
            check_chain_keys: true,
            check_chain_overlap: true,
            check_chain_keys_in_hsm: true,
            check_keys_publish_safety: true,
            check_keys_retire_safety: true,
        }
    }
}

//------------ ResponsePolicy ------------------------------------------------

/// The policy for SKR(n-1) (`ksr-checks.md` §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponsePolicy {
    /// The number of bundles SKR(n-1) must have (`SKR-PREV-COUNT`).
    pub num_bundles: usize,
    /// Off switch of `SKR-PREV-SIGS`.
    pub validate_signatures: bool,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        Self {
            num_bundles: 9,
            validate_signatures: true,
        }
    }
}

//------------ KskPolicy -----------------------------------------------------

/// The KSK operator's policy: the TTL of the DNSKEY RRset, the signer's
/// name and the six durations written into every SKR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "the durations are those of ksr-skr-format.md §1.4"
)]
pub struct KskPolicy {
    /// The TTL of every key in an SKR, and of its signatures.
    pub ttl: u32,
    /// The signer's name of the signatures.
    pub signers_name: String,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub publish_safety: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub retire_safety: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub max_signature_validity: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub min_signature_validity: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub max_validity_overlap: Duration,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub min_validity_overlap: Duration,
}

impl Default for KskPolicy {
    /// The values of the published root SKRs: PT0S/P28D/P21D/P21D/P16D/P9D.
    fn default() -> Self {
        Self {
            ttl: 172_800,
            signers_name: ".".into(),
            publish_safety: Duration::from_seconds(0),
            retire_safety: Duration::from_seconds(28 * DAY),
            max_signature_validity: Duration::from_seconds(21 * DAY),
            min_signature_validity: Duration::from_seconds(21 * DAY),
            max_validity_overlap: Duration::from_seconds(16 * DAY),
            min_validity_overlap: Duration::from_seconds(9 * DAY),
        }
    }
}

//------------ TextPolicy ----------------------------------------------------

/// How a text-format SKR is signed (`ksr-skr-format.md` §5.4): a bundle at
/// each KSR bundle's time and then every `text_rrsig_validity −
/// text_rrsig_refresh`, each signature valid from its bundle's time less
/// `text_rrsig_backdate` to its time plus `text_rrsig_validity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextPolicy {
    /// How long each signature is valid after its bundle's time.
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub text_rrsig_validity: Duration,
    /// How long a signature must stay valid after the next bundle takes
    /// over; the step between bundles is the validity less this.
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub text_rrsig_refresh: Duration,
    /// How long before its bundle's time a signature's inception is.
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub text_rrsig_backdate: Duration,
    /// CDNSKEY and CDS records for the parent, signed like the DNSKEY
    /// RRset: none, cdnskey, cds or both (CDS with SHA-256). Unset, the
    /// requester's dialect decides ([`TextCds::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_cds: Option<TextCds>,
    /// How the schemas are fitted to the requester's server: kskm (as
    /// written) or bind (every published KSK signs). Unset, the dialect
    /// decides ([`crate::SchemaProfile::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_schema_profile: Option<crate::SchemaProfile>,
    /// How long the requester's server keeps the DNSKEY signatures of a
    /// bundle (BIND: `signatures-validity-dnskey`, which it also applies
    /// to the last bundle); compared with `text_rrsig_validity` before
    /// signing. Unset: BIND's default (14 days) for BIND, none for Knot.
    #[serde(
        default,
        deserialize_with = "optional_duration",
        serialize_with = "write_optional_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub text_server_dnskey_validity: Option<Duration>,
    /// How far a text KSR of one bundle (the ZSKs' lifetime unlimited, as
    /// BIND requests it) is signed past its bundle's time when `sign`
    /// gets no `--end`; unset, such a KSR needs `--end`.
    #[serde(
        default,
        deserialize_with = "optional_duration",
        serialize_with = "write_optional_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub text_default_span: Option<Duration>,
}

/// Which child-to-parent records a text SKR carries (RFC 7344).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextCds {
    /// Neither.
    None,
    /// CDNSKEY records.
    Cdnskey,
    /// CDS records (SHA-256).
    Cds,
    /// Both.
    Both,
}

impl TextCds {
    /// What an SKR in `dialect` carries when the policy does not say:
    /// both for BIND, whose default `dnssec-policy` publishes CDS and
    /// CDNSKEY and takes them from the SKR of an offline KSK (without them
    /// named silently publishes none); none for Knot, which publishes its
    /// own only when told to (`cds-cdnskey-publish`).
    pub const fn default_for(dialect: crate::text::Dialect) -> Self {
        match dialect {
            crate::text::Dialect::Bind => Self::Both,
            crate::text::Dialect::Knot => Self::None,
        }
    }

    /// Its name in the policy.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Cdnskey => "cdnskey",
            Self::Cds => "cds",
            Self::Both => "both",
        }
    }

    /// Whether CDNSKEY records are written.
    pub fn cdnskey(self) -> bool {
        matches!(self, Self::Cdnskey | Self::Both)
    }

    /// Whether CDS records are written.
    pub fn cds(self) -> bool {
        matches!(self, Self::Cds | Self::Both)
    }
}

impl TextPolicy {
    /// BIND's default `signatures-validity-dnskey`.
    pub const BIND_DNSKEY_VALIDITY: Duration = Duration::from_seconds(14 * DAY);

    /// What the requester's server keeps a bundle's DNSKEY signatures for,
    /// as the policy says or as the dialect's server does by default.
    pub fn server_dnskey_validity(&self, dialect: crate::text::Dialect) -> Option<Duration> {
        self.text_server_dnskey_validity.or(match dialect {
            crate::text::Dialect::Bind => Some(Self::BIND_DNSKEY_VALIDITY),
            crate::text::Dialect::Knot => None,
        })
    }
}

impl Default for TextPolicy {
    /// P14D, P7D, PT1H (the spec's defaults; Knot's own are 14 and 7 days,
    /// backdated 90 minutes).
    fn default() -> Self {
        Self {
            text_rrsig_validity: Duration::from_seconds(14 * DAY),
            text_rrsig_refresh: Duration::from_seconds(7 * DAY),
            text_rrsig_backdate: Duration::from_seconds(3600),
            text_cds: None,
            text_schema_profile: None,
            text_server_dnskey_validity: None,
            text_default_span: None,
        }
    }
}

//------------ KskConfig -----------------------------------------------------

/// One KSK: its HSM label, algorithm, validity and pins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KskConfig {
    /// The HSM object label, which is also the keyIdentifier in SKRs.
    pub label: String,
    /// The algorithm mnemonic, such as `RSASHA256`.
    pub algorithm: String,
    /// For RSA: the modulus size in bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_size: Option<u32>,
    /// For RSA: the public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_exponent: Option<u64>,
    /// The key may be used from this instant.
    #[serde(deserialize_with = "instant", serialize_with = "write_instant")]
    pub valid_from: Timestamp,
    /// The key may be used until this instant, if set.
    #[serde(
        default,
        deserialize_with = "optional_instant",
        serialize_with = "write_optional_instant",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<Timestamp>,
    /// The pinned SHA-256 DS digest (Flags 257), 64 hexadecimal digits.
    pub ds_sha256: String,
    /// The pinned key tag (Flags 257).
    pub key_tag: u16,
}

/// The published root KSKs (RFC 9718 trust anchors; `shared/vectors`).
fn root_ksks() -> BTreeMap<String, KskConfig> {
    let ksk = |label: &str, from: u32, until: Option<u32>, ds: &str, tag: u16| KskConfig {
        label: label.into(),
        algorithm: "RSASHA256".into(),
        rsa_size: Some(2048),
        rsa_exponent: Some(65537),
        valid_from: Timestamp::from_unix(from),
        valid_until: until.map(Timestamp::from_unix),
        ds_sha256: ds.into(),
        key_tag: tag,
    };
    BTreeMap::from([
        (
            "ksk_2010".to_owned(),
            // 2010-07-15 to 2019-01-11, as the root trust anchors record it.
            ksk(
                "Kjqmt7v",
                1_279_152_000,
                Some(1_547_164_800),
                "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5",
                19036,
            ),
        ),
        (
            "ksk_2017".to_owned(),
            // From 2017-02-02.
            ksk(
                "Klajeyz",
                1_485_993_600,
                None,
                "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
                20326,
            ),
        ),
        (
            "ksk_2024".to_owned(),
            // From 2024-07-18.
            ksk(
                "Kmyv6jo",
                1_721_260_800,
                None,
                "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
                38696,
            ),
        ),
    ])
}

//------------ ConfigError ---------------------------------------------------

/// Why `ceremony.toml` was refused (`TOOL-CONFIG`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *.line > 0 { format!("line {line}, column {column}: ") } else { String::new() })]
pub struct ConfigError {
    /// The 1-based line, or 0 when the problem is not at one place.
    pub line: usize,
    /// The 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_root_defaults() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn the_defaults_survive_writing_and_reading() {
        let text = Config::default().to_toml();
        assert_eq!(
            Config::from_toml(&text).unwrap(),
            Config::default(),
            "{text}"
        );
    }

    #[test]
    fn a_mistyped_key_is_named_with_its_line() {
        let err =
            Config::from_toml("[request_policy]\nnum_bundles = 9\nsignature_horizon_dayz = 3\n")
                .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("signature_horizon_dayz"), "{err}");
    }

    #[test]
    fn schemas_are_read_by_bundle_number() {
        let text = "[schemas.mine.1]\npublish = [\"a\"]\nsign = [\"a\"]\n[schemas.mine.2]\nrevoke = [\"a\"]\n";
        let config = Config::from_toml(text).unwrap();
        assert_eq!(config.schemas["mine"]["2"].revoke, ["a"]);
        assert!(Config::from_toml("[schemas.mine.first]\nsign = []\n").is_err());
        assert!(Config::from_toml("[schemas.mine.1]\nsigns = []\n").is_err());
        // A built-in name redefined (the review's attack: `normal` that
        // revokes the live KSK) is refused, naming the schema.
        let redefined = "[schemas.normal.1]\npublish = [\"ksk_current\"]\nrevoke = [\"ksk_current\"]\nsign = [\"ksk_current\"]\n";
        let err = Config::from_toml(redefined).unwrap_err().to_string();
        assert!(err.contains("\"normal\" is a built-in schema"), "{err}");
    }

    #[test]
    fn values_are_checked() {
        let err =
            Config::from_toml("[request_policy]\nmin_bundle_interval = \"P1M\"\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(Config::from_toml("[request_policy]\nsignature_horizon_days = 0\n").is_err());
        let bad_pin = "[keys.k]\nlabel = \"K\"\nalgorithm = \"RSASHA256\"\nvalid_from = \"2020-01-01T00:00:00Z\"\nds_sha256 = \"AB\"\nkey_tag = 1\n";
        assert!(
            Config::from_toml(bad_pin)
                .unwrap_err()
                .message
                .contains("64 hexadecimal")
        );
    }
}

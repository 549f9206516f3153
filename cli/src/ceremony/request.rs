//! A KSR to sign, in either format: the IANA XML one, or the Knot DNS /
//! BIND text one (detected from the file). Both are read within the size
//! limit, checked, signed and written through the same steps; only the
//! checks that apply and the shape of the SKR differ.

use std::collections::BTreeSet;
use std::path::Path;

use ksr::text::{Dialect, TextKsr, TextSkr};
use ksr::{BundleSigner, CheckedKsr, CheckedText, Config, DocumentRole, Finding, Timestamp};

use crate::document::{join, parse_file, parse_file_with_bytes};
use crate::error::CliError;

/// The format an SKR is written in (`sign --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text, Unix seconds in headers (Knot DNS).
    Knot,
    /// Text, `YYYYMMDDhhmmss` in headers (BIND 9.20).
    Bind,
    /// IANA XML.
    Iana,
}

/// A KSR and SKR(n-1) as read.
pub enum Loaded {
    /// IANA XML.
    Xml {
        /// The KSR.
        ksr: ksr::Ksr,
        /// SKR(n-1).
        previous: Option<ksr::Skr>,
    },
    /// Knot DNS / BIND text.
    Text {
        /// The KSR.
        ksr: TextKsr,
        /// SKR(n-1).
        previous: Option<TextSkr>,
    },
}

/// Whether a file is in the text format (its first characters other than
/// white space are `;;`).
///
/// # Errors
///
/// The file cannot be read.
pub fn is_text_file(path: &Path) -> Result<bool, CliError> {
    let mut head = [0u8; 256];
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
        .map_err(|source| CliError::Read {
            path: path.to_owned(),
            source,
        })?;
    Ok(ksr::text::is_text(head.get(..read).unwrap_or_default()))
}

impl Loaded {
    /// Reads the KSR once (the bytes hashed are the bytes parsed) and
    /// SKR(n-1), which must be of the KSR's format family.
    ///
    /// # Errors
    ///
    /// A file cannot be read, or the two are of different families.
    pub fn read(
        ksr_path: &Path,
        previous_path: Option<&Path>,
    ) -> Result<(Vec<u8>, crate::document::Parsed<Self>), CliError> {
        let text = is_text_file(ksr_path)?;
        if let Some(previous) = previous_path
            && is_text_file(previous)? != text
        {
            return Err(CliError::Usage(format!(
                "{} and {} are of different formats: the previous SKR must be in the KSR's (§0 of the format spec)",
                ksr_path.display(),
                previous.display()
            )));
        }
        let (bytes, loaded) = if text {
            let (bytes, ksr) =
                parse_file_with_bytes(ksr_path, DocumentRole::Ksr, ksr::text::parse_text_ksr)?;
            let previous = previous_path
                .map(|path| parse_file(path, DocumentRole::PreviousSkr, ksr::text::parse_text_skr))
                .transpose()?;
            (
                bytes,
                join(ksr, previous).map(|(ksr, previous)| Self::Text { ksr, previous }),
            )
        } else {
            let (bytes, ksr) = parse_file_with_bytes(ksr_path, DocumentRole::Ksr, ksr::parse_ksr)?;
            let previous = previous_path
                .map(|path| parse_file(path, DocumentRole::PreviousSkr, ksr::parse_skr))
                .transpose()?;
            (
                bytes,
                join(ksr, previous).map(|(ksr, previous)| Self::Xml { ksr, previous }),
            )
        };
        Ok((bytes, loaded))
    }

    /// The KSR's id (for a text KSR, 16 hex digits of its SHA-256).
    pub fn id(&self) -> &str {
        match self {
            Self::Xml { ksr, .. } => &ksr.id,
            Self::Text { ksr, .. } => &ksr.id,
        }
    }

    /// The KSR's bundles.
    pub fn bundles(&self) -> usize {
        match self {
            Self::Xml { ksr, .. } => ksr.bundles.len(),
            Self::Text { ksr, .. } => ksr.bundles.len(),
        }
    }

    /// The zone.
    pub fn domain(&self) -> &ksr::DomainName {
        match self {
            Self::Xml { ksr, .. } => &ksr.domain,
            Self::Text { ksr, .. } => &ksr.domain,
        }
    }

    /// For a text KSR: the SHA-256 of its ZSK set, to compare out of band
    /// (the format has no proof of possession).
    pub fn zsk_set_sha256(&self) -> Option<[u8; 32]> {
        match self {
            Self::Xml { .. } => None,
            Self::Text { ksr, .. } => Some(ksr.zsk_set_sha256()),
        }
    }

    /// Runs every check that needs no HSM.
    ///
    /// # Errors
    ///
    /// Every finding, when one is an error.
    pub fn check<'a>(
        &'a self,
        config: &'a Config,
        now: Timestamp,
        end: Option<Timestamp>,
    ) -> Result<Checked<'a>, Vec<Finding>> {
        match self {
            Self::Xml { ksr, previous } => CheckedKsr::check(&ksr::Request {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
            })
            .map(Checked::Xml),
            Self::Text { ksr, previous } => CheckedText::check(&ksr::TextRequest {
                ksr,
                previous: previous.as_ref(),
                config,
                now,
                end,
            })
            .map(|checked| Checked::Text(checked, ksr.dialect)),
        }
    }
}

/// A checked KSR, ready to sign.
pub enum Checked<'a> {
    /// IANA XML.
    Xml(CheckedKsr<'a>),
    /// Knot DNS / BIND text, with the requester's dialect.
    Text(CheckedText<'a>, Dialect),
}

impl Checked<'_> {
    /// The warnings and infos of the checks.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::Xml(checked) => checked.findings(),
            Self::Text(checked, _) => checked.findings(),
        }
    }

    /// The number of SKR bundles that will be signed.
    pub fn skr_bundles(&self) -> usize {
        match self {
            Self::Xml(checked) => checked.ksr().bundles.len(),
            Self::Text(checked, _) => checked.points().len(),
        }
    }

    /// Checks what would only fail after the officers presented their
    /// cards: the schema, and the output format.
    ///
    /// # Errors
    ///
    /// The schema does not exist or fit, or the format is not the KSR's
    /// family.
    pub fn preflight(
        &self,
        config: &Config,
        schema: &str,
        format: Option<Format>,
    ) -> Result<(), CliError> {
        // The ZSK algorithms of each KSR bundle.
        let algorithms: Vec<BTreeSet<String>> = match self {
            Self::Xml(checked) => checked
                .ksr()
                .bundles
                .iter()
                .map(|bundle| algorithms_of(bundle.keys.iter().map(|key| &key.dnskey)))
                .collect(),
            Self::Text(checked, _) => checked
                .ksr()
                .bundles
                .iter()
                .map(|bundle| algorithms_of(bundle.keys.iter().map(|key| &key.dnskey)))
                .collect(),
        };
        let text = matches!(self, Self::Text(..));
        let actions =
            ksr::resolve_schema(config, schema, algorithms.len()).map_err(CliError::Schema)?;
        // SIGN-ALG-COVERAGE, before anyone presents a card: DNSSEC wants
        // the DNSKEY RRset signed with each algorithm in it.
        for (number, (zsks, action)) in algorithms.iter().zip(&actions).enumerate() {
            let ksks: BTreeSet<String> = action
                .sign
                .iter()
                .filter_map(|name| config.keys.get(name))
                .map(|key| key.algorithm.to_ascii_uppercase())
                .collect();
            if !zsks.is_subset(&ksks) {
                return Err(CliError::Usage(format!(
                    "SIGN-ALG-COVERAGE: bundle {} has ZSKs of {zsks:?} but the schema signs it with {ksks:?}; the ZSKs' algorithm must be the KSK's",
                    number + 1
                )));
            }
        }
        match (format, text) {
            (Some(Format::Iana), true) => Err(CliError::Usage(
                "--format iana: a text KSR is answered with a text SKR (knot or bind)".into(),
            )),
            (Some(Format::Knot | Format::Bind), false) => Err(CliError::Usage(
                "--format knot|bind: an XML KSR is answered with an XML SKR (iana)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Signs through `signer`.
    ///
    /// # Errors
    ///
    /// See [`ksr::BuildError`].
    pub fn build(
        &self,
        schema: &str,
        signer: &dyn BundleSigner,
        format: Option<Format>,
        generated: Timestamp,
    ) -> Result<Built, ksr::BuildError> {
        match self {
            Self::Xml(checked) => ksr::build_skr(checked, schema, signer).map(Built::Xml),
            Self::Text(checked, dialect) => {
                let dialect = match format {
                    Some(Format::Bind) => Dialect::Bind,
                    Some(Format::Knot) => Dialect::Knot,
                    _ => *dialect,
                };
                let by = format!("ceremony {}", env!("CARGO_PKG_VERSION"));
                ksr::build_text_skr(checked, schema, signer, dialect, generated, &by)
                    .map(Built::Text)
            }
        }
    }
}

/// The mnemonics of the algorithms of some keys, as the policy names them.
fn algorithms_of<'a>(keys: impl Iterator<Item = &'a ksr::Dnskey>) -> BTreeSet<String> {
    keys.map(|key| {
        let algorithm = key.algorithm();
        algorithm
            .mnemonic()
            .map_or_else(|| algorithm.to_int().to_string(), str::to_owned)
    })
    .collect()
}

/// A signed SKR, not yet written.
pub enum Built {
    /// IANA XML.
    Xml(ksr::Signed),
    /// Knot DNS / BIND text.
    Text(ksr::SignedText),
}

impl Built {
    /// The document as it is written.
    pub fn text(&self) -> &str {
        match self {
            Self::Xml(signed) => &signed.xml,
            Self::Text(signed) => &signed.text,
        }
    }

    /// Its bundles.
    pub fn bundles(&self) -> usize {
        match self {
            Self::Xml(signed) => signed.skr.bundles.len(),
            Self::Text(signed) => signed.skr.bundles.len(),
        }
    }

    /// The key tags that signed.
    pub fn signers(&self) -> BTreeSet<u16> {
        let tags = |rrsigs: &mut dyn Iterator<Item = &ksr::Rrsig>| {
            rrsigs.map(|rrsig| rrsig.key_tag.to_int()).collect()
        };
        match self {
            Self::Xml(signed) => tags(
                &mut signed
                    .skr
                    .bundles
                    .iter()
                    .flat_map(|b| b.signatures.iter().map(|s| &s.rrsig)),
            ),
            Self::Text(signed) => tags(
                &mut signed
                    .skr
                    .bundles
                    .iter()
                    .flat_map(|b| b.signatures.iter().map(|s| &s.rrsig)),
            ),
        }
    }

    /// Writes the SKR: a fresh temporary file beside the target, synced,
    /// read back from disk and checked (`SKR-REREAD`), and only then
    /// renamed into place; an existing file is never overwritten.
    ///
    /// # Errors
    ///
    /// The file cannot be written, or does not read back as signed.
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        match self {
            Self::Xml(signed) => crate::ceremony::files::write_skr(path, signed),
            Self::Text(signed) => {
                crate::ceremony::files::write_checked(path, signed.text.as_bytes(), |reread| {
                    ksr::text::parse_text_skr(reread, DocumentRole::NewSkr)
                        .is_ok_and(|back| back.bundles == signed.skr.bundles)
                })
            }
        }
    }
}

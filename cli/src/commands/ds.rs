//! `ceremony ds [FILE]`.

use std::io::Read as _;
use std::path::PathBuf;

use ksr::{DigestType, Ds};
use serde::Serialize;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `ds`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ceremony ds ksk.dnskey --digest sha384")]
pub struct Args {
    /// DNSKEY records in zone-file form; standard input if absent.
    file: Option<PathBuf>,
    /// Also print a DS with this digest; SHA-256 (RFC 4509) is always
    /// printed.
    #[arg(long, value_enum, value_name = "DIGEST")]
    digest: Option<ExtraDigest>,
}

/// Digests that can be printed beside SHA-256.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExtraDigest {
    /// SHA-384, digest type 4 (RFC 6605 §2).
    Sha384,
}

/// One DS record, for JSON.
#[derive(Serialize)]
struct DsRecord {
    owner: String,
    key_tag: u16,
    revoked_key_tag: u16,
    algorithm: u8,
    digest_type: u8,
    digest: String,
    record: String,
}

/// Prints a DS record per DNSKEY record.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let (source_name, text) = match &args.file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(signer::Error::read(path))?,
        ),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(CliError::Stdin)?;
            ("<stdin>".to_owned(), text)
        }
    };
    let records = ksr::read_dnskeys(&text).map_err(|source| CliError::ZoneFile {
        source_name,
        source,
    })?;
    let mut digests = vec![DigestType::Sha256];
    if let Some(ExtraDigest::Sha384) = args.digest {
        digests.push(DigestType::Sha384);
    }
    let mut ds_records = Vec::new();
    for record in &records {
        let revoked = record
            .dnskey
            .with_flags(record.dnskey.flags().with_revoke());
        for digest in &digests {
            let ds = Ds::compute(&record.owner, &record.dnskey, *digest);
            ds_records.push(DsRecord {
                owner: record.owner.to_string(),
                key_tag: ds.key_tag().to_int(),
                revoked_key_tag: revoked.key_tag().to_int(),
                algorithm: ds.algorithm().to_int(),
                digest_type: digest.to_int(),
                digest: ds.digest_hex(),
                record: format!("{} IN DS {}", record.owner, ds.rdata_text()),
            });
        }
    }
    if context.json {
        render::json(&ds_records)?;
    } else {
        for ds in &ds_records {
            out(format!(
                "{} ; key tag {}, {} with REVOKE",
                ds.record, ds.key_tag, ds.revoked_key_tag
            ))?;
        }
    }
    Ok(Outcome::Success)
}

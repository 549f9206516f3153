//! `ceremony zsk make-ksr`: the ZSK operator's side, for exercises and
//! tests.

use std::path::PathBuf;

use hsm::{KeySpec, RsaBits};
use ksr::{DomainName, Timestamp};
use signer::{Document, KsrRequest};

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

const DAY: u32 = 86_400;

/// The ZSK side's commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the KSR of a quarter: nine bundles ten days apart, each valid
    /// 21 days, ZSKs rolled as the root zone rolls them, every bundle
    /// signed by each of its ZSKs (proof of possession).
    #[command(after_help = "Examples:
  ceremony --config c/ceremony.toml zsk make-ksr --dir zsk --domain example. --out ksr-1.xml
  ceremony --config c/ceremony.toml zsk make-ksr --dir zsk --domain example. --out ksr-2.xml --previous-skr skr-1.xml")]
    MakeKsr(MakeKsr),
}

/// Arguments of `zsk make-ksr`.
#[derive(Debug, clap::Args)]
pub struct MakeKsr {
    /// The directory of the ZSK key pairs (made if absent).
    #[arg(long, value_name = "ZDIR")]
    dir: PathBuf,
    /// The zone.
    #[arg(long, value_name = "NAME")]
    domain: String,
    /// Where to write the KSR (never overwritten).
    #[arg(long, value_name = "KSR")]
    out: PathBuf,
    /// The SKR answering the previous quarter: the new quarter continues
    /// from its last bundle's ZSKs, ten days after its last inception.
    #[arg(long, value_name = "SKR")]
    previous_skr: Option<PathBuf>,
    /// The first bundle's inception for a first quarter, RFC 3339 [default:
    /// the next midnight UTC ten days from --now or the clock].
    #[arg(long, value_name = "RFC3339")]
    inception: Option<String>,
    /// The ZSK algorithm: rsasha256 (2048 bits), ecdsap256sha256 or
    /// ed25519 [default: the one the policy (--config or ./ceremony.toml)
    /// approves first, else rsasha256].
    #[arg(long, value_name = "ALGORITHM")]
    algorithm: Option<String>,
}

/// Runs a `zsk` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::MakeKsr(args) => make_ksr(args, context),
    }
}

fn make_ksr(args: &MakeKsr, context: &Context) -> Result<Outcome, CliError> {
    let domain: DomainName = args.domain.parse().map_err(|source| {
        CliError::Signer(signer::Error::Domain {
            text: args.domain.clone(),
            source,
        })
    })?;
    // The policy (`--config`, else the built-in root policy) decides the
    // keys' TTL and, unless given, their algorithm.
    let policy = context.policy()?;
    let algorithm = match &args.algorithm {
        Some(text) => text.to_ascii_lowercase(),
        None => policy
            .config()
            .request_policy
            .approved_algorithms
            .first()
            .map_or_else(|| "rsasha256".to_owned(), |name| name.to_ascii_lowercase()),
    };
    let spec = match algorithm.as_str() {
        "rsasha256" => KeySpec::Rsa(RsaBits::B2048),
        "ecdsap256sha256" => KeySpec::EcdsaP256,
        "ed25519" => KeySpec::Ed25519,
        _ => {
            return Err(CliError::Value {
                option: "algorithm",
                value: algorithm,
                expected: "rsasha256, ecdsap256sha256 or ed25519",
            });
        }
    };
    let inception = match &args.inception {
        Some(text) => Timestamp::parse_document(text).map_err(|source| CliError::Now {
            text: text.clone(),
            source,
        })?,
        None => {
            let now = context.now()?.time.to_unix();
            Timestamp::from_unix((now / DAY * DAY).saturating_add(10 * DAY))
        }
    };
    let made = signer::make_ksr(&KsrRequest {
        dir: args.dir.clone(),
        domain: domain.clone(),
        out: args.out.clone(),
        previous: args
            .previous_skr
            .as_deref()
            .map(Document::read)
            .transpose()?,
        inception,
        spec,
        ttl: policy.config().ksk_policy.ttl,
    })?;
    if context.json {
        render::json(&made)?;
    } else {
        out(format!(
            "{}: KSR {} for {domain}, {} bundles from {} to {}; ZSKs {}",
            made.ksr,
            made.id,
            made.bundles,
            made.first_inception,
            made.last_expiration,
            made.zsks.join(", ")
        ))?;
    }
    Ok(Outcome::Success)
}

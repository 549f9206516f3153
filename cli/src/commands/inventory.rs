//! `ceremony inventory` (what the HSM holds, read while it is sealed) and
//! `ceremony trust-anchor` (the policy's KSKs for resolvers: RFC 9718 XML,
//! named, Unbound, DNSKEY or DS records).

use signer::AnchorFormat;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `inventory`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ceremony --config c/ceremony.toml inventory --json\n  ceremony --config c/ceremony.toml inventory --dnskey | ceremony ds\n  ceremony --config c/ceremony.toml inventory --dnskey > ksks.zone; ceremony skr check skr.xml --ksk ksks.zone"
)]
pub struct InventoryArgs {
    /// Print only the keys' DNSKEY records, in zone-file form: what `ds`
    /// and `skr check --ksk` read.
    #[arg(long)]
    dnskey: bool,
}

/// Arguments of `trust-anchor`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ceremony --config c/ceremony.toml trust-anchor > root-anchors.xml
  ceremony --config c/ceremony.toml trust-anchor --format bind > anchor.conf
      (named: include \"anchor.conf\"; delv -a anchor.conf)
  ceremony --config c/ceremony.toml trust-anchor --format unbound > example.ds
      (unbound.conf: trust-anchor-file: \"example.ds\"; unbound-host -f example.ds)
  ceremony --config c/ceremony.toml trust-anchor --format dnskey | ceremony ds")]
pub struct Args {
    /// For whom: rfc9718 (XML, as IANA publishes the root's), bind (a
    /// `trust-anchors` block with `initial-ds` for named and delv), unbound
    /// (DS records for `trust-anchor-file`), dnskey (DNSKEY records, which
    /// `ds` and `skr check --ksk` read) or ds (DS records for the parent).
    #[arg(long, value_enum, default_value = "rfc9718", value_name = "FORMAT")]
    format: Format,
}

/// `--format` of `trust-anchor`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Rfc9718,
    Bind,
    Unbound,
    Dnskey,
    Ds,
}

/// Runs `inventory`: the HSM's keys, read while it is sealed.
pub fn inventory(args: &InventoryArgs, context: &Context) -> Result<Outcome, CliError> {
    let ceremony = context.open_ceremony("inventory")?;
    let entries = ceremony.key_entries()?;
    if context.json {
        render::json(&entries)?;
        return Ok(Outcome::Success);
    }
    if args.dnskey {
        for entry in &entries {
            out(&entry.dnskey)?;
        }
        eprintln!("note: {}", signer::UNVERIFIED);
        return Ok(Outcome::Success);
    }
    out(format!(
        "{} key(s) in {}",
        entries.len(),
        ceremony.layout().hsm().display()
    ))?;
    for entry in &entries {
        out(format!(
            "{} {} tag {} (revoked {}), {}, made {}, valid {} … {}",
            entry.label,
            entry.kind,
            entry.key_tag,
            entry.revoked_key_tag,
            match (&entry.policy_name, entry.matches_pin) {
                (Some(name), Some(true)) => format!("the policy's {name} (matches its pin)"),
                (Some(name), _) => format!("NOT the key the policy pins as {name}: it was swapped"),
                (None, _) => "not in the policy".to_owned(),
            },
            entry.created,
            entry.valid_from.as_deref().unwrap_or("-"),
            entry.valid_until.as_deref().unwrap_or("open"),
        ))?;
        out(format!("  {}", entry.dnskey))?;
        out(format!("  {}", entry.ds))?;
        if !entry.matches_sealed_state {
            out("  not a key the sealed state records under this label")?;
        }
    }
    out(format!("({})", signer::UNVERIFIED))?;
    Ok(Outcome::Success)
}

/// Runs `trust-anchor`.
pub fn trust_anchor(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let ceremony = context.open_ceremony("trust-anchor")?;
    let format = match args.format {
        Format::Rfc9718 => AnchorFormat::Rfc9718,
        Format::Bind => AnchorFormat::Bind,
        Format::Unbound => AnchorFormat::Unbound,
        Format::Dnskey => AnchorFormat::Dnskey,
        Format::Ds => AnchorFormat::Ds,
    };
    out(ceremony.trust_anchor(format)?)?;
    eprintln!(
        "note: every key matches the policy's pin; {}",
        signer::UNVERIFIED
    );
    Ok(Outcome::Success)
}

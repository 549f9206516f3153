//! `ceremony inventory` (what the HSM holds, read while it is sealed) and
//! `ceremony trust-anchor` (RFC 9718 XML for the policy's KSKs).

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

/// Arguments of `trust-anchor`: none but the global ones.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ceremony --config c/ceremony.toml trust-anchor > root-anchors.xml"
)]
pub struct Args {}

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
pub fn trust_anchor(_: &Args, context: &Context) -> Result<Outcome, CliError> {
    let ceremony = context.open_ceremony("trust-anchor")?;
    out(ceremony.trust_anchor()?)?;
    eprintln!(
        "note: every key matches the policy's pin; {}",
        signer::UNVERIFIED
    );
    Ok(Outcome::Success)
}

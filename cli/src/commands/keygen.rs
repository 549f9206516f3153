//! `ceremony keygen` (a new KSK, with a quorum) and `ceremony ksk promote`
//! (the next KSK becomes the current one): a KSK roll without editing the
//! policy by hand.

use std::path::PathBuf;

use ksr::{DigestType, Ds, KskConfig};
use serde::Serialize;

use crate::ceremony::Layout;
use crate::ceremony::activation;
use crate::ceremony::audit::Audit;
use crate::ceremony::files::write_atomically;
use crate::commands::init::{dnskey_line, spec};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::secrets::Secrets;

/// The policy's names of the two KSKs the built-in schemas use.
const CURRENT: &str = "ksk_current";
const NEXT: &str = "ksk_next";

/// Arguments of `keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The algorithm: rsasha256, ecdsap256sha256 or ed25519.
    #[arg(long, value_name = "ALGORITHM")]
    algorithm: String,
    /// RSA modulus size: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048, value_name = "N")]
    bits: u32,
    /// The new KSK's HSM label.
    #[arg(long, value_name = "LABEL")]
    label: String,
    /// The officers' card files (scripted runs); else asked one by one.
    #[arg(long, num_args = 1.., value_name = "CARD")]
    cards: Vec<PathBuf>,
    /// The PINs (TOML: officer = "PIN"); else each PIN is asked.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Accepted for symmetry with sign: keygen asks nothing to confirm.
    #[arg(long)]
    yes: bool,
}

/// The `ksk` commands.
#[derive(Debug, clap::Subcommand)]
pub enum KskCommand {
    /// After the revoke quarter: the next KSK becomes the current one and
    /// the old one leaves the policy (it stays in the HSM).
    Promote,
}

#[derive(Serialize)]
struct NewKsk {
    label: String,
    key_tag: u16,
    dnskey: String,
    ds: String,
}

/// The ceremony directory of the policy in use.
fn layout(context: &Context) -> Result<(ksr::Config, PathBuf, Layout), CliError> {
    let (config, path) = context.config()?;
    let path = path.ok_or_else(|| {
        CliError::Usage("this needs the ceremony's policy: --config DIR/ceremony.toml".into())
    })?;
    let layout = Layout::of_config(&path);
    Ok((config, path, layout))
}

/// Runs `keygen`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let (mut config, path, layout) = layout(context)?;
    if config.keys.contains_key(NEXT) {
        return Err(CliError::Usage(format!(
            "the policy already has a next KSK ({}); promote it after its roll first",
            config.keys.get(NEXT).map_or("", |key| key.label.as_str())
        )));
    }
    if config.keys.values().any(|key| key.label == args.label) {
        return Err(CliError::Usage(format!("label {:?} is taken", args.label)));
    }
    let spec = spec(&args.algorithm, args.bits)?;
    let domain: ksr::DomainName = config
        .request_policy
        .acceptable_domains
        .first()
        .map_or_else(|| Ok(ksr::DomainName::root()), |name| name.parse())
        .map_err(|err| CliError::Usage(format!("the policy's domain: {err}")))?;
    let (now, _) = context.now()?;
    let secrets = Secrets::new(args.pin_file.as_deref())?;
    let mut audit = Audit::open(&layout)?;
    let quorum =
        activation::activate_hsm(&layout, &args.cards, &secrets, context.json, &mut audit)?;
    if !quorum.activated {
        return Err(quorum.failure());
    }
    // The secret is not needed once the HSM is active: wiped now.
    drop(quorum.secret);
    let mut hsm = quorum.hsm;
    let made = hsm.generate(&args.label, spec, u64::from(now.to_unix()));
    hsm.deactivate();
    audit.record("hsm-deactivated", None, serde_json::json!({}))?;
    let ksk = made?;
    let ds = Ds::compute(&domain, &ksk.dnskey, DigestType::Sha256);
    // Recorded before the policy changes: the key exists from now on.
    audit.record(
        "keygen",
        None,
        serde_json::json!({"label": ksk.label, "key_tag": ksk.dnskey.key_tag().to_int(), "ds_sha256": ds.digest_hex(), "as": NEXT}),
    )?;
    let (rsa_size, rsa_exponent) = match spec {
        hsm::KeySpec::Rsa(bits) => (Some(bits.bits()), Some(65537)),
        _ => (None, None),
    };
    config.keys.insert(
        NEXT.into(),
        KskConfig {
            label: ksk.label.clone(),
            algorithm: spec
                .algorithm()
                .mnemonic()
                .unwrap_or("RSASHA256")
                .to_owned(),
            rsa_size,
            rsa_exponent,
            valid_from: now,
            valid_until: None,
            ds_sha256: ds.digest_hex(),
            key_tag: ksk.dnskey.key_tag().to_int(),
        },
    );
    write_atomically(&path, config.to_toml().as_bytes(), false).map_err(|source| {
        CliError::Write {
            path: path.clone(),
            source,
        }
    })?;
    let report = NewKsk {
        label: ksk.label.clone(),
        key_tag: ksk.dnskey.key_tag().to_int(),
        dnskey: dnskey_line(&domain, &ksk),
        ds: format!("{domain} IN DS {}", ds.rdata_text()),
    };
    if context.json {
        render::json(&report)?;
    } else {
        out(format!(
            "KSK {} tag {} made; it is the next KSK of the policy",
            report.label, report.key_tag
        ))?;
        out(format!("  {}", report.dnskey))?;
        out(format!("  {}", report.ds))?;
    }
    Ok(Outcome::Success)
}

/// Runs a `ksk` command.
pub fn run_ksk(command: &KskCommand, context: &Context) -> Result<Outcome, CliError> {
    match command {
        KskCommand::Promote => {
            let (mut config, path, layout) = layout(context)?;
            let next = config.keys.remove(NEXT).ok_or_else(|| {
                CliError::Usage("the policy has no next KSK to promote (ceremony keygen)".into())
            })?;
            let old = config.keys.insert(CURRENT.into(), next.clone());
            let mut audit = Audit::open(&layout)?;
            audit.record(
                "ksk-promoted",
                None,
                serde_json::json!({"current": next.label, "retired": old.as_ref().map(|key| key.label.clone())}),
            )?;
            write_atomically(&path, config.to_toml().as_bytes(), false).map_err(|source| {
                CliError::Write {
                    path: path.clone(),
                    source,
                }
            })?;
            out(format!(
                "KSK {} (tag {}) is now the current KSK{}",
                next.label,
                next.key_tag,
                old.map(|key| format!("; {} (tag {}) is retired", key.label, key.key_tag))
                    .unwrap_or_default()
            ))?;
            Ok(Outcome::Success)
        }
    }
}

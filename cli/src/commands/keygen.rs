//! `ceremony keygen` (a new KSK) and `ceremony ksk promote` (the next KSK
//! becomes the current one), each with a quorum: a KSK roll without editing
//! the policy by hand.

use std::path::PathBuf;

use signer::{KeygenRequest, prepare_keygen, prepare_promote};

use super::init::KeyArgs;
use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// Arguments of `keygen`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  ceremony --config c/ceremony.toml keygen --algorithm ecdsap256sha256 --label ksk-2 \\
      --cards c/cards/CO-3.card c/cards/CO-4.card --pin-file pins.toml
  ceremony --config c/ceremony.toml keygen --import standby.pem --label ksk-standby \\
      --cards c/cards/CO-3.card c/cards/CO-4.card   (an existing key, soft HSM)
  ceremony --config c/ceremony.toml keygen --adopt ksk-standby --accept-imported \"moved from the old HSM\" \\
      --cards c/cards/CO-3.card c/cards/CO-4.card   (a key already on the token)")]
pub struct Args {
    #[command(flatten)]
    key: KeyArgs,
    /// The new KSK's HSM label (with --adopt, the token's label).
    #[arg(
        long,
        value_name = "LABEL",
        required_unless_present_any = ["adopt", "adopt_id"],
        conflicts_with_all = ["adopt", "adopt_id"]
    )]
    label: Option<String>,
    #[command(flatten)]
    quorum: QuorumArgs,
}

/// The `ksk` commands.
#[derive(Debug, clap::Subcommand)]
pub enum KskCommand {
    /// After the revoke quarter: the next KSK becomes the current one and
    /// the old one leaves the policy (it stays in the HSM). The policy
    /// decides what is signed, so a quorum authorizes the change.
    ///
    /// The evidence that the roll happened is the revoke quarter's SKR
    /// (--revoke-skr): every bundle signed by a KSK the policy pins, and a
    /// bundle that publishes the current KSK revoked with a signature by
    /// the next one; it is checked before any card.
    #[command(after_help = "Example:
  ceremony --config c/ceremony.toml ksk promote --revoke-skr skr-revoke.xml \\
      --cards c/cards/CO-1.card c/cards/CO-2.card")]
    Promote(PromoteArgs),
}

/// Arguments of `ksk promote`.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// The revoke quarter's SKR: the evidence that the roll happened.
    #[arg(long, value_name = "SKR")]
    revoke_skr: PathBuf,
    #[command(flatten)]
    quorum: QuorumArgs,
}

/// Runs `keygen`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let origin = args.key.origin()?;
    let now = context.now()?;
    let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
    let mut ceremony = context.open_ceremony("keygen")?;
    let label = match (&args.label, &args.key.adopt, &args.key.adopt_id) {
        (Some(label), _, _) | (None, Some(label), _) => label.clone(),
        (None, None, Some(id)) => {
            let bytes = hex::decode(id.trim_start_matches("0x")).map_err(|_| CliError::Value {
                option: "adopt-id",
                value: id.clone(),
                expected: "the key's CKA_ID in hexadecimal, such as 02",
            })?;
            ceremony.label_of_id(&bytes)?
        }
        (None, None, None) => String::new(),
    };
    let request = KeygenRequest {
        origin,
        label,
        now,
        expect_ds: args.key.expect_ds.clone(),
    };
    let prepared = prepare_keygen(&ceremony, request)?;
    let done = quorum::run(&mut ceremony, prepared, &args.quorum, secrets, context)?;
    let ksk = &done.output;
    if context.json {
        render::json(ksk)?;
    } else {
        let how = if args.key.import.is_some() {
            "imported"
        } else if args.key.adopt.is_some() || args.key.adopt_id.is_some() {
            "adopted"
        } else {
            "made"
        };
        out(format!(
            "KSK {} tag {} {how}; it is the next KSK of the policy ({})",
            ksk.label, ksk.key_tag, ksk.role
        ))?;
        out(format!("  {}", ksk.dnskey))?;
        out(format!("  {}", ksk.ds))?;
        render::closing(&done.audit_head, &done.after)?;
    }
    Ok(Outcome::Success)
}

/// Runs a `ksk` command.
pub fn run_ksk(command: &KskCommand, context: &Context) -> Result<Outcome, CliError> {
    match command {
        KskCommand::Promote(PromoteArgs {
            revoke_skr,
            quorum: args,
        }) => {
            let now = context.now()?;
            let evidence = signer::Document::read(revoke_skr)?;
            let secrets = Secrets::new(args.pin_file.as_deref())?;
            let mut ceremony = context.open_ceremony("ksk promote")?;
            let prepared = prepare_promote(&ceremony, now, &evidence)?;
            let done = quorum::run(&mut ceremony, prepared, args, secrets, context)?;
            let promoted = &done.output;
            if context.json {
                render::json(promoted)?;
            } else {
                out(format!(
                    "KSK {} (tag {}) is now the current KSK{}",
                    promoted.current.0,
                    promoted.current.1,
                    promoted
                        .retired
                        .as_ref()
                        .map(|(label, tag)| format!("; {label} (tag {tag}) is retired"))
                        .unwrap_or_default()
                ))?;
                render::closing(&done.audit_head, &done.after)?;
            }
            Ok(Outcome::Success)
        }
    }
}

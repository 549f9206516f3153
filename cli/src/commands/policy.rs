//! `ceremony policy show` and `ceremony policy approve`.

use signer::prepare_approve;

use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// The `policy` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the effective policy (the --config file, ./ceremony.toml, or
    /// the built-in root-zone defaults) as TOML, every key spelled out.
    #[command(after_help = "Example:\n  ceremony --config c/ceremony.toml policy show")]
    Show,
    /// Approve the changed policy file with a quorum: the officers are
    /// shown the difference from the approved policy, line by line. Until
    /// then every quorum operation refuses, before any card, a policy that
    /// is not the approved one.
    #[command(after_help = "Example:
  ceremony --config c/ceremony.toml policy approve --cards c/cards/CO-1.card c/cards/CO-2.card")]
    Approve(QuorumArgs),
}

/// Runs a `policy` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show => {
            let policy = context.policy()?;
            if context.json {
                crate::render::json(policy.config())?;
                return Ok(Outcome::Success);
            }
            match policy.path() {
                Some(path) => out(format!(
                    "# the policy of {} (SHA-256 {})",
                    path.display(),
                    hex::encode(policy.sha256())
                ))?,
                None => out("# the built-in root-zone policy (no ceremony.toml)")?,
            }
            out(policy.config().to_toml().trim_end())?;
            Ok(Outcome::Success)
        }
        Command::Approve(args) => {
            let now = context.now()?;
            let secrets = Secrets::new(args.pin_file.as_deref())?;
            let mut ceremony = context.open_ceremony("policy approve")?;
            let prepared = prepare_approve(&ceremony, now)?;
            let done = quorum::run(&mut ceremony, prepared, args, secrets, context)?;
            if context.json {
                render::json(&done.output)?;
            } else {
                out(format!(
                    "the policy with SHA-256 {} is approved (it replaces {})",
                    done.output.policy_sha256, done.output.previous_sha256
                ))?;
                render::closing(&done.audit_head, &done.after)?;
            }
            Ok(Outcome::Success)
        }
    }
}

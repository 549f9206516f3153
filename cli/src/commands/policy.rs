//! `ceremony policy show`.

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::out;

/// The `policy` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the effective policy (the --config file, ./ceremony.toml, or
    /// the built-in root-zone defaults) as TOML, every key spelled out.
    #[command(after_help = "Example:\n  ceremony --config c/ceremony.toml policy show")]
    Show,
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
    }
}

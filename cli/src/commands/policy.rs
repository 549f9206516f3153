//! `ceremony policy show`.

use crate::error::{CliError, Outcome};
use crate::render::{Context, out};

/// The `policy` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the effective policy (the --config file, ./ceremony.toml, or
    /// the built-in root-zone defaults) as TOML, every key spelled out.
    Show,
}

/// Runs a `policy` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Show => {
            let (config, path) = context.config()?;
            if !context.json {
                match path {
                    Some(path) => out(format!("# the policy of {}", path.display()))?,
                    None => out("# the built-in root-zone policy (no ceremony.toml)")?,
                }
            }
            if context.json {
                crate::render::json(&config)?;
            } else {
                out(config.to_toml().trim_end())?;
            }
            Ok(Outcome::Success)
        }
    }
}

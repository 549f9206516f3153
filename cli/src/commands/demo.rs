//! `ceremony demo`.

use crate::error::{CliError, Outcome};
use crate::render::{Context, out};

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// The tabletop ceremony needs the quorum, the cards and the HSM, which
/// are not built yet; until then the command says so and succeeds, so the
/// newcomer's first command stays true.
pub fn run(_args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if context.json {
        out(r#"{"demo": "not yet available"}"#)?;
    } else {
        out("The tabletop demo is not built yet: it needs the quorum, the cards and the HSM.")?;
        out(
            "What works today: ceremony ksr show|check, skr show|check, hash and ds (see README.md).",
        )?;
    }
    Ok(Outcome::Success)
}

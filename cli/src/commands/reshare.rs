//! `ceremony reshare` and `ceremony rekey`: a quorum of the current cards
//! in, a new set of cards out, and the old cards refused from then on.
//! Reshare keeps the secret (a lost card, an officer who leaves or joins,
//! another k or n); rekey makes a new one (when the secret may be known).

use std::path::PathBuf;

use signer::{GenerationRequest, prepare_generation};

use super::init::{kdf, new_pins, puk_delivery};
use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// Arguments of `reshare` and `rekey`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  ceremony --config c/ceremony.toml reshare --cards c/cards/CO-1.card c/cards/CO-2.card \\
      c/cards/CO-3.card --pin-file pins.toml --new-cards 4 --threshold 2 \\
      --new-pin-file new-pins.toml --puk-file puks-2.toml")]
pub struct Args {
    #[command(flatten)]
    quorum: QuorumArgs,
    /// The new officers, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "new_cards",
        required_unless_present = "new_cards",
        value_name = "NAMES"
    )]
    officers: Vec<String>,
    /// Instead of --officers: N new officers named CO-1 … CO-N.
    #[arg(long, value_name = "N")]
    new_cards: Option<usize>,
    /// The new threshold.
    #[arg(long, value_name = "K")]
    threshold: usize,
    /// The new cards' PINs (TOML: officer = "PIN"); without it each new
    /// officer chooses one at the terminal, typed twice.
    #[arg(long, value_name = "FILE")]
    new_pin_file: Option<PathBuf>,
    /// Where to write the new PUKs, once (never overwritten); without it
    /// each new officer is shown theirs alone.
    #[arg(long, value_name = "OUT")]
    puk_file: Option<PathBuf>,
    /// The new cards' PIN derivation: strong (default) or light (a
    /// rehearsal only).
    #[arg(long, default_value = "strong", value_name = "KDF")]
    kdf: String,
    /// Where the new cards go: a folder outside the ceremony directory
    /// (required for a production ceremony; DIR/cards/generation-G for a
    /// rehearsal without it).
    #[arg(long, value_name = "DIR")]
    cards_dir: Option<PathBuf>,
}

/// Runs `reshare` (`rekey` false) or `rekey` (`rekey` true).
pub fn run(args: Args, context: &Context, rekey: bool) -> Result<Outcome, CliError> {
    let officers: Vec<String> = match args.new_cards {
        Some(count) => (1..=count).map(|number| format!("CO-{number}")).collect(),
        None => args.officers.clone(),
    };
    signer::check_officers(&officers, args.threshold)?;
    let kdf = kdf(&args.kdf)?;
    let puks = puk_delivery(args.puk_file.as_deref(), context)?;
    let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
    let new_secrets = Secrets::new(args.new_pin_file.as_deref())?;
    let pins = new_pins(&new_secrets, &officers)?;
    let now = context.now()?;
    let mut ceremony = context.open_ceremony(if rekey { "rekey" } else { "reshare" })?;
    let prepared = prepare_generation(
        &ceremony,
        GenerationRequest {
            cards_dir: args.cards_dir.clone(),
            rekey,
            officers,
            threshold: args.threshold,
            pins,
            kdf,
            puks,
            now,
        },
    )?;
    let done = quorum::run(&mut ceremony, prepared, &args.quorum, secrets, context)?;
    let cards = &done.output;
    if context.json {
        render::json(cards)?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "generation {}: {} of {} new cards activate the HSM ({} secret); the old cards no longer do",
        cards.generation,
        cards.threshold,
        cards.cards.len(),
        if cards.new_secret { "new" } else { "kept" }
    ))?;
    for (officer, serial, card) in &cards.cards {
        out(format!("card {serial} of {officer}: {card}"))?;
    }
    if let Some(path) = &cards.puk_file {
        out(format!(
            "PUKs written to {path} (keep it offline; it is not shown again)"
        ))?;
    }
    render::closing(&done.audit_head, &done.after)?;
    Ok(Outcome::Success)
}

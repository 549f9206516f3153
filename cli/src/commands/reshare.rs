//! `ceremony reshare` and `ceremony rekey`: a quorum of the current cards
//! in, a new set of cards out, and the old cards refused from then on.
//!
//! Reshare keeps the activation secret and deals new shares of it (the
//! HSM's keys stay as they are): for a lost or broken card, an officer who
//! leaves or joins, or another k or n. Rekey makes a new secret and has
//! the HSM take it (the soft HSM seals every key again, a token gets a new
//! user PIN): when the secret itself may be known.

use std::path::PathBuf;

use serde::Serialize;
use smartcard_sim::{KdfParams, Pin};

use crate::ceremony::Layout;
use crate::ceremony::activation;
use crate::ceremony::audit::Audit;
use crate::ceremony::issue;
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::secrets::Secrets;

/// Arguments of `reshare` and `rekey`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The current officers' card files (scripted runs); else asked one by
    /// one.
    #[arg(long, num_args = 1.., value_name = "CARD")]
    cards: Vec<PathBuf>,
    /// The current officers' PINs (TOML); else each PIN is asked.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// The new officers, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "new_cards",
        value_name = "NAMES"
    )]
    officers: Vec<String>,
    /// Instead of --officers: N new officers named CO-1 … CO-N.
    #[arg(long, value_name = "N")]
    new_cards: Option<usize>,
    /// The new threshold.
    #[arg(long, value_name = "K")]
    threshold: usize,
    /// The new cards' PINs (TOML: officer = "PIN"); else asked twice.
    #[arg(long, value_name = "FILE")]
    new_pin_file: Option<PathBuf>,
    /// Where to write the new PUKs, once (never overwritten).
    #[arg(long, value_name = "OUT")]
    puk_file: Option<PathBuf>,
    /// The new cards' PIN derivation: strong (default) or light.
    #[arg(long, default_value = "strong", value_name = "KDF")]
    kdf: String,
    /// Accepted for symmetry with sign: nothing is asked to confirm.
    #[arg(long)]
    yes: bool,
}

#[derive(Serialize)]
struct Report {
    generation: u64,
    threshold: usize,
    cards: Vec<CardReport>,
    secret: &'static str,
}

#[derive(Serialize)]
struct CardReport {
    officer: String,
    serial: String,
    card: String,
}

/// Runs `reshare` (`rekey` false) or `rekey` (`rekey` true).
pub fn run(args: &Args, context: &Context, rekey: bool) -> Result<Outcome, CliError> {
    let (_, path) = context.config()?;
    let path = path.ok_or_else(|| {
        CliError::Usage("this needs the ceremony's policy: --config DIR/ceremony.toml".into())
    })?;
    let layout = Layout::of_config(&path);
    let officers: Vec<String> = match args.new_cards {
        Some(count) => (1..=count).map(|number| format!("CO-{number}")).collect(),
        None => args.officers.clone(),
    };
    crate::commands::init::check_officers(&officers, args.threshold)?;
    crate::commands::init::check_puk_file(args.puk_file.as_deref())?;
    let kdf = match args.kdf.as_str() {
        "strong" => KdfParams::STRONG,
        "light" => KdfParams::LIGHT,
        other => return Err(CliError::Usage(format!("--kdf {other:?}: strong or light"))),
    };
    if context.json && args.puk_file.is_none() {
        return Err(CliError::Usage(
            "with --json, give --puk-file: the PUKs are shown once and not in JSON".into(),
        ));
    }
    let old_secrets = Secrets::new(args.pin_file.as_deref())?;
    let new_secrets = Secrets::new(args.new_pin_file.as_deref())?;
    let pins: Vec<Pin> = officers
        .iter()
        .map(|officer| new_secrets.initial_pin(officer))
        .collect::<Result<_, _>>()?;
    let mut audit = Audit::open(&layout)?;
    let quorum =
        activation::activate_hsm(&layout, &args.cards, &old_secrets, context.json, &mut audit)?;
    let (Some(activated), true) = (quorum.secret, quorum.activated) else {
        return Err(CliError::NoQuorum {
            accepted: quorum.accepted.len(),
            threshold: quorum.threshold,
        });
    };
    let mut hsm = quorum.hsm;
    let generation = activated.roster().generation().saturating_add(1);
    let cards_dir = layout.cards().join(format!("generation-{generation}"));
    let mut issuing = issue::begin(&cards_dir, &officers, &pins, kdf, generation)?;
    let failed = |err: quorum::EnrolError| CliError::Usage(format!("the new roster: {err}"));
    let (previous, enrolment) = if rekey {
        let rekeyed =
            quorum::rekey(activated, issuing.officers.clone(), args.threshold).map_err(failed)?;
        (Some(rekeyed.previous), rekeyed.enrolment)
    } else {
        let enrolment =
            quorum::reshare(activated, issuing.officers.clone(), args.threshold).map_err(failed)?;
        (None, enrolment)
    };
    // The new cards are complete, and their PUKs out, before the HSM moves
    // to their roster: a failure up to the move leaves the old cards in
    // charge, never none.
    issuing.finish(&enrolment.shares)?;
    issuing.hand_out_puks(args.puk_file.as_deref(), context.json)?;
    let event = if rekey { "rekey" } else { "reshare" };
    let roster_digest = hex::encode(enrolment.roster.digest());
    audit.record(
        &format!("{event}-begin"),
        None,
        serde_json::json!({"generation": generation, "roster_digest": roster_digest}),
    )?;
    let old_secret = previous
        .as_ref()
        .map_or(&enrolment.secret, |previous| previous.secret());
    let committed = hsm.commit_generation(old_secret, &enrolment.secret, enrolment.roster.clone());
    hsm.deactivate();
    drop(previous);
    drop(enrolment);
    if let Err(err) = committed {
        audit.record(
            &format!("{event}-failed"),
            None,
            serde_json::json!({"error": err.to_string()}),
        )?;
        return Err(err.into());
    }
    let cards = issuing.cards();
    audit.record(
        event,
        None,
        serde_json::json!({
            "generation": generation,
            "threshold": args.threshold,
            "officers": officers,
            "serials": cards.iter().map(|(_, serial, _)| serial.clone()).collect::<Vec<_>>(),
            "roster_digest": roster_digest,
        }),
    )?;
    let report = Report {
        generation,
        threshold: args.threshold,
        cards: cards
            .into_iter()
            .map(|(officer, serial, card)| CardReport {
                officer,
                serial,
                card,
            })
            .collect(),
        secret: if rekey { "new" } else { "kept" },
    };
    if context.json {
        render::json(&report)?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "generation {}: {} of {} new cards activate the HSM ({} secret); the old cards no longer do",
        report.generation,
        report.threshold,
        report.cards.len(),
        report.secret
    ))?;
    for card in &report.cards {
        out(format!(
            "card {} of {}: {}",
            card.serial, card.officer, card.card
        ))?;
    }
    if let Some(path) = &args.puk_file {
        out(format!(
            "PUKs written to {} (keep it offline; it is not shown again)",
            path.display()
        ))?;
    }
    audit.record("hsm-deactivated", None, serde_json::json!({}))?;
    Ok(Outcome::Success)
}

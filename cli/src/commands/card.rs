//! `ceremony card status|verify|change-pin|unblock CARD`. A card of a
//! ceremony (in its `cards/` folder, or with `--config`) has every wrong
//! PIN, PIN change and use of its PUK recorded in that ceremony's log.

use std::path::{Path, PathBuf};

use serde::Serialize;
use signer::{CardCommand, Ceremony, LocalCard};
use smartcard_sim::CardStatus;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// The card commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show what a card says without its PIN: serial, holder, role,
    /// generation, tries left, and whether it is blocked.
    #[command(after_help = "Example:\n  ceremony card status c/cards/CO-1.card")]
    Status {
        /// The card file.
        card: PathBuf,
    },
    /// Check the PIN; shows the tries left. Exits 4 for a wrong PIN or a
    /// blocked card.
    #[command(after_help = "Example:\n  ceremony card verify c/cards/CO-1.card")]
    Verify {
        /// The card file.
        card: PathBuf,
        /// Take the PIN from this file (TOML: officer name = "PIN")
        /// instead of asking.
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
    },
    /// Change the PIN: the old one (a wrong one costs a try), then the new
    /// one twice ([new-pin] in a pin file).
    #[command(after_help = "Example:\n  ceremony card change-pin c/cards/CO-1.card")]
    ChangePin {
        /// The card file.
        card: PathBuf,
        /// Take the PINs from this file instead of asking.
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
    },
    /// Unblock a card with its PUK and set a new PIN ([puk] and [new-pin]
    /// in a pin file). Ten wrong PUKs kill the card.
    #[command(after_help = "Example:\n  ceremony card unblock c/cards/CO-2.card")]
    Unblock {
        /// The card file.
        card: PathBuf,
        /// Take the PUK and new PIN from this file instead of asking.
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
    },
}

/// A card's status, for JSON.
#[derive(Serialize)]
struct StatusJson<'a> {
    card: String,
    serial: &'a str,
    holder: &'a str,
    role: &'a str,
    generation: u64,
    pin_tries_left: u8,
    puk_tries_left: u8,
    state: String,
    card_key: String,
    kdf: String,
    kdf_strong: bool,
}

/// Runs a `card` command.
pub fn run(command: Command, context: &Context) -> Result<Outcome, CliError> {
    let (path, pin_file) = match &command {
        Command::Status { card } => (card, None),
        Command::Verify { card, pin_file }
        | Command::ChangePin { card, pin_file }
        | Command::Unblock { card, pin_file } => (card, pin_file.as_deref()),
    };
    let mut card = open(path)?;
    if let Command::Status { .. } = command {
        // Status reads what the card says without its PIN: no state
        // changes, nothing to record.
        return show(path, card.status(), context);
    }
    let secrets = Secrets::new(pin_file)?;
    let ceremony = ceremony_of(path, context)?;
    let holder = card.status().holder.clone();
    let (old, new, puk);
    let (action, done) = match command {
        Command::Status { .. } => return show(path, card.status(), context),
        Command::Verify { .. } => {
            old = secrets.pin(&holder)?;
            (CardCommand::Verify(&old), "PIN correct")
        }
        Command::ChangePin { .. } => {
            old = secrets.pin(&holder)?;
            new = secrets.new_pin(&holder)?;
            (
                CardCommand::ChangePin {
                    old: &old,
                    new: &new,
                },
                "PIN changed",
            )
        }
        Command::Unblock { .. } => {
            puk = secrets.puk(&holder)?;
            new = secrets.new_pin(&holder)?;
            (
                CardCommand::Unblock {
                    puk: &puk,
                    new: &new,
                },
                "card unblocked with a new PIN",
            )
        }
    };
    signer::run_command(&mut card, &action, ceremony.as_ref())?;
    if context.json {
        return show(path, card.status(), context);
    }
    let status = card.status();
    out(format!(
        "{}: {done} ({}'s card {}); PIN tries left {} of {}",
        path.display(),
        status.holder,
        status.serial,
        status.pin_tries_left,
        smartcard_sim::PIN_TRIES
    ))?;
    Ok(Outcome::Success)
}

/// The card in the reader.
fn open(path: &Path) -> Result<LocalCard, CliError> {
    LocalCard::open(path).map_err(|reason| {
        CliError::Signer(signer::Error::CardFile {
            path: path.to_owned(),
            reason,
        })
    })
}

/// The ceremony a card belongs to: `--config`'s, or the one whose
/// `cards/` folder holds it.
fn ceremony_of(card: &Path, context: &Context) -> Result<Option<Ceremony>, CliError> {
    if context.policy_path().is_some() {
        return context.open_ceremony("card").map(Some);
    }
    signer::Layout::of_card(card)
        .map(|layout| context.open_ceremony_in(layout.root(), "card"))
        .transpose()
}

/// Prints a status.
fn show(path: &Path, status: &CardStatus, context: &Context) -> Result<Outcome, CliError> {
    let kdf = format!(
        "Argon2id, {} KiB, {} passes, {} lanes",
        status.kdf.m_kib, status.kdf.t, status.kdf.p
    );
    if context.json {
        render::json(&StatusJson {
            card: path.display().to_string(),
            serial: &status.serial,
            holder: &status.holder,
            role: &status.role,
            generation: status.generation,
            pin_tries_left: status.pin_tries_left,
            puk_tries_left: status.puk_tries_left,
            state: status.state.to_string(),
            card_key: hex::encode(&status.card_key),
            kdf,
            kdf_strong: status.kdf.is_strong(),
        })?;
        return Ok(Outcome::Success);
    }
    out(format!("card        {}", path.display()))?;
    out(format!("serial      {}", status.serial))?;
    out(format!("holder      {}", status.holder))?;
    out(format!("role        {}", status.role))?;
    out(format!("generation  {}", status.generation))?;
    out(format!(
        "PIN tries   {} of {}",
        status.pin_tries_left,
        smartcard_sim::PIN_TRIES
    ))?;
    out(format!(
        "PUK tries   {} of {}",
        status.puk_tries_left,
        smartcard_sim::PUK_TRIES
    ))?;
    out(format!("state       {}", status.state))?;
    out(format!("card key    {}", hex::encode(&status.card_key)))?;
    let strength = if status.kdf.is_strong() {
        ""
    } else {
        "  (exercise strength: issue real cards with the default)"
    };
    out(format!("PIN KDF     {kdf}{strength}"))?;
    Ok(Outcome::Success)
}

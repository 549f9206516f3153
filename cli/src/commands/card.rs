//! `ceremony card status|verify|change-pin|unblock CARD`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use smartcard_sim::{CardClient, CardStatus, FileStorage, SimulatedCard};

use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::secrets::Secrets;

/// The card commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show what a card says without its PIN: serial, holder, role,
    /// generation, tries left, and whether it is blocked.
    Status {
        /// The card file.
        card: PathBuf,
    },
    /// Check the PIN; shows the tries left. Exits 4 for a wrong PIN or a
    /// blocked card.
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
    ChangePin {
        /// The card file.
        card: PathBuf,
        /// Take the PINs from this file instead of asking.
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
    },
    /// Unblock a card with its PUK and set a new PIN ([puk] and [new-pin]
    /// in a pin file). Ten wrong PUKs kill the card.
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
    match command {
        Command::Status { card } => {
            let status = open(&card)?.status().map_err(card_error(&card))?;
            show(&card, &status, context)
        }
        Command::Verify { card, pin_file } => {
            let secrets = Secrets::new(pin_file.as_deref())?;
            let mut client = open(&card)?;
            let status = client.status().map_err(card_error(&card))?;
            let pin = secrets.pin(&status.holder)?;
            client.verify(&pin).map_err(card_error(&card))?;
            let status = client.status().map_err(card_error(&card))?;
            done(context, &card, &status, "PIN correct")
        }
        Command::ChangePin { card, pin_file } => {
            let secrets = Secrets::new(pin_file.as_deref())?;
            let mut client = open(&card)?;
            let status = client.status().map_err(card_error(&card))?;
            let old = secrets.pin(&status.holder)?;
            let new = secrets.new_pin(&status.holder)?;
            client.change_pin(&old, &new).map_err(card_error(&card))?;
            let status = client.status().map_err(card_error(&card))?;
            done(context, &card, &status, "PIN changed")
        }
        Command::Unblock { card, pin_file } => {
            let secrets = Secrets::new(pin_file.as_deref())?;
            let mut client = open(&card)?;
            let status = client.status().map_err(card_error(&card))?;
            let puk = secrets.puk(&status.holder)?;
            let new = secrets.new_pin(&status.holder)?;
            client.unblock(&puk, &new).map_err(card_error(&card))?;
            let status = client.status().map_err(card_error(&card))?;
            done(context, &card, &status, "card unblocked with a new PIN")
        }
    }
}

/// The card in the reader, applet selected.
fn open(path: &Path) -> Result<CardClient<SimulatedCard<FileStorage>>, CliError> {
    let card =
        SimulatedCard::open(FileStorage::new(path)).map_err(|source| CliError::CardFile {
            path: path.to_owned(),
            source,
        })?;
    let mut client = CardClient::new(card);
    client.select().map_err(card_error(path))?;
    Ok(client)
}

/// Turns a card's error into the command's, naming the card.
fn card_error(path: &Path) -> impl Fn(smartcard_sim::CardError) -> CliError + '_ {
    move |source| CliError::Card {
        path: path.to_owned(),
        source,
    }
}

/// Prints a status.
fn show(path: &Path, status: &CardStatus, context: &Context) -> Result<Outcome, CliError> {
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
            kdf: kdf(status),
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
    out(format!("PIN KDF     {}{strength}", kdf(status)))?;
    Ok(Outcome::Success)
}

/// The Argon2id parameters in words.
fn kdf(status: &CardStatus) -> String {
    format!(
        "Argon2id, {} KiB, {} passes, {} lanes",
        status.kdf.m_kib, status.kdf.t, status.kdf.p
    )
}

/// Reports a command that worked, with the tries left.
fn done(
    context: &Context,
    path: &Path,
    status: &CardStatus,
    what: &str,
) -> Result<Outcome, CliError> {
    if context.json {
        return show(path, status, context);
    }
    out(format!(
        "{}: {what} ({}'s card {}); PIN tries left {} of {}",
        path.display(),
        status.holder,
        status.serial,
        status.pin_tries_left,
        smartcard_sim::PIN_TRIES
    ))?;
    Ok(Outcome::Success)
}

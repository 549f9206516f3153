//! The officers' and administrator's clients of the service:
//! `ceremony present` (a card from an officer's own terminal, for the
//! operation the service shows) and `ceremony session status|reset`.

use std::path::PathBuf;

use signer::LocalCard;
use signer::service::wire::{PresentAnswer, SessionOffer, Status, WrongPinNotice};

use super::quorum::TerminalOfficers;
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;
use crate::service::client::{Remote, RemoteArgs, expect};

/// Arguments of `present`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  ceremony present --server https://signer:8443 --tls-dir tls/clients/CO-2 --as CO-2 --card CO-2.card
  (the summary of the operation is shown, and the officer types yes to present for it)")]
pub struct Args {
    #[command(flatten)]
    remote: RemoteArgs,
    /// The officer's card file.
    #[arg(long, value_name = "CARD")]
    card: PathBuf,
    /// The PIN (TOML: officer = "PIN"); without it the PIN is asked.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Do not ask the officer to confirm the operation shown (scripted
    /// exercises and tests); the card still signs only that operation.
    #[arg(long)]
    yes: bool,
}

/// Runs `present`: the open attempt and the operation it is for are
/// fetched and shown, the card is unlocked here (every wrong PIN told to
/// the service, which records it), it signs the challenge over the digest
/// of the summary shown, and its share goes sealed to the attempt.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let remote = args.remote.connect()?;
    let mut officers =
        TerminalOfficers::new(&[], Secrets::new(args.pin_file.as_deref())?, context.json);
    let offer: SessionOffer = expect(remote.get("/session")?)?.json()?;
    if !context.json {
        render::summary(&offer.summary)?;
        out(format!(
            "attempt {}: {} of {} cards presented; reading {}",
            offer.attempt,
            offer.presented,
            offer.threshold,
            args.card.display()
        ))?;
    }
    // The officer authorizes this operation and no other: the card signs
    // the digest of the summary just shown.
    if !args.yes {
        match crate::terminal::ask(
            "Your card will authorize exactly the operation above. Type yes to present it: ",
        )? {
            Some(answer) if answer == "yes" => {}
            _ => {
                return Err(CliError::Signer(signer::Error::NotConfirmed));
            }
        }
    }
    let card_error = |reason: String| {
        CliError::Signer(signer::Error::CardFile {
            path: args.card.clone(),
            reason,
        })
    };
    let mut card = LocalCard::open(&args.card).map_err(card_error)?;
    // The card refuses a ceremony older than it was last told of.
    card.check_epoch(offer.summary.epoch)
        .map_err(|reason| CliError::CardRefused(format!("{}: {reason}", args.card.display())))?;
    card.unlock(&mut officers, &mut |card, tries_left| {
        let notice = WrongPinNotice {
            card_serial: card.status().serial.clone(),
            tries_left,
        };
        let body =
            serde_json::to_vec(&notice).map_err(|err| signer::Error::Internal(err.to_string()))?;
        remote
            .post("/present/wrong-pin", "application/json", &body)
            .ok()
            .filter(|answer| answer.is_success())
            .map(drop)
            .ok_or_else(|| {
                signer::Error::Internal("the service did not take the wrong PIN's record".into())
            })
    })?
    // A card that stays locked is an activation refused (exit 4).
    .map_err(|reason| CliError::CardRefused(format!("{}: {reason}", args.card.display())))?;
    let request = signer::service::presentation(&mut card, &offer)?;
    drop(card);
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Remote(err.to_string()))?;
    let reply = remote.post("/present", "application/json", &body)?;
    if !matches!(reply.status, 200 | 409) {
        return Err(crate::service::client::failure(&reply));
    }
    let result: PresentAnswer = reply.json()?;
    if context.json {
        render::json(&result)?;
    }
    match &result.refusal {
        None => {
            if !context.json {
                out(format!(
                    "accepted: {} of {} ({}){}",
                    result.presented,
                    result.threshold,
                    result.who.join(", "),
                    if result.complete {
                        "; the quorum is complete"
                    } else {
                        ""
                    }
                ))?;
            }
            Ok(Outcome::Success)
        }
        Some(reason) => Err(CliError::CardRefused(reason.clone())),
    }
}

/// The `session` commands.
#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Where the ceremony stands (no client certificate needed).
    #[command(
        after_help = "Example:\n  ceremony session status --server https://signer:8443 --tls-dir tls"
    )]
    Status {
        /// The service, such as https://127.0.0.1:8443.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The directory `ceremony serve --init-tls` made (for its ca.pem).
        #[arg(long, value_name = "DIR")]
        tls_dir: PathBuf,
    },
    /// Withdraw the confirmed operation: the shares presented so far are
    /// wiped and the operation is closed as aborted (administrator).
    #[command(
        after_help = "Example:\n  ceremony session reset --server https://signer:8443 --tls-dir tls --as admin"
    )]
    Reset(RemoteArgs),
}

/// Runs a `session` command.
pub fn run_session(command: &SessionCommand, context: &Context) -> Result<Outcome, CliError> {
    let status: Status = match command {
        SessionCommand::Status { server, tls_dir } => {
            expect(Remote::anonymous(server, tls_dir)?.get("/status")?)?.json()?
        }
        SessionCommand::Reset(remote) => {
            let remote = remote.connect()?;
            expect(remote.post("/session/reset", "application/json", b"")?)?;
            remote.get("/status")?.json()?
        }
    };
    if context.json {
        render::json(&status)?;
        return Ok(Outcome::Success);
    }
    out(&status.headline)?;
    out(format!(
        "attempt {}: {} of {} cards ({}); HSM {}",
        status.attempt,
        status.presented,
        status.threshold,
        status.who.join(", "),
        if status.hsm_active {
            "active"
        } else {
            "sealed"
        }
    ))?;
    for ksr in &status.ksrs {
        out(format!("{} {:?} {}", ksr.id, ksr.state, ksr.ksr_sha256))?;
    }
    Ok(Outcome::Success)
}

//! The officers' and administrator's clients of the service:
//! `ceremony present` (a card from an officer's own terminal, for the
//! operation the service shows) and `ceremony session status|reset`.

use std::path::PathBuf;

use quorum::{Challenge, SealedShare};
use signer::LocalCard;
use signer::service::wire::{PresentAnswer, PresentRequest, SessionOffer, Status, WrongPinNotice};
use smartcard_sim::CardError;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out, say};
use crate::secrets::Secrets;
use crate::service::client::{Remote, RemoteArgs, expect};

/// Arguments of `present`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  ceremony present --server https://signer:8443 --tls-dir tls/clients/CO-2 --as CO-2 --card CO-2.card")]
pub struct Args {
    #[command(flatten)]
    remote: RemoteArgs,
    /// The officer's card file.
    #[arg(long, value_name = "CARD")]
    card: PathBuf,
    /// The PIN (TOML: officer = "PIN"); without it the PIN is asked.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

/// Runs `present`: fetch the open attempt and the operation it is for,
/// show it, unlock the card here, have it sign the challenge (which
/// carries the digest of the summary shown, computed here), seal its share
/// to the attempt's key, send.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let remote = Remote::connect(&args.remote)?;
    let secrets = Secrets::new(args.pin_file.as_deref())?;
    let offer: SessionOffer = expect(remote.get("/session")?)?.json()?;
    let session_key = hex::decode(&offer.session_key)
        .map_err(|_| CliError::Remote("the service sent a malformed session key".into()))?;
    // The card signs the digest of the summary shown here, and the key its
    // share is sealed to: a service that misstated the operation, or a
    // relay that offered its own key, gets a signature that does not count.
    let challenge = Challenge {
        nonce: decode(&offer.nonce, "nonce")?,
        generation: offer.generation,
        roster_digest: decode(&offer.roster_digest, "roster_digest")?,
        operation: offer.summary.digest(),
        channel: session_key.clone(),
    };
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
    let mut card = LocalCard::open(&args.card).map_err(|reason| {
        CliError::Signer(signer::Error::CardFile {
            path: args.card.clone(),
            reason,
        })
    })?;
    let holder = card.status().holder.clone();
    let mut pin = secrets.pin(&holder)?;
    loop {
        match card.verify(&pin) {
            Ok(()) => break,
            Err(CardError::WrongPin { tries_left }) => {
                let notice = WrongPinNotice {
                    card_serial: card.status().serial.clone(),
                    tries_left,
                };
                let body =
                    serde_json::to_vec(&notice).map_err(|err| CliError::Remote(err.to_string()))?;
                expect(remote.post("/present/wrong-pin", "application/json", &body)?)?;
                if !context.json {
                    say(format!("  {holder}: wrong PIN: {tries_left} tries left"));
                }
                match secrets.pin_again(&holder, tries_left)? {
                    Some(again) if tries_left > 0 => pin = again,
                    _ => {
                        return Err(CliError::Signer(signer::Error::Card {
                            path: args.card.clone(),
                            source: CardError::WrongPin { tries_left },
                        }));
                    }
                }
            }
            Err(source) => {
                return Err(CliError::Signer(signer::Error::Card {
                    path: args.card.clone(),
                    source,
                }));
            }
        }
    }
    let (share, signature) = card.share_and_signature(&challenge).map_err(|reason| {
        CliError::Signer(signer::Error::CardFile {
            path: args.card.clone(),
            reason,
        })
    })?;
    let serial = card.status().serial.clone();
    let sealed = SealedShare::seal(&share, &session_key, &challenge, &serial)
        .map_err(|err| CliError::Remote(format!("sealing the share: {err}")))?;
    // The share itself is wiped here; only the sealed form travels.
    drop(share);
    let request = PresentRequest {
        nonce: offer.nonce.clone(),
        card_serial: serial,
        generation: card.status().generation,
        signature: hex::encode(signature.to_bytes()),
        ephemeral_key: hex::encode(&sealed.ephemeral),
        sealed_share: hex::encode(&sealed.ciphertext),
    };
    drop(card);
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Remote(err.to_string()))?;
    let reply = remote.post("/present", "application/json", &body)?;
    if !matches!(reply.status, 200 | 409) {
        return Err(reply.failure());
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
            let remote = Remote::connect(remote)?;
            expect(remote.post("/session/reset", "application/json", b"")?)?;
            remote.get("/status")?.json()?
        }
    };
    if context.json {
        render::json(&status)?;
    } else {
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
    }
    Ok(Outcome::Success)
}

fn decode(text: &str, what: &str) -> Result<[u8; 32], CliError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| CliError::Remote(format!("the service sent a malformed {what}")))
}

//! The officers' and administrator's clients of the service:
//! `ceremony present` (a card from an officer's own terminal) and
//! `ceremony session status|reset`.

use std::path::PathBuf;

use quorum::{Challenge, SealedShare};

use crate::ceremony::activation::{Event, read_card};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::secrets::Secrets;
use crate::service::client::{Answer, Remote, RemoteArgs};
use crate::service::wire::{PresentAnswer, PresentRequest, SessionOffer, Status};

/// Arguments of `present`.
#[derive(Debug, clap::Args)]
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

/// Runs `present`: fetch the open attempt, unlock the card here, have it
/// sign the challenge, seal its share to the attempt's key, send.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let remote = Remote::connect(&args.remote)?;
    let secrets = Secrets::new(args.pin_file.as_deref())?;
    let offer: SessionOffer = expect(remote.get("/session")?)?.json()?;
    let session_key = hex::decode(&offer.session_key)
        .map_err(|_| CliError::Runtime("the service sent a malformed session key".into()))?;
    // The card signs the key its share is sealed to: a relay that offered
    // its own key would get a signature the service refuses.
    let challenge = Challenge {
        nonce: decode(&offer.nonce, "nonce")?,
        generation: offer.generation,
        roster_digest: decode(&offer.roster_digest, "roster_digest")?,
        operation: [0; 32],
        channel: session_key.clone(),
    };
    if !context.json {
        out(format!(
            "attempt {}: {} of {} cards presented; reading {}",
            offer.attempt,
            offer.presented,
            offer.threshold,
            args.card.display()
        ))?;
    }
    let answer = read_card(&args.card, &secrets, &challenge, &mut |event| {
        if let Event::WrongPin {
            officer,
            tries_left,
        } = event
            && !context.json
        {
            out(format!("  {officer}: wrong PIN, {tries_left} tries left"))?;
        }
        Ok(())
    })?;
    let answer = match answer {
        Ok(answer) => answer,
        Err(refused) => {
            return Err(CliError::Refused(format!(
                "{}: {}",
                refused.card, refused.reason
            )));
        }
    };
    let sealed = SealedShare::seal(&answer.share, &session_key, &challenge, &answer.serial)
        .map_err(|err| CliError::Runtime(format!("sealing the share: {err}")))?;
    let request = PresentRequest {
        nonce: offer.nonce.clone(),
        card_serial: answer.serial.clone(),
        generation: answer.generation,
        signature: hex::encode(answer.signature.to_bytes()),
        ephemeral_key: hex::encode(&sealed.ephemeral),
        sealed_share: hex::encode(&sealed.ciphertext),
    };
    // The share itself is wiped here; only the sealed form travels.
    drop(answer);
    let body = serde_json::to_vec(&request).map_err(|err| CliError::Runtime(err.to_string()))?;
    let reply = remote.post("/present", "application/json", &body)?;
    if !matches!(reply.status, 200 | 409) {
        return Err(failure(&reply));
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
        Some(reason) => Err(CliError::Refused(reason.clone())),
    }
}

/// The `session` commands.
#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Where the ceremony stands (no client certificate needed).
    Status {
        /// The service, such as https://127.0.0.1:8443.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The directory `ceremony serve --init-tls` made (for its ca.pem).
        #[arg(long, value_name = "DIR")]
        tls_dir: PathBuf,
    },
    /// Start the activation again: the shares presented so far are wiped
    /// and an active HSM that is not signing is sealed (administrator).
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
            out(format!("{} {:?} {}", ksr.id, ksr.state, ksr.sha256))?;
        }
    }
    Ok(Outcome::Success)
}

/// A 2xx answer, or the error it means.
pub fn expect(answer: Answer) -> Result<Answer, CliError> {
    if answer.is_success() {
        Ok(answer)
    } else {
        Err(failure(&answer))
    }
}

/// The error of a non-2xx answer: refusals of access exit 4.
pub fn failure(answer: &Answer) -> CliError {
    match answer.status {
        401 | 403 => CliError::Refused(answer.error()),
        400 | 404 | 409 | 413 | 422 => CliError::Usage(answer.error()),
        _ => CliError::Runtime(answer.error()),
    }
}

fn decode(text: &str, what: &str) -> Result<[u8; 32], CliError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| CliError::Runtime(format!("the service sent a malformed {what}")))
}

//! The quorum at this terminal, for every operation that needs one: the
//! summary shown, `yes` typed (or `--yes`), the cards presented one
//! officer at a time, the HSM activated and the operation run.

use std::collections::VecDeque;
use std::path::PathBuf;

use signer::{Ceremony, Confirmation, Done, Officers, Operation, Prepared, Presenting};
use smartcard_sim::{CardStatus, Pin};

use crate::context::Context;
use crate::error::CliError;
use crate::render::{self, Progress, say};
use crate::secrets::Secrets;
use crate::terminal;

/// How the officers take part: their cards, their PINs, the confirmation.
#[derive(Debug, Clone, clap::Args)]
pub struct QuorumArgs {
    /// The officers' card files, in the order they are presented (scripted
    /// runs); without it the cards are asked for one at a time.
    #[arg(long, num_args = 1.., value_name = "CARD")]
    pub cards: Vec<PathBuf>,
    /// The PINs (TOML: officer = "PIN"); without it each PIN is asked.
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
    /// Do not ask for the typed confirmation (tests and exercises;
    /// recorded in the audit log).
    #[arg(long)]
    pub yes: bool,
    /// An exercise's fault in this rehearsal's flow: hsm-self-test,
    /// attempt-expires or power-cut (`ceremony exercise` passes it; a
    /// production ceremony refuses it).
    #[arg(long, hide = true, value_name = "FAULT", value_parser = parse_fault)]
    pub exercise_fault: Option<signer::RehearsalFault>,
}

/// `--exercise-fault`'s value.
fn parse_fault(name: &str) -> Result<signer::RehearsalFault, String> {
    signer::RehearsalFault::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = signer::RehearsalFault::ALL
            .iter()
            .map(|fault| fault.name())
            .collect();
        format!("one of {}", names.join(", "))
    })
}

/// Runs a prepared operation to its end: summary, confirmation, cards,
/// activation, the work.
///
/// # Errors
///
/// Not confirmed, no quorum, or the work failed; the operation is closed
/// in the audit log in every case.
pub fn run<O: Operation>(
    ceremony: &mut Ceremony,
    prepared: Prepared<O>,
    args: &QuorumArgs,
    secrets: Secrets,
    context: &Context,
) -> Result<Done<O::Output>, CliError> {
    if !context.json {
        render::summary(prepared.summary())?;
    }
    let how = if args.yes {
        Confirmation::Waived
    } else {
        let answer = terminal::ask(match prepared.summary().detail {
            signer::Detail::Sign(_) => {
                "Read the KSR's hash aloud, compare it out of band, and check the table. Type yes to go on: "
            }
            _ => "Check the summary above with the officers. Type yes to go on: ",
        });
        match answer {
            Ok(Some(answer)) if answer == "yes" => Confirmation::Typed,
            Ok(_) => return Err(prepared.decline(ceremony).into()),
            Err(err) => {
                let _ = prepared.decline(ceremony);
                return Err(err);
            }
        }
    };
    run_confirmed(ceremony, prepared, how, args, secrets, context)
}

/// The same once the operation was confirmed `how` (the words read over
/// the phone, for a signing from a medium): the cards, the activation,
/// the work.
///
/// # Errors
///
/// As [`run`].
pub fn run_confirmed<O: Operation>(
    ceremony: &mut Ceremony,
    prepared: Prepared<O>,
    how: Confirmation,
    args: &QuorumArgs,
    secrets: Secrets,
    context: &Context,
) -> Result<Done<O::Output>, CliError> {
    if let Some(fault) = args.exercise_fault
        && let Err(err) = ceremony.inject_fault(fault)
    {
        return Err(prepared.fail(ceremony, err).into());
    }
    let power_cut = ceremony.injected_fault() == Some(signer::RehearsalFault::PowerCut);
    let mut confirmed = prepared.confirm(ceremony, how, None, signer::ACTIVATION_TIME)?;
    let mut officers = TerminalOfficers::new(&args.cards, secrets, context.json);
    confirmed.present_cards(ceremony, &mut officers)?;
    let (accepted, refused) = confirmed.cards();
    let (accepted, refused) = (accepted.to_vec(), refused.to_vec());
    let activated = confirmed
        .activate(ceremony)
        .map_err(|source| CliError::Quorum {
            source: Box::new(source),
            accepted,
            refused,
        })?;
    let mut progress = Progress::new(context.json);
    let done = activated.run(&mut |done, total| {
        progress.update(done, total);
        if power_cut && done >= total.div_ceil(2) {
            wait_for_the_power_cut();
        }
        stall_for_tests();
    });
    progress.finish();
    Ok(done?)
}

/// The officers at this terminal.
pub struct TerminalOfficers {
    /// The card files still to present (`--cards`).
    cards: VecDeque<PathBuf>,
    /// Whether the operator is asked for each card.
    ask: bool,
    secrets: Secrets,
    quiet: bool,
}

impl TerminalOfficers {
    /// The officers with these cards (none: asked for one by one) and PINs.
    pub fn new(cards: &[PathBuf], secrets: Secrets, quiet: bool) -> Self {
        Self {
            cards: cards.iter().cloned().collect(),
            ask: cards.is_empty(),
            secrets,
            quiet,
        }
    }
}

impl Officers for TerminalOfficers {
    fn next_card(
        &mut self,
        number: usize,
        threshold: usize,
    ) -> Result<Option<PathBuf>, signer::Error> {
        if !self.ask {
            return Ok(self.cards.pop_front());
        }
        let answer = terminal::ask(&format!(
            "card {number} of {threshold}: the card file (empty to stop): "
        ))
        .map_err(prompt_error)?;
        Ok(answer.filter(|path| !path.is_empty()).map(PathBuf::from))
    }

    fn pin(&mut self, card: &CardStatus, again: bool) -> Result<Option<Pin>, signer::Error> {
        loop {
            let pin = if again {
                self.secrets.pin_again(&card.holder, card.pin_tries_left)
            } else {
                self.secrets.pin(&card.holder).map(Some)
            };
            match pin {
                Ok(pin) => return Ok(pin),
                // A PIN mistyped against the rules costs no try: asked again.
                Err(CliError::Secret(err)) if matches!(self.secrets, Secrets::Prompt) => {
                    say(format!("  {err}"));
                }
                // A pin file without this officer: the card is refused,
                // the next one asked for.
                Err(err @ CliError::Signer(signer::Error::PinFile { .. })) => {
                    say(format!("  {err}"));
                    return Ok(None);
                }
                Err(err) => return Err(prompt_error(err)),
            }
        }
    }

    fn show(&mut self, event: &Presenting<'_>) -> Result<(), signer::Error> {
        if self.quiet {
            return Ok(());
        }
        match event {
            Presenting::Inserted { number, of, status } => say(format!(
                "card {number} of {of}: {}'s card {} (generation {}, {} PIN tries left)",
                status.holder, status.serial, status.generation, status.pin_tries_left
            )),
            Presenting::WrongPin { status, tries_left } => say(format!(
                "  {}: wrong PIN: {tries_left} tries left",
                status.holder
            )),
            Presenting::Accepted(accepted, progress) => say(format!(
                "  accepted: card {} ({}); {progress}",
                accepted.serial, accepted.officer
            )),
            Presenting::Refused(refused) => say(format!(
                "  refused: {}{}: {}",
                refused.card,
                refused
                    .officer
                    .as_ref()
                    .map(|officer| format!(" ({officer})"))
                    .unwrap_or_default(),
                refused.reason
            )),
        }
        Ok(())
    }
}

/// A front-end failure as the signer's.
fn prompt_error(err: CliError) -> signer::Error {
    match err {
        CliError::Prompt(source) => signer::Error::Prompt(source),
        other => signer::Error::Prompt(std::io::Error::other(other.to_string())),
    }
}

/// Tests of interruptions (a SIGKILL while signing, an output directory
/// that vanishes before the SKR is written) need signing to take a while:
/// `CEREMONY_TEST_STALL_MS` waits that long after each signature. Debug
/// builds only: a release build has no such switch.
#[cfg(debug_assertions)]
fn stall_for_tests() {
    if let Some(millis) = std::env::var("CEREMONY_TEST_STALL_MS")
        .ok()
        .and_then(|text| text.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(millis));
    }
}

/// The exercise's power cut, halfway through the work with the HSM
/// active: the exercise that injected it kills this process when it reads
/// the line below; left alone, it aborts.
fn wait_for_the_power_cut() -> ! {
    eprintln!("\n{POWER_CUT_LINE}");
    std::thread::sleep(std::time::Duration::from_secs(60));
    std::process::abort()
}

/// What a rehearsal binary prints when the injected power cut strikes.
pub const POWER_CUT_LINE: &str = "exercise: the power fails now (an injected rehearsal fault)";

/// Release builds have no test switches.
#[cfg(not(debug_assertions))]
fn stall_for_tests() {}

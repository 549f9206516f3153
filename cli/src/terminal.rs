//! The terminal: questions, PINs without echo, a PUK shown to one officer
//! alone, and the signals that end the process (SIGINT, SIGTERM, SIGHUP
//! for a closed terminal), which close the open operation as aborted and
//! give the terminal its echo back first.

use std::io::{BufRead as _, Write as _};
use std::sync::{Mutex, PoisonError};

use signer::AbortHandle;
use smartcard_sim::Pin;
use zeroize::Zeroizing;

use crate::error::CliError;

/// The open operation's abort handle, for the signal thread.
static ABORT: Mutex<Option<AbortHandle>> = Mutex::new(None);

/// Installs the signal thread: on SIGINT, SIGTERM or SIGHUP the open
/// operation (if any) is recorded as aborted, the terminal's modes are
/// restored, and the process exits with 1 (`ksr-checks.md`: an
/// interruption). It ends the process from its own thread because the
/// main one may be blocked reading a PIN.
pub fn install_signal_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let saved = saved_modes();
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP (the terminal closed)",
                };
                let handle = ABORT.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(handle) = &handle {
                    handle.abort(name);
                }
                restore_modes(&saved);
                durable::remove_held_locks();
                let _ = writeln!(
                    std::io::stderr(),
                    "\ninterrupted by {name}{}",
                    if handle.is_some() {
                        ": the operation is recorded as aborted"
                    } else {
                        ""
                    }
                );
                std::process::exit(1);
            }
        });
}

/// From now on a signal closes this ceremony's open operation.
pub fn on_signal(handle: AbortHandle) {
    *ABORT.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
}

/// The terminal's modes when the process started (for stdin and the
/// controlling terminal, which the PIN prompts use).
fn saved_modes() -> Vec<(std::fs::File, rustix::termios::Termios)> {
    let mut saved = Vec::new();
    for path in ["/dev/stdin", "/dev/tty"] {
        if let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            && let Ok(modes) = rustix::termios::tcgetattr(&file)
        {
            saved.push((file, modes));
        }
    }
    saved
}

fn restore_modes(saved: &[(std::fs::File, rustix::termios::Termios)]) {
    for (file, modes) in saved {
        let _ = rustix::termios::tcsetattr(file, rustix::termios::OptionalActions::Now, modes);
    }
}

//------------ Questions -----------------------------------------------------

/// Asks a question on stderr and reads one line from stdin, trimmed;
/// `None` at the end of input.
///
/// # Errors
///
/// The terminal cannot be written or read.
pub fn ask(question: &str) -> Result<Option<String>, CliError> {
    eprint!("{question}");
    std::io::stderr().flush().map_err(CliError::Prompt)?;
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::Prompt)?;
    Ok((read > 0).then(|| line.trim().to_owned()))
}

/// Asks for the KSR's words at `positions`, one at a time, as the ZSK
/// operator reads them over the phone; `None` when one is not given.
///
/// # Errors
///
/// There is no terminal to ask.
pub fn ask_words(positions: &[usize]) -> Result<Option<signer::oob::Heard>, CliError> {
    crate::render::say(
        "The ZSK operator reads the KSR's SHA-256 over the phone as 32 PGP words. Type the words asked for, as you hear them:",
    );
    let mut words = Vec::new();
    for position in positions {
        match ask(&format!("word {position}: "))? {
            Some(word) if !word.is_empty() => words.push(word),
            _ => return Ok(None),
        }
    }
    Ok(Some(signer::oob::Heard::At(words)))
}

/// Asks for a secret without echo.
///
/// # Errors
///
/// There is no terminal to ask.
pub fn secret(question: &str) -> Result<Zeroizing<String>, CliError> {
    rpassword::prompt_password(question)
        .map(Zeroizing::new)
        .map_err(CliError::Prompt)
}

/// The rules of a PIN, said before one is chosen.
pub fn pin_rules() -> String {
    format!("a PIN is {} to {} digits", Pin::MIN, Pin::MAX)
}

/// A new PIN for an officer's card, typed twice; a PIN against the rules
/// or two that differ are asked again.
///
/// # Errors
///
/// There is no terminal, or the officer gave up (empty input three times).
pub fn new_pin(officer: &str) -> Result<Pin, CliError> {
    let mut empty = 0;
    loop {
        let first = secret(&format!("new PIN of {officer}'s card ({}): ", pin_rules()))?;
        if first.is_empty() {
            empty += 1;
            if empty == 3 {
                return Err(CliError::Prompt(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("no PIN for {officer}"),
                )));
            }
            continue;
        }
        let pin = match Pin::new(first.to_string()) {
            Ok(pin) => pin,
            Err(err) => {
                eprintln!("  {err}; again");
                continue;
            }
        };
        let second = secret(&format!("new PIN of {officer}'s card, again: "))?;
        if *first == *second {
            return Ok(pin);
        }
        eprintln!("  the two PINs differ; again");
    }
}

/// Shows an officer their PUK alone: the screen waits for them, shows it,
/// and is cleared once they have written it down.
///
/// # Errors
///
/// The terminal cannot be used.
pub fn show_puk_alone(slip: &signer::PukSlip<'_>) -> Result<(), signer::Error> {
    let prompt = |text: &str| {
        ask(text)
            .map_err(|err| match err {
                CliError::Prompt(source) => signer::Error::Prompt(source),
                other => signer::Error::Prompt(std::io::Error::other(other.to_string())),
            })?
            .ok_or_else(|| {
                signer::Error::Prompt(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the terminal closed before every PUK was handed out",
                ))
            })
    };
    prompt(&format!(
        "{}: press Enter when you are alone at the screen to see the PUK of your card {}",
        slip.officer, slip.serial
    ))?;
    eprintln!(
        "  PUK of {}'s card {}: {}",
        slip.officer, slip.serial, slip.puk
    );
    prompt("  write it down, keep it apart from the card, and press Enter: ")?;
    // Clear the screen and its scrollback, so the next officer sees none.
    eprint!("\x1b[2J\x1b[3J\x1b[H");
    Ok(())
}

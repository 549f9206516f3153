//! The people of an exercise: interactively, the tool asks the person
//! whose turn it is and takes what they type (it does not play them);
//! on autopilot, every role acts as the scenario says a careful team
//! would. A person's mistake is not an error: it is recorded, and the
//! scenario's expectations decide the score.

use zeroize::Zeroizing;

use crate::error::CliError;
use crate::render::say;
use crate::terminal;

/// What the exercise asks of the people.
pub trait People {
    /// Whether a person answers (the transcript says so).
    fn interactive(&self) -> bool;

    /// The step's instruction for `who`; interactively, waits until they
    /// say they are ready.
    ///
    /// # Errors
    ///
    /// The terminal fails.
    fn ready(&mut self, who: &str, instruction: &str) -> Result<(), CliError>;

    /// The PIN `officer` chooses for a new card (or after the PUK).
    ///
    /// # Errors
    ///
    /// The terminal fails.
    fn choose_pin(&mut self, officer: &str) -> Result<Zeroizing<String>, CliError>;

    /// The PIN `officer` types for their card. `right` is the card's PIN;
    /// `drill` says the scenario wants a wrong one typed.
    ///
    /// # Errors
    ///
    /// The terminal fails.
    fn pin(
        &mut self,
        officer: &str,
        right: &str,
        drill: bool,
    ) -> Result<Zeroizing<String>, CliError>;

    /// The CA compares the words on the screen with those read over the
    /// phone: whether they match.
    ///
    /// # Errors
    ///
    /// The terminal fails.
    fn words_match(
        &mut self,
        who: &str,
        phone: &[String],
        screen: &[String],
    ) -> Result<bool, CliError>;
}

/// Every role played from the scenario.
pub struct Autopilot;

impl People for Autopilot {
    fn interactive(&self) -> bool {
        false
    }

    fn ready(&mut self, _who: &str, _instruction: &str) -> Result<(), CliError> {
        Ok(())
    }

    fn choose_pin(&mut self, _officer: &str) -> Result<Zeroizing<String>, CliError> {
        Ok(Zeroizing::new(signer::random_digits(6).as_str().to_owned()))
    }

    fn pin(
        &mut self,
        _officer: &str,
        right: &str,
        drill: bool,
    ) -> Result<Zeroizing<String>, CliError> {
        Ok(Zeroizing::new(if drill {
            wrong_pin(right)
        } else {
            right.to_owned()
        }))
    }

    fn words_match(
        &mut self,
        _who: &str,
        phone: &[String],
        screen: &[String],
    ) -> Result<bool, CliError> {
        Ok(phone == screen)
    }
}

/// A PIN that is not `right`: each digit moved by one.
pub fn wrong_pin(right: &str) -> String {
    right
        .chars()
        .map(|digit| match digit.to_digit(10) {
            Some(value) => char::from_digit((value + 1) % 10, 10).unwrap_or('0'),
            None => '0',
        })
        .collect()
}

/// The people at this terminal.
pub struct AtTheTerminal;

impl People for AtTheTerminal {
    fn interactive(&self) -> bool {
        true
    }

    fn ready(&mut self, who: &str, instruction: &str) -> Result<(), CliError> {
        say(format!("\n{who}: {instruction}"));
        terminal::ask(&format!("{who}: press Enter when you are ready "))?
            .map(|_| ())
            .ok_or(CliError::Prompt(std::io::ErrorKind::UnexpectedEof.into()))
    }

    fn choose_pin(&mut self, officer: &str) -> Result<Zeroizing<String>, CliError> {
        // As `init` asks: the rules, twice, again when it is bad.
        loop {
            let first = terminal::secret(&format!(
                "{officer}: choose your card's PIN ({}): ",
                terminal::pin_rules()
            ))?;
            if smartcard_sim::Pin::new(first.as_str().to_owned()).is_err() {
                say(format!(
                    "{officer}: {}; choose again",
                    terminal::pin_rules()
                ));
                continue;
            }
            let again = terminal::secret(&format!("{officer}: type the same PIN again: "))?;
            if again == first {
                return Ok(first);
            }
            say(format!("{officer}: the two PINs differ; choose again"));
        }
    }

    fn pin(
        &mut self,
        officer: &str,
        _right: &str,
        drill: bool,
    ) -> Result<Zeroizing<String>, CliError> {
        if drill {
            say(format!(
                "{officer}: this is the drill: type a wrong PIN, as a tired officer would"
            ));
        }
        terminal::secret(&format!("{officer}: insert your card and type your PIN: "))
    }

    fn words_match(
        &mut self,
        who: &str,
        phone: &[String],
        screen: &[String],
    ) -> Result<bool, CliError> {
        say(format!(
            "The ZSK operator reads the KSR's hash over the phone:\n{}",
            numbered(phone)
        ));
        say(format!(
            "The KSR on the medium, on the signer's screen:\n{}",
            numbered(screen)
        ));
        loop {
            match terminal::ask(&format!(
                "{who}: do the words on the screen match those read over the phone? (yes/no) "
            ))? {
                Some(answer) if answer == "yes" => return Ok(true),
                Some(answer) if answer == "no" => return Ok(false),
                Some(_) => say("type yes or no"),
                None => return Err(CliError::Prompt(std::io::ErrorKind::UnexpectedEof.into())),
            }
        }
    }
}

/// Words in numbered groups of four, as the hash is read aloud.
pub fn numbered(words: &[String]) -> String {
    words
        .chunks(4)
        .enumerate()
        .map(|(group, chunk)| format!("  {:>2}. {}", group + 1, chunk.join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_pin_is_never_the_right_one() {
        for right in ["000000", "123456", "999999", "4711"] {
            let wrong = wrong_pin(right);
            assert_ne!(wrong, right);
            assert_eq!(wrong.len(), right.len());
        }
    }
}

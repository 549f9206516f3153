//! The card as the host sees it: a thing that answers APDUs.

use crate::apdu::{Command, Response};

/// A card in a reader. The simulator implements it; a PC/SC reader with a
/// real applet could implement it the same way, and everything above it
/// (the host API, the ceremony) would not change.
pub trait Card {
    /// Sends one command APDU and returns the card's response.
    fn transmit(&mut self, command: &Command) -> Response;
}

//! `ceremony card status|verify|change-pin|unblock` on a card issued here.

use std::path::{Path, PathBuf};

use smartcard_sim::{CardClient, FileStorage, KdfParams, Personalization, Pin, Puk, SimulatedCard};

use crate::harness::{arg, run};

/// Issues CO-1's card (PIN 483920, PUK 12345678) in `dir`, with light
/// Argon2id parameters, and writes a pin file beside it.
fn issue(dir: &Path) -> (PathBuf, PathBuf) {
    let card = dir.join("CO-1.card");
    let blank = SimulatedCard::blank(FileStorage::new(&card), KdfParams::LIGHT).unwrap();
    let mut client = CardClient::new(blank);
    client.select().unwrap();
    client
        .personalize(
            &Personalization {
                serial: "070001".into(),
                holder: "CO-1".into(),
                role: "crypto officer".into(),
                generation: 1,
            },
            &Pin::new("483920".into()).unwrap(),
            &Puk::new("12345678".into()).unwrap(),
            &[7; 33],
        )
        .unwrap();
    let pins = pin_file(dir, "pins.toml", "483920", "12345678", "246810");
    (card, pins)
}

fn pin_file(dir: &Path, name: &str, pin: &str, puk: &str, new_pin: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("CO-1 = \"{pin}\"\n[puk]\nCO-1 = \"{puk}\"\n[new-pin]\nCO-1 = \"{new_pin}\"\n"),
    )
    .unwrap();
    path
}

#[test]
fn status_shows_the_card_without_a_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (card, _) = issue(dir.path());
    run(&["card", "status", arg(&card)])
        .expect_code(0)
        .expect_stdout("serial      070001")
        .expect_stdout("holder      CO-1")
        .expect_stdout("generation  1")
        .expect_stdout("PIN tries   3 of 3")
        .expect_stdout("state       active")
        .expect_stdout("PIN KDF     Argon2id, 8 KiB, 1 passes, 1 lanes  (exercise strength");
    let result = run(&["--json", "card", "status", arg(&card)]);
    result.expect_code(0);
    let json = result.json();
    assert_eq!(json["puk_tries_left"], 10);
    assert_eq!(json["role"], "crypto officer");
    assert_eq!(json["card_key"].as_str().unwrap().len(), 66);
}

#[test]
fn verify_with_the_right_and_wrong_pins_and_a_blocked_card() {
    let dir = tempfile::tempdir().unwrap();
    let (card, pins) = issue(dir.path());
    run(&["card", "verify", arg(&card), "--pin-file", arg(&pins)])
        .expect_code(0)
        .expect_stdout("PIN correct")
        .expect_stdout("PIN tries left 3 of 3");
    let wrong = pin_file(dir.path(), "wrong.toml", "000000", "99999999", "135790");
    for left in [2, 1, 0] {
        run(&["card", "verify", arg(&card), "--pin-file", arg(&wrong)])
            .expect_code(4)
            .expect_stderr(&format!("wrong PIN: {left} tries left"));
    }
    run(&["card", "verify", arg(&card), "--pin-file", arg(&pins)])
        .expect_code(4)
        .expect_stderr("the PIN is blocked")
        .expect_stderr("ceremony card unblock");
    run(&["card", "status", arg(&card)])
        .expect_code(0)
        .expect_stdout("state       blocked (PIN)");
    // A wrong PUK, then the right one with a new PIN.
    run(&["card", "unblock", arg(&card), "--pin-file", arg(&wrong)])
        .expect_code(4)
        .expect_stderr("wrong PUK: 9 tries left");
    run(&["card", "unblock", arg(&card), "--pin-file", arg(&pins)])
        .expect_code(0)
        .expect_stdout("card unblocked with a new PIN");
    let unblocked = pin_file(dir.path(), "new.toml", "246810", "12345678", "864200");
    run(&["card", "verify", arg(&card), "--pin-file", arg(&unblocked)]).expect_code(0);
    run(&[
        "card",
        "change-pin",
        arg(&card),
        "--pin-file",
        arg(&unblocked),
    ])
    .expect_code(0)
    .expect_stdout("PIN changed");
    let changed = pin_file(dir.path(), "changed.toml", "864200", "12345678", "111111");
    run(&["card", "verify", arg(&card), "--pin-file", arg(&changed)]).expect_code(0);
}

#[test]
fn bad_pin_files_and_damaged_cards_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (card, _) = issue(dir.path());
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "CO-2 = \"483920\"\n").unwrap();
    run(&["card", "verify", arg(&card), "--pin-file", arg(&other)])
        .expect_code(2)
        .expect_stderr("no PIN for \"CO-1\"");
    std::fs::write(&other, "CO-1 = 483920\n").unwrap();
    run(&["card", "verify", arg(&card), "--pin-file", arg(&other)])
        .expect_code(2)
        .expect_stderr("hint: a pin file is TOML");
    // A syntax error: the message gives the line, never the PIN on it.
    std::fs::write(&other, "CO-2 = \"1\"\nCO-1 = \"483920\n").unwrap();
    let result = run(&["card", "verify", arg(&card), "--pin-file", arg(&other)]);
    result
        .expect_code(2)
        .expect_stderr("not valid TOML at line 2");
    assert!(!result.stderr.contains("483920"), "{}", result.stderr);
    std::fs::write(&other, "CO-1 = \"4839\"\n").unwrap();
    run(&["card", "verify", arg(&card), "--pin-file", arg(&other)])
        .expect_code(2)
        .expect_stderr("a PIN is 6 to 16 digits");
    // One changed byte in the card file.
    let mut bytes = std::fs::read(&card).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x04;
    std::fs::write(&card, &bytes).unwrap();
    run(&["card", "status", arg(&card)])
        .expect_code(1)
        .expect_stderr("damaged card");
    run(&["card", "status", arg(&dir.path().join("none.card"))])
        .expect_code(1)
        .expect_stderr("no card has been issued here");
}

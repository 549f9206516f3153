//! The simulated card at the APDU level: every command and status word,
//! blocking and unblocking, death by PUK, injected crashes around the
//! counter, and damaged card files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::io;
use std::path::{Path, PathBuf};

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use smartcard_sim::apdu::*;
use smartcard_sim::{
    Card, CardClient, CardError, CardState, FileStorage, KdfParams, OpenError, Personalization,
    Pin, Puk, SimulatedCard, Storage,
};

const PIN: &str = "483920";
const PUK: &str = "12345678";
const SHARE: &[u8] = &[7; 33];

fn pin(text: &str) -> Pin {
    Pin::new(text.into()).unwrap()
}

fn puk(text: &str) -> Puk {
    Puk::new(text.into()).unwrap()
}

/// Issues a card at `path` with light Argon2id parameters.
fn issue(path: &Path) -> Vec<u8> {
    let card = SimulatedCard::blank(FileStorage::new(path), KdfParams::LIGHT).unwrap();
    let mut client = CardClient::new(card);
    client.select().unwrap();
    client
        .personalize(
            &Personalization {
                serial: "070001".into(),
                holder: "CO-1".into(),
                role: "crypto officer".into(),
                generation: 1,
            },
            &pin(PIN),
            &puk(PUK),
            SHARE,
        )
        .unwrap()
}

/// A card file in a temporary directory.
fn issued() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CO-1.card");
    issue(&path);
    (dir, path)
}

/// The card at `path`, in a reader, applet selected.
fn reader(path: &Path) -> SimulatedCard<FileStorage> {
    let mut card = SimulatedCard::open(FileStorage::new(path)).unwrap();
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::OK
    );
    card
}

fn send(card: &mut impl Card, cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Response {
    card.transmit(&Command::with_data(cla, ins, p1, p2, data.to_vec()))
}

fn block(digits: &str) -> Vec<u8> {
    let mut block = digits.as_bytes().to_vec();
    block.resize(SECRET_BLOCK, 0xFF);
    block
}

fn verify(card: &mut impl Card, digits: &str) -> StatusWord {
    send(
        card,
        CLA_ISO,
        INS_VERIFY,
        0x00,
        PIN_REFERENCE,
        &block(digits),
    )
    .status
}

#[test]
fn status_words_of_every_command() {
    let (_dir, path) = issued();
    let mut card = SimulatedCard::open(FileStorage::new(&path)).unwrap();
    // Nothing before SELECT; a wrong AID is not found; a wrong class.
    assert_eq!(
        send(&mut card, CLA_ISO, INS_GET_DATA, 0x5F, 0x01, &[]).status,
        StatusWord::CONDITIONS
    );
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, b"\xA0other").status,
        StatusWord::NOT_FOUND
    );
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x00, 0x00, AID).status,
        StatusWord::BAD_P1P2
    );
    assert_eq!(
        send(&mut card, 0x90, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::BAD_CLA
    );
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::OK
    );
    // GET DATA: each tag, an unknown tag, data where none belongs.
    let get = |card: &mut SimulatedCard<FileStorage>, tag: u16| {
        let [p1, p2] = tag.to_be_bytes();
        send(card, CLA_ISO, INS_GET_DATA, p1, p2, &[])
    };
    assert_eq!(get(&mut card, TAG_SERIAL).data, b"070001");
    assert_eq!(get(&mut card, TAG_HOLDER).data, b"CO-1");
    assert_eq!(get(&mut card, TAG_ROLE).data, b"crypto officer");
    assert_eq!(get(&mut card, TAG_GENERATION).data, 1u64.to_be_bytes());
    assert_eq!(get(&mut card, TAG_TRIES).data, [3, 10]);
    assert_eq!(get(&mut card, TAG_LIFECYCLE).data, [2]);
    assert_eq!(get(&mut card, TAG_CARD_KEY).data.len(), 33);
    assert_eq!(get(&mut card, 0x5F7F).status, StatusWord::NO_DATA);
    assert_eq!(
        send(&mut card, CLA_ISO, INS_GET_DATA, 0x5F, 0x01, &[1]).status,
        StatusWord::WRONG_LENGTH
    );
    // An unknown instruction; personalization of an issued card.
    assert_eq!(
        send(&mut card, CLA_ISO, 0x44, 0x00, 0x00, &[]).status,
        StatusWord::BAD_INS
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_GENERATE_KEY,
            0x00,
            0x00,
            &[]
        )
        .status,
        StatusWord::CONDITIONS
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_WRITE_SHARE,
            0x00,
            0x00,
            &[1]
        )
        .status,
        StatusWord::CONDITIONS
    );
    // The share and the card key want the PIN first.
    assert_eq!(
        send(&mut card, CLA_PROPRIETARY, INS_READ_SHARE, 0x00, 0x00, &[]).status,
        StatusWord::SECURITY_STATUS
    );
    assert_eq!(
        send(
            &mut card,
            CLA_ISO,
            INS_INTERNAL_AUTHENTICATE,
            0x00,
            0x00,
            b"nonce"
        )
        .status,
        StatusWord::SECURITY_STATUS
    );
    // VERIFY: status without data, wrong length, not digits, wrong P2.
    assert_eq!(
        send(&mut card, CLA_ISO, INS_VERIFY, 0x00, PIN_REFERENCE, &[]).status,
        StatusWord::tries_left(3)
    );
    assert_eq!(
        send(
            &mut card,
            CLA_ISO,
            INS_VERIFY,
            0x00,
            PIN_REFERENCE,
            b"483920"
        )
        .status,
        StatusWord::WRONG_LENGTH
    );
    assert_eq!(verify(&mut card, "48392x"), StatusWord::BAD_DATA);
    assert_eq!(
        send(&mut card, CLA_ISO, INS_VERIFY, 0x00, 0x01, &block(PIN)).status,
        StatusWord::BAD_P1P2
    );
    // Malformed input did not cost a try.
    assert_eq!(get(&mut card, TAG_TRIES).data, [3, 10]);
    // The right PIN: 9000, and the share and a signature come out.
    assert_eq!(verify(&mut card, PIN), StatusWord::OK);
    assert_eq!(
        send(&mut card, CLA_ISO, INS_VERIFY, 0x00, PIN_REFERENCE, &[]).status,
        StatusWord::OK
    );
    let share = send(&mut card, CLA_PROPRIETARY, INS_READ_SHARE, 0x00, 0x00, &[]);
    assert_eq!(
        (share.status, share.data.as_slice()),
        (StatusWord::OK, SHARE)
    );
    assert_eq!(
        send(
            &mut card,
            CLA_ISO,
            INS_INTERNAL_AUTHENTICATE,
            0x00,
            0x00,
            &[]
        )
        .status,
        StatusWord::WRONG_LENGTH
    );
    let answer = send(
        &mut card,
        CLA_ISO,
        INS_INTERNAL_AUTHENTICATE,
        0x00,
        0x00,
        b"the challenge",
    );
    let key = VerifyingKey::from_sec1_bytes(&get(&mut card, TAG_CARD_KEY).data).unwrap();
    let signature = Signature::from_slice(&answer.data).unwrap();
    assert!(key.verify(b"the challenge", &signature).is_ok());
    // A new SELECT forgets the PIN.
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::OK
    );
    assert_eq!(
        send(&mut card, CLA_PROPRIETARY, INS_READ_SHARE, 0x00, 0x00, &[]).status,
        StatusWord::SECURITY_STATUS
    );
}

#[test]
fn three_wrong_pins_block_and_the_puk_unblocks() {
    let (_dir, path) = issued();
    let mut card = reader(&path);
    assert_eq!(verify(&mut card, "000000"), StatusWord::tries_left(2));
    assert_eq!(verify(&mut card, "000000"), StatusWord::tries_left(1));
    // A right PIN resets the counter.
    assert_eq!(verify(&mut card, PIN), StatusWord::OK);
    for left in [2, 1, 0] {
        assert_eq!(verify(&mut card, "111111"), StatusWord::tries_left(left));
    }
    // Blocked, even for the right PIN, and it survives a new reader.
    assert_eq!(verify(&mut card, PIN), StatusWord::BLOCKED);
    let mut card = reader(&path);
    assert_eq!(verify(&mut card, PIN), StatusWord::BLOCKED);
    let mut client = CardClient::new(card);
    assert_eq!(client.status().unwrap().state, CardState::Blocked);
    // A wrong PUK costs a PUK try; the right one sets a new PIN.
    assert_eq!(
        client.unblock(&puk("87654321"), &pin("246810")),
        Err(CardError::WrongPuk { tries_left: 9 })
    );
    client.unblock(&puk(PUK), &pin("246810")).unwrap();
    let status = client.status().unwrap();
    assert_eq!(
        (status.pin_tries_left, status.puk_tries_left, status.state),
        (3, 10, CardState::Active)
    );
    assert_eq!(
        client.verify(&pin(PIN)),
        Err(CardError::WrongPin { tries_left: 2 })
    );
    client.verify(&pin("246810")).unwrap();
    assert_eq!(client.read_share().unwrap().as_slice(), SHARE);
}

#[test]
fn ten_wrong_puks_kill_the_card() {
    let (_dir, path) = issued();
    let mut client = CardClient::new(reader(&path));
    for left in (0..10).rev() {
        assert_eq!(
            client.unblock(&puk("99999999"), &pin("246810")),
            Err(CardError::WrongPuk { tries_left: left })
        );
    }
    assert_eq!(
        client.unblock(&puk(PUK), &pin("246810")),
        Err(CardError::Dead)
    );
    assert_eq!(client.status().unwrap().state, CardState::Dead);
    // Dead for good: not even the right PIN opens it any more.
    assert_eq!(client.verify(&pin(PIN)), Err(CardError::Dead));
    assert_eq!(client.pin_tries_left(), Err(CardError::Dead));
    assert_eq!(verify(&mut reader(&path), PIN), StatusWord::BLOCKED);
}

#[test]
fn a_card_refuses_an_epoch_older_than_it_was_told_of() {
    let (_dir, path) = issued();
    let mut client = CardClient::new(reader(&path));
    assert_eq!(client.epoch_seen(), Ok(0));
    client.check_epoch(0).unwrap();
    // Telling needs the PIN: a copied file cannot be pushed ahead.
    assert_eq!(client.record_epoch(7), Err(CardError::PinRequired));
    client.verify(&pin(PIN)).unwrap();
    client.record_epoch(7).unwrap();
    // Kept in the file, seen by a fresh reader.
    let mut again = CardClient::new(reader(&path));
    assert_eq!(again.epoch_seen(), Ok(7));
    again.check_epoch(7).unwrap();
    again.check_epoch(9).unwrap();
    assert_eq!(
        again.check_epoch(6),
        Err(CardError::OlderEpoch { given: 6, seen: 7 })
    );
    again.verify(&pin(PIN)).unwrap();
    assert_eq!(
        again.record_epoch(3),
        Err(CardError::OlderEpoch { given: 3, seen: 7 })
    );
    assert_eq!(again.epoch_seen(), Ok(7));
}

#[test]
fn a_terminated_card_keeps_no_secret_and_opens_for_nobody() {
    let (_dir, path) = issued();
    let mut client = CardClient::new(reader(&path));
    // Not before the PIN.
    assert_eq!(client.terminate(), Err(CardError::PinRequired));
    client.verify(&pin(PIN)).unwrap();
    client.terminate().unwrap();
    assert_eq!(client.status().unwrap().state, CardState::Erased);
    // The file holds no sealed share, key or PIN wrap any more.
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(text.matches("\"ciphertext\": \"\"").count(), 3, "{text}");
    // Neither the PIN nor the PUK opens it, in a fresh reader either.
    let mut again = CardClient::new(reader(&path));
    assert_eq!(again.verify(&pin(PIN)), Err(CardError::Erased));
    assert_eq!(
        again.unblock(&puk(PUK), &pin("246810")),
        Err(CardError::Erased)
    );
}

#[test]
fn change_pin_costs_a_try_when_the_old_pin_is_wrong() {
    let (_dir, path) = issued();
    let mut client = CardClient::new(reader(&path));
    assert_eq!(
        client.change_pin(&pin("000000"), &pin("13579246")),
        Err(CardError::WrongPin { tries_left: 2 })
    );
    client.change_pin(&pin(PIN), &pin("13579246")).unwrap();
    let mut client = CardClient::new(reader(&path));
    assert_eq!(
        client.verify(&pin(PIN)),
        Err(CardError::WrongPin { tries_left: 2 })
    );
    client.verify(&pin("13579246")).unwrap();
    assert_eq!(client.pin_tries_left().unwrap(), None);
}

#[test]
fn personalization_happens_once_and_completely() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blank.card");
    let mut card = SimulatedCard::blank(FileStorage::new(&path), KdfParams::LIGHT).unwrap();
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::OK
    );
    assert_eq!(
        send(&mut card, CLA_ISO, INS_GET_DATA, 0x5F, 0x07, &[]).data,
        [1]
    );
    assert_eq!(
        send(&mut card, CLA_ISO, INS_GET_DATA, 0x5F, 0x01, &[]).status,
        StatusWord::NO_DATA
    );
    assert_eq!(verify(&mut card, PIN), StatusWord::CONDITIONS);
    // Ending before everything is set; a key made twice.
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_END_PERSONALIZATION,
            0x00,
            0x00,
            &[]
        )
        .status,
        StatusWord::CONDITIONS
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_GENERATE_KEY,
            0x00,
            0x00,
            &[]
        )
        .status,
        StatusWord::OK
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_GENERATE_KEY,
            0x00,
            0x00,
            &[]
        )
        .status,
        StatusWord::CONDITIONS
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_WRITE_SHARE,
            0x00,
            0x00,
            &[0; 65]
        )
        .status,
        StatusWord::WRONG_LENGTH
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_PERSONALIZE,
            0x00,
            0x00,
            &[0x01, 0x05, b'x']
        )
        .status,
        StatusWord::WRONG_LENGTH
    );
    assert_eq!(
        send(
            &mut card,
            CLA_PROPRIETARY,
            INS_PERSONALIZE,
            0x00,
            0x00,
            &[0x09, 0x01, b'x']
        )
        .status,
        StatusWord::BAD_DATA
    );
    // Nothing was written yet.
    assert!(!path.exists());
    // A card file is never overwritten by a blank card.
    issue(&dir.path().join("CO-1.card"));
    assert!(matches!(
        SimulatedCard::blank(
            FileStorage::new(dir.path().join("CO-1.card")),
            KdfParams::LIGHT
        ),
        Err(OpenError::AlreadyIssued)
    ));
    assert!(matches!(
        SimulatedCard::open(FileStorage::new(dir.path().join("none.card"))),
        Err(OpenError::NotIssued)
    ));
}

#[test]
fn command_apdus_read_back_and_bad_lengths_are_6700() {
    let command = Command::with_data(0x00, 0x20, 0x00, 0x80, vec![1, 2, 3]);
    assert_eq!(Command::from_bytes(&command.to_bytes()), Ok(command));
    assert_eq!(
        Command::from_bytes(&[0x00, 0xCA, 0x5F, 0x01]),
        Ok(Command::new(0x00, 0xCA, 0x5F, 0x01))
    );
    assert_eq!(
        Command::from_bytes(&[0x00, 0xCA, 0x5F]),
        Err(StatusWord::WRONG_LENGTH)
    );
    assert_eq!(
        Command::from_bytes(&[0x00, 0x20, 0x00, 0x80, 5, 1, 2]),
        Err(StatusWord::WRONG_LENGTH)
    );
    let response = Response::ok(vec![9]);
    assert_eq!(response.to_bytes(), [9, 0x90, 0x00]);
}

//------------ Crashes around the counter ------------------------------------

/// A storage that fails a chosen write: before it happens, or after it
/// happened (the power lost right after the counter reached the disk).
struct Faulty {
    inner: FileStorage,
    writes: usize,
    fail_at: usize,
    after: bool,
}

impl Storage for Faulty {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.load()
    }

    fn store(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writes += 1;
        if self.writes != self.fail_at {
            return self.inner.store(bytes);
        }
        if self.after {
            self.inner.store(bytes)?;
        }
        Err(io::Error::other("power lost"))
    }
}

fn faulty(path: &Path, fail_at: usize, after: bool) -> SimulatedCard<Faulty> {
    let storage = Faulty {
        inner: FileStorage::new(path),
        writes: 0,
        fail_at,
        after,
    };
    let mut card = SimulatedCard::open(storage).unwrap();
    assert_eq!(
        send(&mut card, CLA_ISO, INS_SELECT, 0x04, 0x00, AID).status,
        StatusWord::OK
    );
    card
}

#[test]
fn a_crash_after_the_counter_write_never_gives_a_free_try() {
    let (_dir, path) = issued();
    // Three times the power fails right after the decremented counter is
    // on disk: even the right PIN was never checked, and each time costs
    // a try, as a wrong guess would.
    for left in [2, 1, 0] {
        let mut card = faulty(&path, 1, true);
        assert_eq!(verify(&mut card, PIN), StatusWord::MEMORY_FAILURE);
        let mut client = CardClient::new(reader(&path));
        assert_eq!(client.status().unwrap().pin_tries_left, left);
    }
    assert_eq!(verify(&mut reader(&path), PIN), StatusWord::BLOCKED);
}

#[test]
fn a_failed_counter_write_checks_nothing() {
    let (_dir, path) = issued();
    // The counter write fails before anything reaches the disk: the guess
    // is not checked at all, so the answer says nothing about it.
    let mut card = faulty(&path, 1, false);
    assert_eq!(verify(&mut card, "000000"), StatusWord::MEMORY_FAILURE);
    assert_eq!(verify(&mut card, PIN), StatusWord::OK);
    // The success's own write (the counter back to 3) failing leaves the
    // try spent and the card locked.
    let mut card = faulty(&path, 2, false);
    assert_eq!(verify(&mut card, PIN), StatusWord::MEMORY_FAILURE);
    assert_eq!(
        send(&mut card, CLA_PROPRIETARY, INS_READ_SHARE, 0x00, 0x00, &[]).status,
        StatusWord::SECURITY_STATUS
    );
    assert_eq!(
        CardClient::new(reader(&path))
            .status()
            .unwrap()
            .pin_tries_left,
        2
    );
    // The same holds for the PUK's counter.
    let mut card = faulty(&path, 1, true);
    let mut data = block(PUK);
    data.extend(block("246810"));
    assert_eq!(
        send(
            &mut card,
            CLA_ISO,
            INS_RESET_RETRY_COUNTER,
            0x00,
            PUK_REFERENCE,
            &data
        )
        .status,
        StatusWord::MEMORY_FAILURE
    );
    assert_eq!(
        CardClient::new(reader(&path))
            .status()
            .unwrap()
            .puk_tries_left,
        9
    );
}

//------------ Damaged files -------------------------------------------------

#[test]
fn an_edited_byte_anywhere_is_a_damaged_card() {
    let (_dir, path) = issued();
    let original = std::fs::read(&path).unwrap();
    for position in 0..original.len() {
        for change in [0x01, 0x20, 0x80] {
            let mut edited = original.clone();
            edited[position] ^= change;
            std::fs::write(&path, &edited).unwrap();
            match SimulatedCard::open(FileStorage::new(&path)) {
                Err(OpenError::Damaged(_)) => {}
                Err(other) => panic!("byte {position} ^ {change:#x}: {other}"),
                Ok(_) => panic!("byte {position} ^ {change:#x} was accepted"),
            }
        }
    }
    // Cut short, or empty.
    for length in [0, 10, original.len() / 2, original.len() - 1] {
        std::fs::write(&path, &original[..length]).unwrap();
        assert!(
            matches!(
                SimulatedCard::open(FileStorage::new(&path)),
                Err(OpenError::Damaged(_))
            ),
            "{length}"
        );
    }
}

/// Rewrites the file with an edited body and a correct checksum: what a
/// deliberate editor would do.
fn edit_body(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let text = std::fs::read_to_string(path).unwrap();
    let (_, body) = text.split_once('\n').unwrap();
    let mut json: serde_json::Value = serde_json::from_str(body).unwrap();
    edit(&mut json);
    let body = serde_json::to_vec_pretty(&json).unwrap();
    use sha2::Digest as _;
    let mut file = format!(
        "ceremony-card 1 sha256:{}\n",
        hex::encode(sha2::Sha256::digest(&body))
    )
    .into_bytes();
    file.extend_from_slice(&body);
    file.push(b'\n');
    std::fs::write(path, file).unwrap();
}

#[test]
fn deliberate_edits_are_damage_once_the_pin_opens_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("CO-2.card");
    issue(&other);
    let other_json: serde_json::Value = {
        let text = std::fs::read_to_string(&other).unwrap();
        serde_json::from_str(text.split_once('\n').unwrap().1).unwrap()
    };
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("holder", Box::new(|json| json["holder"] = "CO-9".into())),
        ("generation", Box::new(|json| json["generation"] = 2.into())),
        (
            "card key",
            Box::new(move |json| json["card_key"] = other_json["card_key"].clone()),
        ),
    ];
    for (name, edit) in edits {
        let path = dir.path().join(format!("{name}.card"));
        issue(&path);
        edit_body(&path, edit);
        let mut client = CardClient::new(reader(&path));
        for _ in 0..4 {
            assert_eq!(client.verify(&pin(PIN)), Err(CardError::Damaged), "{name}");
        }
        // The right PIN on a damaged card does not wear the card out.
        assert_eq!(client.status().unwrap().pin_tries_left, 3, "{name}");
    }
    // The secrets of another card, moved into this one.
    let path = dir.path().join("swapped.card");
    issue(&path);
    let text = std::fs::read_to_string(&other).unwrap();
    let secrets: serde_json::Value = serde_json::from_str::<serde_json::Value>(
        text.split_once('\n').unwrap().1,
    )
    .unwrap()["secrets"]
        .clone();
    edit_body(&path, |json| json["secrets"] = secrets);
    assert_eq!(
        CardClient::new(reader(&path)).verify(&pin(PIN)),
        Err(CardError::Damaged)
    );
    // Counters above their maximum, or absurd Argon2id costs.
    let path = dir.path().join("counters.card");
    issue(&path);
    edit_body(&path, |json| json["pin_tries_left"] = 200.into());
    assert!(matches!(
        SimulatedCard::open(FileStorage::new(&path)),
        Err(OpenError::Damaged(_))
    ));
    let path = dir.path().join("kdf.card");
    issue(&path);
    edit_body(&path, |json| json["kdf"]["m_kib"] = 4_000_000_000u32.into());
    assert!(matches!(
        SimulatedCard::open(FileStorage::new(&path)),
        Err(OpenError::Damaged(_))
    ));
    // The old cap's worst card (1 GiB, 16 passes: 12.7 s a PIN check) is
    // over the cap now; the cap itself, 256 MiB and 8 passes, opens.
    for (m_kib, t, opens) in [
        (1024 * 1024, 16, false),
        (256 * 1024 + 1, 1, false),
        (256 * 1024, 8, true),
    ] {
        let path = dir.path().join(format!("kdf-{m_kib}-{t}.card"));
        issue(&path);
        edit_body(&path, |json| {
            json["kdf"]["m_kib"] = m_kib.into();
            json["kdf"]["t"] = t.into();
        });
        let opened = SimulatedCard::open(FileStorage::new(&path));
        assert_eq!(opened.is_ok(), opens, "m = {m_kib} KiB, t = {t}");
    }
}

//! The simulated cards: their file, the APDUs they answer, the host's
//! reading of the answers, and the shares they hold and send.

use std::io;
use std::sync::OnceLock;

use quorum::{Challenge, SealedShare, SessionKey, Share};
use sha2::{Digest as _, Sha256};
use smartcard_sim::apdu::{
    CLA_ISO, Command, INS_CHANGE_REFERENCE_DATA, INS_RESET_RETRY_COUNTER, INS_VERIFY,
    PIN_REFERENCE, PUK_REFERENCE, Response, StatusWord,
};
use smartcard_sim::{
    Card, CardClient, KdfParams, Personalization, Pin, Puk, SimulatedCard, Storage,
};

//------------ Memory --------------------------------------------------------

/// A card's storage in memory, which can be made to fail from a given
/// write on (a pulled card, a full disk).
#[derive(Debug, Default)]
pub(crate) struct Memory {
    bytes: Option<Vec<u8>>,
    /// Writes that succeed before every later one fails; `None`: all do.
    writes_left: Option<u8>,
}

impl Storage for Memory {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.bytes.clone())
    }

    fn store(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.writes_left {
            Some(0) => return Err(io::Error::other("the storage fails")),
            Some(left) => *left -= 1,
            None => {}
        }
        self.bytes = Some(bytes.to_vec());
        Ok(())
    }
}

/// The counters of a stored card file, read from its JSON body.
fn counters(bytes: &[u8]) -> Option<(u64, u64)> {
    let newline = bytes.iter().position(|byte| *byte == b'\n')?;
    let body: serde_json::Value = serde_json::from_slice(&bytes[newline + 1..]).ok()?;
    Some((
        body.get("pin_tries_left")?.as_u64()?,
        body.get("puk_tries_left")?.as_u64()?,
    ))
}

//------------ card_file -----------------------------------------------------

/// A card file with the checksum line the card writes over `body`, so the
/// fuzzer reaches the JSON behind it.
pub(crate) fn with_header(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "ceremony-card 1 sha256:{}\n",
        hex::encode(Sha256::digest(body))
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes.push(b'\n');
    bytes
}

/// The JSON body of a card file: what [`with_header`] wraps.
pub(crate) fn body_of(file: &[u8]) -> &[u8] {
    let start = file
        .iter()
        .position(|byte| *byte == b'\n')
        .map_or(0, |at| at + 1);
    let body = file.get(start..).unwrap_or_default();
    body.strip_suffix(b"\n").unwrap_or(body)
}

/// A simulated card's file (`SimulatedCard::open` over in-memory storage,
/// which reads it with `CardRecord::from_bytes`), as given and with its
/// checksum line made right: a card that opens answers SELECT and the
/// host's status (`CardClient::status`, which parses every GET DATA
/// answer), and the status is the file's; opening and reading write
/// nothing. No PIN is tried: the file's own Argon2id parameters (up to
/// 256 MiB, the limit `KdfParams::check` sets) would be the cost.
pub fn card_file(data: &[u8]) {
    for bytes in [data.to_vec(), with_header(data)] {
        let storage = Memory {
            bytes: Some(bytes.clone()),
            writes_left: Some(0),
        };
        let Ok(card) = SimulatedCard::open(storage) else {
            continue;
        };
        let mut client = CardClient::new(card);
        client.select().expect("an open card answers SELECT");
        let status = client.status().expect("an open card answers its status");
        let (pin, puk) = counters(&bytes).expect("an open card has counters");
        assert_eq!(
            (
                u64::from(status.pin_tries_left),
                u64::from(status.puk_tries_left)
            ),
            (pin, puk),
            "the status is not the file's"
        );
        assert!(
            status.kdf.check().is_ok(),
            "a card opened with unusable Argon2id parameters"
        );
        let _ = client.pin_tries_left();
        let _ = client.epoch_seen();
        let _ = client.check_epoch(0);
        let card = client.into_card();
        assert_eq!(
            card.storage().bytes.as_deref(),
            Some(&bytes[..]),
            "reading wrote"
        );
    }
}

//------------ apdu ----------------------------------------------------------

/// The PIN and PUK of the issued card the `apdu` target talks to.
const PIN: &str = "123456";
const PUK: &str = "12345678";

/// The file of an issued card, made once per process with the lightest
/// Argon2id, so that a PIN try costs microseconds.
pub(crate) fn issued_card() -> &'static [u8] {
    static CARD: OnceLock<Vec<u8>> = OnceLock::new();
    CARD.get_or_init(|| {
        let card = SimulatedCard::blank(Memory::default(), KdfParams::LIGHT)
            .expect("a blank card on empty storage");
        let mut client = CardClient::new(card);
        let mut share = vec![1; 1];
        share.extend_from_slice(&[0; 31]);
        share.push(1);
        client.select().expect("SELECT");
        client
            .personalize(
                &Personalization {
                    serial: "FUZZ-1".into(),
                    holder: "CO-1".into(),
                    role: "crypto officer".into(),
                    generation: 1,
                },
                &Pin::new(PIN.into()).expect("a PIN"),
                &Puk::new(PUK.into()).expect("a PUK"),
                &share,
            )
            .expect("personalization");
        client
            .into_card()
            .storage()
            .bytes
            .clone()
            .expect("a personalized card is stored")
    })
}

/// A 16-byte PIN or PUK block: the digits, then 0xFF.
fn block(digits: &[u8]) -> Vec<u8> {
    let mut block = vec![0xFF; 16];
    for (slot, digit) in block.iter_mut().zip(digits.iter().take(16)) {
        *slot = *digit;
    }
    block
}

/// Decimal digits from fuzzer bytes (6 to 16 of them), for a new PIN.
fn digits(bytes: &[u8]) -> Vec<u8> {
    let mut digits: Vec<u8> = bytes.iter().take(16).map(|byte| b'0' + byte % 10).collect();
    while digits.len() < 6 {
        digits.push(b'0');
    }
    digits
}

/// The APDUs of ISO 7816-4 and the officer applet:
///
/// * `Command::from_bytes` on the whole input: a command that reads is
///   encoded again (`to_bytes`) and reads the same; the only error is
///   6700;
/// * the host's reading of responses (`CardClient` over a card whose
///   answers are the input's), which must not panic;
/// * a session of commands sent to a simulated card on in-memory storage
///   (the first byte: an issued or a blank card, and after how many writes
///   the storage fails), then frames `[kind, length, bytes]`: kind 0 sends
///   the bytes as an APDU (as `Command::from_bytes` reads them), 1 VERIFY
///   with the right PIN, 2 CHANGE REFERENCE DATA from the right PIN to
///   digits of the bytes, 3 RESET RETRY COUNTER with the right PUK, 4
///   SELECT. The law: on an issued card, neither stored counter ever
///   rises but after a command that carried the right PIN (or PUK), and
///   none is ever above its maximum.
pub fn apdu(data: &[u8]) {
    if let Ok(command) = Command::from_bytes(data) {
        let again = Command::from_bytes(&command.to_bytes()).expect("an encoded command reads");
        assert!(again == command, "a command changed through encoding");
    } else {
        assert_eq!(
            Command::from_bytes(data).err(),
            Some(StatusWord::WRONG_LENGTH)
        );
    }
    host(data);
    session(data);
}

/// A card whose answers are the fuzzer's: frames `[length, data, SW1,
/// SW2]`, then 9000 for ever.
struct Scripted<'a> {
    rest: &'a [u8],
}

impl Card for Scripted<'_> {
    fn transmit(&mut self, _command: &Command) -> Response {
        let Some((&length, rest)) = self.rest.split_first() else {
            return Response::ok(Vec::new());
        };
        let length = usize::from(length).min(rest.len());
        let (body, rest) = rest.split_at(length);
        self.rest = rest;
        match body {
            [data @ .., sw1, sw2] => Response {
                data: data.to_vec(),
                status: StatusWord(u16::from_be_bytes([*sw1, *sw2])),
            },
            _ => Response::ok(body.to_vec()),
        }
    }
}

/// Every host call, over the scripted card.
fn host(data: &[u8]) {
    let mut client = CardClient::new(Scripted { rest: data });
    let pin = Pin::new(PIN.into()).expect("a PIN");
    let puk = Puk::new(PUK.into()).expect("a PUK");
    let _ = client.select();
    let _ = client.status();
    let _ = client.pin_tries_left();
    let _ = client.verify(&pin);
    let _ = client.authenticate(b"challenge");
    let _ = client.read_share();
    let _ = client.epoch_seen();
    let _ = client.check_epoch(7);
    let _ = client.record_epoch(7);
    let _ = client.change_pin(&pin, &pin);
    let _ = client.unblock(&puk, &pin);
    let _ = client.personalize(
        &Personalization {
            serial: "S".into(),
            holder: "H".into(),
            role: "R".into(),
            generation: 1,
        },
        &pin,
        &puk,
        &[1; 33],
    );
    let _ = client.terminate();
}

/// A session of commands to a simulated card.
fn session(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let writes_left = match mode >> 1 {
        0 => None,
        n => Some(n - 1),
    };
    let issued = mode & 1 == 0;
    let mut card = if issued {
        let storage = Memory {
            bytes: Some(issued_card().to_vec()),
            writes_left,
        };
        SimulatedCard::open(storage).expect("the issued card opens")
    } else {
        let storage = Memory {
            bytes: None,
            writes_left,
        };
        SimulatedCard::blank(storage, KdfParams::LIGHT).expect("a blank card")
    };
    let mut pin = block(PIN.as_bytes());
    let puk = block(PUK.as_bytes());
    let mut before = card.storage().bytes.as_deref().and_then(counters);
    let select = Command::from_bytes(&[0x00, 0xA4, 0x04, 0x00]).expect("a header");
    let _ = card.transmit(&Command::with_data(
        select.cla,
        select.ins,
        select.p1,
        select.p2,
        smartcard_sim::apdu::AID.to_vec(),
    ));
    while let [kind, length, tail @ ..] = rest {
        let length = usize::from(*length).min(tail.len());
        let (bytes, tail) = tail.split_at(length);
        rest = tail;
        let (command, carries_pin, carries_puk) = match kind % 5 {
            0 => match Command::from_bytes(bytes) {
                Ok(command) => {
                    let carries_pin = matches!(command.ins, INS_VERIFY | INS_CHANGE_REFERENCE_DATA)
                        && command.data.get(..16) == Some(&pin[..]);
                    let carries_puk = command.ins == INS_RESET_RETRY_COUNTER
                        && command.data.get(..16) == Some(&puk[..]);
                    (command, carries_pin, carries_puk)
                }
                Err(_) => continue,
            },
            1 => (
                Command::with_data(CLA_ISO, INS_VERIFY, 0x00, PIN_REFERENCE, pin.clone()),
                true,
                false,
            ),
            2 => {
                let new = block(&digits(bytes));
                let data = [pin.clone(), new].concat();
                (
                    Command::with_data(
                        CLA_ISO,
                        INS_CHANGE_REFERENCE_DATA,
                        0x00,
                        PIN_REFERENCE,
                        data,
                    ),
                    true,
                    false,
                )
            }
            3 => {
                let data = [puk.clone(), block(&digits(bytes))].concat();
                (
                    Command::with_data(CLA_ISO, INS_RESET_RETRY_COUNTER, 0x00, PUK_REFERENCE, data),
                    false,
                    true,
                )
            }
            _ => (
                Command::with_data(
                    select.cla,
                    select.ins,
                    select.p1,
                    select.p2,
                    smartcard_sim::apdu::AID.to_vec(),
                ),
                false,
                false,
            ),
        };
        let response = card.transmit(&command);
        let after = card.storage().bytes.as_deref().and_then(counters);
        if issued {
            let (pin_before, puk_before) = before.expect("an issued card has counters");
            let (pin_after, puk_after) = after.expect("an issued card keeps its counters");
            assert!(
                pin_after <= 3 && puk_after <= 10,
                "a counter above its maximum"
            );
            // The right PUK fills both counters; the right PIN its own.
            assert!(
                pin_after <= pin_before || carries_pin || carries_puk,
                "the PIN counter rose from {pin_before} to {pin_after} without the PIN: {command:?} → {response:?}"
            );
            assert!(
                puk_after <= puk_before || carries_puk,
                "the PUK counter rose from {puk_before} to {puk_after} without the PUK: {command:?} → {response:?}"
            );
        }
        if response.status == StatusWord::OK && command.data.len() == 32 {
            // A new PIN, set by the right PIN or PUK.
            if (command.ins == INS_CHANGE_REFERENCE_DATA && carries_pin)
                || (command.ins == INS_RESET_RETRY_COUNTER && carries_puk)
            {
                pin = command.data[16..].to_vec();
            }
        }
        before = after;
    }
}

//------------ sealed_share --------------------------------------------------

/// The session key the `sealed_share` target opens with, made once per
/// process.
fn session_key() -> &'static SessionKey {
    static KEY: OnceLock<SessionKey> = OnceLock::new();
    KEY.get_or_init(|| SessionKey::generate().expect("the random source"))
}

/// The challenge shares are sealed for here.
fn challenge() -> Challenge {
    Challenge {
        nonce: [1; 32],
        generation: 1,
        roster_digest: [2; 32],
        operation: [3; 32],
        channel: session_key().public_key(),
    }
}

/// A share as a card stores it (`quorum::Share::from_bytes`) and as it
/// travels sealed (`SealedShare`, `SessionKey::open`), by the first byte:
///
/// * 0: the rest as a share: one that reads is written back to the same
///   bytes;
/// * 1: the rest as a sealed share (65 bytes of ephemeral key, then the
///   ciphertext), which never opens: no one but this process holds its
///   session key;
/// * 2: a share sealed here to the session key, its bytes XORed with the
///   rest's: it opens to the same share exactly when nothing changed, and
///   for no other card serial;
/// * 3: the rest as a `POST /present` body, decoded as the service does.
pub fn sealed_share(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let challenge = challenge();
    match mode % 4 {
        0 => {
            if let Ok(share) = Share::from_bytes(rest) {
                assert_eq!(
                    &share.to_bytes()[..],
                    rest,
                    "a share changed through its bytes"
                );
            }
        }
        1 => {
            let (ephemeral, ciphertext) = rest.split_at(rest.len().min(65));
            let sealed = SealedShare {
                ephemeral: ephemeral.to_vec(),
                ciphertext: ciphertext.to_vec(),
            };
            assert!(
                session_key().open(&sealed, &challenge, "FUZZ-1").is_err(),
                "a share sealed without the session key opened"
            );
        }
        2 => {
            let mut bytes = vec![1];
            bytes.extend_from_slice(&[0; 31]);
            bytes.push(5);
            let share = Share::from_bytes(&bytes).expect("a share");
            let mut sealed =
                SealedShare::seal(&share, &session_key().public_key(), &challenge, "FUZZ-1")
                    .expect("sealing");
            let original = sealed.clone();
            let (flip_key, flip_text) = rest.split_at(rest.len().min(65));
            for (byte, flip) in sealed.ephemeral.iter_mut().zip(flip_key) {
                *byte ^= flip;
            }
            for (byte, flip) in sealed.ciphertext.iter_mut().zip(flip_text) {
                *byte ^= flip;
            }
            let opened = session_key().open(&sealed, &challenge, "FUZZ-1");
            if sealed == original {
                let opened = opened.expect("an unchanged sealed share opens");
                assert_eq!(&opened.to_bytes()[..], &bytes[..]);
                assert!(session_key().open(&sealed, &challenge, "FUZZ-2").is_err());
            } else {
                assert!(opened.is_err(), "a changed sealed share opened");
            }
        }
        _ => {
            let Ok(request) = serde_json::from_slice::<signer::service::wire::PresentRequest>(rest)
            else {
                return;
            };
            let (Ok(ephemeral), Ok(ciphertext)) = (
                hex::decode(&request.ephemeral_key),
                hex::decode(&request.sealed_share),
            ) else {
                return;
            };
            let sealed = SealedShare {
                ephemeral,
                ciphertext,
            };
            assert!(
                session_key()
                    .open(&sealed, &challenge, &request.card_serial)
                    .is_err()
            );
        }
    }
}

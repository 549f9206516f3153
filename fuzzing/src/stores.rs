//! The files a ceremony keeps (the soft HSM's store, the PKCS#11 token's
//! file, the audit log, the sealed state, pin files) and the service's
//! JSON.

use std::path::Path;

use sha2::{Digest as _, Sha256};
use signer::service::wire;
use signer::{PinFile, PinTable};

use crate::documents::json_equal;
use crate::{json_position, lines};

//------------ soft_store ----------------------------------------------------

/// The soft HSM's `keystore.json` (`hsm::parse_soft_store`, what
/// `SoftHsm::open` reads): a store that parses is written back and parses
/// to the same bytes; a JSON error names its line.
pub fn soft_store(data: &[u8]) {
    match hsm::parse_soft_store(data) {
        Ok(written) => {
            let again = hsm::parse_soft_store(&written).expect("a written store parses");
            assert_eq!(again, written, "writing a store is not stable");
        }
        Err(err) => json_position(data, &err.to_string()),
    }
}

//------------ pkcs11_sidecar ------------------------------------------------

/// A PKCS#11 token's `pkcs11.json` (`hsm::parse_sidecar`, what
/// `Pkcs11Hsm::open` reads before it loads a module): the same laws as the
/// soft store's.
pub fn pkcs11_sidecar(data: &[u8]) {
    match hsm::parse_sidecar(data) {
        Ok(written) => {
            let again = hsm::parse_sidecar(&written).expect("a written token file parses");
            assert_eq!(again, written, "writing a token file is not stable");
        }
        Err(err) if std::str::from_utf8(data).is_ok() => json_position(data, &err.to_string()),
        Err(_) => {}
    }
}

//------------ audit_log -----------------------------------------------------

/// The audit log (`hsm::parse_audit_log`, what `verify` and every open
/// read): on success one entry per line and the head the SHA-256 of the
/// last line (64 zeros for an empty log), each entry written back the same;
/// on error the entry and the line named are those of the log, from 1 to
/// one past its last line.
pub fn audit_log(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let count = text.split_inclusive('\n').count();
    match hsm::parse_audit_log(text) {
        Ok((entries, head)) => {
            assert_eq!(entries.len(), count, "not one entry per line");
            let expected = text.split_inclusive('\n').next_back().map_or_else(
                || "0".repeat(64),
                |line| {
                    let line = line.strip_suffix('\n').unwrap_or(line);
                    hex::encode(Sha256::digest(line.as_bytes()))
                },
            );
            assert_eq!(head, expected, "the head is not the hash of the last line");
            for line in text.lines() {
                json_equal::<hsm::Entry>(line.as_bytes());
            }
        }
        Err(hsm::AuditError::Broken {
            entry,
            line,
            problem,
        }) => {
            let bound = u64::try_from(count + 1).unwrap_or(u64::MAX);
            assert!(
                (1..=bound).contains(&entry),
                "entry {entry} named in a log of {count} lines: {problem}"
            );
            assert!(
                (1..=count + 1).contains(&line),
                "line {line} named in a log of {count} lines: {problem}"
            );
        }
        Err(other) => panic!("reading text gave another error than a broken chain: {other}"),
    }
}

//------------ state ---------------------------------------------------------

/// The sealed state `state.json` (`signer::parse_state_file`, what a
/// ceremony reads when it opens): a state that parses is written back and
/// parses to the same state and bytes; a JSON error names its line.
pub fn state(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match signer::parse_state_file(text) {
        Ok((state, written)) => {
            let written_text = String::from_utf8(written.clone()).expect("JSON is UTF-8");
            let (again, twice) =
                signer::parse_state_file(&written_text).expect("a written state parses");
            assert_eq!(again, state, "a state changed through write and parse");
            assert_eq!(twice, written, "writing a state is not stable");
        }
        Err(err) => json_position(data, &err.to_string()),
    }
}

//------------ pin_file ------------------------------------------------------

/// Pin files (`signer::PinFile::parse`): every officer's string of each
/// table is what `get` answers; an error never quotes a PIN or PUK of the
/// file, and a file that is not TOML names a line within it.
pub fn pin_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let table = text.parse::<toml::Table>();
    match PinFile::parse(Path::new("pins.toml"), text) {
        Ok(file) => {
            let table = table.expect("a pin file that parses is TOML");
            for (key, value) in &table {
                match (key.as_str(), value) {
                    ("puk", toml::Value::Table(puks)) => check_table(&file, PinTable::Puks, puks),
                    ("new-pin", toml::Value::Table(new)) => {
                        check_table(&file, PinTable::NewPins, new);
                    }
                    (officer, toml::Value::String(pin)) => {
                        let got = file.get(PinTable::Pins, officer).expect("an officer's PIN");
                        assert_eq!(got.as_str(), pin.as_str());
                    }
                    (key, _) => panic!("{key:?} taken, neither a PIN nor a table"),
                }
            }
        }
        Err(err) => {
            let message = err.to_string();
            match table {
                Ok(table) => {
                    let mut secrets = Vec::new();
                    let mut names = Vec::new();
                    collect(&table, &mut secrets, &mut names);
                    for secret in secrets {
                        // PINs and PUKs are digits; the messages have none
                        // of their own here, and a value that is also a
                        // name may be quoted as the name.
                        let checked = secret.chars().count() >= 4
                            && secret.bytes().any(|byte| byte.is_ascii_digit())
                            && !names.iter().any(|name| name.contains(&secret));
                        if checked {
                            assert!(
                                !message.contains(&secret),
                                "the error quotes a value: {message}"
                            );
                        }
                    }
                }
                Err(_) => {
                    let line: usize = message
                        .rsplit_once("at line ")
                        .and_then(|(_, number)| number.parse().ok())
                        .unwrap_or_else(|| panic!("a TOML error without its line: {message}"));
                    assert!(
                        (1..=lines(data)).contains(&line),
                        "line {line} of {} lines: {message}",
                        lines(data)
                    );
                }
            }
        }
    }
}

/// Every string of a table is what `get` answers for its officer.
fn check_table(file: &PinFile, which: PinTable, table: &toml::Table) {
    for (officer, value) in table {
        let value = value.as_str().expect("a table of strings");
        let got = file.get(which, officer).expect("an officer's entry");
        assert_eq!(got.as_str(), value);
    }
}

/// The string values of a TOML table (which may be secrets) and its keys
/// (which may be named).
fn collect(table: &toml::Table, secrets: &mut Vec<String>, names: &mut Vec<String>) {
    for (key, value) in table {
        names.push(format!("{key:?}"));
        collect_value(value, secrets, names);
    }
}

fn collect_value(value: &toml::Value, secrets: &mut Vec<String>, names: &mut Vec<String>) {
    match value {
        toml::Value::String(text) => secrets.push(text.clone()),
        toml::Value::Table(table) => collect(table, secrets, names),
        toml::Value::Array(values) => {
            for value in values {
                collect_value(value, secrets, names);
            }
        }
        _ => {}
    }
}

//------------ service_json --------------------------------------------------

/// Every body of the service's JSON (`signer::service::wire`), requests
/// the service reads and answers its clients read: what parses is written
/// back and parses to what is written the same (and to an equal value,
/// for the types with equality); a syntax or type error names its line.
pub fn service_json(data: &[u8]) {
    json_stable::<wire::SessionOffer>(data);
    json_stable::<wire::PresentRequest>(data);
    json_stable::<wire::PresentAnswer>(data);
    json_stable::<wire::WrongPinNotice>(data);
    json_stable::<wire::SignRequest>(data);
    json_stable::<wire::LoadRequest>(data);
    json_stable::<wire::LoadAnswer>(data);
    json_stable::<wire::ErrorAnswer>(data);
    json_equal::<wire::KsrState>(data);
    json_equal::<wire::KsrRecord>(data);
    json_equal::<wire::Status>(data);
    json_equal::<wire::SigningProgress>(data);
    json_equal::<wire::AuditLine>(data);
}

/// The law of a JSON type without equality: writing what was read is a
/// fixed point of read then write.
fn json_stable<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    match serde_json::from_slice::<T>(data) {
        Ok(value) => {
            let written = serde_json::to_vec(&value).expect("a parsed value is written");
            let again: T = serde_json::from_slice(&written).expect("a written value parses");
            let twice = serde_json::to_vec(&again).expect("a parsed value is written");
            assert_eq!(twice, written, "writing is not stable");
        }
        Err(err) => json_position(data, &err.to_string()),
    }
}

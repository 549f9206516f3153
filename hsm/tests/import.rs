//! Importing key files into the soft HSM: a key made by the `openssl` CLI
//! is sealed like a generated one, and what it signs verifies with
//! openssl against openssl's own public key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

mod common;

use common::{SPECS, clock, genpkey, openssl_verifies, public_pem, quorum};
use hsm::{Hsm, HsmError, KeyFileFormat, SoftHsm, read_key_file};

#[test]
fn an_imported_key_signs_what_openssl_verifies_and_is_kept_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let enrolment = quorum();
    let mut hsm =
        SoftHsm::create(dir.path(), enrolment.roster, &enrolment.secret, clock()).unwrap();
    let pems: Vec<_> = SPECS
        .iter()
        .map(|spec| (*spec, genpkey(keys.path(), &format!("{spec}.pem"), *spec)))
        .collect();
    let read = |path: &std::path::Path| read_key_file(&std::fs::read(path).unwrap()).unwrap();

    // Sealed, nothing is imported.
    assert!(matches!(
        hsm.import("ksk", read(&pems[1].1), 1),
        Err(HsmError::Sealed)
    ));
    hsm.activate(&enrolment.secret).unwrap();
    let data = b"a DNSKEY RRset's signing input";
    for (spec, pem) in &pems {
        let key = read(pem);
        assert_eq!(key.format(), KeyFileFormat::Pkcs8Pem);
        let label = format!("imported-{spec}");
        let info = hsm.import(&label, key, 1_800_000_000).unwrap();
        assert_eq!((info.spec, info.created), (*spec, 1_800_000_000));
        let signature = Hsm::sign(&hsm, &label, data).unwrap();
        let public = public_pem(pem);
        assert!(openssl_verifies(&public, *spec, data, &signature), "{spec}");
        // The check can fail: another message does not verify.
        assert!(
            !openssl_verifies(&public, *spec, b"other", &signature),
            "{spec}"
        );
    }

    // Labels as for generated keys; one key is not kept twice.
    assert!(matches!(
        hsm.import("imported-ed25519", read(&pems[2].1), 1),
        Err(HsmError::DuplicateLabel(_))
    ));
    assert!(matches!(
        hsm.import("a label", read(&pems[2].1), 1),
        Err(HsmError::Invalid(_))
    ));
    match hsm.import("again", read(&pems[1].1), 1) {
        Err(HsmError::SameKey(label)) => assert_eq!(label, "imported-ecdsap256sha256"),
        other => panic!("{other:?}"),
    }
    // The soft HSM adopts nothing and reports no PKCS#11 attributes.
    assert!(matches!(
        hsm.adopt("imported-ed25519", 1),
        Err(HsmError::Unsupported(_))
    ));
    assert!(matches!(
        hsm.provenance("imported-ed25519"),
        Err(HsmError::Unsupported(_))
    ));

    // Sealed in the store: another process opens and uses them.
    drop(hsm);
    let mut hsm = SoftHsm::open(dir.path(), clock()).unwrap();
    let listed: Vec<_> = hsm
        .inventory()
        .unwrap()
        .into_iter()
        .map(|info| (info.label, info.created))
        .collect();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|(_, created)| *created == 1_800_000_000));
    hsm.activate(&enrolment.secret).unwrap();
    for (spec, pem) in &pems {
        let signature = Hsm::sign(&hsm, &format!("imported-{spec}"), data).unwrap();
        assert!(openssl_verifies(&public_pem(pem), *spec, data, &signature));
    }
}

#[test]
fn a_bind_file_imports_and_signs() {
    let dir = tempfile::tempdir().unwrap();
    let enrolment = quorum();
    let mut hsm =
        SoftHsm::create(dir.path(), enrolment.roster, &enrolment.secret, clock()).unwrap();
    hsm.activate(&enrolment.secret).unwrap();
    // A BIND file of a key openssl made, written with python3-cryptography.
    let pem = genpkey(dir.path(), "p256.pem", hsm::KeySpec::EcdsaP256);
    let script = "import base64, sys\n\
        from cryptography.hazmat.primitives import serialization\n\
        key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), None)\n\
        scalar = key.private_numbers().private_value.to_bytes(32, 'big')\n\
        print('Private-key-format: v1.3')\n\
        print('Algorithm: 13 (ECDSAP256SHA256)')\n\
        print('PrivateKey: ' + base64.b64encode(scalar).decode())\n\
        print('Created: 20260101000000')\n";
    let bind = common::run("/usr/bin/python3", &["-c", script, pem.to_str().unwrap()]);
    let key = read_key_file(&bind).unwrap();
    assert_eq!(key.format(), KeyFileFormat::Bind);
    hsm.import("from-bind", key, 7).unwrap();
    let signature = Hsm::sign(&hsm, "from-bind", b"input").unwrap();
    assert!(openssl_verifies(
        &public_pem(&pem),
        hsm::KeySpec::EcdsaP256,
        b"input",
        &signature
    ));
}

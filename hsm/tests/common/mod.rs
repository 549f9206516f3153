//! What the HSM tests share: a quorum, keys made with the
//! `openssl` CLI, and signatures checked by `openssl` against the public
//! key it prints.

#![allow(
    dead_code,
    reason = "each test file uses its own part of these helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use hsm::{Clock, KeySpec, RsaBits};
use quorum::{Enrolment, NewOfficer, enrol};

/// A quorum of two of three, made for the test.
pub fn quorum() -> Enrolment {
    let officers = (1..=3u8)
        .map(|seed| NewOfficer {
            name: format!("CO-{seed}"),
            role: "crypto officer".into(),
            card_serial: format!("{seed}"),
            card_key: *p256::ecdsa::SigningKey::from_slice(&[seed; 32])
                .unwrap()
                .verifying_key(),
        })
        .collect();
    enrol(officers, 2).unwrap()
}

/// The real clock.
pub fn clock() -> Clock {
    Arc::new(Instant::now)
}

/// Runs a program and returns its standard output; fails the test, with
/// its standard error, if it fails.
pub fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program} does not run ({err}); scripts/test installs it"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Whether a program succeeds.
pub fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program} does not run ({err})"))
        .status
        .success()
}

/// A new `openssl genpkey` key of a kind, PKCS#8 PEM, at `dir/name`.
pub fn genpkey(dir: &Path, name: &str, spec: KeySpec) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["genpkey", "-quiet"];
    let bits;
    match spec {
        KeySpec::Rsa(size) => {
            bits = format!("rsa_keygen_bits:{}", size.bits());
            args.extend(["-algorithm", "RSA", "-pkeyopt", &bits]);
        }
        KeySpec::EcdsaP256 => {
            args.extend(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        }
        KeySpec::Ed25519 => args.extend(["-algorithm", "ED25519"]),
    }
    args.extend(["-out", path.to_str().unwrap()]);
    run("openssl", &args);
    path
}

/// The kinds the tests import.
pub const SPECS: [KeySpec; 3] = [
    KeySpec::Rsa(RsaBits::B2048),
    KeySpec::EcdsaP256,
    KeySpec::Ed25519,
];

/// The public key of a private key PEM, as a public key PEM beside it
/// (`openssl pkey -pubout`).
pub fn public_pem(private: &Path) -> PathBuf {
    let public = private.with_extension("pub.pem");
    run(
        "openssl",
        &[
            "pkey",
            "-in",
            private.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ],
    );
    public
}

/// A public key PEM made by openssl from an uncompressed P-256 point
/// (04 ‖ x ‖ y), through the fixed SubjectPublicKeyInfo prefix of
/// RFC 5480.
pub fn p256_public_pem(dir: &Path, name: &str, point: &[u8]) -> PathBuf {
    assert_eq!((point.len(), point[0]), (65, 4));
    let prefix = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    let der = dir.join(format!("{name}.der"));
    std::fs::write(&der, [prefix.as_slice(), point].concat()).unwrap();
    let pem = dir.join(format!("{name}.pem"));
    run(
        "openssl",
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            der.to_str().unwrap(),
            "-out",
            pem.to_str().unwrap(),
        ],
    );
    pem
}

/// Whether openssl verifies a DNSSEC-encoded signature over `data` with a
/// public key PEM: RSASSA-PKCS1-v1_5 with SHA-256, ECDSA P-256 with
/// SHA-256 (r ‖ s, turned into DER here), or pure Ed25519.
pub fn openssl_verifies(public: &Path, spec: KeySpec, data: &[u8], signature: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    let signature_file = dir.path().join("signature");
    std::fs::write(&message, data).unwrap();
    let encoded = match spec {
        KeySpec::EcdsaP256 => ecdsa_der(signature),
        _ => signature.to_vec(),
    };
    std::fs::write(&signature_file, encoded).unwrap();
    let (public, message, signature_file) = (
        public.to_str().unwrap(),
        message.to_str().unwrap(),
        signature_file.to_str().unwrap(),
    );
    match spec {
        KeySpec::Ed25519 => succeeds(
            "openssl",
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                public,
                "-rawin",
                "-in",
                message,
                "-sigfile",
                signature_file,
            ],
        ),
        _ => succeeds(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                public,
                "-signature",
                signature_file,
                message,
            ],
        ),
    }
}

/// An r ‖ s ECDSA signature as the DER `ECDSA-Sig-Value` openssl reads
/// (RFC 3279 §2.2.3).
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    assert_eq!(raw.len(), 64);
    let integer = |value: &[u8]| {
        let value: Vec<u8> = value
            .iter()
            .copied()
            .skip_while(|octet| *octet == 0)
            .collect();
        let mut out = vec![0x02];
        if value.first().is_none_or(|first| first & 0x80 != 0) {
            out.push(u8::try_from(value.len() + 1).unwrap());
            out.push(0);
        } else {
            out.push(u8::try_from(value.len()).unwrap());
        }
        out.extend(value);
        out
    };
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    [vec![0x30, u8::try_from(body.len()).unwrap()], body].concat()
}

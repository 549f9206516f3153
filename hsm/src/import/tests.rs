//! Key files made by other tools: keys generated with the `openssl` CLI,
//! BIND files and re-encoded keys written by python3-cryptography, Knot
//! DNS's keystore written by `keymgr`. Every public key the reader derives
//! is compared with the one the other tool prints.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;

use super::*;
use crate::error::BindProblem;

//------------ Other tools ---------------------------------------------------

/// Runs a program and returns its standard output; fails the test, with
/// its standard error, if it fails.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program} does not run ({err}); scripts/test installs it"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn openssl(args: &[&str]) -> Vec<u8> {
    run("openssl", args)
}

/// The python3-cryptography helper: writes key files of other formats from
/// an openssl key.
const HELPER: &str = r#"
import base64, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

def load(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), None)

def tlv(tag, body):
    n = len(body)
    if n < 128:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + body

def pem(label, der):
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)

def b64(number, length=None):
    length = length or (number.bit_length() + 7) // 8
    return base64.b64encode(number.to_bytes(length, "big")).decode()

P256 = bytes.fromhex("06082a8648ce3d030107")
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")

def point(key):
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

def ec_pkcs8(scalar, public):
    inner = tlv(0x30, tlv(2, b"\x01") + tlv(4, scalar) + tlv(0xa0, P256)
                + tlv(0xa1, tlv(3, b"\x00" + public)))
    return tlv(0x30, tlv(2, b"\x00") + tlv(0x30, EC_PUBLIC_KEY + P256) + tlv(4, inner))

command, source, out = sys.argv[1], sys.argv[2], sys.argv[3]
key = load(source)
if command == "bind":
    # BIND's K*.private: numbers big-endian, base64, in dst_parse.c's order.
    lines = ["Private-key-format: v1.3"]
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        modulus = n.public_numbers.n
        if len(sys.argv) > 4:
            modulus = load(sys.argv[4]).private_numbers().public_numbers.n
        lines += ["Algorithm: 8 (RSASHA256)",
                  "Modulus: " + b64(modulus),
                  "PublicExponent: " + b64(n.public_numbers.e),
                  "PrivateExponent: " + b64(n.d),
                  "Prime1: " + b64(n.p),
                  "Prime2: " + b64(n.q),
                  "Exponent1: " + b64(n.dmp1),
                  "Exponent2: " + b64(n.dmq1),
                  "Coefficient: " + b64(n.iqmp)]
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        lines += ["Algorithm: 13 (ECDSAP256SHA256)",
                  "PrivateKey: " + b64(key.private_numbers().private_value, 32)]
    else:
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        lines += ["Algorithm: 15 (ED25519)", "PrivateKey: " + base64.b64encode(raw).decode()]
    lines += ["Created: 20260101000000", "Publish: 20260101000000",
              "Activate: 20260101000000"]
    open(out, "w").write("\n".join(lines) + "\n")
elif command == "scalar33":
    # The P-256 scalar as 33 octets behind a given first octet, as GnuTLS
    # writes it with a zero.
    first = bytes([int(sys.argv[4])])
    scalar = first + key.private_numbers().private_value.to_bytes(32, "big")
    open(out, "w").write(pem("PRIVATE KEY", ec_pkcs8(scalar, point(key))))
elif command == "foreign-point":
    # This key's scalar with another key's public point.
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    open(out, "w").write(pem("PRIVATE KEY", ec_pkcs8(scalar, point(load(sys.argv[4])))))
elif command == "ed25519-v2":
    # RFC 5958 OneAsymmetricKey with the public key (this key's or another's).
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    other = load(sys.argv[4]) if len(sys.argv) > 4 else key
    public = other.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    der = tlv(0x30, tlv(2, b"\x01") + tlv(0x30, bytes.fromhex("06032b6570"))
              + tlv(4, tlv(4, raw)) + tlv(0x81, b"\x00" + public))
    open(out, "w").write(pem("PRIVATE KEY", der))
"#;

/// A scratch folder with the helper in it.
struct Scratch {
    dir: tempfile::TempDir,
}

/// The kinds of key openssl makes here.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Rsa2048,
    P256,
    Ed25519,
}

impl Kind {
    const ALL: [Self; 3] = [Self::Rsa2048, Self::P256, Self::Ed25519];

    fn spec(self) -> KeySpec {
        match self {
            Self::Rsa2048 => KeySpec::Rsa(RsaBits::B2048),
            Self::P256 => KeySpec::EcdsaP256,
            Self::Ed25519 => KeySpec::Ed25519,
        }
    }
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("helper.py"), HELPER).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `openssl genpkey` with these options, into `name` (PKCS#8 PEM).
    fn genpkey(&self, name: &str, options: &[&str]) -> PathBuf {
        let path = self.path(name);
        let mut args = vec!["genpkey", "-quiet"];
        args.extend_from_slice(options);
        args.extend(["-out", path.to_str().unwrap()]);
        openssl(&args);
        path
    }

    /// A new key of a kind.
    fn key(&self, name: &str, kind: Kind) -> PathBuf {
        match kind {
            Kind::Rsa2048 => self.genpkey(
                name,
                &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            ),
            Kind::P256 => self.genpkey(
                name,
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            ),
            Kind::Ed25519 => self.genpkey(name, &["-algorithm", "ED25519"]),
        }
    }

    /// Runs the python3-cryptography helper.
    fn helper(&self, args: &[&str]) {
        let helper = self.path("helper.py");
        let mut all = vec![helper.to_str().unwrap()];
        all.extend_from_slice(args);
        run("/usr/bin/python3", &all);
    }

    /// The helper's output file `name` from `source`.
    fn helped(&self, command: &str, source: &Path, name: &str, extra: &[&str]) -> PathBuf {
        let out = self.path(name);
        let mut args = vec![command, source.to_str().unwrap(), out.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.helper(&args);
        out
    }
}

/// The DNSKEY public key field of a PEM key, from what openssl prints:
/// RFC 3110 (exponent length, exponent, modulus) for RSA, x ‖ y for P-256
/// (RFC 6605 §4), the 32 octets for Ed25519 (RFC 8080 §3).
fn openssl_public(pem: &Path, kind: Kind) -> Vec<u8> {
    let path = pem.to_str().unwrap();
    match kind {
        Kind::Rsa2048 => {
            let text =
                String::from_utf8(openssl(&["rsa", "-in", path, "-noout", "-modulus"])).unwrap();
            let modulus = hex::decode(text.trim().strip_prefix("Modulus=").unwrap()).unwrap();
            let details =
                String::from_utf8(openssl(&["rsa", "-in", path, "-noout", "-text"])).unwrap();
            assert!(details.contains("publicExponent: 65537 (0x10001)"));
            [&[3, 1, 0, 1][..], &modulus].concat()
        }
        Kind::P256 | Kind::Ed25519 => {
            let spki = openssl(&["pkey", "-in", path, "-pubout", "-outform", "DER"]);
            let (length, point) = match kind {
                Kind::P256 => (91, 64),
                _ => (44, 32),
            };
            assert_eq!(spki.len(), length, "{kind:?} SubjectPublicKeyInfo");
            spki[spki.len() - point..].to_vec()
        }
    }
}

fn read_path(path: &Path) -> Result<ImportedKey, HsmError> {
    read_key_file(&std::fs::read(path).unwrap())
}

/// The key file error of a refused file.
fn refused(bytes: &[u8]) -> KeyFileError {
    match read_key_file(bytes) {
        Err(HsmError::KeyFile(err)) => err,
        Err(other) => panic!("not a key file error: {other}"),
        Ok(key) => panic!("accepted: {key:?}"),
    }
}

/// Checks a key read from a file: its kind, format and public key (against
/// openssl's), and that the key tag appears in its `Debug`.
fn check(key: &ImportedKey, kind: Kind, format: KeyFileFormat, expected_public: &[u8]) {
    assert_eq!(key.spec(), kind.spec(), "{kind:?}");
    assert_eq!(key.format(), format, "{kind:?}");
    let dnskey = key.dnskey();
    assert_eq!(dnskey.flags(), ksr::Flags::KSK);
    assert_eq!(dnskey.protocol(), 3);
    assert_eq!(dnskey.algorithm(), kind.spec().algorithm());
    assert_eq!(
        dnskey.public_key(),
        expected_public,
        "{kind:?} via {format}"
    );
}

//------------ PEM from openssl ----------------------------------------------

#[test]
fn reads_openssl_pkcs8_keys_of_each_kind() {
    let scratch = Scratch::new();
    for kind in Kind::ALL {
        let pem = scratch.key(&format!("{kind:?}.pem"), kind);
        let key = read_path(&pem).unwrap();
        check(
            &key,
            kind,
            KeyFileFormat::Pkcs8Pem,
            &openssl_public(&pem, kind),
        );
    }
}

#[test]
fn reads_pkcs1_and_sec1_pem_from_openssl() {
    let scratch = Scratch::new();
    let rsa = scratch.key("rsa.pem", Kind::Rsa2048);
    let pkcs1 = openssl(&["rsa", "-in", rsa.to_str().unwrap(), "-traditional"]);
    assert!(pkcs1.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
    let key = read_key_file(&pkcs1).unwrap();
    check(
        &key,
        Kind::Rsa2048,
        KeyFileFormat::Pkcs1Pem,
        &openssl_public(&rsa, Kind::Rsa2048),
    );

    let p256 = scratch.key("p256.pem", Kind::P256);
    let sec1 = openssl(&["ec", "-in", p256.to_str().unwrap()]);
    assert!(sec1.starts_with(b"-----BEGIN EC PRIVATE KEY-----"));
    let key = read_key_file(&sec1).unwrap();
    check(
        &key,
        Kind::P256,
        KeyFileFormat::Sec1Pem,
        &openssl_public(&p256, Kind::P256),
    );

    // `openssl ecparam -genkey` puts an EC PARAMETERS block first.
    let both = openssl(&["ecparam", "-name", "prime256v1", "-genkey"]);
    assert!(both.starts_with(b"-----BEGIN EC PARAMETERS-----"));
    let path = scratch.path("ecparam.pem");
    std::fs::write(&path, &both).unwrap();
    let key = read_key_file(&both).unwrap();
    check(
        &key,
        Kind::P256,
        KeyFileFormat::Sec1Pem,
        &openssl_public(&path, Kind::P256),
    );
}

//------------ BIND ----------------------------------------------------------

#[test]
fn reads_bind_files_written_from_openssl_keys() {
    let scratch = Scratch::new();
    for kind in Kind::ALL {
        let pem = scratch.key(&format!("{kind:?}.pem"), kind);
        let bind = scratch.helped("bind", &pem, &format!("K{kind:?}.private"), &[]);
        let text = std::fs::read_to_string(&bind).unwrap();
        assert!(text.starts_with("Private-key-format: v1.3\nAlgorithm: "));
        let key = read_path(&bind).unwrap();
        check(&key, kind, KeyFileFormat::Bind, &openssl_public(&pem, kind));
        // v1.2 and CRLF line ends read the same.
        let older = text
            .replace("v1.3", "v1.2")
            .replace('\n', "\r\n")
            .into_bytes();
        assert_eq!(read_key_file(&older).unwrap().dnskey(), key.dnskey());
    }
}

#[test]
fn bind_errors_name_the_line_and_no_key_bytes() {
    let scratch = Scratch::new();
    let pem = scratch.key("p256.pem", Kind::P256);
    let good = std::fs::read_to_string(scratch.helped("bind", &pem, "K.private", &[])).unwrap();
    let secret = good
        .lines()
        .find_map(|line| line.strip_prefix("PrivateKey: "))
        .unwrap()
        .to_owned();
    let line = |number: usize, problem: BindProblem| KeyFileError::Bind {
        line: number,
        problem,
    };
    let cases: Vec<(String, KeyFileError)> = vec![
        (
            good.replace("v1.3", "v2.0"),
            line(1, BindProblem::Version("v2.0".into())),
        ),
        (
            good.replace(
                "Algorithm: 13 (ECDSAP256SHA256)",
                "Algorithm: 14 (ECDSAP384SHA384)",
            ),
            line(2, BindProblem::Algorithm(14)),
        ),
        (
            good.replace(
                "Algorithm: 13 (ECDSAP256SHA256)",
                "Algorithm: 7 (NSEC3RSASHA1)",
            ),
            line(2, BindProblem::Algorithm(7)),
        ),
        (
            good.replace("Algorithm: 13", "Algorithm: thirteen"),
            line(2, BindProblem::AlgorithmLine),
        ),
        (
            good.replace("PrivateKey: ", "PrivateKey: !"),
            line(3, BindProblem::NotBase64("PrivateKey")),
        ),
        (
            format!("{good}PrivateKey: {secret}\n"),
            line(7, BindProblem::Duplicate("PrivateKey")),
        ),
        (
            format!("{good}Modulus: AQAB\n"),
            line(7, BindProblem::OtherAlgorithm("Modulus")),
        ),
        (
            format!("{good}Engine: pkcs11\n"),
            line(7, BindProblem::External("Engine")),
        ),
        (
            format!("{good}Colour: blue\n"),
            line(7, BindProblem::UnknownField("Colour".into())),
        ),
        (format!("{good}{secret}\n"), line(7, BindProblem::NoColon)),
        (
            good.replace(&format!("PrivateKey: {secret}\n"), ""),
            KeyFileError::BindMissing {
                field: "PrivateKey",
                algorithm: 13,
            },
        ),
        (
            good.replace("PrivateKey: ", "PrivateKey: AAAA"),
            KeyFileError::PrivateLength {
                format: KeyFileFormat::Bind,
                what: "P-256 private key",
                length: 35,
                expected: "expected 32 (or 33 with a leading zero, as GnuTLS writes it)",
            },
        ),
        (
            good.replace(
                &secret,
                &base64::engine::general_purpose::STANDARD.encode([0xff; 32]),
            ),
            KeyFileError::Rejected {
                format: KeyFileFormat::Bind,
                spec: KeySpec::EcdsaP256,
                reason: "the private key is zero or not below the group order",
            },
        ),
        (
            good.replace(
                &secret,
                &base64::engine::general_purpose::STANDARD.encode([0; 32]),
            ),
            KeyFileError::Rejected {
                format: KeyFileFormat::Bind,
                spec: KeySpec::EcdsaP256,
                reason: "the private key is zero or not below the group order",
            },
        ),
    ];
    let prefix = &secret[..12];
    for (text, expected) in cases {
        let err = refused(text.as_bytes());
        assert_eq!(err, expected, "{text}");
        let message = HsmError::KeyFile(err).to_string();
        assert!(!message.contains(prefix), "{message}");
    }
    // Blank lines and timing lines in any case are ignored.
    let spaced = good.replace("Created:", "\ncreated:");
    assert!(read_key_file(spaced.as_bytes()).is_ok());
}

#[test]
fn a_bind_rsa_file_with_another_keys_modulus_is_refused() {
    let scratch = Scratch::new();
    let one = scratch.key("one.pem", Kind::Rsa2048);
    let other = scratch.key("other.pem", Kind::Rsa2048);
    let bind = scratch.helped("bind", &one, "K.private", &[other.to_str().unwrap()]);
    let err = refused(&std::fs::read(bind).unwrap());
    assert!(
        matches!(
            err,
            KeyFileError::Inconsistent {
                format: KeyFileFormat::Bind,
                ..
            }
        ),
        "{err}"
    );
}

//------------ P-256 scalars of 33 octets (GnuTLS, Knot DNS) -----------------

#[test]
fn a_33_byte_scalar_with_a_leading_zero_is_read_and_normalized() {
    let scratch = Scratch::new();
    let pem = scratch.key("p256.pem", Kind::P256);
    let long = scratch.helped("scalar33", &pem, "long.pem", &["0"]);
    let bytes = std::fs::read(&long).unwrap();
    let key = read_key_file(&bytes).unwrap();
    check(
        &key,
        Kind::P256,
        KeyFileFormat::Pkcs8PemGnutls,
        &openssl_public(&pem, Kind::P256),
    );
    // openssl reads the same file to the same public key.
    assert_eq!(openssl_public(&long, Kind::P256), key.dnskey().public_key());

    // AWS-LC alone accepts it too (BoringSSL reads scalars of any length,
    // for OpenSSL's old bug); the reader normalizes it anyway.
    let der = base64::engine::general_purpose::STANDARD
        .decode(
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let alone =
        signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .unwrap();
    assert_eq!(&alone.public_key().as_ref()[1..], key.dnskey().public_key());
}

#[test]
fn a_33_byte_scalar_whose_first_byte_is_not_zero_is_refused() {
    let scratch = Scratch::new();
    let pem = scratch.key("p256.pem", Kind::P256);
    let long = scratch.helped("scalar33", &pem, "long.pem", &["1"]);
    let err = refused(&std::fs::read(long).unwrap());
    assert!(
        matches!(
            err,
            KeyFileError::PrivateLength {
                format: KeyFileFormat::Pkcs8Pem,
                length: 33,
                ..
            }
        ),
        "{err}"
    );
}

/// `keymgr`'s keystore, with its public keys as `keymgr dnskey` prints
/// them.
struct Knot {
    scratch: Scratch,
    config: PathBuf,
}

impl Knot {
    fn new() -> Self {
        let scratch = Scratch::new();
        let root = scratch.dir.path();
        for folder in ["run", "db"] {
            std::fs::create_dir(root.join(folder)).unwrap();
        }
        let config = root.join("knot.conf");
        std::fs::write(
            &config,
            format!(
                "server:\n  rundir: {root}/run\ndatabase:\n  storage: {root}/db\npolicy:\n  - id: p\n    algorithm: ecdsap256sha256\nzone:\n  - domain: example.\n    dnssec-policy: p\n",
                root = root.display()
            ),
        )
        .unwrap();
        Self { scratch, config }
    }

    fn keymgr(&self, args: &[&str]) -> String {
        let program = if Path::new("/usr/sbin/keymgr").exists() {
            "/usr/sbin/keymgr"
        } else {
            "keymgr"
        };
        let mut all = vec!["-c", self.config.to_str().unwrap(), "example."];
        all.extend_from_slice(args);
        String::from_utf8(run(program, &all)).unwrap()
    }

    /// A new key's PEM, and its public key as `keymgr dnskey` prints it.
    fn generate(&self, options: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let mut args = vec!["generate", "ksk=yes"];
        args.extend_from_slice(options);
        let id = self.keymgr(&args).trim().to_owned();
        let record = self.keymgr(&["dnskey", &id]);
        // example. DNSKEY 257 3 13 <base64>
        let public = record.split_whitespace().nth(5).unwrap();
        let public = base64::engine::general_purpose::STANDARD
            .decode(public)
            .unwrap();
        // The default keystore: the KASP database's folder `keys`.
        let pem = std::fs::read(self.scratch.path(&format!("db/keys/keys/{id}.pem"))).unwrap();
        (pem, public)
    }
}

#[test]
fn reads_knot_keystore_keys_of_each_kind() {
    let knot = Knot::new();
    // About half of GnuTLS's P-256 keys have the 33-byte scalar; the chance
    // that 24 have none (or all have it) is 2^-23.
    let mut seen = Vec::new();
    for _ in 0..24 {
        let (pem, public) = knot.generate(&["algorithm=13"]);
        let key = read_key_file(&pem).unwrap();
        assert_eq!(key.spec(), KeySpec::EcdsaP256);
        assert_eq!(key.dnskey().public_key(), public.as_slice());
        seen.push(key.format());
    }
    assert!(seen.contains(&KeyFileFormat::Pkcs8PemGnutls), "{seen:?}");
    assert!(seen.contains(&KeyFileFormat::Pkcs8Pem), "{seen:?}");
    for (options, spec) in [
        (&["algorithm=15"][..], KeySpec::Ed25519),
        (
            &["algorithm=8", "size=2048"][..],
            KeySpec::Rsa(RsaBits::B2048),
        ),
    ] {
        let (pem, public) = knot.generate(options);
        let key = read_key_file(&pem).unwrap();
        assert_eq!((key.spec(), key.format()), (spec, KeyFileFormat::Pkcs8Pem));
        assert_eq!(key.dnskey().public_key(), public.as_slice());
    }
}

//------------ Refusals ------------------------------------------------------

#[test]
fn refuses_rsa_sizes_and_exponents_no_keyspec_holds() {
    let scratch = Scratch::new();
    // (openssl makes 2048 bits when asked for 2049.)
    for bits in [1024, 2047, 3071] {
        let pem = scratch.genpkey(
            &format!("rsa{bits}.pem"),
            &[
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &format!("rsa_keygen_bits:{bits}"),
            ],
        );
        // The size as openssl says it is (it may miss an odd request).
        let text = String::from_utf8(openssl(&[
            "rsa",
            "-in",
            pem.to_str().unwrap(),
            "-noout",
            "-text",
        ]))
        .unwrap();
        let bits: usize = text
            .strip_prefix("Private-Key: (")
            .and_then(|rest| rest.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(![2048, 3072, 4096].contains(&bits), "{bits}");
        let err = refused(&std::fs::read(&pem).unwrap());
        assert_eq!(
            err,
            KeyFileError::RsaSize {
                format: KeyFileFormat::Pkcs8Pem,
                bits,
            }
        );
        assert!(err.to_string().contains(&format!("{bits} bits")), "{err}");
        // The same from a BIND file.
        let bind = scratch.helped("bind", &pem, &format!("K{bits}.private"), &[]);
        assert!(matches!(
            refused(&std::fs::read(bind).unwrap()),
            KeyFileError::RsaSize {
                format: KeyFileFormat::Bind,
                bits: found
            } if found == bits
        ));
    }
    let pem = scratch.genpkey(
        "e3.pem",
        &[
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_keygen_pubexp:3",
        ],
    );
    let err = refused(&std::fs::read(&pem).unwrap());
    assert_eq!(
        err,
        KeyFileError::RsaExponent {
            format: KeyFileFormat::Pkcs8Pem,
            exponent: "3".into(),
        }
    );
    assert!(err.to_string().contains("exponent 3"), "{err}");
}

#[test]
fn refuses_other_algorithms_and_curves() {
    let scratch = Scratch::new();
    for (name, options, named) in [
        (
            "p384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
            "P-384 (1.3.132.0.34)",
        ),
        ("ed448", &["-algorithm", "ED448"][..], "Ed448 (1.3.101.113)"),
        (
            "pss",
            &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"][..],
            "RSASSA-PSS (1.2.840.113549.1.1.10)",
        ),
        (
            "x25519",
            &["-algorithm", "X25519"][..],
            "X25519 (1.3.101.110)",
        ),
    ] {
        let pem = scratch.genpkey(&format!("{name}.pem"), options);
        let err = refused(&std::fs::read(&pem).unwrap());
        assert!(
            matches!(&err, KeyFileError::Algorithm { what, .. } if what.contains(named)),
            "{name}: {err}"
        );
    }
    // A P-384 key as SEC1 names its curve there.
    let sec1 = openssl(&["ecparam", "-name", "secp384r1", "-genkey", "-noout"]);
    let err = refused(&sec1);
    assert!(err.to_string().contains("P-384"), "{err}");
    // Not a private key at all.
    let certificate = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(
        refused(certificate),
        KeyFileError::PemLabel("CERTIFICATE".into())
    );
}

#[test]
fn refuses_encrypted_pem() {
    let scratch = Scratch::new();
    let pem = scratch.key("p256.pem", Kind::P256);
    let encrypted = openssl(&[
        "pkey",
        "-in",
        pem.to_str().unwrap(),
        "-aes-256-cbc",
        "-passout",
        "pass:secret",
    ]);
    assert!(encrypted.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(matches!(refused(&encrypted), KeyFileError::Encrypted(_)));
    let rsa = scratch.key("rsa.pem", Kind::Rsa2048);
    let legacy = openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-traditional",
        "-aes256",
        "-passout",
        "pass:secret",
    ]);
    assert!(String::from_utf8_lossy(&legacy).contains("Proc-Type: 4,ENCRYPTED"));
    assert_eq!(
        refused(&legacy),
        KeyFileError::Encrypted("Proc-Type: 4,ENCRYPTED")
    );
}

#[test]
fn refuses_anything_before_or_after_the_key() {
    let scratch = Scratch::new();
    let pem = std::fs::read(scratch.key("ed.pem", Kind::Ed25519)).unwrap();
    let other = std::fs::read(scratch.key("other.pem", Kind::Ed25519)).unwrap();
    let trailing = KeyFileError::Trailing {
        format: KeyFileFormat::Pkcs8Pem,
        what: "text follows the END line",
    };
    assert_eq!(refused(&[&pem[..], b"junk\n"].concat()), trailing);
    assert_eq!(refused(&[&pem[..], &other[..]].concat()), trailing);
    assert_eq!(
        refused(&[&b"Bag Attributes\n"[..], &pem[..]].concat()),
        KeyFileError::Pem("is preceded by other text")
    );
    // Blank lines around it are fine.
    assert!(read_key_file(&[&b"\n"[..], &pem[..], b"\n\n"].concat()).is_ok());

    // Bytes after the DER, inside the base64.
    let text = String::from_utf8(pem).unwrap();
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    der.extend_from_slice(&[0, 0]);
    let padded = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    assert_eq!(
        refused(padded.as_bytes()),
        KeyFileError::Trailing {
            format: KeyFileFormat::Pkcs8Pem,
            what: "bytes follow the key's DER structure",
        }
    );
    // A BIND file with a line BIND does not write after the key.
    let bind = scratch.helped("bind", &scratch.path("ed.pem"), "K.private", &[]);
    let mut bind = std::fs::read_to_string(bind).unwrap();
    bind.push_str("garbage\n");
    assert_eq!(
        refused(bind.as_bytes()),
        KeyFileError::Bind {
            line: 7,
            problem: BindProblem::NoColon
        }
    );
}

#[test]
fn refuses_a_public_key_that_is_not_the_private_keys() {
    let scratch = Scratch::new();
    let one = scratch.key("one.pem", Kind::P256);
    let other = scratch.key("other.pem", Kind::P256);
    let mixed = scratch.helped(
        "foreign-point",
        &one,
        "mixed.pem",
        &[other.to_str().unwrap()],
    );
    let inconsistent = |format| KeyFileError::Inconsistent {
        format,
        what: "the public key in the file is not the private key's",
    };
    assert_eq!(
        refused(&std::fs::read(mixed).unwrap()),
        inconsistent(KeyFileFormat::Pkcs8Pem)
    );

    let one = scratch.key("ed-one.pem", Kind::Ed25519);
    let other = scratch.key("ed-other.pem", Kind::Ed25519);
    let own = scratch.helped("ed25519-v2", &one, "own.pem", &[]);
    check(
        &read_path(&own).unwrap(),
        Kind::Ed25519,
        KeyFileFormat::Pkcs8Pem,
        &openssl_public(&one, Kind::Ed25519),
    );
    let mixed = scratch.helped(
        "ed25519-v2",
        &one,
        "ed-mixed.pem",
        &[other.to_str().unwrap()],
    );
    assert_eq!(
        refused(&std::fs::read(mixed).unwrap()),
        inconsistent(KeyFileFormat::Pkcs8Pem)
    );
}

#[test]
fn refuses_what_is_not_a_key_file() {
    assert_eq!(refused(b""), KeyFileError::UnknownFormat);
    assert_eq!(refused(b"hello"), KeyFileError::UnknownFormat);
    assert_eq!(
        refused(&[0x30, 0x82, 0xff, 0xff]),
        KeyFileError::UnknownFormat
    );
    assert_eq!(
        refused(&vec![b' '; MAX_KEY_FILE + 1]),
        KeyFileError::TooLarge {
            size: MAX_KEY_FILE + 1,
            limit: MAX_KEY_FILE
        }
    );
    assert_eq!(
        refused(b"-----BEGIN PRIVATE KEY-----\nMIIB\n"),
        KeyFileError::Pem("has no END line")
    );
    assert_eq!(
        refused(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
        KeyFileError::Pem("body is not base64")
    );
    assert!(matches!(
        refused(b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"),
        KeyFileError::Der { .. }
    ));
}

#[test]
fn debug_shows_the_kind_and_key_tag_but_no_secret() {
    let scratch = Scratch::new();
    let pem = scratch.key("p256.pem", Kind::P256);
    let bind = std::fs::read_to_string(scratch.helped("bind", &pem, "K.private", &[])).unwrap();
    let secret = bind
        .lines()
        .find_map(|line| line.strip_prefix("PrivateKey: "))
        .unwrap();
    let scalar = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .unwrap();
    let key = read_key_file(bind.as_bytes()).unwrap();
    let debug = format!("{key:?}");
    assert!(
        debug.contains("EcdsaP256") && debug.contains("key_tag"),
        "{debug}"
    );
    for shown in [
        hex::encode(&scalar),
        secret.to_owned(),
        format!("{:?}", &scalar[..4]),
    ] {
        assert!(!debug.contains(&shown[..8]), "{debug}");
    }
}

//------------ The DER writer and reader -------------------------------------

#[test]
fn what_the_der_writer_writes_reads_back() {
    for length in [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234, 0xffff, 0x1_0000] {
        let contents: Vec<u8> = (0..length)
            .map(|index| u8::try_from(index % 251).unwrap())
            .collect();
        let element = der::element(der::OCTET_STRING, &[&contents]);
        let mut reader = der::Reader::new(&element);
        assert_eq!(
            reader.any().unwrap(),
            (der::OCTET_STRING, contents.as_slice()),
            "{length}"
        );
        reader.finish().unwrap();
    }
    for value in [
        &[][..],
        &[0],
        &[1],
        &[0x7f],
        &[0x80],
        &[0, 0, 0x80, 1],
        &[0xff; 33],
    ] {
        let element = der::unsigned(value);
        let mut reader = der::Reader::new(&element);
        let read = reader.unsigned("an INTEGER").unwrap();
        let expected: Vec<u8> = value
            .iter()
            .copied()
            .skip_while(|octet| *octet == 0)
            .collect();
        assert_eq!(read, expected.as_slice(), "{value:?}");
    }
    // Lengths DER does not allow: indefinite, long form for a short
    // length, a leading zero octet.
    for bad in [
        &[0x04, 0x80][..],
        &[0x04, 0x81, 0x05],
        &[0x04, 0x82, 0x00, 0x80],
    ] {
        assert_eq!(
            der::Reader::new(bad).any().unwrap_err(),
            der::DerError::Length,
            "{bad:?}"
        );
    }
    assert_eq!(der::dotted(pkcs::P256), "1.2.840.10045.3.1.7");
}

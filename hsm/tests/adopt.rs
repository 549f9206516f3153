//! Adopting keys already on a PKCS#11 token (SoftHSM2): one imported with
//! `softhsm2-util --import`, one generated on the token with cryptoki
//! before the ceremony takes it over. Their provenance, adoption, and the
//! refusals; signatures are checked by `openssl` against the PEM's public
//! key (or a public key read from the token by this test).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use common::{SPECS, clock, genpkey, openssl_verifies, p256_public_pem, public_pem, quorum};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use hsm::{Hsm, HsmError, KeySpec, Pkcs11Hsm, Takeover, TokenKey};
use quorum::Enrolment;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "adopt-test";
const SO_PIN: &str = "so-pin-for-tests";
const USER_PIN: &str = "user-pin-for-tests";

/// DER of the P-256 OID (CKA_EC_PARAMS).
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the P-384 OID.
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// One C_Initialize per process: the PKCS#11 tests take turns.
static MODULE_LOCK: Mutex<()> = Mutex::new(());

/// A token made by `softhsm2-util --init-token` in a token directory of
/// its own, and the quorum that will take it over.
struct Token {
    dir: tempfile::TempDir,
    enrolment: Enrolment,
    _lock: MutexGuard<'static, ()>,
}

impl Token {
    fn new() -> Self {
        let lock = MODULE_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(
            Path::new(MODULE).exists(),
            "{MODULE} is missing: the test command installs Debian's softhsm2"
        );
        let dir = tempfile::tempdir().unwrap();
        let conf = PathBuf::from(
            std::env::var_os("SOFTHSM2_CONF")
                .expect("SOFTHSM2_CONF comes from .cargo/config.toml; run the tests with cargo"),
        );
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        common::run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                TOKEN,
                "--so-pin",
                SO_PIN,
                "--pin",
                USER_PIN,
            ],
        );
        Self {
            dir,
            enrolment: quorum(),
            _lock: lock,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new openssl key, imported with `softhsm2-util --import`.
    fn import(&self, spec: KeySpec, label: &str, id: &str) -> PathBuf {
        let pem = genpkey(self.dir.path(), &format!("{label}-{id}.pem"), spec);
        self.import_pem(&pem, label, id);
        pem
    }

    fn import_pem(&self, pem: &Path, label: &str, id: &str) {
        common::run(
            "softhsm2-util",
            &[
                "--import",
                pem.to_str().unwrap(),
                "--token",
                TOKEN,
                "--label",
                label,
                "--id",
                id,
                "--pin",
                USER_PIN,
            ],
        );
    }

    /// Works on the token directly, with cryptoki: `login` as the user
    /// (with the PIN `softhsm2-util` set) or in a public session.
    fn direct<R>(&self, login: bool, work: impl FnOnce(&Session) -> R) -> R {
        let context = Pkcs11::new(MODULE).unwrap();
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        let slot = context
            .get_slots_with_initialized_token()
            .unwrap()
            .into_iter()
            .find(|slot| context.get_token_info(*slot).unwrap().label().trim_end() == TOKEN)
            .unwrap();
        let session = context.open_rw_session(slot).unwrap();
        if login {
            session
                .login(UserType::User, Some(&AuthPin::from(USER_PIN)))
                .unwrap();
        }
        let result = work(&session);
        if login {
            session.logout().unwrap();
        }
        session.close().unwrap();
        context.finalize().unwrap();
        result
    }

    /// Takes the token over, perhaps looking at a key to adopt (taken
    /// whatever the token says of it).
    fn initialize(&self, adopt: Option<&str>) -> Result<(Pkcs11Hsm, Option<TokenKey>), HsmError> {
        self.initialize_vetted(adopt, &|_| Ok(()))
    }

    /// Takes the token over, the key to adopt judged by `vet`.
    fn initialize_vetted(
        &self,
        adopt: Option<&str>,
        vet: &dyn Fn(&TokenKey) -> Result<(), String>,
    ) -> Result<(Pkcs11Hsm, Option<TokenKey>), HsmError> {
        Pkcs11Hsm::initialize(
            self.dir.path(),
            Path::new(MODULE),
            TOKEN,
            &Zeroizing::new(SO_PIN.to_owned()),
            self.enrolment.roster.clone(),
            &self.enrolment.secret,
            clock(),
            adopt.map(|label| Takeover { label, vet }),
        )
    }
}

/// Generates an EC key pair on the token as a careful administrator would
/// (sensitive, never extractable, sign only); returns its handles and the
/// uncompressed public point the token reports.
fn generate_ec(
    session: &Session,
    label: &str,
    id: u8,
    curve: &[u8],
    private: bool,
) -> (ObjectHandle, ObjectHandle, Vec<u8>) {
    let common = |is_private: bool| {
        vec![
            Attribute::Token(true),
            Attribute::Private(is_private),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(vec![id]),
        ]
    };
    let mut public = common(false);
    public.extend([Attribute::Verify(true), Attribute::EcParams(curve.to_vec())]);
    let mut secret = common(private);
    secret.extend([
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]);
    let (public, secret) = session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &secret)
        .unwrap();
    let point = session
        .get_attributes(public, &[AttributeType::EcPoint])
        .unwrap()
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .unwrap();
    // A DER OCTET STRING around the point: 04 41 04 ‖ x ‖ y for P-256.
    (public, secret, point[2..].to_vec())
}

#[test]
fn provenance_tells_an_imported_key_from_one_made_on_the_token() {
    let token = Token::new();
    let pems: Vec<(KeySpec, PathBuf)> = SPECS
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let label = format!("imported-{spec}");
            (*spec, token.import(*spec, &label, &format!("0{index}")))
        })
        .collect();
    token.direct(true, |session| {
        generate_ec(session, "made-here", 9, P256, true);
    });

    // Initialization looks at the key before the SO PIN changes.
    let (mut hsm, found) = token.initialize(Some("imported-ecdsap256sha256")).unwrap();
    let found = found.unwrap();
    assert_eq!(found.label, "imported-ecdsap256sha256");
    assert_eq!(found.spec, KeySpec::EcdsaP256);
    let point = common::run(
        "openssl",
        &[
            "pkey",
            "-in",
            pems[1].1.to_str().unwrap(),
            "-pubout",
            "-outform",
            "DER",
        ],
    );
    assert_eq!(found.dnskey.public_key(), &point[point.len() - 64..]);
    let imported = found.provenance;
    // What SoftHSM2 records for a key created with C_CreateObject.
    assert_eq!(imported.local, Some(false));
    assert_eq!(imported.always_sensitive, Some(false));
    assert_eq!(imported.never_extractable, Some(false));
    assert_eq!(imported.sensitive, Some(true));
    assert_eq!(imported.extractable, Some(false));
    assert_eq!(imported.private, Some(true));
    let words: Vec<String> = imported
        .failures()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        words.contains(
            &"CKA_LOCAL is false: the key was imported or unwrapped, not generated on the token: copies of it may exist"
                .to_owned()
        ),
        "{words:?}"
    );
    assert!(
        words
            .iter()
            .any(|word| word.starts_with("CKA_ALWAYS_SENSITIVE is false")),
        "{words:?}"
    );
    assert!(!imported.is_sound());

    hsm.activate(&token.enrolment.secret).unwrap();
    let made = hsm.provenance("made-here").unwrap();
    assert!(made.is_sound(), "{made:?}: {:?}", made.failures());
    assert_eq!(made.local, Some(true));
    assert_eq!(made.always_sensitive, Some(true));
    assert_eq!(made.never_extractable, Some(true));
    // softhsm2-util gives an imported RSA key decryption and unwrapping.
    let rsa = hsm.provenance("imported-rsasha256-2048").unwrap();
    assert_eq!((rsa.decrypt, rsa.unwrap), (Some(true), Some(true)));
    let attributes: Vec<&str> = rsa
        .failures()
        .iter()
        .map(|failure| failure.attribute())
        .collect();
    assert!(attributes.contains(&"CKA_DECRYPT") && attributes.contains(&"CKA_UNWRAP"));
    assert!(matches!(hsm.provenance("nothing"), Err(HsmError::NoKey(_))));
    hsm.deactivate();
    assert!(matches!(hsm.provenance("made-here"), Err(HsmError::Sealed)));
}

#[test]
fn adopted_keys_sign_what_openssl_verifies_and_stay_adopted() {
    let token = Token::new();
    let pems: Vec<(KeySpec, String, PathBuf)> = SPECS
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let label = format!("imported-{spec}");
            let pem = token.import(*spec, &label, &format!("0{index}"));
            (*spec, label, pem)
        })
        .collect();
    let point = token.direct(true, |session| {
        generate_ec(session, "made-here", 9, P256, true).2
    });
    let made_public = p256_public_pem(token.dir.path(), "made-here.pub", &point);

    let (mut hsm, found) = token.initialize(None).unwrap();
    assert!(found.is_none());
    assert!(matches!(hsm.adopt("made-here", 1), Err(HsmError::Sealed)));
    hsm.activate(&token.enrolment.secret).unwrap();
    let data = b"a DNSKEY RRset's signing input";
    let mut all: Vec<(KeySpec, String, PathBuf)> = pems
        .iter()
        .map(|(spec, label, pem)| (*spec, label.clone(), public_pem(pem)))
        .collect();
    all.push((KeySpec::EcdsaP256, "made-here".into(), made_public));
    for (created, (spec, label, public)) in (1_800_000_000..).zip(&all) {
        let info = hsm.adopt(label, created).unwrap();
        assert_eq!((info.spec, info.created), (*spec, created), "{label}");
        assert_eq!(Hsm::public_key(&hsm, label).unwrap(), info.dnskey);
        let signature = Hsm::sign(&hsm, label, data).unwrap();
        assert!(openssl_verifies(public, *spec, data, &signature), "{label}");
        assert!(
            !openssl_verifies(public, *spec, b"other", &signature),
            "{label}"
        );
        assert!(matches!(
            hsm.adopt(label, created),
            Err(HsmError::AlreadyAdopted(_))
        ));
    }
    // The sidecar records them: another process lists them with their
    // times, and they still sign.
    drop(hsm);
    let mut hsm = Pkcs11Hsm::open(token.dir.path(), clock()).unwrap();
    let listed: Vec<(String, u64)> = hsm
        .inventory()
        .unwrap()
        .into_iter()
        .map(|info| (info.label, info.created))
        .collect();
    for (created, (_, label, _)) in (1_800_000_000..).zip(&all) {
        assert!(listed.contains(&(label.clone(), created)), "{listed:?}");
    }
    hsm.activate(&token.enrolment.secret).unwrap();
    assert!(matches!(
        hsm.adopt("made-here", 1),
        Err(HsmError::AlreadyAdopted(_))
    ));
    let (spec, label, public) = &all[2];
    let signature = Hsm::sign(&hsm, label, data).unwrap();
    assert!(openssl_verifies(public, *spec, data, &signature));
}

#[test]
fn adopt_refuses_missing_ambiguous_recorded_mismatched_and_unguarded_keys() {
    let token = Token::new();
    // One label on two keys.
    token.import(KeySpec::EcdsaP256, "twice", "01");
    token.import(KeySpec::EcdsaP256, "twice", "02");
    // One key under two labels.
    let copied = token.import(KeySpec::Ed25519, "copy-a", "03");
    token.import_pem(&copied, "copy-b", "04");
    token.direct(true, |session| {
        generate_ec(session, "p384", 5, P384, true);
        // Two pairs whose halves are swapped onto one label.
        let (a_public, _, _) = generate_ec(session, "pair-a", 6, P256, true);
        let (_, b_private, _) = generate_ec(session, "pair-b", 7, P256, true);
        for handle in [a_public, b_private] {
            session
                .update_attributes(handle, &[Attribute::Label(b"mixed".to_vec())])
                .unwrap();
        }
        generate_ec(session, "unguarded", 8, P256, false);
    });
    // Why an unguarded key is refused: SoftHSM2 signs with it in a session
    // nobody logged in to.
    token.direct(false, |session| {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(b"unguarded".to_vec()),
            ])
            .unwrap();
        assert_eq!(found.len(), 1);
        session
            .sign(&Mechanism::Ecdsa, found[0], &Sha256::digest(b"anyone"))
            .unwrap();
    });

    let (mut hsm, _) = token.initialize(None).unwrap();
    hsm.activate(&token.enrolment.secret).unwrap();
    hsm.generate("ours", KeySpec::EcdsaP256, 1).unwrap();
    assert!(matches!(hsm.adopt("nothing", 1), Err(HsmError::NoKey(_))));
    assert!(matches!(hsm.adopt("twice", 1), Err(HsmError::Ambiguous(_))));
    assert!(matches!(
        hsm.adopt("ours", 1),
        Err(HsmError::AlreadyAdopted(_))
    ));
    assert!(matches!(
        hsm.adopt("p384", 1),
        Err(HsmError::Unsupported(_))
    ));
    assert!(matches!(
        hsm.adopt("mixed", 1),
        Err(HsmError::KeyMismatch(_))
    ));
    match hsm.adopt("unguarded", 1) {
        Err(HsmError::Invalid(message)) => assert!(message.contains("CKA_PRIVATE"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(hsm.provenance("unguarded").unwrap().private, Some(false));
    hsm.adopt("copy-a", 1).unwrap();
    match hsm.adopt("copy-b", 1) {
        Err(HsmError::SameKey(label)) => assert_eq!(label, "copy-a"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(hsm.adopt("a label", 1), Err(HsmError::Invalid(_))));
    // None of the refused ones was recorded.
    let recorded: Vec<String> = std::fs::read_to_string(token.path(hsm::PKCS11_FILE))
        .map(|text| {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json["keys"].as_object().unwrap().keys().cloned().collect()
        })
        .unwrap();
    assert_eq!(recorded, ["copy-a", "ours"]);

    // A token imports nothing itself: its own tools do, then it adopts.
    let pem = genpkey(token.dir.path(), "file.pem", KeySpec::Ed25519);
    let key = hsm::read_key_file(&std::fs::read(pem).unwrap()).unwrap();
    match hsm.import("file", key, 1) {
        Err(HsmError::Unsupported(message)) => {
            assert!(message.contains("softhsm2-util --import"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn initialize_stops_before_the_so_pin_changes_when_the_key_is_missing() {
    let token = Token::new();
    token.import(KeySpec::EcdsaP256, "twice", "01");
    token.import(KeySpec::EcdsaP256, "twice", "02");
    for (label, cause) in [("missing", "no key labelled"), ("twice", "2 objects")] {
        let err = token.initialize(Some(label)).err().unwrap();
        let message = err.to_string();
        match &err {
            HsmError::NotTakenOver { label: named, .. } => assert_eq!(named, label),
            other => panic!("{other:?}"),
        }
        assert!(message.contains("SO PIN is unchanged"), "{message}");
        assert!(message.contains("user PIN was reset"), "{message}");
        assert!(message.contains(cause), "{message}");
        // Nothing was written, and the operator's SO PIN still works: the
        // officer can set a user PIN again.
        assert!(!token.path(hsm::PKCS11_FILE).exists());
        token.direct(false, |session| {
            session
                .login(UserType::So, Some(&AuthPin::from(SO_PIN)))
                .unwrap();
            session.init_pin(&AuthPin::from(USER_PIN)).unwrap();
            session.logout().unwrap();
        });
    }
    // A key the caller refuses (here: imported, not made on the token) is
    // refused before the SO PIN changes too.
    token.import(KeySpec::EcdsaP256, "imported", "03");
    let refuse = |key: &TokenKey| {
        if key.provenance.is_sound() {
            Ok(())
        } else {
            Err("not made on the token".to_owned())
        }
    };
    let err = token
        .initialize_vetted(Some("imported"), &refuse)
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(message.contains("not made on the token"), "{message}");
    assert!(message.contains("SO PIN is unchanged"), "{message}");
    assert!(!token.path(hsm::PKCS11_FILE).exists());
    token.direct(false, |session| {
        session
            .login(UserType::So, Some(&AuthPin::from(SO_PIN)))
            .unwrap();
        session.init_pin(&AuthPin::from(USER_PIN)).unwrap();
        session.logout().unwrap();
    });
    // A label that is not one is refused before the token is touched.
    assert!(matches!(
        token.initialize(Some("a label")),
        Err(HsmError::Invalid(_))
    ));
    // And then the takeover can go ahead. Until it is completed, the
    // operator's SO PIN still works (an init that fails later leaves the
    // token to its officer); once completed, it no longer does.
    let (mut hsm, found) = token.initialize(None).unwrap();
    assert!(found.is_none());
    hsm.complete_takeover().unwrap();
    drop(hsm);
    let typed = token.direct(false, |session| {
        session.login(UserType::So, Some(&AuthPin::from(SO_PIN)))
    });
    assert!(typed.is_err(), "the SO PIN changes at a completed takeover");
}

#[test]
fn a_takeover_not_completed_leaves_the_token_to_its_officer() {
    let token = Token::new();
    let (hsm, _) = token.initialize(None).unwrap();
    // The init that took the token over failed before its end.
    drop(hsm);
    token.direct(false, |session| {
        session
            .login(UserType::So, Some(&AuthPin::from(SO_PIN)))
            .unwrap();
        session.logout().unwrap();
    });
}

#[test]
fn label_of_id_finds_a_key_while_sealed() {
    let token = Token::new();
    token.import(KeySpec::Ed25519, "by-id", "0a");
    // softhsm2-util refuses an id twice (without --force); cryptoki does
    // not ask.
    token.direct(true, |session| {
        generate_ec(session, "first", 7, P256, true);
        generate_ec(session, "second", 7, P256, true);
    });
    let (hsm, _) = token.initialize(None).unwrap();
    assert!(!hsm.is_active());
    assert_eq!(hsm.label_of_id(&[0x0a]).unwrap(), "by-id");
    match hsm.label_of_id(&[0x09]) {
        Err(HsmError::NoId(id)) => assert_eq!(id, "09"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        hsm.label_of_id(&[0x07]),
        Err(HsmError::Ambiguous(_))
    ));
}

//! One suite, run against both backends: the soft HSM in a temporary
//! directory and a real SoftHSM2 token (`/usr/lib/softhsm/libsofthsm2.so`)
//! with its own token directory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod common;

use common::quorum;
use hsm::{Clock, Hsm, HsmError, KeySpec, Pkcs11Hsm, RsaBits, SoftHsm};
use quorum::ActivationSecret;
use zeroize::Zeroizing;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "ceremony-test";
const SO_PIN: &str = "so-pin-for-tests";
const OLD_USER_PIN: &str = "the-pin-before";

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock {
    start: Instant,
    offset: Arc<AtomicU64>,
}

impl TestClock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: Arc::new(AtomicU64::new(0)),
        }
    }

    fn clock(&self) -> Clock {
        let this = self.clone();
        Arc::new(move || this.start + Duration::from_secs(this.offset.load(Ordering::SeqCst)))
    }

    fn advance(&self, seconds: u64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// The backends, made fresh: each returns the HSM (sealed), the secret,
/// and what keeps its files alive.
trait Backend {
    type Hsm: Hsm + ksr::BundleSigner;
    fn make(clock: Clock) -> (Self::Hsm, ActivationSecret, Fixture);
}

/// What a test keeps: its directory, and for PKCS#11 the lock that
/// serializes the module's use in this process.
struct Fixture {
    _dir: tempfile::TempDir,
    _lock: Option<MutexGuard<'static, ()>>,
}

struct Soft;

impl Backend for Soft {
    type Hsm = SoftHsm;

    fn make(clock: Clock) -> (SoftHsm, ActivationSecret, Fixture) {
        let dir = tempfile::tempdir().unwrap();
        let enrolment = quorum();
        let hsm = SoftHsm::create(dir.path(), enrolment.roster, &enrolment.secret, clock).unwrap();
        (
            hsm,
            enrolment.secret,
            Fixture {
                _dir: dir,
                _lock: None,
            },
        )
    }
}

/// One C_Initialize per process: the PKCS#11 tests take turns.
static MODULE_LOCK: Mutex<()> = Mutex::new(());

struct Token;

/// The SoftHSM2 module, loaded and initialized.
fn load_module() -> cryptoki::context::Pkcs11 {
    let context = cryptoki::context::Pkcs11::new(MODULE).unwrap();
    context
        .initialize(cryptoki::context::CInitializeArgs::new(
            cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
        ))
        .unwrap();
    context
}

/// The slot of the test token.
fn test_token(context: &cryptoki::context::Pkcs11) -> cryptoki::slot::Slot {
    context
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|slot| context.get_token_info(*slot).unwrap().label().trim_end() == TOKEN)
        .unwrap()
}

/// A slot whose token is not initialized (SoftHSM always offers one).
fn free_slot(context: &cryptoki::context::Pkcs11) -> cryptoki::slot::Slot {
    context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| !context.get_token_info(*slot).unwrap().token_initialized())
        .unwrap()
}

impl Token {
    /// A fresh SoftHSM2 token directory, named by SOFTHSM2_CONF (set by
    /// .cargo/config.toml), with a token labelled [`TOKEN`] whose user PIN
    /// is [`OLD_USER_PIN`], as an administrator would have prepared it.
    fn prepare(dir: &Path) -> MutexGuard<'static, ()> {
        let lock = MODULE_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let conf = PathBuf::from(
            std::env::var_os("SOFTHSM2_CONF")
                .expect("SOFTHSM2_CONF comes from .cargo/config.toml; run the tests with cargo"),
        );
        let tokens = dir.join("tokens");
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
        assert!(
            Path::new(MODULE).exists(),
            "{MODULE} is missing: the test command installs Debian's softhsm2"
        );
        let context = load_module();
        let slot = free_slot(&context);
        let so = cryptoki::types::AuthPin::from(SO_PIN);
        context.init_token(slot, &so, TOKEN).unwrap();
        let slot = test_token(&context);
        let session = context.open_rw_session(slot).unwrap();
        session
            .login(cryptoki::session::UserType::So, Some(&so))
            .unwrap();
        session
            .init_pin(&cryptoki::types::AuthPin::from(OLD_USER_PIN))
            .unwrap();
        session.logout().unwrap();
        session.close().unwrap();
        context.finalize().unwrap();
        lock
    }

    /// Whether a user PIN logs in to the test token.
    fn user_pin_works(pin: &str) -> bool {
        let context = load_module();
        let slot = test_token(&context);
        let session = context.open_ro_session(slot).unwrap();
        let works = session
            .login(
                cryptoki::session::UserType::User,
                Some(&cryptoki::types::AuthPin::from(pin)),
            )
            .is_ok();
        session.close().unwrap();
        context.finalize().unwrap();
        works
    }
}

impl Backend for Token {
    type Hsm = Pkcs11Hsm;

    fn make(clock: Clock) -> (Pkcs11Hsm, ActivationSecret, Fixture) {
        let dir = tempfile::tempdir().unwrap();
        let lock = Self::prepare(dir.path());
        let enrolment = quorum();
        let mut hsm = Pkcs11Hsm::initialize(
            dir.path(),
            Path::new(MODULE),
            TOKEN,
            &Zeroizing::new(SO_PIN.to_owned()),
            enrolment.roster,
            &enrolment.secret,
            clock,
            None,
        )
        .unwrap()
        .0;
        // As init does once everything else is made.
        hsm.complete_takeover().unwrap();
        (
            hsm,
            enrolment.secret,
            Fixture {
                _dir: dir,
                _lock: Some(lock),
            },
        )
    }
}

//------------ The suite -----------------------------------------------------

/// Every kind of key is made, signs what `ksr::verify` accepts, and is
/// listed and deleted; the public side reads while sealed.
fn keys_sign_and_verify<B: Backend>() {
    let clock = TestClock::new();
    let (mut hsm, secret, _fixture) = B::make(clock.clock());
    assert!(!hsm.is_active());
    assert!(matches!(
        hsm.generate("ksk", KeySpec::EcdsaP256, 1),
        Err(HsmError::Sealed)
    ));
    hsm.activate(&secret).unwrap();
    assert!(hsm.is_active());
    let specs = [
        KeySpec::Rsa(RsaBits::B2048),
        KeySpec::Rsa(RsaBits::B3072),
        KeySpec::EcdsaP256,
        KeySpec::Ed25519,
    ];
    for (index, spec) in specs.into_iter().enumerate() {
        let label = format!("ksk-{index}");
        let info = hsm.generate(&label, spec, 1_800_000_000).unwrap();
        assert_eq!(
            (info.spec, info.dnskey.algorithm()),
            (spec, spec.algorithm())
        );
        assert_eq!(Hsm::public_key(&hsm, &label).unwrap(), info.dnskey);
        let data = b"a DNSKEY RRset's signing input";
        let signature = Hsm::sign(&hsm, &label, data).unwrap();
        ksr::verify(&info.dnskey, data, &signature).unwrap_or_else(|err| panic!("{spec}: {err}"));
        assert!(ksr::verify(&info.dnskey, b"something else", &signature).is_err());
        // And through the builder's trait.
        assert_eq!(
            ksr::KeySource::public_key(&hsm, &label).unwrap(),
            info.dnskey
        );
    }
    assert!(matches!(
        hsm.generate("ksk-0", KeySpec::Ed25519, 1),
        Err(HsmError::DuplicateLabel(_))
    ));
    assert!(matches!(
        hsm.generate("a label", KeySpec::Ed25519, 1),
        Err(HsmError::Invalid(_))
    ));
    assert!(matches!(
        Hsm::sign(&hsm, "nothing", b"x"),
        Err(HsmError::NoKey(_))
    ));
    let err = ksr::BundleSigner::sign(&hsm, "nothing", b"x").unwrap_err();
    assert_eq!(err.kind, ksr::SignerErrorKind::NotFound);
    hsm.delete("ksk-1").unwrap();
    let labels: Vec<String> = hsm
        .inventory()
        .unwrap()
        .into_iter()
        .map(|key| key.label)
        .collect();
    assert_eq!(labels, ["ksk-0", "ksk-2", "ksk-3"]);
    // Sealed: public keys and the inventory still read, nothing signs.
    hsm.deactivate();
    assert!(!hsm.is_active());
    assert_eq!(hsm.inventory().unwrap().len(), 3);
    assert!(Hsm::public_key(&hsm, "ksk-2").is_ok());
    assert!(matches!(
        Hsm::sign(&hsm, "ksk-2", b"x"),
        Err(HsmError::Sealed)
    ));
    assert_eq!(hsm.roster().unwrap().generation(), 1);
}

/// A wrong secret is refused, counted, and after the limit nothing is
/// tried any more.
fn a_wrong_secret_is_refused_and_counted<B: Backend>() {
    let clock = TestClock::new();
    let (mut hsm, secret, _fixture) = B::make(clock.clock());
    let other = quorum().secret;
    assert!(matches!(hsm.activate(&other), Err(HsmError::WrongSecret)));
    assert!(!hsm.is_active());
    // A good activation resets the count.
    hsm.activate(&secret).unwrap();
    for _ in 0..hsm::MAX_FAILED_ACTIVATIONS {
        assert!(matches!(hsm.activate(&other), Err(HsmError::WrongSecret)));
    }
    assert!(matches!(hsm.activate(&secret), Err(HsmError::Locked(10))));
}

/// An idle HSM seals itself.
fn idle_time_seals<B: Backend>() {
    let clock = TestClock::new();
    let (hsm, secret, _fixture) = B::make(clock.clock());
    let mut hsm = hsm;
    hsm.activate(&secret).unwrap();
    hsm.generate("ksk", KeySpec::Ed25519, 1).unwrap();
    clock.advance(14 * 60);
    Hsm::sign(&hsm, "ksk", b"x").unwrap();
    clock.advance(14 * 60);
    Hsm::sign(&hsm, "ksk", b"x").unwrap();
    // Asking whether it is active does not keep it active.
    clock.advance(10 * 60);
    assert!(hsm.is_active());
    clock.advance(5 * 60 + 1);
    assert!(matches!(
        Hsm::sign(&hsm, "ksk", b"x"),
        Err(HsmError::IdleTimeout(_))
    ));
    assert!(!hsm.is_active());
    hsm.activate(&secret).unwrap();
    Hsm::sign(&hsm, "ksk", b"x").unwrap();
}

/// An SKR built by the builder through the HSM passes dnspython-free
/// checks: the KSK signs and verifies as `build_skr` wants.
fn the_builder_signs_through_the_hsm<B: Backend>() {
    let clock = TestClock::new();
    let (mut hsm, secret, _fixture) = B::make(clock.clock());
    hsm.activate(&secret).unwrap();
    let info = hsm.generate("Kbuild", KeySpec::EcdsaP256, 1).unwrap();
    let signed = ksr::BundleSigner::sign(&hsm, "Kbuild", b"input").unwrap();
    assert!(ksr::verify(&info.dnskey, b"input", &signed).is_ok());
}

macro_rules! suite {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn keys_sign_and_verify() {
                super::keys_sign_and_verify::<$backend>();
            }

            #[test]
            fn a_wrong_secret_is_refused_and_counted() {
                super::a_wrong_secret_is_refused_and_counted::<$backend>();
            }

            #[test]
            fn idle_time_seals() {
                super::idle_time_seals::<$backend>();
            }

            #[test]
            fn the_builder_signs_through_the_hsm() {
                super::the_builder_signs_through_the_hsm::<$backend>();
            }
        }
    };
}

suite!(soft, Soft);
suite!(token, Token);

//------------ Backend-specific ----------------------------------------------

#[test]
fn the_token_pin_before_initialization_no_longer_works_and_keys_stay_inside() {
    let clock = TestClock::new();
    let (mut hsm, secret, fixture) = Token::make(clock.clock());
    hsm.activate(&secret).unwrap();
    for (label, spec) in [
        ("rsa", KeySpec::Rsa(RsaBits::B2048)),
        ("p256", KeySpec::EcdsaP256),
        ("ed25519", KeySpec::Ed25519),
    ] {
        hsm.generate(label, spec, 1).unwrap();
        assert_eq!(
            hsm.private_key_protection(label).unwrap(),
            hsm::Protection {
                extractable: false,
                sensitive: true,
                other_uses: false,
                secret_readable: false,
            },
            "{label}"
        );
    }
    drop(hsm);
    assert!(!Token::user_pin_works(OLD_USER_PIN));
    drop(fixture);
}

#[test]
fn init_takes_the_so_pin_away_and_a_pin_changed_behind_the_quorum_is_named() {
    let clock = TestClock::new();
    let (hsm, secret, fixture) = Token::make(clock.clock());
    drop(hsm);
    let context = load_module();
    let session = context.open_rw_session(test_token(&context)).unwrap();
    // The SO PIN the operator typed at init opens nothing any more.
    let typed = session.login(
        cryptoki::session::UserType::So,
        Some(&cryptoki::types::AuthPin::from(SO_PIN)),
    );
    assert!(
        matches!(
            typed,
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::PinIncorrect,
                _
            ))
        ),
        "{typed:?}"
    );
    // Whoever has the quorum's secret can still be the security officer
    // (the documented derivation), and sets another user PIN.
    let so = hex::encode(secret.derive_key("pkcs11 so pin").as_ref());
    session
        .login(
            cryptoki::session::UserType::So,
            Some(&cryptoki::types::AuthPin::from(so.as_str())),
        )
        .unwrap();
    session
        .init_pin(&cryptoki::types::AuthPin::from("someone-elses-pin"))
        .unwrap();
    session.logout().unwrap();
    session.close().unwrap();
    context.finalize().unwrap();
    let mut hsm = Pkcs11Hsm::open(fixture._dir.path(), clock.clock()).unwrap();
    // The secret's point is right, so C_Login is tried, refused, and said
    // to be the token's doing, not the quorum's.
    assert!(matches!(hsm.activate(&secret), Err(HsmError::PinChanged)));
    let failures =
        std::fs::read_to_string(fixture._dir.path().join(hsm::PKCS11_FAILURES_FILE)).unwrap();
    assert_eq!(failures.trim(), "1");
}

#[test]
fn the_user_pin_changes_at_every_deactivation() {
    let clock = TestClock::new();
    let (mut hsm, secret, fixture) = Token::make(clock.clock());
    let user_pin = |serial: u32| {
        let purpose = if serial == 0 {
            "pkcs11 user pin".to_owned()
        } else {
            format!("pkcs11 user pin {serial}")
        };
        hex::encode(secret.derive_key(&purpose).as_ref())
    };
    for serial in 0..3 {
        hsm.activate(&secret).unwrap();
        hsm.generate(&format!("k{serial}"), KeySpec::EcdsaP256, 1)
            .unwrap();
        hsm.deactivate();
        drop(hsm);
        // The PIN of that session opens nothing now; the next one does.
        assert!(!Token::user_pin_works(&user_pin(serial)), "serial {serial}");
        assert!(
            Token::user_pin_works(&user_pin(serial + 1)),
            "serial {serial}"
        );
        hsm = Pkcs11Hsm::open(fixture._dir.path(), clock.clock()).unwrap();
    }
    drop(hsm);
    drop(fixture);
}

#[test]
fn a_module_that_is_not_the_pinned_one_is_never_loaded() {
    let clock = TestClock::new();
    let (hsm, _secret, fixture) = Token::make(clock.clock());
    drop(hsm);
    let sidecar_path = fixture._dir.path().join(hsm::PKCS11_FILE);
    let sidecar = std::fs::read_to_string(&sidecar_path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&sidecar).unwrap();
    // A "module" that would run code if loaded: a file of another hash,
    // and one writable by others. Neither is passed to dlopen.
    let planted = fixture._dir.path().join("wrapper.so");
    std::fs::write(&planted, b"not a module, and not the pinned one").unwrap();
    json["module"] = planted.display().to_string().into();
    std::fs::write(&sidecar_path, json.to_string()).unwrap();
    let err = Pkcs11Hsm::open(fixture._dir.path(), clock.clock())
        .err()
        .unwrap();
    assert!(matches!(err, HsmError::UntrustedModule(_)), "{err}");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = Pkcs11Hsm::open(fixture._dir.path(), clock.clock())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("writable by group or others"),
        "{err}"
    );
    drop(fixture);
}

#[test]
fn two_tokens_with_one_label_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let _lock = Token::prepare(dir.path());
    // A second token with the same label, in the same token directory.
    let context = load_module();
    let slot = free_slot(&context);
    context
        .init_token(slot, &cryptoki::types::AuthPin::from(SO_PIN), TOKEN)
        .unwrap();
    context.finalize().unwrap();
    let enrolment = quorum();
    let err = Pkcs11Hsm::initialize(
        dir.path(),
        Path::new(MODULE),
        TOKEN,
        &Zeroizing::new(SO_PIN.to_owned()),
        enrolment.roster,
        &enrolment.secret,
        TestClock::new().clock(),
        None,
    )
    .err()
    .unwrap();
    assert!(matches!(err, HsmError::Ambiguous(_)), "{err}");
}

#[test]
fn a_flipped_byte_in_the_soft_store_is_found_on_activation() {
    let clock = TestClock::new();
    let (mut hsm, secret, fixture) = Soft::make(clock.clock());
    hsm.activate(&secret).unwrap();
    hsm.generate("ksk", KeySpec::EcdsaP256, 1).unwrap();
    hsm.generate("ksk-rsa", KeySpec::Rsa(RsaBits::B2048), 2)
        .unwrap();
    drop(hsm);
    let path = fixture._dir.path().join(hsm::STORE_FILE);
    let original = std::fs::read(&path).unwrap();
    let mut positions: Vec<usize> = (0..original.len()).step_by(3).collect();
    positions.push(original.len() - 2);
    for position in positions {
        let mut edited = original.clone();
        edited[position] ^= 0x01;
        std::fs::write(&path, &edited).unwrap();
        // Each position gets a fresh count of failed activations.
        let _ = std::fs::remove_file(fixture._dir.path().join(hsm::FAILURES_FILE));
        let opened = SoftHsm::open(fixture._dir.path(), clock.clock());
        let refused = match opened {
            Err(HsmError::Tampered(_)) => true,
            Err(other) => panic!("byte {position}: {other}"),
            Ok(mut hsm) => matches!(
                hsm.activate(&secret),
                Err(HsmError::Tampered(_) | HsmError::WrongSecret)
            ),
        };
        let near = String::from_utf8_lossy(
            &original[position.saturating_sub(40)..(position + 10).min(original.len())],
        );
        assert!(refused, "byte {position} was not noticed, near {near:?}");
    }
    std::fs::write(&path, &original).unwrap();
    let mut hsm = SoftHsm::open(fixture._dir.path(), clock.clock()).unwrap();
    hsm.activate(&secret).unwrap();
    assert!(Hsm::sign(&hsm, "ksk", b"x").is_ok());
}

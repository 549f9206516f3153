//! `init`: a new ceremony. Prepared (every argument and the directory
//! checked, the summary made), then run: the cards make their keys, the
//! roster binds them, the HSM is made with its first KSK, the cards get
//! their shares, the PUKs go out, the policy is written. The secret lives
//! only in memory and is wiped before anything is reported. A failure
//! removes what was made and is recorded; the audit log stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hsm::{Hsm, KeySpec, Pkcs11Hsm, SoftHsm};
use ksr::{Config, DomainName, KskRole};
use serde::Serialize;
use serde_json::Map;
use sha2::Digest as _;
use smartcard_sim::{KdfParams, Pin};
use zeroize::Zeroizing;

use crate::audit::{self, Event, OperationKind, Outcome, Trail};
use crate::clock::{Clock, Now};
use crate::error::Error;
use crate::issue::{Issuing, PukDelivery, check_officers};
use crate::layout::Layout;
use crate::ops::{KskOrigin, details};
use crate::policy::ksk_entry;
use crate::records::{dnskey_record, ds_record};

/// The label of the first KSK.
pub const FIRST_KSK: &str = "ksk-1";

/// Where the KSKs of a new ceremony live.
pub enum Backend {
    /// The soft HSM in `DIR/hsm` (exercises and tests).
    Soft,
    /// An initialized PKCS#11 token.
    Pkcs11 {
        /// The module.
        module: PathBuf,
        /// The token's label.
        token: String,
        /// Its SO PIN.
        so_pin: Zeroizing<String>,
    },
}

/// What `init` is asked to make.
pub struct InitRequest {
    /// The new ceremony directory.
    pub dir: PathBuf,
    /// The officers' names.
    pub officers: Vec<String>,
    /// k.
    pub threshold: usize,
    /// Where the first KSK comes from: made now, imported from a key file
    /// (soft HSM), or adopted from the token (PKCS#11).
    pub first: crate::ops::KskOrigin,
    /// Its label [default: `ksk-1`; for an adopted key, the token's].
    pub label: Option<String>,
    /// For a key that exists already: the SHA-256 DS digest the parent
    /// publishes for it; any other key is refused before anything is made.
    pub expect_ds: Option<String>,
    /// The zone.
    pub domain: DomainName,
    /// The HSM.
    pub backend: Backend,
    /// The cards' PIN derivation.
    pub kdf: KdfParams,
    /// Where the PUKs go.
    pub puks: PukDelivery,
    /// Now.
    pub now: Now,
    /// A rehearsal rather than a production ceremony.
    pub rehearsal: bool,
    /// Where the cards go, each where its officer keeps it (a production
    /// ceremony's cards may not be inside its directory); `DIR/cards`
    /// without it.
    pub cards_dir: Option<PathBuf>,
    /// The intake's key, pinned in the sealed state (`--intake-key`).
    pub intake_key: Option<crate::media::IntakeKey>,
    /// The TTL of the DNSKEY RRset (`ksk_policy.ttl`) [default: the
    /// root's 172800 for the root, 3600 for another zone, as Knot DNS and
    /// BIND publish it].
    pub ttl: Option<u32>,
}

/// An `init` whose arguments were checked.
pub struct PreparedInit {
    request: InitRequest,
}

/// A new ceremony, as made.
#[derive(Clone, Debug, Serialize)]
pub struct Initialized {
    /// The directory.
    pub dir: String,
    /// The zone.
    pub domain: String,
    /// The first KSK: label, tag, DNSKEY and DS records.
    pub ksk: crate::ops::NewKsk,
    /// k.
    pub threshold: usize,
    /// Officer, serial and card file of each card.
    pub cards: Vec<(String, String, String)>,
    /// The PUK file, if the PUKs went to one.
    pub puk_file: Option<String>,
    /// The backend: soft or pkcs11.
    pub backend: &'static str,
    /// A rehearsal, not a production ceremony.
    pub rehearsal: bool,
    /// The audit log's head after the closing entry.
    pub audit_head: String,
}

/// Checks everything `init` can check before it makes anything: the
/// officers and threshold, the PUK file, the directory (it holds no
/// ceremony and no remains of one), and that the PINs are there.
///
/// # Errors
///
/// What is wrong, naming it.
pub fn prepare_init(request: InitRequest) -> Result<PreparedInit, Error> {
    check_officers(&request.officers, request.threshold)?;
    let layout = Layout::new(&request.dir);
    if !request.rehearsal {
        if !request.kdf.is_strong() {
            return Err(Error::Production(
                "a production ceremony's cards use the strong PIN derivation (--kdf strong); --kdf light is for a rehearsal (init --rehearsal)".into(),
            ));
        }
        match &request.cards_dir {
            None => {
                return Err(Error::Production(
                    "a production ceremony keeps no cards beside its key store: give --cards-dir, a folder outside the ceremony directory where the officers take their cards from (or init --rehearsal)".into(),
                ));
            }
            Some(cards) if crate::process::inside(cards, layout.root()) => {
                return Err(Error::Production(format!(
                    "--cards-dir {} is inside the ceremony directory: a production ceremony keeps no cards beside its key store",
                    cards.display()
                )));
            }
            Some(_) => {}
        }
    }
    let remains: Vec<&str> = [
        (layout.policy().exists(), "a policy (ceremony.toml)"),
        (holds_files(&layout.hsm()), "an HSM (hsm/)"),
        (holds_files(&layout.cards()), "cards (cards/)"),
    ]
    .into_iter()
    .filter_map(|(there, what)| there.then_some(what))
    .collect();
    if !remains.is_empty() {
        let mut what = remains.join(" and ");
        if interrupted_init(&layout) {
            // A crash or a kill during init: nothing in it was handed
            // over or published, and init never guesses which half to keep.
            what.push_str(
                " from an init that was interrupted (its audit log has no init-done): nothing of it was handed over; remove the directory, and the PUK file if it was written, then run init again",
            );
        }
        return Err(Error::CeremonyExists {
            dir: request.dir.clone(),
            what,
        });
    }
    request.puks.check()?;
    check_first_key(&request)?;
    Ok(PreparedInit { request })
}

/// The first KSK's origin fits the backend, its label is valid, and a key
/// file's key is the one the parent's DS points to, if that was given.
fn check_first_key(request: &InitRequest) -> Result<(), Error> {
    use crate::ops::KskOrigin;
    let label = request.label.as_deref().unwrap_or(FIRST_KSK);
    hsm::check_label(label).map_err(Error::Key)?;
    match (&request.first, &request.backend) {
        (KskOrigin::Import { .. }, Backend::Pkcs11 { .. }) => Err(Error::Key(
            "a PKCS#11 token imports keys with its own tools (softhsm2-util --import, pkcs11-tool --write-object); then adopt the key: ceremony init --adopt LABEL".into(),
        )),
        (KskOrigin::Adopt { .. }, Backend::Soft) => Err(Error::Key(
            "--adopt takes a key already on a PKCS#11 token (--backend pkcs11); for a key file: --import FILE".into(),
        )),
        (KskOrigin::Adopt { .. }, _) if request.label.is_none() => Err(Error::Key(
            "--adopt needs the token key's label".into(),
        )),
        (KskOrigin::Import { key, file, .. }, _) => {
            crate::ops::keygen::check_key_file_zone(file, &request.domain)?;
            crate::ops::keygen::check_expected_ds(
                &request.domain,
                &key.dnskey(),
                request.expect_ds.as_deref(),
            )
        }
        (KskOrigin::Generate(_), _) if request.expect_ds.is_some() => Err(Error::Key(
            "--expect-ds is for a key that exists already (--import or --adopt)".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether the directory's audit log shows an init begun and never done.
fn interrupted_init(layout: &Layout) -> bool {
    match hsm::read_audit_log(&layout.audit()) {
        Ok(entries) => !entries.iter().any(|entry| entry.event == "init-done"),
        // No log (killed before its first entry), or one cut short.
        Err(_) => true,
    }
}

/// Whether a directory exists and holds anything.
fn holds_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

impl PreparedInit {
    /// The request.
    pub fn request(&self) -> &InitRequest {
        &self.request
    }

    /// Makes the ceremony, with each officer's PIN (in order).
    ///
    /// # Errors
    ///
    /// Anything failed; what was made is removed and the failure recorded
    /// in the audit log.
    pub fn run(self, pins: Vec<Pin>, clock: Clock, holder: &str) -> Result<Initialized, Error> {
        let mut request = self.request;
        let layout = Layout::new(&request.dir);
        let cards = request.cards_dir.clone().unwrap_or_else(|| layout.cards());
        for dir in [layout.root().to_path_buf(), cards, layout.hsm()] {
            make_private_dir(&dir)?;
        }
        let lock = durable::LockFile::acquire(layout.lock(), holder).map_err(|err| match err {
            durable::LockError::Busy { holder, .. } => Error::Busy {
                what: format!("the ceremony in {}", layout.root().display()),
                holder,
            },
            durable::LockError::Io { path, source } => Error::Read { path, source },
        })?;
        let (mut trail, left_open) = Trail::open(&layout.audit(), clock.clone())?;
        if let Some(left) = left_open {
            trail.close_interrupted(left)?;
        }
        // What a killed init left beside the PUK file it was writing.
        if let Some(path) = request.puks.file() {
            let removed = durable::sweep_for(path).map_err(Error::read(path))?;
            if !removed.is_empty() {
                trail.record(&Event::stale_files_removed(&removed))?;
            }
        }
        let mut begin = details([
            ("domain", request.domain.to_string().into()),
            (
                "algorithm",
                match &request.first {
                    crate::ops::KskOrigin::Generate(spec) => spec.to_string(),
                    crate::ops::KskOrigin::Import { key, .. } => key.spec().to_string(),
                    crate::ops::KskOrigin::Adopt { .. } => "the token's".into(),
                }
                .into(),
            ),
            ("officers", request.officers.clone().into()),
            ("threshold", request.threshold.into()),
            ("rehearsal", request.rehearsal.into()),
        ]);
        if let Some(path) = request.puks.file() {
            begin.insert("puk_file".into(), path.display().to_string().into());
        }
        let open = trail.begin(OperationKind::Init, begin)?;
        let trail = Arc::new(Mutex::new(trail));
        let made = make(&mut request, &layout, pins, &clock, &trail);
        let mut trail = audit::lock(&trail);
        let result = match made {
            Ok(mut initialized) => trail
                .close(
                    open,
                    Outcome::Done,
                    details([("ksk_tag", initialized.ksk.key_tag.into())]),
                )
                .map(|_| {
                    initialized.audit_head = trail.head();
                    initialized
                }),
            Err(err) => {
                // Nothing half-made is kept: the cards and the HSM go.
                let _ = std::fs::remove_dir_all(layout.hsm());
                let _ = std::fs::remove_dir_all(layout.cards());
                let mut reason = Map::new();
                reason.insert("reason".into(), err.to_string().into());
                let _ = trail.close(open, Outcome::Failed, reason);
                Err(err)
            }
        };
        drop(lock);
        result
    }
}

/// The making itself.
fn make(
    request: &mut InitRequest,
    layout: &Layout,
    pins: Vec<Pin>,
    clock: &Clock,
    trail: &audit::SharedTrail,
) -> Result<Initialized, Error> {
    let record = |event: Event| audit::lock(trail).record(&event).map(drop);
    // The cards make their keys, which the roster binds. They are stored
    // only once the HSM and its KSK exist, so a failing HSM (a wrong SO
    // PIN, no token) leaves no card behind.
    let cards = request.cards_dir.clone().unwrap_or_else(|| layout.cards());
    let mut issuing = Issuing::begin(&cards, &request.officers, pins, request.kdf, 1)?;
    let enrolment = quorum::enrol(issuing.officers.clone(), request.threshold)?;
    let label = request
        .label
        .clone()
        .unwrap_or_else(|| FIRST_KSK.to_owned());
    // The key file's key moves into the HSM; the request keeps nothing
    // secret after this.
    let first = std::mem::replace(
        &mut request.first,
        KskOrigin::Adopt {
            accept_imported: None,
        },
    );
    // A key to adopt is judged while the operator's SO PIN still works, so
    // that a refusal leaves the token to its security officer.
    let accept = match &first {
        KskOrigin::Adopt { accept_imported } => Some(accept_imported.clone()),
        _ => None,
    };
    let (domain, expect_ds) = (request.domain.clone(), request.expect_ds.clone());
    let vet = |key: &hsm::TokenKey| -> Result<(), String> {
        let accept = accept.clone().flatten();
        crate::ops::keygen::judge_provenance(&key.label, &key.provenance, accept.as_deref())
            .map_err(|err| err.to_string())?;
        crate::ops::keygen::check_expected_ds(&domain, &key.dnskey, expect_ds.as_deref())
            .map_err(|err| err.to_string())
    };
    let takeover = accept.is_some().then_some(hsm::Takeover {
        label: label.as_str(),
        vet: &vet,
    });
    let mut hsm: Box<dyn Hsm> = match &request.backend {
        Backend::Soft => Box::new(SoftHsm::create(
            &layout.hsm(),
            enrolment.roster.clone(),
            &enrolment.secret,
            clock.hsm(),
        )?),
        Backend::Pkcs11 {
            module,
            token,
            so_pin,
        } => Box::new(
            Pkcs11Hsm::initialize(
                &layout.hsm(),
                module,
                token,
                so_pin,
                enrolment.roster.clone(),
                &enrolment.secret,
                clock.hsm(),
                takeover,
            )
            // The key to adopt was refused: a refusal, not a failure.
            .map_err(|err| match err {
                hsm::HsmError::NotTakenOver { .. } => Error::Key(err.to_string()),
                other => other.into(),
            })?
            .0,
        ),
    };
    hsm.activate(&enrolment.secret)?;
    record(Event::HsmActivated)?;
    // The HSM stays active until the state is sealed into it, below; it is
    // sealed when dropped on any failure before.
    let created = u64::from(request.now.time.to_unix());
    let (ksk, origin) = match first {
        KskOrigin::Generate(spec) => (hsm.generate(&label, spec, created)?, None),
        KskOrigin::Import { key, file, sha256 } => {
            let format = key.format().to_string();
            let ksk = hsm.import(&label, key, created)?;
            (
                ksk,
                Some((
                    format!("imported from {file} ({format}, SHA-256 {sha256})"),
                    None,
                )),
            )
        }
        KskOrigin::Adopt { accept_imported } => {
            let (ksk, failures) = crate::ops::keygen::adopt(
                hsm.as_mut(),
                &label,
                accept_imported.as_deref(),
                created,
            )?;
            let origin = if failures.is_empty() {
                "adopted: made on the token, never extractable".to_owned()
            } else {
                format!("adopted: {}", failures.join("; "))
            };
            (
                ksk,
                Some((origin, accept_imported.filter(|_| !failures.is_empty()))),
            )
        }
    };
    crate::ops::keygen::check_expected_ds(
        &request.domain,
        &ksk.dnskey,
        request.expect_ds.as_deref(),
    )?;
    let mut config = config(&request.domain, ksk.spec);
    if let Some(ttl) = request.ttl {
        config.ksk_policy.ttl = ttl;
    }
    let ds = ksr::Ds::compute(&request.domain, &ksk.dnskey, ksr::DigestType::Sha256);
    record(match origin {
        None => Event::KeyGenerated {
            label: ksk.label.clone(),
            key_tag: ksk.dnskey.key_tag().to_int(),
            ds_sha256: ds.digest_hex(),
        },
        Some((origin, accepted)) => Event::KeyTaken {
            label: ksk.label.clone(),
            key_tag: ksk.dnskey.key_tag().to_int(),
            ds_sha256: ds.digest_hex(),
            origin,
            accepted,
        },
    })?;
    // Now the cards get their shares, and the PUKs go out at once.
    issuing.finish(&enrolment.shares)?;
    issuing.hand_out(&mut request.puks)?;
    record(Event::CardsIssued {
        generation: 1,
        cards: issuing
            .cards()
            .into_iter()
            .map(|(officer, serial, _)| (officer, serial))
            .collect(),
    })?;
    // The state is sealed under this key once the policy is written.
    let state_key = crate::state::StateKey::derive(&enrolment.secret);
    let roster = enrolment.roster.clone();
    // The secret is wiped here, before anything is reported.
    drop(enrolment);
    config.keys.insert(
        KskRole::Current.name().into(),
        ksk_entry(&config, &request.domain, &ksk, request.now.time),
    );
    let text = config.to_toml();
    durable::write(&layout.policy(), text.as_bytes(), durable::Replace::Never)?;
    record(Event::PolicyWritten {
        sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
        change: format!("{} is ksk_current", ksk.label),
    })?;
    let policy = crate::policy::Policy::load(&layout.policy())?;
    let keys = hsm.inventory()?;
    let binding = hsm.binding();
    crate::state::seal_parts(
        layout,
        trail,
        hsm.as_mut(),
        crate::state::Parts {
            roster: &roster,
            policy: &policy,
            keys: &keys,
            hsm: binding,
            rehearsal: request.rehearsal,
            chain: crate::state::Chain {
                intake_key: request.intake_key,
                last_skr: None,
            },
        },
        &state_key,
        None,
    )?;
    hsm.deactivate();
    record(Event::HsmDeactivated)?;
    // Only now, with everything made, does the operator's SO PIN stop
    // opening the token: a failure before leaves it to its officer (an
    // adopted key the parent's DS points to is not lost with it).
    hsm.complete_takeover()?;
    let ttl = config.ksk_policy.ttl;
    Ok(Initialized {
        dir: layout.root().display().to_string(),
        domain: request.domain.to_string(),
        ksk: crate::ops::NewKsk {
            label: ksk.label.clone(),
            key_tag: ksk.dnskey.key_tag().to_int(),
            dnskey: dnskey_record(&request.domain, ttl, &ksk.dnskey),
            ds: ds_record(&request.domain, &ksk.dnskey),
            role: KskRole::Current,
        },
        threshold: request.threshold,
        cards: issuing
            .cards()
            .into_iter()
            .map(|(officer, serial, path)| (officer, serial, path.display().to_string()))
            .collect(),
        puk_file: request.puks.file().map(|path| path.display().to_string()),
        backend: match request.backend {
            Backend::Soft => "soft",
            Backend::Pkcs11 { .. } => "pkcs11",
        },
        rehearsal: request.rehearsal,
        audit_head: String::new(),
    })
}

/// A directory made with mode 0700, whatever the umask.
fn make_private_dir(dir: &Path) -> Result<(), Error> {
    crate::process::private_dir(dir)
}

/// The policy of a new ceremony: the built-in one for the domain, the
/// KSK's algorithm the only approved one for the root (8, 13 and 15 for
/// another zone, with Knot's and BIND's year-ahead horizon).
fn config(domain: &DomainName, spec: KeySpec) -> Config {
    let mut config = Config::default();
    let mnemonic = spec
        .algorithm()
        .mnemonic()
        .unwrap_or("RSASHA256")
        .to_owned();
    let policy = &mut config.request_policy;
    policy.acceptable_domains = vec![domain.to_string()];
    policy.approved_algorithms = vec![mnemonic];
    policy.enable_unsupported_ecdsa = spec == KeySpec::EcdsaP256;
    policy.enable_unsupported_edwards_dsa = spec == KeySpec::Ed25519;
    if domain.as_str() != "." {
        // A zone signed by Knot DNS or BIND: their ZSK algorithms (8, 13,
        // 15; the KSK's first, which `zsk make-ksr` takes) and sizes, and
        // their cadence, many short bundles a year ahead. The DNSSEC rule
        // that the ZSKs' algorithm be the KSK's is SIGN-ALG-COVERAGE's,
        // checked before any card.
        for other in ["RSASHA256", "ECDSAP256SHA256", "ED25519"] {
            if !policy.approved_algorithms.iter().any(|name| name == other) {
                policy.approved_algorithms.push(other.to_owned());
            }
        }
        policy.enable_unsupported_ecdsa = true;
        policy.enable_unsupported_edwards_dsa = true;
        policy.rsa_approved_key_sizes = vec![2048, 3072, 4096];
        policy.signature_horizon_days = 400;
        // Knot DNS's and BIND's DNSKEY TTL (`dnskey-ttl`), not the
        // root's two days: their KSRs carry it, and KSR-POLICY-TTL would
        // warn at every one.
        config.ksk_policy.ttl = 3600;
    }
    config.ksk_policy.signers_name = domain.to_string();
    config.keys.clear();
    config
}

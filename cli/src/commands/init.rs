//! `ceremony init`: a new ceremony directory: the activation secret, the
//! cards, the HSM with its first KSK, the policy and the audit log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hsm::{Clock, Hsm, KeyInfo, KeySpec, Pkcs11Hsm, RsaBits, SoftHsm};
use ksr::{Config, DigestType, DomainName, Ds, KskConfig};
use quorum::enrol;
use serde::Serialize;
use smartcard_sim::{KdfParams, Pin};
use zeroize::Zeroizing;

use crate::ceremony::audit::Audit;
use crate::ceremony::files::write_atomically;
use crate::ceremony::{Layout, issue};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};
use crate::secrets::Secrets;

/// The label of the first KSK, and its name in the policy.
pub const FIRST_KSK: &str = "ksk-1";

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new ceremony directory (must not hold a ceremony).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The officers' names, comma-separated: CO-1,CO-2,...
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "cards",
        value_name = "NAMES"
    )]
    officers: Vec<String>,
    /// Instead of --officers: N officers named CO-1 … CO-N.
    #[arg(long, value_name = "N")]
    cards: Option<usize>,
    /// How many officers' cards activate the HSM (k of n).
    #[arg(long, value_name = "K")]
    threshold: usize,
    /// The KSK algorithm: rsasha256, ecdsap256sha256 or ed25519. The ZSKs
    /// must use it too (DNSSEC signs the DNSKEY RRset with every algorithm
    /// in it): for the root the policy approves only it; for another zone
    /// all three, and signing holds the ZSKs to it (SIGN-ALG-COVERAGE).
    #[arg(long, value_name = "ALGORITHM")]
    algorithm: String,
    /// RSA modulus size: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048, value_name = "N")]
    bits: u32,
    /// The zone.
    #[arg(long, default_value = ".", value_name = "NAME")]
    domain: String,
    /// The officers' PINs (TOML: CO-1 = "483920"); without it each PIN is
    /// asked twice.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Where to write the PUKs, once (TOML [puk] table; never
    /// overwritten); without it they are printed, once.
    #[arg(long, value_name = "OUT")]
    puk_file: Option<PathBuf>,
    /// The HSM: soft (a sealed store in DIR/hsm) or pkcs11.
    #[arg(long, default_value = "soft", value_name = "BACKEND")]
    backend: String,
    /// For pkcs11: the module.
    #[arg(long, value_name = "PATH", required_if_eq("backend", "pkcs11"))]
    module: Option<PathBuf>,
    /// For pkcs11: the label of the initialized token.
    #[arg(long, value_name = "LABEL", required_if_eq("backend", "pkcs11"))]
    token: Option<String>,
    /// For pkcs11: a file holding the token's SO PIN.
    #[arg(long, value_name = "FILE", required_if_eq("backend", "pkcs11"))]
    so_pin_file: Option<PathBuf>,
    /// The cards' PIN derivation: strong (Argon2id 64 MiB, 3 passes, the
    /// default) or light (for tests and quick rehearsals only).
    #[arg(long, default_value = "strong", value_name = "KDF")]
    kdf: String,
}

/// What `init` reports.
#[derive(Serialize)]
struct Initialized {
    dir: String,
    domain: String,
    ksk: KskReport,
    threshold: usize,
    cards: Vec<CardReport>,
    puk_file: Option<String>,
}

#[derive(Serialize)]
struct KskReport {
    label: String,
    key_tag: u16,
    dnskey: String,
    ds: String,
}

#[derive(Serialize)]
struct CardReport {
    officer: String,
    serial: String,
    card: String,
}

/// Runs `init`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let officers = officers(args)?;
    let spec = spec(&args.algorithm, args.bits)?;
    let domain: DomainName = args
        .domain
        .parse()
        .map_err(|err| CliError::Usage(format!("--domain {:?}: {err}", args.domain)))?;
    let kdf = match args.kdf.as_str() {
        "strong" => KdfParams::STRONG,
        "light" => KdfParams::LIGHT,
        other => return Err(CliError::Usage(format!("--kdf {other:?}: strong or light"))),
    };
    if context.json && args.puk_file.is_none() {
        return Err(CliError::Usage(
            "with --json, give --puk-file: the PUKs are shown once and not in JSON".into(),
        ));
    }
    check_puk_file(args.puk_file.as_deref())?;
    let layout = Layout::new(&args.dir);
    if layout.config().exists() {
        return Err(CliError::Usage(format!(
            "{} already holds a ceremony; init never overwrites one",
            args.dir.display()
        )));
    }
    let secrets = Secrets::new(args.pin_file.as_deref())?;
    let pins: Vec<Pin> = officers
        .iter()
        .map(|officer| secrets.initial_pin(officer))
        .collect::<Result<_, _>>()?;
    for dir in [layout.root().to_path_buf(), layout.cards(), layout.hsm()] {
        std::fs::create_dir_all(&dir).map_err(|source| CliError::Write { path: dir, source })?;
    }
    let (now, _) = context.now()?;

    // The cards make their keys, which the roster binds. They are written
    // only once the HSM and its KSK exist, so a failing HSM (a wrong SO
    // PIN, no token) leaves no issued card behind.
    let mut issuing = issue::begin(&layout.cards(), &officers, &pins, kdf, 1)?;
    let enrolment = enrol(issuing.officers.clone(), args.threshold)
        .map_err(|err| CliError::Usage(format!("--threshold {}: {err}", args.threshold)))?;

    // The HSM and the first KSK.
    let clock: Clock = Arc::new(Instant::now);
    let mut hsm: Box<dyn Hsm> = match args.backend.as_str() {
        "soft" => Box::new(SoftHsm::create(
            &layout.hsm(),
            enrolment.roster.clone(),
            &enrolment.secret,
            clock,
        )?),
        "pkcs11" => {
            let (Some(module), Some(token), Some(so_pin_file)) =
                (&args.module, &args.token, &args.so_pin_file)
            else {
                return Err(CliError::Usage(
                    "--backend pkcs11 needs --module, --token and --so-pin-file".into(),
                ));
            };
            let so_pin = read_secret_file(so_pin_file)?;
            Box::new(Pkcs11Hsm::initialize(
                &layout.hsm(),
                module,
                token,
                &so_pin,
                enrolment.roster.clone(),
                &enrolment.secret,
                clock,
            )?)
        }
        other => {
            return Err(CliError::Usage(format!(
                "--backend {other:?}: soft or pkcs11"
            )));
        }
    };
    hsm.activate(&enrolment.secret)?;
    let ksk = hsm.generate(FIRST_KSK, spec, u64::from(now.to_unix()));
    hsm.deactivate();
    let ksk = ksk?;
    // Now the cards get their shares, and the PUKs go out at once.
    issuing.finish(&enrolment.shares)?;
    issuing.hand_out_puks(args.puk_file.as_deref(), context.json)?;
    // The secret is wiped here, before anything is reported.
    let roster_digest = hex::encode(enrolment.roster.digest());
    drop(enrolment);

    let ds = Ds::compute(&domain, &ksk.dnskey, DigestType::Sha256);
    let config = config(&domain, spec, &ksk, now, ds.digest_hex());
    write_atomically(&layout.config(), config.to_toml().as_bytes(), true).map_err(|source| {
        CliError::Write {
            path: layout.config(),
            source,
        }
    })?;
    let mut audit = Audit::open(&layout)?;
    audit.record(
        "init",
        None,
        serde_json::json!({
            "domain": domain.as_str(),
            "algorithm": spec.to_string(),
            "ksk_label": ksk.label,
            "ksk_tag": ksk.dnskey.key_tag().to_int(),
            "ds_sha256": ds.digest_hex(),
            "officers": officers,
            "threshold": args.threshold,
            "serials": issuing.cards().into_iter().map(|(_, serial, _)| serial).collect::<Vec<_>>(),
            "roster_digest": roster_digest,
            "backend": args.backend,
        }),
    )?;

    let report = Initialized {
        dir: layout.root().display().to_string(),
        domain: domain.to_string(),
        ksk: KskReport {
            label: ksk.label.clone(),
            key_tag: ksk.dnskey.key_tag().to_int(),
            dnskey: dnskey_line(&domain, &ksk),
            ds: format!("{domain} IN DS {}", ds.rdata_text()),
        },
        threshold: args.threshold,
        cards: issuing
            .cards()
            .into_iter()
            .map(|(officer, serial, card)| CardReport {
                officer,
                serial,
                card,
            })
            .collect(),
        puk_file: args
            .puk_file
            .as_ref()
            .map(|path| path.display().to_string()),
    };
    if context.json {
        render::json(&report)?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "ceremony for {} in {}: {} of {} officers activate the HSM ({})",
        report.domain,
        report.dir,
        args.threshold,
        officers.len(),
        args.backend
    ))?;
    out(format!(
        "KSK {} tag {}",
        report.ksk.label, report.ksk.key_tag
    ))?;
    out(format!("  {}", report.ksk.dnskey))?;
    out(format!("  {}", report.ksk.ds))?;
    for card in &report.cards {
        out(format!(
            "card {} of {}: {}",
            card.serial, card.officer, card.card
        ))?;
    }
    if let Some(path) = &report.puk_file {
        out(format!(
            "PUKs written to {path} (keep it offline; it is not shown again)"
        ))?;
    }
    Ok(Outcome::Success)
}

/// The officers' names.
fn officers(args: &Args) -> Result<Vec<String>, CliError> {
    let officers: Vec<String> = match args.cards {
        Some(count) => (1..=count).map(|number| format!("CO-{number}")).collect(),
        None => args.officers.clone(),
    };
    check_officers(&officers, args.threshold)?;
    Ok(officers)
}

/// Officers' names name card files; k of n must be possible.
pub fn check_officers(officers: &[String], threshold: usize) -> Result<(), CliError> {
    if officers.len() < 2 {
        return Err(CliError::Usage(
            "a quorum needs at least two officers (--officers A,B,… or --cards N)".into(),
        ));
    }
    for officer in officers {
        if officer.is_empty()
            || officer.len() > 64
            || !officer
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(CliError::Usage(format!(
                "officer {officer:?}: 1 to 64 letters, digits, '-', '_' or '.' (it names a card file)"
            )));
        }
    }
    if threshold < 2 || threshold > officers.len() {
        return Err(CliError::Usage(format!(
            "--threshold {threshold}: 2 to {} (the number of officers)",
            officers.len()
        )));
    }
    Ok(())
}

/// A PUK file must not exist yet: the PUKs are written once, and a
/// failure after the cards exist must not lose them.
pub fn check_puk_file(path: Option<&Path>) -> Result<(), CliError> {
    match path {
        Some(path) if path.exists() => Err(CliError::Usage(format!(
            "--puk-file {} exists; it is never overwritten",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// The key kind of `--algorithm` and `--bits`.
pub fn spec(algorithm: &str, bits: u32) -> Result<KeySpec, CliError> {
    match algorithm.to_ascii_lowercase().as_str() {
        "rsasha256" => RsaBits::from_bits(bits)
            .map(KeySpec::Rsa)
            .ok_or_else(|| CliError::Usage(format!("--bits {bits}: 2048, 3072 or 4096"))),
        "ecdsap256sha256" => Ok(KeySpec::EcdsaP256),
        "ed25519" => Ok(KeySpec::Ed25519),
        other => Err(CliError::Usage(format!(
            "--algorithm {other:?}: rsasha256, ecdsap256sha256 or ed25519"
        ))),
    }
}

/// The policy of a new ceremony: the built-in one for the domain, the
/// KSK's algorithm the only approved one for the root (8, 13 and 15 for
/// another zone, with Knot's and BIND's year-ahead horizon), and the KSK
/// pinned.
fn config(
    domain: &DomainName,
    spec: KeySpec,
    ksk: &KeyInfo,
    now: ksr::Timestamp,
    ds: String,
) -> Config {
    let mut config = Config::default();
    let mnemonic = spec
        .algorithm()
        .mnemonic()
        .unwrap_or("RSASHA256")
        .to_owned();
    let policy = &mut config.request_policy;
    policy.acceptable_domains = vec![domain.to_string()];
    policy.approved_algorithms = vec![mnemonic.clone()];
    policy.enable_unsupported_ecdsa = spec == KeySpec::EcdsaP256;
    policy.enable_unsupported_edwards_dsa = spec == KeySpec::Ed25519;
    if domain.as_str() != "." {
        // A zone signed by Knot DNS or BIND: their ZSK algorithms (8, 13,
        // 15; the KSK's first, which `zsk make-ksr` takes) and sizes, and
        // their cadence, many short bundles a year ahead. The DNSSEC rule
        // that the ZSKs' algorithm be the KSK's is SIGN-ALG-COVERAGE's at
        // signing time. The root keeps its published practice.
        for other in ["RSASHA256", "ECDSAP256SHA256", "ED25519"] {
            if !policy.approved_algorithms.iter().any(|name| name == other) {
                policy.approved_algorithms.push(other.to_owned());
            }
        }
        policy.enable_unsupported_ecdsa = true;
        policy.enable_unsupported_edwards_dsa = true;
        policy.rsa_approved_key_sizes = vec![2048, 3072, 4096];
        policy.signature_horizon_days = 400;
    }
    config.ksk_policy.signers_name = domain.to_string();
    config.keys.clear();
    let (rsa_size, rsa_exponent) = match spec {
        KeySpec::Rsa(bits) => (Some(bits.bits()), Some(65537)),
        _ => (None, None),
    };
    config.keys.insert(
        "ksk_current".into(),
        KskConfig {
            label: ksk.label.clone(),
            algorithm: mnemonic,
            rsa_size,
            rsa_exponent,
            valid_from: now,
            valid_until: None,
            ds_sha256: ds,
            key_tag: ksk.dnskey.key_tag().to_int(),
        },
    );
    config
}

/// The KSK as a zone-file DNSKEY record.
pub fn dnskey_line(domain: &DomainName, ksk: &KeyInfo) -> String {
    format!(
        "{domain} 172800 IN DNSKEY {} {} {} {}",
        ksk.dnskey.flags(),
        ksk.dnskey.protocol(),
        ksk.dnskey.algorithm().to_int(),
        ksr::to_base64(ksk.dnskey.public_key())
    )
}

/// A secret from a file: its first line.
fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|source| CliError::Read {
            path: path.to_owned(),
            source,
        })?,
    );
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}

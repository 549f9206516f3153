//! `ceremony init`: a new ceremony directory: the activation secret, the
//! cards, the HSM with its first KSK, the policy and the audit log.

use std::path::{Path, PathBuf};

use hsm::{KeySpec, RsaBits};
use ksr::DomainName;
use signer::{Backend, InitRequest, KskOrigin, PukDelivery, prepare_init};
use smartcard_sim::{KdfParams, Pin};
use zeroize::Zeroizing;

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;
use crate::terminal;

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ceremony init --dir c --cards-dir /media/officers --cards 5 --threshold 3 \\
      --algorithm ecdsap256sha256 --domain example.
  ceremony --now 2029-12-01T00:00:00Z init --rehearsal --dir c --officers alice,bob,carol \\
      --threshold 2 --algorithm rsasha256 --pin-file pins.toml --puk-file puks.toml --kdf light
  ceremony init --dir c --cards-dir /media/officers --cards 3 --threshold 2 --algorithm ed25519 \\
      --backend pkcs11 --module /usr/lib/softhsm/libsofthsm2.so --token ceremony --so-pin-file so-pin
  ceremony init --dir c --cards-dir /media/officers --cards 3 --threshold 2 --domain example. \\
      --import Kexample.+013+12345.private --expect-ds 5E7A…   (an existing KSK, BIND's files)
  ceremony init --dir c --cards-dir /media/officers --cards 3 --threshold 2 --domain example. \\
      --backend pkcs11 --module /usr/lib/softhsm/libsofthsm2.so --token ceremony --so-pin-file so-pin \\
      --adopt ksk-2024   (an existing KSK on the token)")]
pub struct Args {
    /// The new ceremony directory (must not hold a ceremony).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The officers' names, comma-separated: CO-1,CO-2,...
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "cards",
        required_unless_present = "cards",
        value_name = "NAMES"
    )]
    officers: Vec<String>,
    /// Instead of --officers: N officers named CO-1 … CO-N.
    #[arg(long, value_name = "N")]
    cards: Option<usize>,
    /// How many officers' cards activate the HSM (k of n).
    #[arg(long, value_name = "K")]
    threshold: usize,
    #[command(flatten)]
    key: KeyArgs,
    /// The first KSK's HSM label, which SKRs carry as its keyIdentifier
    /// [default: ksk-1; with --adopt, the token's].
    #[arg(long, value_name = "LABEL", conflicts_with = "adopt")]
    label: Option<String>,
    /// The zone.
    #[arg(long, default_value = ".", value_name = "NAME")]
    domain: String,
    /// The DNSKEY RRset's TTL in seconds (`ksk_policy.ttl`), as the zone's
    /// signer publishes it (Knot DNS and BIND: `dnskey-ttl`) [default:
    /// 172800 for the root, 3600 for another zone].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=2_147_483_647))]
    ttl: Option<u32>,
    /// The officers' PINs (TOML: CO-1 = "483920"); without it each officer
    /// chooses a PIN at the terminal, typed twice.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Where to write the PUKs, once (TOML [puk] table, mode 0600; never
    /// overwritten); without it each officer is shown their PUK alone.
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
    /// default) or light (a rehearsal only).
    #[arg(long, default_value = "strong", value_name = "KDF")]
    kdf: String,
    /// Where the cards go, each where its officer keeps it: a folder
    /// outside the ceremony directory (required for a production
    /// ceremony; DIR/cards for a rehearsal without it).
    #[arg(long, value_name = "DIR")]
    cards_dir: Option<PathBuf>,
    /// A rehearsal (tabletop exercise, tests, the demo), not a production
    /// ceremony: light-KDF cards, cards inside the ceremony directory and a
    /// --now far from the clock are allowed, and every screen and audit
    /// record says it is a rehearsal. Without it: a production ceremony,
    /// which refuses all three. Sealed at init; nobody can change it.
    #[arg(long)]
    rehearsal: bool,
    /// The intake's public key (IDIR/intake.pub, carried from the intake
    /// machine): every transfer set signed here must be signed by it.
    /// Sealed; changed later only with a quorum (ceremony intake pin).
    #[arg(long, value_name = "FILE")]
    intake_key: Option<PathBuf>,
}

/// A KSK's kind on the command line, or the key that exists already.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The KSK algorithm: rsasha256, ecdsap256sha256 or ed25519. The ZSKs
    /// must use it too (DNSSEC signs the DNSKEY RRset with every algorithm
    /// in it): signing checks it before any card (SIGN-ALG-COVERAGE).
    /// Not with --import or --adopt: the key's own.
    #[arg(
        long,
        value_name = "ALGORITHM",
        required_unless_present_any = ["import", "adopt", "adopt_id"],
        conflicts_with_all = ["import", "adopt", "adopt_id"]
    )]
    pub algorithm: Option<String>,
    /// RSA modulus size: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048, value_name = "N")]
    pub bits: u32,
    /// Take an existing KSK from a key file into the soft HSM instead of
    /// making one: PKCS#8 PEM (`PRIVATE KEY`, also `RSA PRIVATE KEY` and
    /// `EC PRIVATE KEY`), a BIND `K*.private` file, or a Knot DNS keystore
    /// PEM. Its DS is shown (and checked with --expect-ds) before it is
    /// taken; shred the file afterwards.
    #[arg(long, value_name = "FILE", conflicts_with = "adopt")]
    pub import: Option<PathBuf>,
    /// Take an existing KSK that is already on the PKCS#11 token, by its
    /// label, instead of making one. Refused unless the token made it and
    /// it never left (CKA_LOCAL, CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, not
    /// CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE), or --accept-imported.
    #[arg(long, value_name = "LABEL", conflicts_with = "adopt_id")]
    pub adopt: Option<String>,
    /// keygen: like --adopt, the key named by its CKA_ID on the token (hex,
    /// as `pkcs11-tool --id` or `softhsm2-util --id` set it) rather than
    /// its label. (At init the token is not open yet: name it by label.)
    #[arg(long, value_name = "HEX", conflicts_with = "import")]
    pub adopt_id: Option<String>,
    /// With --adopt: take a key the token did not make, or that was
    /// extractable once (a copy may exist elsewhere), and record why.
    #[arg(long, value_name = "REASON")]
    pub accept_imported: Option<String>,
    /// With --import or --adopt: the SHA-256 DS digest (hex) the parent
    /// publishes for the key; another key is refused.
    #[arg(long, value_name = "HEX")]
    pub expect_ds: Option<String>,
}

impl KeyArgs {
    /// Where the KSK comes from.
    pub fn origin(&self) -> Result<KskOrigin, CliError> {
        if let Some(file) = &self.import {
            // A key file is read into memory that is wiped, and no further
            // than a key file can be long (what is longer is refused).
            let mut bytes = Zeroizing::new(Vec::new());
            std::fs::File::open(file)
                .and_then(|handle| {
                    std::io::Read::read_to_end(
                        &mut std::io::Read::take(handle, hsm::MAX_KEY_FILE as u64 + 1),
                        &mut bytes,
                    )
                })
                .map_err(signer::Error::read(file))?;
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes.as_slice()));
            let key = hsm::read_key_file(&bytes).map_err(|err| {
                CliError::Signer(signer::Error::Key(format!("{}: {err}", file.display())))
            })?;
            return Ok(KskOrigin::Import {
                key,
                file: file.display().to_string(),
                sha256,
            });
        }
        if self.accept_imported.is_some() && self.adopt.is_none() && self.adopt_id.is_none() {
            return Err(CliError::Value {
                option: "accept-imported",
                value: String::new(),
                expected: "--accept-imported goes with --adopt or --adopt-id",
            });
        }
        if self.adopt.is_some() || self.adopt_id.is_some() {
            return Ok(KskOrigin::Adopt {
                accept_imported: self.accept_imported.clone(),
            });
        }
        self.spec().map(KskOrigin::Generate)
    }

    /// The key kind of --algorithm and --bits.
    fn spec(&self) -> Result<KeySpec, CliError> {
        let algorithm = self.algorithm.clone().unwrap_or_default();
        match algorithm.to_ascii_lowercase().as_str() {
            "rsasha256" => RsaBits::from_bits(self.bits)
                .map(KeySpec::Rsa)
                .ok_or_else(|| CliError::Value {
                    option: "bits",
                    value: self.bits.to_string(),
                    expected: "2048, 3072 or 4096",
                }),
            "ecdsap256sha256" => Ok(KeySpec::EcdsaP256),
            "ed25519" => Ok(KeySpec::Ed25519),
            _ => Err(CliError::Value {
                option: "algorithm",
                value: algorithm,
                expected: "rsasha256, ecdsap256sha256 or ed25519",
            }),
        }
    }
}

/// The cards' PIN derivation of `--kdf`.
pub fn kdf(text: &str) -> Result<KdfParams, CliError> {
    match text {
        "strong" => Ok(KdfParams::STRONG),
        "light" => Ok(KdfParams::LIGHT),
        other => Err(CliError::Value {
            option: "kdf",
            value: other.to_owned(),
            expected: "strong or light",
        }),
    }
}

/// Where the PUKs go: the file, or each officer alone at the screen.
pub fn puk_delivery(path: Option<&Path>, context: &Context) -> Result<PukDelivery, CliError> {
    match path {
        Some(path) => Ok(PukDelivery::File(path.to_owned())),
        None if context.json => Err(CliError::JsonNeedsPukFile),
        None => Ok(PukDelivery::EachOfficer(Box::new(|slip| {
            terminal::show_puk_alone(slip)
        }))),
    }
}

/// The PINs of new cards, officer by officer; at the terminal the rules
/// are said first.
pub fn new_pins(secrets: &Secrets, officers: &[String]) -> Result<Vec<Pin>, CliError> {
    if matches!(secrets, Secrets::Prompt) {
        render::say(format!(
            "each officer chooses the PIN of their card ({}), typed twice",
            terminal::pin_rules()
        ));
    }
    officers
        .iter()
        .map(|officer| secrets.initial_pin(officer))
        .collect()
}

/// Runs `init`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if args.key.adopt_id.is_some() {
        return Err(CliError::Value {
            option: "adopt-id",
            value: args.key.adopt_id.clone().unwrap_or_default(),
            expected: "a label at init (--adopt LABEL): the token is not open before it is taken over; pkcs11-tool --list-objects shows the labels",
        });
    }
    let officers: Vec<String> = match args.cards {
        Some(count) => (1..=count).map(|number| format!("CO-{number}")).collect(),
        None => args.officers.clone(),
    };
    let domain: DomainName = args.domain.parse().map_err(|source| {
        CliError::Signer(signer::Error::Domain {
            text: args.domain.clone(),
            source,
        })
    })?;
    let backend = match args.backend.as_str() {
        "soft" => Backend::Soft,
        "pkcs11" => {
            let (Some(module), Some(token), Some(so_pin_file)) =
                (&args.module, &args.token, &args.so_pin_file)
            else {
                return Err(CliError::Value {
                    option: "backend",
                    value: "pkcs11".into(),
                    expected: "pkcs11 needs --module, --token and --so-pin-file",
                });
            };
            Backend::Pkcs11 {
                module: module.clone(),
                token: token.clone(),
                so_pin: read_secret_file(so_pin_file)?,
            }
        }
        other => {
            return Err(CliError::Value {
                option: "backend",
                value: other.to_owned(),
                expected: "soft or pkcs11",
            });
        }
    };
    let prepared = prepare_init(InitRequest {
        dir: args.dir.clone(),
        officers: officers.clone(),
        threshold: args.threshold,
        first: args.key.origin()?,
        label: args.label.clone().or_else(|| args.key.adopt.clone()),
        expect_ds: args.key.expect_ds.clone(),
        domain,
        backend,
        kdf: kdf(&args.kdf)?,
        puks: puk_delivery(args.puk_file.as_deref(), context)?,
        now: context.now()?,
        rehearsal: args.rehearsal,
        cards_dir: args.cards_dir.clone(),
        ttl: args.ttl,
        intake_key: args
            .intake_key
            .as_deref()
            .map(signer::media::IntakeKey::read)
            .transpose()
            .map_err(signer::Error::from)?,
    })?;
    let secrets = Secrets::new(args.pin_file.as_deref())?;
    let pins = new_pins(&secrets, &officers)?;
    let holder = format!("process {} (ceremony init)", std::process::id());
    let made = prepared.run(pins, context.clock(), &holder)?;
    if context.json {
        render::json(&made)?;
        return Ok(Outcome::Success);
    }
    if made.rehearsal {
        out(render::REHEARSAL)?;
    }
    out(format!(
        "ceremony for {} in {}: {} of {} officers activate the HSM ({})",
        made.domain,
        made.dir,
        made.threshold,
        made.cards.len(),
        made.backend
    ))?;
    out(format!("KSK {} tag {}", made.ksk.label, made.ksk.key_tag))?;
    out(format!("  {}", made.ksk.dnskey))?;
    out(format!("  {}", made.ksk.ds))?;
    for (officer, serial, card) in &made.cards {
        out(format!("card {serial} of {officer}: {card}"))?;
    }
    if let Some(path) = &made.puk_file {
        out(format!(
            "PUKs written to {path} (keep it offline and apart from the cards; it is not shown again)"
        ))?;
    }
    if let Some(so_pin_file) = &args.so_pin_file {
        out(format!(
            "the token's SO PIN is now one only the quorum derives: destroy {} (shred it); the PIN it holds opens nothing",
            so_pin_file.display()
        ))?;
    }
    out("next:")?;
    if args.key.import.is_some() || args.key.adopt.is_some() {
        out(format!(
            "  1. compare the DS record above with the one the parent of {} publishes: the key existed before{}",
            made.domain,
            if args.key.import.is_some() {
                "; shred the key file"
            } else {
                ""
            }
        ))?;
    } else {
        out(format!(
            "  1. publish the DS record above at the parent of {} (after comparing it with this screen)",
            made.domain
        ))?;
    }
    out("  2. give each officer their card file, and keep the cards apart")?;
    out(format!(
        "  3. when the first KSR comes: ceremony --config {}/ceremony.toml sign KSR --no-previous-skr -o SKR",
        made.dir
    ))?;
    render::audit_head(&made.audit_head)?;
    Ok(Outcome::Success)
}

/// A secret from a file: its first line.
fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(signer::Error::read(path))?);
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}

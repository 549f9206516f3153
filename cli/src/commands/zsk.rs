//! `ceremony zsk make-ksr`: the ZSK operator's side, for exercises and
//! tests. It keeps ZSK key pairs in a directory and plans nine bundles a
//! quarter as the root zone does, with ZSK rolls: the next ZSK published
//! in the last bundle, the old one kept in the first bundle of the next
//! quarter.

use std::path::{Path, PathBuf};

use hsm::{KeySpec, RsaBits, SoftKey};
use ksr::{
    AlgorithmParameters, Bundle, Dnskey, DocumentRole, DomainName, Duration, Flags, Key, Ksr,
    Policy, Rrsig, Signature, SignatureAlgorithm, Skr, Timestamp,
};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::ceremony::files::{uuid, write_atomically};
use crate::document::parse_file;
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};

const DAY: u32 = 86_400;

/// The ZSK side's commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the KSR of a quarter: nine bundles ten days apart, each valid
    /// 21 days, ZSKs rolled as the root zone rolls them, every bundle
    /// signed by each of its ZSKs (proof of possession).
    MakeKsr(MakeKsr),
}

/// Arguments of `zsk make-ksr`.
#[derive(Debug, clap::Args)]
pub struct MakeKsr {
    /// The directory of the ZSK key pairs (made if absent).
    #[arg(long, value_name = "ZDIR")]
    dir: PathBuf,
    /// The zone.
    #[arg(long, value_name = "NAME")]
    domain: String,
    /// Where to write the KSR (never overwritten).
    #[arg(long, value_name = "KSR")]
    out: PathBuf,
    /// The SKR answering the previous quarter: the new quarter continues
    /// from its last bundle's ZSKs, ten days after its last inception.
    #[arg(long, value_name = "SKR")]
    previous_skr: Option<PathBuf>,
    /// The first bundle's inception for a first quarter, RFC 3339 [default:
    /// the next midnight UTC ten days from --now or the clock].
    #[arg(long, value_name = "RFC3339")]
    inception: Option<String>,
    /// The ZSK algorithm: rsasha256 (2048 bits), ecdsap256sha256 or
    /// ed25519 [default: the one the policy (--config or ./ceremony.toml)
    /// approves, else rsasha256].
    #[arg(long, value_name = "ALGORITHM")]
    algorithm: Option<String>,
}

/// What `make-ksr` reports.
#[derive(Serialize)]
struct Made {
    ksr: String,
    id: String,
    bundles: usize,
    first_inception: Timestamp,
    last_expiration: Timestamp,
    zsks: Vec<String>,
}

/// Runs a `zsk` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::MakeKsr(args) => make_ksr(args, context),
    }
}

fn make_ksr(args: &MakeKsr, context: &Context) -> Result<Outcome, CliError> {
    let domain: DomainName = args
        .domain
        .parse()
        .map_err(|err| CliError::Usage(format!("--domain {:?}: {err}", args.domain)))?;
    let spec = algorithm(args, context)?;
    if args.out.exists() {
        return Err(CliError::Usage(format!(
            "{} exists; a KSR is never overwritten",
            args.out.display()
        )));
    }
    let previous = match &args.previous_skr {
        Some(path) => match parse_file(path, DocumentRole::PreviousSkr, ksr::parse_skr)? {
            Ok(skr) => Some(skr),
            Err(mut findings) => {
                let files = render::Files::one(path);
                return render::findings(context, &files, &mut findings, "not readable");
            }
        },
        None => None,
    };
    std::fs::create_dir_all(&args.dir).map_err(|source| CliError::Write {
        path: args.dir.clone(),
        source,
    })?;
    let store = ZskStore {
        dir: &args.dir,
        spec,
    };
    let (start, carried, serial) = match &previous {
        Some(skr) => continue_from(skr, &store)?,
        None => {
            let start = match &args.inception {
                Some(text) => Timestamp::parse_document(text).map_err(|source| CliError::Now {
                    text: text.clone(),
                    source,
                })?,
                None => {
                    let (now, _) = context.now()?;
                    let midnight = now.to_unix() / DAY * DAY;
                    Timestamp::from_unix(midnight.saturating_add(10 * DAY))
                }
            };
            // A first quarter as the root's: a ZSK leaving in bundle 1, the
            // current one, and the next arriving in bundle 9.
            (start, vec![store.create()?, store.create()?], 1)
        }
    };
    let next = store.create()?;
    let (leaving, current) = match carried.as_slice() {
        [leaving, current] => (Some(leaving), current),
        [current] => (None, current),
        _ => {
            return Err(CliError::Usage(
                "the previous SKR's last bundle has neither one nor two ZSKs".into(),
            ));
        }
    };
    let bundles: Vec<Bundle> = (0..9u32)
        .map(|index| {
            let members: Vec<&Zsk> = match index {
                0 => leaving.into_iter().chain([current]).collect(),
                8 => vec![current, &next],
                _ => vec![current],
            };
            let inception = start.to_unix().saturating_add(index * 10 * DAY);
            bundle(&domain, &members, inception)
        })
        .collect::<Result<_, _>>()?;
    let ksr = Ksr {
        id: uuid(),
        serial,
        domain,
        timestamp: None,
        zsk_policy: zsk_policy(spec),
        bundles,
    };
    let xml = ksr::write_ksr(&ksr);
    write_atomically(&args.out, xml.as_bytes(), true).map_err(|source| CliError::Write {
        path: args.out.clone(),
        source,
    })?;
    let made = Made {
        ksr: args.out.display().to_string(),
        id: ksr.id.clone(),
        bundles: ksr.bundles.len(),
        first_inception: ksr.bundles.first().map_or(start, |bundle| bundle.inception),
        last_expiration: ksr.bundles.last().map_or(start, |bundle| bundle.expiration),
        zsks: leaving
            .into_iter()
            .chain([current, &next])
            .map(|zsk| format!("{} (tag {})", zsk.identifier, zsk.dnskey.key_tag()))
            .collect(),
    };
    if context.json {
        render::json(&made)?;
    } else {
        out(format!(
            "{}: KSR {} for {}, 9 bundles from {} to {}; ZSKs {}",
            made.ksr,
            made.id,
            ksr.domain,
            made.first_inception,
            made.last_expiration,
            made.zsks.join(", ")
        ))?;
    }
    Ok(Outcome::Success)
}

/// The ZSK algorithm: the option, else the policy's, else RSASHA256.
fn algorithm(args: &MakeKsr, context: &Context) -> Result<KeySpec, CliError> {
    let text = match &args.algorithm {
        Some(text) => text.to_ascii_lowercase(),
        None => {
            let (config, _) = context.config()?;
            config
                .request_policy
                .approved_algorithms
                .first()
                .map_or_else(|| "rsasha256".to_owned(), |name| name.to_ascii_lowercase())
        }
    };
    match text.as_str() {
        "rsasha256" => Ok(KeySpec::Rsa(RsaBits::B2048)),
        "ecdsap256sha256" => Ok(KeySpec::EcdsaP256),
        "ed25519" => Ok(KeySpec::Ed25519),
        other => Err(CliError::Usage(format!(
            "--algorithm {other:?}: rsasha256, ecdsap256sha256 or ed25519"
        ))),
    }
}

/// A quarter after the previous SKR: ten days after its last inception,
/// with its last bundle's ZSKs.
fn continue_from(skr: &Skr, store: &ZskStore<'_>) -> Result<(Timestamp, Vec<Zsk>, u64), CliError> {
    let last = skr
        .bundles
        .last()
        .ok_or_else(|| CliError::Usage("the previous SKR has no bundles".into()))?;
    let mut carried = Vec::new();
    for key in last
        .keys
        .iter()
        .filter(|key| key.dnskey.flags() == Flags::ZSK)
    {
        let zsk = store.load(&key.identifier)?;
        if zsk.dnskey.public_key() != key.dnskey.public_key() {
            return Err(CliError::Usage(format!(
                "ZSK {:?} in {} is not the one the previous SKR publishes",
                key.identifier,
                store.dir.display()
            )));
        }
        carried.push(zsk);
    }
    let start = Timestamp::from_unix(last.inception.to_unix().saturating_add(10 * DAY));
    Ok((start, carried, skr.serial.saturating_add(1)))
}

/// One request bundle: the ZSKs with TTL 172800, and a signature by each
/// over the DNSKEY RRset.
fn bundle(domain: &DomainName, members: &[&Zsk], inception: u32) -> Result<Bundle, CliError> {
    let ttl = 172_800;
    let keys: Vec<Key> = members
        .iter()
        .map(|zsk| Key {
            identifier: zsk.identifier.clone(),
            key_tag: zsk.dnskey.key_tag(),
            ttl,
            dnskey: zsk.dnskey.clone(),
        })
        .collect();
    let expiration = inception.saturating_add(21 * DAY);
    let mut signatures = Vec::new();
    for zsk in members {
        let mut rrsig = Rrsig {
            algorithm: zsk.dnskey.algorithm(),
            labels: domain.rrsig_labels(),
            original_ttl: ttl,
            expiration: Timestamp::from_unix(expiration),
            inception: Timestamp::from_unix(inception),
            key_tag: zsk.dnskey.key_tag(),
            signer_name: domain.clone(),
            signature: Vec::new(),
        };
        let input = rrsig.signing_input(domain, keys.iter().map(|key| &key.dnskey));
        rrsig.signature = zsk
            .key
            .sign(&input)
            .map_err(|err| CliError::Runtime(format!("ZSK {}: {err}", zsk.identifier)))?;
        signatures.push(Signature {
            key_identifier: zsk.identifier.clone(),
            ttl,
            rrsig,
        });
    }
    Ok(Bundle {
        id: uuid(),
        inception: Timestamp::from_unix(inception),
        expiration: Timestamp::from_unix(expiration),
        signers: Vec::new(),
        keys,
        signatures,
    })
}

/// The root zone's ZSK policy for this algorithm.
fn zsk_policy(spec: KeySpec) -> Policy {
    let parameters = match spec {
        KeySpec::Rsa(bits) => AlgorithmParameters::Rsa {
            size: bits.bits(),
            exponent: 65537,
        },
        KeySpec::EcdsaP256 => AlgorithmParameters::Ecdsa { size: 256 },
        KeySpec::Ed25519 => AlgorithmParameters::Eddsa { size: 256 },
    };
    Policy {
        publish_safety: Duration::from_seconds(10 * DAY),
        retire_safety: Duration::from_seconds(10 * DAY),
        max_signature_validity: Duration::from_seconds(21 * DAY),
        min_signature_validity: Duration::from_seconds(21 * DAY),
        max_validity_overlap: Duration::from_seconds(12 * DAY),
        min_validity_overlap: Duration::from_seconds(9 * DAY),
        signature_algorithms: vec![SignatureAlgorithm {
            algorithm: spec.algorithm(),
            parameters,
        }],
    }
}

/// A ZSK: its identifier, its DNSKEY (Flags 256) and its key.
struct Zsk {
    identifier: String,
    dnskey: Dnskey,
    key: SoftKey,
}

/// The ZSK key pairs: `ZDIR/<identifier>.<kind>.key`, PKCS#8, mode 0600.
struct ZskStore<'a> {
    dir: &'a Path,
    spec: KeySpec,
}

impl ZskStore<'_> {
    /// A new ZSK, stored.
    fn create(&self) -> Result<Zsk, CliError> {
        let failed = |err: hsm::HsmError| CliError::Runtime(format!("cannot make a ZSK: {err}"));
        let key = SoftKey::generate(self.spec).map_err(failed)?;
        let dnskey = key.dnskey().with_flags(Flags::ZSK);
        let identifier = format!(
            "zsk-{}",
            hex::encode(&crate::ceremony::files::random::<4>()[..])
        );
        let path = self.dir.join(format!("{identifier}.{}.key", self.spec));
        write_atomically(&path, key.pkcs8(), true).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Zsk {
            identifier,
            dnskey,
            key,
        })
    }

    /// A stored ZSK. The identifier comes from an SKR, so it is checked
    /// before it names a file.
    fn load(&self, identifier: &str) -> Result<Zsk, CliError> {
        if identifier.is_empty()
            || identifier.len() > 64
            || !identifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CliError::Usage(format!(
                "ZSK identifier {identifier:?} in the previous SKR is not one this tool made"
            )));
        }
        let path = self.dir.join(format!("{identifier}.{}.key", self.spec));
        let bytes = Zeroizing::new(std::fs::read(&path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?);
        let key = SoftKey::from_pkcs8(self.spec, Zeroizing::new(bytes.to_vec()))
            .map_err(|err| CliError::Runtime(format!("{}: {err}", path.display())))?;
        let dnskey = key.dnskey().with_flags(Flags::ZSK);
        Ok(Zsk {
            identifier: identifier.to_owned(),
            dnskey,
            key,
        })
    }
}

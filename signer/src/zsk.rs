//! The ZSK operator's side, for exercises and tests (`ceremony zsk
//! make-ksr`): ZSK key pairs in a directory, and the KSR of a quarter as
//! the root zone plans it — nine bundles ten days apart, each valid 21
//! days, the ZSKs rolled as the root's (the leaving one in bundle 1, the
//! next one in bundle 9), every bundle signed by each of its ZSKs.

use std::path::{Path, PathBuf};

use hsm::{KeySpec, SoftKey};
use ksr::{
    AlgorithmParameters, Bundle, Dnskey, DocumentRole, DomainName, Duration, Flags, Key, Ksr,
    Policy, Rrsig, Signature, SignatureAlgorithm, Skr, Timestamp,
};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::document::Document;
use crate::error::Error;
use crate::records::{random, uuid};
use crate::report::{Files, Report};

const DAY: u32 = 86_400;

/// What `make-ksr` is asked to make.
#[derive(Clone, Debug)]
pub struct KsrRequest {
    /// The directory of the ZSK key pairs (made if absent).
    pub dir: PathBuf,
    /// The zone.
    pub domain: DomainName,
    /// Where the KSR goes (never over a file).
    pub out: PathBuf,
    /// The SKR of the previous quarter, to continue from.
    pub previous: Option<Document>,
    /// The first bundle's inception for a first quarter.
    pub inception: Timestamp,
    /// The ZSKs' kind.
    pub spec: KeySpec,
    /// The TTL of the keys and signatures (the policy's `ksk_policy.ttl`).
    pub ttl: u32,
}

/// The KSR made.
#[derive(Clone, Debug, Serialize)]
pub struct MadeKsr {
    /// Where it was written.
    pub ksr: String,
    /// Its id.
    pub id: String,
    /// Its bundles.
    pub bundles: usize,
    /// Bundle 1's inception.
    pub first_inception: Timestamp,
    /// The last bundle's expiration.
    pub last_expiration: Timestamp,
    /// The ZSKs, with their tags.
    pub zsks: Vec<String>,
}

/// Makes a quarter's KSR.
///
/// # Errors
///
/// The previous SKR does not read or its ZSKs are not in the directory, a
/// key cannot be made, or the KSR cannot be written.
pub fn make_ksr(request: &KsrRequest) -> Result<MadeKsr, Error> {
    durable::check_writable(&request.out)?;
    let previous = match &request.previous {
        Some(document) => Some(
            document
                .parse(DocumentRole::PreviousSkr, ksr::parse_skr)
                .map_err(|findings| {
                    Error::Refused(Report::new(Files::one(&document.path), findings))
                })?,
        ),
        None => None,
    };
    std::fs::create_dir_all(&request.dir).map_err(|source| {
        Error::Write(durable::WriteError::Io {
            path: request.dir.clone(),
            source,
        })
    })?;
    let store = ZskStore {
        dir: &request.dir,
        spec: request.spec,
    };
    let (start, carried, serial) = match &previous {
        Some(skr) => continue_from(skr, &store)?,
        // A first quarter as the root's: a ZSK leaving in bundle 1, the
        // current one, and the next arriving in bundle 9.
        None => (request.inception, vec![store.create()?, store.create()?], 1),
    };
    let next = store.create()?;
    let (leaving, current) = match carried.as_slice() {
        [leaving, current] => (Some(leaving), current),
        [current] => (None, current),
        _ => {
            return Err(Error::Key(
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
            bundle(&request.domain, &members, inception, request.ttl)
        })
        .collect::<Result<_, _>>()?;
    let ksr = Ksr {
        id: uuid(),
        serial,
        domain: request.domain.clone(),
        timestamp: None,
        zsk_policy: zsk_policy(request.spec),
        bundles,
    };
    let xml = ksr::write_ksr(&ksr);
    durable::write(&request.out, xml.as_bytes(), durable::Replace::Never)?;
    Ok(MadeKsr {
        ksr: request.out.display().to_string(),
        id: ksr.id.clone(),
        bundles: ksr.bundles.len(),
        first_inception: ksr.bundles.first().map_or(start, |bundle| bundle.inception),
        last_expiration: ksr.bundles.last().map_or(start, |bundle| bundle.expiration),
        zsks: leaving
            .into_iter()
            .chain([current, &next])
            .map(|zsk| format!("{} (tag {})", zsk.identifier, zsk.dnskey.key_tag()))
            .collect(),
    })
}

/// A quarter after the previous SKR: ten days after its last inception,
/// with its last bundle's ZSKs.
fn continue_from(skr: &Skr, store: &ZskStore<'_>) -> Result<(Timestamp, Vec<Zsk>, u64), Error> {
    let last = skr
        .bundles
        .last()
        .ok_or_else(|| Error::Key("the previous SKR has no bundles".into()))?;
    let mut carried = Vec::new();
    for key in last
        .keys
        .iter()
        .filter(|key| key.dnskey.flags() == Flags::ZSK)
    {
        let zsk = store.load(&key.identifier)?;
        if zsk.dnskey.public_key() != key.dnskey.public_key() {
            return Err(Error::Key(format!(
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

/// One request bundle: the ZSKs with the policy's TTL, and a signature by
/// each over the DNSKEY RRset.
fn bundle(
    domain: &DomainName,
    members: &[&Zsk],
    inception: u32,
    ttl: u32,
) -> Result<Bundle, Error> {
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
        rrsig.signature = zsk.key.sign(&input)?;
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
    fn create(&self) -> Result<Zsk, Error> {
        let key = SoftKey::generate(self.spec)?;
        let dnskey = key.dnskey().with_flags(Flags::ZSK);
        let identifier = format!("zsk-{}", hex::encode(&random::<4>()[..]));
        let path = self.dir.join(format!("{identifier}.{}.key", self.spec));
        durable::write(&path, key.pkcs8(), durable::Replace::Never)?;
        Ok(Zsk {
            identifier,
            dnskey,
            key,
        })
    }

    /// A stored ZSK. The identifier comes from an SKR, so it is checked
    /// before it names a file.
    fn load(&self, identifier: &str) -> Result<Zsk, Error> {
        if identifier.is_empty()
            || identifier.len() > 64
            || !identifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Error::Key(format!(
                "ZSK identifier {identifier:?} in the previous SKR is not one this tool made"
            )));
        }
        let path = self.dir.join(format!("{identifier}.{}.key", self.spec));
        let bytes = Zeroizing::new(std::fs::read(&path).map_err(Error::read(&path))?);
        let key = SoftKey::from_pkcs8(self.spec, Zeroizing::new(bytes.to_vec()))?;
        let dnskey = key.dnskey().with_flags(Flags::ZSK);
        Ok(Zsk {
            identifier: identifier.to_owned(),
            dnskey,
            key,
        })
    }
}

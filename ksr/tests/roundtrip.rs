//! The writer's law (house rule 10): parsing what the writer wrote gives
//! back the same document, for any document the model can hold.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use proptest::prelude::*;

use ksr::{
    Algorithm, AlgorithmParameters, Bundle, Dnskey, DocumentRole, DomainName, Duration, Flags, Key,
    KeyTag, Ksr, Policy, Rrsig, Signature, SignatureAlgorithm, Skr, Timestamp, parse_ksr,
    parse_skr, write_ksr, write_skr,
};

/// Identifiers with the characters the writer must escape or encode.
fn identifier() -> impl Strategy<Value = String> {
    "[A-Za-z0-9&<>\"' \t\n\r;:/é中\\-]{1,40}"
}

fn zone() -> impl Strategy<Value = DomainName> {
    prop::sample::select(vec![
        ".",
        "example.com.",
        "Example.ORG",
        "xn--bcher-kva.example.",
        "a-b.c.d.",
    ])
    .prop_map(|name| name.parse().expect("valid names"))
}

fn signer_name() -> impl Strategy<Value = DomainName> {
    prop::sample::select(vec![".", "example.com.", "EXAMPLE.org."])
        .prop_map(|name| name.parse().expect("valid names"))
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    any::<u32>().prop_map(Timestamp::from_unix)
}

fn dnskey() -> impl Strategy<Value = Dnskey> {
    let flags = prop::sample::select(vec![Flags::ZSK, Flags::KSK, Flags::REVOKED_KSK]);
    let public_key = prop_oneof![
        (1usize..=3, prop::collection::vec(any::<u8>(), 1..300)).prop_map(|(length, rest)| {
            let mut key = vec![u8::try_from(length).unwrap()];
            key.extend(std::iter::repeat_n(1, length));
            key.extend(rest);
            (Algorithm::RSASHA256, key)
        }),
        prop::collection::vec(any::<u8>(), 64).prop_map(|key| (Algorithm::ECDSAP256SHA256, key)),
        prop::collection::vec(any::<u8>(), 32).prop_map(|key| (Algorithm::ED25519, key)),
    ];
    (flags, any::<u8>(), public_key).prop_map(|(flags, protocol, (algorithm, key))| {
        Dnskey::new(flags, protocol, algorithm, key)
    })
}

fn key() -> impl Strategy<Value = Key> {
    (identifier(), any::<u16>(), 0u32..=2_147_483_647, dnskey()).prop_map(
        |(identifier, tag, ttl, dnskey)| Key {
            identifier,
            key_tag: KeyTag::from_int(tag),
            ttl,
            dnskey,
        },
    )
}

fn signature() -> impl Strategy<Value = Signature> {
    let known = prop::sample::select(Algorithm::KNOWN.to_vec());
    (
        identifier(),
        0u32..=2_147_483_647,
        known,
        any::<u8>(),
        0u32..=2_147_483_647,
        (timestamp(), timestamp()),
        any::<u16>(),
        signer_name(),
        prop::collection::vec(any::<u8>(), 1..300),
    )
        .prop_map(
            |(
                key_identifier,
                ttl,
                algorithm,
                labels,
                original_ttl,
                (inception, expiration),
                tag,
                signer_name,
                signature,
            )| {
                Signature {
                    key_identifier,
                    ttl,
                    rrsig: Rrsig {
                        algorithm,
                        labels,
                        original_ttl,
                        expiration,
                        inception,
                        key_tag: KeyTag::from_int(tag),
                        signer_name,
                        signature,
                    },
                }
            },
        )
}

fn signature_algorithm() -> impl Strategy<Value = SignatureAlgorithm> {
    prop_oneof![
        (prop::sample::select(vec![1u8, 5, 7, 8, 10]), 1u32.., 1u64..).prop_map(
            |(number, size, exponent)| {
                SignatureAlgorithm {
                    algorithm: Algorithm::from_int(number),
                    parameters: AlgorithmParameters::Rsa { size, exponent },
                }
            }
        ),
        (prop::sample::select(vec![13u8, 14]), 1u32..).prop_map(|(number, size)| {
            SignatureAlgorithm {
                algorithm: Algorithm::from_int(number),
                parameters: AlgorithmParameters::Ecdsa { size },
            }
        }),
        (prop::sample::select(vec![15u8, 16]), 1u32..).prop_map(|(number, size)| {
            SignatureAlgorithm {
                algorithm: Algorithm::from_int(number),
                parameters: AlgorithmParameters::Eddsa { size },
            }
        }),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop::array::uniform6(any::<u32>()),
        prop::collection::vec(signature_algorithm(), 1..4),
    )
        .prop_map(|(d, signature_algorithms)| Policy {
            publish_safety: Duration::from_seconds(d[0]),
            retire_safety: Duration::from_seconds(d[1]),
            max_signature_validity: Duration::from_seconds(d[2]),
            min_signature_validity: Duration::from_seconds(d[3]),
            max_validity_overlap: Duration::from_seconds(d[4]),
            min_validity_overlap: Duration::from_seconds(d[5]),
            signature_algorithms,
        })
}

fn bundle(request: bool) -> impl Strategy<Value = Bundle> {
    let signers = if request { 0..3usize } else { 0..1usize };
    (
        identifier(),
        timestamp(),
        timestamp(),
        prop::collection::vec(identifier(), signers),
        prop::collection::vec(key(), 1..4),
        prop::collection::vec(signature(), 1..4),
    )
        .prop_map(
            |(id, inception, expiration, signers, keys, signatures)| Bundle {
                id,
                inception,
                expiration,
                signers,
                keys,
                signatures,
            },
        )
}

fn ksr() -> impl Strategy<Value = Ksr> {
    (
        identifier(),
        any::<u64>(),
        zone(),
        policy(),
        prop::collection::vec(bundle(true), 1..4),
    )
        .prop_map(|(id, serial, domain, zsk_policy, bundles)| Ksr {
            id,
            serial,
            domain,
            timestamp: None,
            zsk_policy,
            bundles,
        })
}

fn skr() -> impl Strategy<Value = Skr> {
    (
        identifier(),
        any::<u64>(),
        zone(),
        policy(),
        policy(),
        prop::collection::vec(bundle(false), 1..4),
    )
        .prop_map(
            |(id, serial, domain, ksk_policy, zsk_policy, bundles)| Skr {
                id,
                serial,
                domain,
                timestamp: None,
                ksk_policy,
                zsk_policy,
                bundles,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_written_ksr_parses_back_unchanged(ksr in ksr()) {
        let written = write_ksr(&ksr);
        let parsed = parse_ksr(written.as_bytes(), DocumentRole::Ksr);
        prop_assert_eq!(parsed, Ok(ksr), "{}", written);
    }

    #[test]
    fn a_written_skr_parses_back_to_the_same_data(skr in skr()) {
        let written = write_skr(&skr);
        let parsed = parse_skr(written.as_bytes(), DocumentRole::NewSkr);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(findings) => return Err(TestCaseError::fail(format!("{findings:#?}\n{written}"))),
        };
        // The SKR writer orders keys and signatures (§2.3 rules 7, 8); the
        // data is otherwise the same, and writing again changes nothing.
        prop_assert_eq!(write_skr(&parsed), written);
        let mut expected = skr.clone();
        let mut actual = parsed.clone();
        for bundle in expected.bundles.iter_mut().chain(actual.bundles.iter_mut()) {
            bundle.keys.sort_by_key(|key| (key.key_tag, key.identifier.clone(), key.dnskey.rdata()));
            bundle.signatures.sort_by_key(|signature| (signature.rrsig.key_tag, signature.key_identifier.clone()));
        }
        prop_assert_eq!(actual, expected);
    }
}

//! Seeds for the targets whose inputs no test leaves on disk: APDU
//! sessions, sealed shares, the service's bodies, signed transfer sets and
//! a card file with the light Argon2id. `scripts/fuzz` writes them (with
//! the `seeds` binary) beside the vectors and the files of a demo
//! ceremony; they are made fresh each time, never committed, as the card
//! holds a key.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use signer::media::{FileEntry, Manifest, Role, SkrManifest};
use signer::service::wire;

use crate::cards::{body_of, issued_card};
use crate::documents::intake_public;
use crate::join_parts;

/// The inputs made here, by target: `(target, bytes)`. `ksr` and `skr`
/// are an XML KSR and SKR, `text_ksr` a text KSR.
pub fn seeds(ksr: &[u8], skr: &[u8], text_ksr: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |target: &'static str, bytes: Vec<u8>| seeds.push((target, bytes));

    // apdu: the right PIN, a wrong one, a change, an unblock, raw commands.
    let verify_wrong = [
        0x00, 0x20, 0x00, 0x80, 0x10, b'9', b'9', b'9', b'9', b'9', b'9',
    ]
    .into_iter()
    .chain([0xFF; 10])
    .collect::<Vec<u8>>();
    let frame = |kind: u8, bytes: &[u8]| -> Vec<u8> {
        let mut frame = vec![kind, u8::try_from(bytes.len()).unwrap_or(u8::MAX)];
        frame.extend_from_slice(bytes);
        frame
    };
    let get_tries = [0x00, 0xCA, 0x5F, 0x05];
    let read_share = [0x80, 0xB0, 0x00, 0x00, 0x00];
    add(
        "apdu",
        [
            vec![0],
            frame(0, &verify_wrong),
            frame(0, &get_tries),
            frame(1, b""),
            frame(0, &read_share),
            frame(0, &verify_wrong),
            frame(2, b"654321"),
            frame(3, b"111111"),
            frame(0, &get_tries),
        ]
        .concat(),
    );
    add(
        "apdu",
        [
            vec![4],
            frame(0, &verify_wrong),
            frame(0, &verify_wrong),
            frame(1, b""),
        ]
        .concat(),
    );
    add(
        "apdu",
        [
            vec![1],
            frame(
                0,
                &[
                    0x80, 0xE0, 0x00, 0x00, 0x06, 0x01, 0x01, b'S', 0x02, 0x01, b'H',
                ],
            ),
            frame(0, &[0x80, 0xE4, 0x00, 0x00]),
        ]
        .concat(),
    );
    add("apdu", vec![0x00, 0xA4, 0x04, 0x00, 0x02, 0xF0, 0x63, 0x00]);
    add("apdu", vec![0x01, 0x61, 0x00, 0x03, 0x90, 0x00, 0x63, 0xC2]);

    // card_file: the body of a card (the target adds the checksum line),
    // and the whole file.
    add("card_file", body_of(issued_card()).to_vec());
    add("card_file", issued_card().to_vec());

    // sealed_share: a share, a sealed share to flip, garbage.
    let mut share = vec![3];
    share.extend_from_slice(&[0x11; 32]);
    add("sealed_share", [&[0][..], &share].concat());
    add("sealed_share", [&[2][..], &[0; 120]].concat());
    add("sealed_share", [&[1][..], &[4; 65], &[9; 49]].concat());

    // service_json: each request body.
    let present = wire::PresentRequest {
        nonce: hex::encode([1; 32]),
        card_serial: "CO-1".into(),
        generation: 1,
        signature: hex::encode([2; 64]),
        ephemeral_key: hex::encode([4; 65]),
        sealed_share: hex::encode([5; 49]),
    };
    let present = serde_json::to_vec(&present).unwrap_or_default();
    add("sealed_share", [&[3][..], &present].concat());
    add("service_json", present);
    let notice = wire::WrongPinNotice {
        card_serial: "CO-1".into(),
        tries_left: 2,
    };
    add(
        "service_json",
        serde_json::to_vec(&notice).unwrap_or_default(),
    );
    let sign = wire::SignRequest {
        ksr_sha256: hex::encode(Sha256::digest(ksr)),
        schema: Some("normal".into()),
        no_previous_skr: false,
        heard: signer::oob::Heard::At(vec!["aardvark".into(), "absurd".into()]),
    };
    add(
        "service_json",
        serde_json::to_vec(&sign).unwrap_or_default(),
    );
    let load = wire::LoadRequest {
        name: "ksr-0123456789ab".into(),
        files: BTreeMap::from([(
            "ksr.xml".to_owned(),
            hex::encode(&ksr[..ksr.len().min(200)]),
        )]),
    };
    add(
        "service_json",
        serde_json::to_vec(&load).unwrap_or_default(),
    );
    add(
        "service_json",
        serde_json::to_vec(&wire::Status::default()).unwrap_or_default(),
    );

    // media: manifests, a key file, words, and whole transfer sets.
    let manifest = Manifest {
        format: 1,
        id: "ksr-0123456789ab".into(),
        domain: ".".into(),
        ksr_id: "fuzz".into(),
        ksr_format: "xml".into(),
        bundles: 9,
        ksr_sha256: hex::encode(Sha256::digest(ksr)),
        files: vec![FileEntry {
            name: "ksr.xml".into(),
            role: Role::Ksr,
            size: u64::try_from(ksr.len()).unwrap_or(u64::MAX),
            sha256: hex::encode(Sha256::digest(ksr)),
        }],
        findings: Vec::new(),
        exported: "2017-03-20T00:00:00Z".into(),
        intake_key: intake_public().to_hex(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let skr_manifest = SkrManifest {
        format: 1,
        id: "ksr-0123456789ab".into(),
        skr: "skr.xml".into(),
        skr_size: u64::try_from(skr.len()).unwrap_or(u64::MAX),
        skr_sha256: hex::encode(Sha256::digest(skr)),
        ksr_sha256: hex::encode(Sha256::digest(ksr)),
        audit_head: "0".repeat(64),
        officers: vec!["CO-1".into(), "CO-2".into()],
        signed: "2017-03-20T00:00:00Z".into(),
    };
    let skr_manifest = serde_json::to_vec_pretty(&skr_manifest).unwrap_or_default();
    add("media", [&[0][..], &manifest].concat());
    add("media", [&[0][..], &skr_manifest].concat());
    add(
        "media",
        [&[1][..], intake_public().to_file("the intake").as_bytes()].concat(),
    );
    let digest: [u8; 32] = Sha256::digest(ksr).into();
    let words = ksr::pgp_words(&digest);
    add("media", [&[2][..], words.as_bytes()].concat());
    add("media", [&[3][..], &join_parts(&[&manifest, ksr])].concat());
    add(
        "media",
        [&[4][..], &join_parts(&[&manifest, ksr, &skr_manifest, skr])].concat(),
    );

    // text: an SKR written from the text KSR's keys, unsigned.
    if let Ok(request) = ksr::text::parse_text_ksr(text_ksr, ksr::DocumentRole::Ksr) {
        let response = ksr::text::TextSkr {
            dialect: request.dialect,
            domain: request.domain.clone(),
            id: request.id.clone(),
            bundles: request
                .bundles
                .iter()
                .map(|bundle| ksr::text::TextResponseBundle {
                    time: bundle.time,
                    line: 0,
                    keys: bundle.keys.clone(),
                    signatures: Vec::new(),
                    other: Vec::new(),
                })
                .collect(),
        };
        let written = ksr::text::write_text_skr(
            &response,
            ksr::text::Dialect::Knot,
            ksr::Timestamp::from_unix(1_500_000_000),
            "seeds",
        );
        add("text", written.into_bytes());
    }
    seeds
}

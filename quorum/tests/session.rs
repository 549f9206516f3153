//! The activation session: each refusal, progress, reset, expiry, a race
//! for the last slot, and the generations of reshare and rekey.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;
use quorum::{Refusal, Share, rekey, reshare};

mod common;
use common::{Room, officers};

#[test]
fn three_of_five_activate_and_the_secret_comes_out_once() {
    let room = Room::new(3, 5);
    let now = Instant::now();
    let session = room.session(now);
    for (step, officer) in [4, 0, 2].into_iter().enumerate() {
        let progress = session
            .present(room.presentation(&session, officer), now)
            .unwrap();
        assert_eq!(progress.presented, step + 1);
        assert_eq!(progress.complete, step == 2);
        if step == 1 {
            assert_eq!(progress.to_string(), "2 of 3 (CO-5, CO-1)");
        }
    }
    let activated = session.take_secret(now).expect("the secret, once");
    assert_eq!(
        activated.secret().public_point(),
        room.enrolment.roster.commitments().secret_point()
    );
    assert!(session.take_secret(now).is_none());
    assert_eq!(
        session.present(room.presentation(&session, 1), now).err(),
        Some(Refusal::Complete {
            card: "070002".into()
        })
    );
}

#[test]
fn every_refusal_names_the_card_and_officer() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    let session = room.session(now);
    let officer = "card 070001 (CO-1, crypto officer)";

    // A card of no officer of this roster.
    let mut stranger = room.presentation(&session, 0);
    stranger.card_serial = "999999".into();
    let refusal = session.present(stranger, now).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "card \"999999\": not enrolled in generation 1"
    );

    // A card of another generation.
    let mut old = room.presentation(&session, 0);
    old.generation = 0;
    assert_eq!(
        session.present(old, now).unwrap_err(),
        Refusal::OldGeneration {
            officer: officer.into(),
            presented: 0,
            current: 1
        }
    );

    // A signature over another attempt's nonce.
    let stale = room.presentation(&session, 0);
    session.reset(now);
    assert_eq!(
        session.present(stale, now).unwrap_err(),
        Refusal::StaleNonce {
            officer: officer.into()
        }
    );

    // Signed by another card's key.
    let mut forged = room.presentation(&session, 0);
    forged.signature = room.presentation(&session, 1).signature;
    assert_eq!(
        session.present(forged, now).unwrap_err(),
        Refusal::BadSignature {
            officer: officer.into()
        }
    );

    // Another officer's share, correctly signed by this card.
    let borrowed = room.presentation_with(&session, 0, room.share(1));
    assert_eq!(
        session.present(borrowed, now).unwrap_err(),
        Refusal::BadShare {
            officer: officer.into()
        }
    );

    // The same officer twice.
    session
        .present(room.presentation(&session, 0), now)
        .unwrap();
    assert_eq!(
        session
            .present(room.presentation(&session, 0), now)
            .unwrap_err(),
        Refusal::Duplicate {
            officer: officer.into()
        }
    );
    // Refusals do not count, and the attempt goes on.
    assert_eq!(session.progress().presented, 1);
    assert!(
        session
            .present(room.presentation(&session, 2), now)
            .unwrap()
            .complete
    );
}

#[test]
fn every_flipped_bit_of_a_share_is_refused_and_attributed() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    let session = room.session(now);
    let bytes = *room.enrolment.shares[1].to_bytes();
    let mut refused = 0;
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes;
        flipped[bit / 8] ^= 1 << (bit % 8);
        let Ok(share) = Share::from_bytes(&flipped) else {
            // No longer a share: the card's own read fails.
            continue;
        };
        let refusal = session
            .present(room.presentation_with(&session, 1, share), now)
            .unwrap_err();
        assert_eq!(
            refusal,
            Refusal::BadShare {
                officer: "card 070002 (CO-2, crypto officer)".into()
            },
            "bit {bit}"
        );
        refused += 1;
    }
    assert!(refused >= 256, "{refused}");
    assert_eq!(session.progress().presented, 0);
}

#[test]
fn presentations_in_any_order_give_the_same_secret() {
    let room = Room::new(3, 4);
    let now = Instant::now();
    let points: Vec<[u8; 32]> = [[0, 1, 2], [2, 1, 0], [3, 0, 2], [1, 3, 2]]
        .iter()
        .map(|order| *room.activate(order, now).secret().derive_key("compare"))
        .collect();
    assert!(points.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn reset_wipes_progress_and_expiry_refuses_until_reset() {
    let room = Room::new(2, 3);
    let start = Instant::now();
    let session = room.session(start);
    session
        .present(room.presentation(&session, 0), start)
        .unwrap();
    session.reset(start);
    assert_eq!(session.progress().presented, 0);
    let late = start + Duration::from_secs(901);
    assert_eq!(
        session
            .present(room.presentation(&session, 1), late)
            .unwrap_err(),
        Refusal::Expired {
            card: "070002".into(),
            after: Duration::from_secs(900)
        }
    );
    session.reset(late);
    session
        .present(room.presentation(&session, 1), late)
        .unwrap();
    // Exactly at the limit the attempt still runs; a moment after, the
    // presented share is wiped and counts no more.
    let limit = late + Duration::from_secs(900);
    assert_eq!(session.progress().presented, 1);
    assert!(
        session
            .present(
                room.presentation(&session, 2),
                limit + Duration::from_nanos(1)
            )
            .is_err()
    );
    assert_eq!(session.progress().presented, 0);
    session.reset(limit);
    session
        .present(room.presentation(&session, 1), limit)
        .unwrap();
    assert!(
        session
            .present(
                room.presentation(&session, 2),
                limit + Duration::from_secs(900)
            )
            .unwrap()
            .complete
    );
    // A secret not taken in time is gone.
    assert!(
        session
            .take_secret(limit + Duration::from_secs(901))
            .is_none()
    );
}

#[test]
fn two_presentations_racing_for_the_last_slot() {
    for _ in 0..20 {
        let room = Arc::new(Room::new(3, 5));
        let now = Instant::now();
        let session = Arc::new(room.session(now));
        session
            .present(room.presentation(&session, 0), now)
            .unwrap();
        session
            .present(room.presentation(&session, 1), now)
            .unwrap();
        // Both threads start presenting at the same moment.
        let start = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [2, 3]
            .into_iter()
            .map(|officer| {
                let presentation = room.presentation(&session, officer);
                let session = Arc::clone(&session);
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    session.present(presentation, now)
                })
            })
            .collect();
        let results: Vec<_> = racers
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .collect();
        let completed = results
            .iter()
            .filter(|result| result.as_ref().is_ok_and(|progress| progress.complete))
            .count();
        let too_late = results
            .iter()
            .filter(|result| matches!(result, Err(Refusal::Complete { .. })))
            .count();
        assert_eq!((completed, too_late), (1, 1), "{results:?}");
        assert!(session.take_secret(now).is_some());
        assert!(session.take_secret(now).is_none());
    }
}

#[test]
fn an_altered_roster_is_caught_after_combination() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    // The roster as stored, with an officer's role changed: the digest
    // the cards sign changes with it, and so does the MAC's input.
    let mut json: serde_json::Value = serde_json::to_value(&room.enrolment.roster).unwrap();
    json["officers"][2]["role"] = "backup officer".into();
    let altered: quorum::Roster = serde_json::from_value(json).unwrap();
    let session = quorum::ActivationSession::new(altered, Duration::from_secs(60), now);
    session
        .present(room.presentation(&session, 0), now)
        .unwrap();
    assert_eq!(
        session
            .present(room.presentation(&session, 1), now)
            .unwrap_err(),
        Refusal::RosterAltered {
            officer: "card 070002 (CO-2, crypto officer)".into()
        }
    );
    assert!(session.take_secret(now).is_none());
    assert_eq!(session.progress().presented, 0);
}

#[test]
fn reshare_keeps_the_secret_and_retires_the_old_cards() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    let before = room.activate(&[0, 2], now);
    let point = before.secret().public_point();
    // The same three cards and a fourth.
    let (cards, officers) = officers(4, 7);
    let next = reshare(before, officers, 3).unwrap();
    assert_eq!(next.roster.generation(), 2);
    assert_eq!(next.secret.public_point(), point);
    assert_eq!(next.roster.commitments().secret_point(), point);
    // A card still holding its generation-1 share, as it says.
    let new_session =
        quorum::ActivationSession::new(next.roster.clone(), Duration::from_secs(60), now);
    let mut old = room.presentation(&new_session, 0);
    old.generation = 1;
    assert!(matches!(
        new_session.present(old, now).unwrap_err(),
        Refusal::OldGeneration {
            presented: 1,
            current: 2,
            ..
        }
    ));
    // A card that claims the new generation with its old share.
    let lying = room.presentation(&new_session, 0);
    assert!(matches!(
        new_session.present(lying, now).unwrap_err(),
        Refusal::BadShare { .. }
    ));
    // The new cards activate to the same secret.
    let new_room = Room {
        cards,
        enrolment: next,
    };
    for officer in [1, 3, 0] {
        new_session
            .present(new_room.presentation(&new_session, officer), now)
            .unwrap();
    }
    assert_eq!(
        new_session
            .take_secret(now)
            .unwrap()
            .secret()
            .public_point(),
        point
    );
}

#[test]
fn rekey_makes_a_new_secret_and_returns_the_old_one() {
    let room = Room::new(2, 2);
    let old_point = room.enrolment.roster.commitments().secret_point();
    let (_, officers) = officers(3, 11);
    let rekeyed = rekey(room.activate(&[0, 1], Instant::now()), officers, 2).unwrap();
    assert_eq!(rekeyed.previous.secret().public_point(), old_point);
    assert_ne!(rekeyed.enrolment.secret.public_point(), old_point);
    assert_eq!(rekeyed.enrolment.roster.generation(), 2);
}

#[test]
fn a_roster_with_one_card_twice_is_refused() {
    let (_, mut three) = officers(3, 5);
    three[2].card_serial = three[0].card_serial.clone();
    let err = quorum::enrol(three, 2).unwrap_err();
    assert_eq!(err.to_string(), "officers CO-1 and CO-3 share a card");
    let key = SigningKey::from_slice(&[3; 32]).unwrap();
    let (_, mut two) = officers(2, 5);
    two[0].card_key = *key.verifying_key();
    two[1].card_key = *key.verifying_key();
    assert!(
        quorum::enrol(two, 2)
            .unwrap_err()
            .to_string()
            .contains("card key")
    );
}

#[test]
fn a_session_bound_to_a_channel_refuses_signatures_for_another() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    let session = room.session(now).bound_to(vec![4; 65]);
    // The card signed the challenge with the key a relay substituted.
    let mut relayed = session.challenge();
    assert_eq!(relayed.channel, vec![4; 65]);
    relayed.channel = vec![5; 65];
    let share = room.share(0);
    let signature: p256::ecdsa::Signature = {
        use p256::ecdsa::signature::Signer as _;
        room.cards[0].sign(&relayed.message(share.index()))
    };
    let presentation = quorum::Presentation {
        card_serial: room.enrolment.roster.officers()[0].card_serial.clone(),
        generation: relayed.generation,
        nonce: relayed.nonce,
        share,
        signature,
    };
    assert!(matches!(
        session.present(presentation, now),
        Err(Refusal::BadSignature { .. })
    ));
    // Signed for the bound channel, it counts.
    assert_eq!(
        session
            .present(room.presentation(&session, 1), now)
            .unwrap()
            .presented,
        1
    );
}

#[test]
fn a_session_for_one_operation_refuses_signatures_for_another() {
    let room = Room::new(2, 3);
    let now = Instant::now();
    let session = room.session(now).for_operation([1; 32]);
    assert_eq!(session.operation(), [1; 32]);
    // The officer was shown, and the card signed, another operation.
    let mut other = session.challenge();
    assert_eq!(other.operation, [1; 32]);
    other.operation = [2; 32];
    let share = room.share(0);
    let signature: p256::ecdsa::Signature = {
        use p256::ecdsa::signature::Signer as _;
        room.cards[0].sign(&other.message(share.index()))
    };
    let presentation = quorum::Presentation {
        card_serial: room.enrolment.roster.officers()[0].card_serial.clone(),
        generation: other.generation,
        nonce: other.nonce,
        share,
        signature,
    };
    assert!(matches!(
        session.present(presentation, now),
        Err(Refusal::BadSignature { .. })
    ));
    assert_eq!(
        session
            .present(room.presentation(&session, 1), now)
            .unwrap()
            .presented,
        1
    );
}

/// The memory this process has locked (mlock), in kB, as the kernel says.
fn locked_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmLck:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn the_secret_is_locked_in_memory_while_it_lives() {
    // Nothing else in this test binary locks memory before a secret
    // exists; the kernel's count shows the secret's page locked.
    let (_, officers) = officers(3, 5);
    let enrolment = quorum::enrol(officers, 2).unwrap();
    assert!(locked_kb() >= 4, "VmLck is {} kB", locked_kb());
    drop(enrolment);
}

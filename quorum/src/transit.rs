//! Shares in transit: a card's share sealed to one activation attempt.
//!
//! When officers present from their own terminals, the share crosses a
//! network. TLS protects the connection, but the share should not rely on
//! it alone, nor be readable by anything between the TLS endpoint and the
//! session (proxies, logs, a debugging dump). Each attempt has an
//! ephemeral P-256 [`SessionKey`]; the officer's side makes a fresh
//! ephemeral key per share, and the share is encrypted under
//! HKDF-SHA-256(ECDH) with ChaCha20-Poly1305, the attempt's challenge and
//! the card serial as associated data. A sealed share opens only with the
//! session key of the attempt it was sealed for, so a recorded presentation
//! replayed into another attempt does not open there, and its signature
//! (over the nonce) would not count either.
//!
//! The session key reaches the officer over the same connection, so a
//! relay that terminates TLS could offer its own. The session therefore
//! binds its challenges to the key ([`ActivationSession::bound_to`]): the
//! card signs the key it sealed to, and a substituted key makes the
//! signature fail.
//!
//! [`ActivationSession::bound_to`]: crate::ActivationSession::bound_to

use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit as _, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::Generate as _;
use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::session::Challenge;
use crate::share::Share;

/// The domain separation of the key derivation.
const INFO_LABEL: &[u8] = b"ceremony share transit v1";

/// The length of an uncompressed SEC1 P-256 point.
pub const POINT_LEN: usize = 65;

//------------ SessionKey ----------------------------------------------------

/// An attempt's ephemeral key: shares sealed to its public half open only
/// with it. Wiped when dropped; `Debug` shows the public half only.
pub struct SessionKey {
    secret: SecretKey,
}

impl SessionKey {
    /// A fresh random key.
    ///
    /// # Errors
    ///
    /// The system's random source failed.
    pub fn generate() -> Result<Self, TransitError> {
        SecretKey::try_generate_from_rng(&mut rand::rngs::SysRng)
            .map(|secret| Self { secret })
            .map_err(|_| TransitError::Random)
    }

    /// The public half, uncompressed SEC1, for the officers' side.
    pub fn public_key(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    /// Opens a share sealed to this key for `challenge` and `card_serial`.
    ///
    /// # Errors
    ///
    /// The ephemeral key is not a P-256 point, or the share was sealed to
    /// another key, challenge or card, or altered; or what opens is not a
    /// share.
    pub fn open(
        &self,
        sealed: &SealedShare,
        challenge: &Challenge,
        card_serial: &str,
    ) -> Result<Share, TransitError> {
        let ephemeral =
            PublicKey::from_sec1_bytes(&sealed.ephemeral).map_err(|_| TransitError::Point)?;
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), ephemeral.as_affine());
        let key = derive(
            shared.raw_secret_bytes().as_slice(),
            challenge,
            &self.public_key(),
            &sealed.ephemeral,
        )?;
        let plain = Zeroizing::new(
            ChaCha20Poly1305::new((&*key).into())
                .decrypt(
                    &Nonce::default(),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad: &associated_data(challenge, card_serial),
                    },
                )
                .map_err(|_| TransitError::Open)?,
        );
        Share::from_bytes(&plain).map_err(|_| TransitError::NotAShare)
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("public", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

//------------ SealedShare ---------------------------------------------------

/// A share sealed to a session key: the sender's ephemeral public key
/// (uncompressed SEC1) and the ciphertext with its tag. Safe to send and
/// to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedShare {
    /// The sender's ephemeral public key.
    pub ephemeral: Vec<u8>,
    /// The encrypted share and the AEAD tag.
    pub ciphertext: Vec<u8>,
}

impl SealedShare {
    /// Seals `share` to the session key `session_public` (uncompressed or
    /// compressed SEC1) for `challenge` and the card `card_serial`, with a
    /// fresh ephemeral key: each key derived here encrypts one message
    /// only, which is why a fixed AEAD nonce is safe.
    ///
    /// # Errors
    ///
    /// The session key is not a P-256 point, or randomness failed.
    pub fn seal(
        share: &Share,
        session_public: &[u8],
        challenge: &Challenge,
        card_serial: &str,
    ) -> Result<Self, TransitError> {
        let session =
            PublicKey::from_sec1_bytes(session_public).map_err(|_| TransitError::Point)?;
        let ephemeral = SecretKey::try_generate_from_rng(&mut rand::rngs::SysRng)
            .map_err(|_| TransitError::Random)?;
        let ephemeral_public = ephemeral
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), session.as_affine());
        let session_public = session.to_sec1_point(false).as_bytes().to_vec();
        let key = derive(
            shared.raw_secret_bytes().as_slice(),
            challenge,
            &session_public,
            &ephemeral_public,
        )?;
        let plain = share.to_bytes();
        let ciphertext = ChaCha20Poly1305::new((&*key).into())
            .encrypt(
                &Nonce::default(),
                Payload {
                    msg: plain.as_slice(),
                    aad: &associated_data(challenge, card_serial),
                },
            )
            .map_err(|_| TransitError::Open)?;
        Ok(Self {
            ephemeral: ephemeral_public,
            ciphertext,
        })
    }
}

/// Why a share could not be sealed or opened. Says nothing of the share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitError {
    /// A public key is not a P-256 point.
    #[error("the key is not a P-256 point")]
    Point,
    /// The sealed share does not open with this attempt's key: sealed for
    /// another attempt or card, or altered.
    #[error(
        "the sealed share does not open with this attempt's key (another attempt, another card, or altered)"
    )]
    Open,
    /// It opened, but is not a share.
    #[error("what the sealed share holds is not a share")]
    NotAShare,
    /// The random source failed.
    #[error("the random source failed")]
    Random,
}

/// The AEAD key: HKDF-SHA-256 with the nonce as salt, over the ECDH
/// x-coordinate, bound to both public keys and the roster.
fn derive(
    shared: &[u8],
    challenge: &Challenge,
    session_public: &[u8],
    ephemeral_public: &[u8],
) -> Result<Zeroizing<[u8; 32]>, TransitError> {
    let mut info = Vec::with_capacity(INFO_LABEL.len() + 64 + 2 * POINT_LEN);
    info.extend_from_slice(INFO_LABEL);
    info.extend_from_slice(&challenge.roster_digest);
    info.extend_from_slice(&challenge.operation);
    info.extend_from_slice(session_public);
    info.extend_from_slice(ephemeral_public);
    let mut key = Zeroizing::new([0; 32]);
    Hkdf::<Sha256>::new(Some(&challenge.nonce), shared)
        .expand(&info, key.as_mut_slice())
        .map_err(|_| TransitError::Open)?;
    Ok(key)
}

/// What the ciphertext is bound to besides the key: the attempt's nonce,
/// the generation, the roster, the operation and the card.
fn associated_data(challenge: &Challenge, card_serial: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(32 + 8 + 64 + card_serial.len());
    data.extend_from_slice(&challenge.nonce);
    data.extend_from_slice(&challenge.generation.to_be_bytes());
    data.extend_from_slice(&challenge.roster_digest);
    data.extend_from_slice(&challenge.operation);
    data.extend_from_slice(card_serial.as_bytes());
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(byte: u8) -> Challenge {
        Challenge {
            nonce: [byte; 32],
            generation: 1,
            roster_digest: [7; 32],
            operation: [9; 32],
            channel: Vec::new(),
        }
    }

    fn share() -> Share {
        let dealt = crate::split(2, 3).expect("split");
        dealt.shares.into_iter().next().expect("a share")
    }

    #[test]
    fn a_sealed_share_opens_with_its_session_only() {
        let share = share();
        let key = SessionKey::generate().expect("key");
        let sealed =
            SealedShare::seal(&share, &key.public_key(), &challenge(1), "CARD-1").expect("seal");
        assert!(
            !sealed
                .ciphertext
                .windows(32)
                .any(|w| w == &share.to_bytes()[1..])
        );
        let opened = key.open(&sealed, &challenge(1), "CARD-1").expect("opens");
        assert_eq!(*opened.to_bytes(), *share.to_bytes());

        // Another attempt's key, nonce, card or generation: nothing opens.
        let other = SessionKey::generate().expect("key");
        assert_eq!(
            other.open(&sealed, &challenge(1), "CARD-1").err(),
            Some(TransitError::Open)
        );
        assert_eq!(
            key.open(&sealed, &challenge(2), "CARD-1").err(),
            Some(TransitError::Open)
        );
        assert_eq!(
            key.open(&sealed, &challenge(1), "CARD-2").err(),
            Some(TransitError::Open)
        );
        let mut later = challenge(1);
        later.generation = 2;
        assert_eq!(
            key.open(&sealed, &later, "CARD-1").err(),
            Some(TransitError::Open)
        );
        // Sealed for another operation: nothing opens either.
        let mut elsewhere = challenge(1);
        elsewhere.operation = [8; 32];
        assert_eq!(
            key.open(&sealed, &elsewhere, "CARD-1").err(),
            Some(TransitError::Open)
        );
    }

    #[test]
    fn every_altered_byte_is_refused() {
        let share = share();
        let key = SessionKey::generate().expect("key");
        let sealed =
            SealedShare::seal(&share, &key.public_key(), &challenge(1), "CARD-1").expect("seal");
        for index in 0..sealed.ciphertext.len() {
            let mut altered = sealed.clone();
            altered.ciphertext[index] ^= 0x01;
            assert!(
                key.open(&altered, &challenge(1), "CARD-1").is_err(),
                "byte {index}"
            );
        }
        for index in 1..sealed.ephemeral.len() {
            let mut altered = sealed.clone();
            altered.ephemeral[index] ^= 0x01;
            assert!(
                key.open(&altered, &challenge(1), "CARD-1").is_err(),
                "key byte {index}"
            );
        }
        assert!(SealedShare::seal(&share, &[4; 65], &challenge(1), "CARD-1").is_err());
    }
}

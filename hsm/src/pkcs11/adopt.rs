//! Keys on the token that the ceremony did not make: reading their
//! provenance, checking a pair before it is adopted, and finding a label by
//! CKA_ID.

use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use super::{Pkcs11Hsm, pkcs11, sign_with};
use crate::error::HsmError;
use crate::provenance::{Provenance, TokenKey};

/// What the pair check signs.
const TEST_MESSAGE: &[u8] = b"ceremony: the private key on the token matches its public key";

impl Pkcs11Hsm {
    /// The label of the one public key with this CKA_ID, for a key named
    /// by its id (as `softhsm2-util --id` or `pkcs11-tool --id` set it).
    /// Public objects only, so it works sealed.
    ///
    /// # Errors
    ///
    /// No public key, or more than one, has the id; it has no label, or
    /// one that is not UTF-8; or the token cannot be read.
    pub(super) fn lookup_id(&self, id: &[u8]) -> Result<String, HsmError> {
        let hex = hex::encode(id);
        self.with_public_session(|session| {
            let found = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::PUBLIC_KEY),
                    Attribute::Id(id.to_vec()),
                ])
                .map_err(pkcs11)?;
            let handle = match found.as_slice() {
                [one] => *one,
                [] => return Err(HsmError::NoId(hex)),
                more => {
                    return Err(HsmError::Ambiguous(format!(
                        "{} public keys on the token have the id {hex}; name the key by its label",
                        more.len()
                    )));
                }
            };
            let label = session
                .get_attributes(handle, &[AttributeType::Label])
                .map_err(pkcs11)?
                .into_iter()
                .find_map(|attribute| match attribute {
                    Attribute::Label(label) => Some(label),
                    _ => None,
                })
                .unwrap_or_default();
            match String::from_utf8(label) {
                Ok(label) if !label.is_empty() => Ok(label),
                _ => Err(HsmError::Invalid(format!(
                    "the public key with the id {hex} has no label in UTF-8; give it one with the token's tools"
                ))),
            }
        })
    }
}

/// Looks at a label's key during initialization, in the security
/// officer's session right after the user PIN was set: logs in as the
/// user, examines the key, and logs in as the officer again.
pub(super) fn look(
    session: &Session,
    label: &str,
    user_pin: &Zeroizing<String>,
    so_pin: &Zeroizing<String>,
) -> Result<TokenKey, HsmError> {
    session.logout().map_err(pkcs11)?;
    session
        .login(UserType::User, Some(&AuthPin::from(user_pin.as_str())))
        .map_err(pkcs11)?;
    let found = examine(session, label);
    let _ = session.logout();
    let found = found?;
    session
        .login(UserType::So, Some(&AuthPin::from(so_pin.as_str())))
        .map_err(pkcs11)?;
    Ok(found)
}

/// Checks a label's key pair in a logged-in session: exactly one private
/// and one public key, of a kind a `KeySpec` holds, usable only after
/// login, whose private key signs what the public key verifies (on the
/// host, with `ksr`'s verifier).
pub(super) fn examine(session: &Session, label: &str) -> Result<TokenKey, HsmError> {
    let private = Pkcs11Hsm::object(session, label, ObjectClass::PRIVATE_KEY)?;
    let public = Pkcs11Hsm::object(session, label, ObjectClass::PUBLIC_KEY)?;
    let (spec, dnskey) = Pkcs11Hsm::read_public(session, public)?;
    let provenance = read_provenance(session, private)?;
    if provenance.private != Some(true) {
        // Such a key signs in a session nobody logged in to: adopting it
        // would let anyone sign without the quorum.
        return Err(HsmError::Invalid(format!(
            "the private key labelled {label:?} is not CKA_PRIVATE: anyone can use it without logging in, so the quorum would not guard it"
        )));
    }
    let signature = sign_with(session, private, spec, TEST_MESSAGE)?;
    ksr::verify(&dnskey, TEST_MESSAGE, &signature)
        .map_err(|_| HsmError::KeyMismatch(label.to_owned()))?;
    Ok(TokenKey {
        label: label.to_owned(),
        spec,
        dnskey,
        provenance,
    })
}

/// The provenance attributes of a private key object; what the token does
/// not report stays `None`.
pub(super) fn read_provenance(
    session: &Session,
    private: ObjectHandle,
) -> Result<Provenance, HsmError> {
    let attributes = session
        .get_attributes(
            private,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Local,
                AttributeType::Private,
                AttributeType::Decrypt,
                AttributeType::Unwrap,
                AttributeType::Derive,
            ],
        )
        .map_err(pkcs11)?;
    let mut provenance = Provenance {
        sensitive: None,
        extractable: None,
        always_sensitive: None,
        never_extractable: None,
        local: None,
        private: None,
        decrypt: None,
        unwrap: None,
        derive: None,
    };
    for attribute in attributes {
        match attribute {
            Attribute::Sensitive(value) => provenance.sensitive = Some(value),
            Attribute::Extractable(value) => provenance.extractable = Some(value),
            Attribute::AlwaysSensitive(value) => provenance.always_sensitive = Some(value),
            Attribute::NeverExtractable(value) => provenance.never_extractable = Some(value),
            Attribute::Local(value) => provenance.local = Some(value),
            Attribute::Private(value) => provenance.private = Some(value),
            Attribute::Decrypt(value) => provenance.decrypt = Some(value),
            Attribute::Unwrap(value) => provenance.unwrap = Some(value),
            Attribute::Derive(value) => provenance.derive = Some(value),
            _ => {}
        }
    }
    Ok(provenance)
}

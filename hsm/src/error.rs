//! What can go wrong in an HSM.

/// An HSM's failure.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The HSM is sealed: activate it with the quorum's secret first.
    #[error("the HSM is sealed; activate it with the quorum first")]
    Sealed,
    /// The HSM sealed itself after being idle.
    #[error("the HSM sealed itself after {0:?} idle; activate it again")]
    IdleTimeout(std::time::Duration),
    /// The secret is not the one this HSM was made for. Nothing else is
    /// said: the error is the same whatever the secret.
    #[error("this secret does not activate this HSM")]
    WrongSecret,
    /// The token refused the PIN the quorum's (verified) secret derives.
    #[error(
        "the token refused the PIN this quorum's secret derives: its user PIN was changed behind the quorum's back (by whoever holds the SO PIN or the token); the quorum is not at fault"
    )]
    PinChanged,
    /// The PKCS#11 module is not the trusted one; it was not loaded.
    #[error("untrusted PKCS#11 module: {0}")]
    UntrustedModule(String),
    /// Too many failed activations; the HSM refuses more.
    #[error("{0} failed activations: the HSM refuses more; re-initialize from a backup")]
    Locked(u32),
    /// The store's integrity check failed.
    #[error("the key store was altered or damaged: {0}")]
    Tampered(String),
    /// A power-on self-test failed; the HSM stays sealed.
    #[error("power-on self-test failed: {0}; the HSM stays sealed")]
    SelfTest(String),
    /// No key has this label.
    #[error("no key labelled {0:?}")]
    NoKey(String),
    /// A key with this label already exists.
    #[error("a key labelled {0:?} already exists")]
    DuplicateLabel(String),
    /// The label is found more than once (in several slots, tokens or
    /// objects).
    #[error("{0}")]
    Ambiguous(String),
    /// The label or the request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The backend does not do this.
    #[error("{0}")]
    Unsupported(String),
    /// The store could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The PKCS#11 module failed.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// A cryptographic operation failed unexpectedly.
    #[error("the key operation failed: {0}")]
    Crypto(String),
}

//! What can go wrong in an HSM, and in a key file given to it.

use crate::import::KeyFileFormat;

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
    /// A key is already in the HSM under another label: importing or
    /// adopting it again would give one key two names.
    #[error("this key is already in the HSM, labelled {0:?}")]
    SameKey(String),
    /// The label names a key the ceremony already made or adopted.
    #[error(
        "the key labelled {0:?} is already the ceremony's (made or adopted before); there is nothing to adopt"
    )]
    AlreadyAdopted(String),
    /// No public key on the token has this CKA_ID (hex).
    #[error("no public key on the token has the id {0}")]
    NoId(String),
    /// The private key of a label does not sign what its public key
    /// verifies.
    #[error(
        "the private key labelled {0:?} does not match the public key of that label: a test signature does not verify"
    )]
    KeyMismatch(String),
    /// The key to adopt at initialization is missing or unusable; the
    /// token was not taken over.
    #[error(
        "the token was not taken over, as the key {label:?} cannot be adopted: {source}; its SO PIN is unchanged, but its user PIN was reset (the security officer can set it again)"
    )]
    NotTakenOver {
        /// The label asked for.
        label: String,
        /// What was wrong with it.
        #[source]
        source: Box<HsmError>,
    },
    /// A key file is not one the HSM can import.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
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

/// What is wrong with a key file given to [`crate::read_key_file`]. No
/// variant carries key bytes: what it names is a format, a field, a line,
/// a length, an algorithm or a public number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The file is larger than any key file.
    #[error("the key file is {size} bytes or more; a key file is at most {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The most read.
        limit: usize,
    },
    /// Neither a PEM private key nor a BIND private key file.
    #[error(
        "not a key file this HSM reads: expected a PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) or a BIND K*.private file"
    )]
    UnknownFormat,
    /// The PEM block is encrypted.
    #[error(
        "the key is encrypted ({0}); decrypt it on the offline machine first (openssl pkey -in FILE -out PLAIN.pem)"
    )]
    Encrypted(&'static str),
    /// A PEM block of another kind.
    #[error(
        "a PEM block labelled {0:?} is not a private key this HSM reads (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
    )]
    PemLabel(String),
    /// The PEM armour is broken.
    #[error("the PEM block {0}")]
    Pem(&'static str),
    /// Something follows (or precedes) the key.
    #[error("{format}: {what}")]
    Trailing {
        /// What the key is.
        format: KeyFileFormat,
        /// What is there.
        what: &'static str,
    },
    /// The DER inside is malformed.
    #[error("{format}: malformed DER: {problem}")]
    Der {
        /// What the key is.
        format: KeyFileFormat,
        /// What is wrong.
        problem: &'static str,
    },
    /// The key is of an algorithm, curve or structure no `KeySpec` holds.
    #[error(
        "{format}: {what}; this HSM keeps RSASHA256 (2048, 3072, 4096 bits), ECDSAP256SHA256 and ED25519 keys"
    )]
    Algorithm {
        /// What the key is.
        format: KeyFileFormat,
        /// The algorithm found, by name or OID.
        what: String,
    },
    /// An RSA key of a size no `KeySpec` holds.
    #[error(
        "{format}: an RSA key of {bits} bits; this HSM keeps RSASHA256 keys of 2048, 3072 or 4096 bits"
    )]
    RsaSize {
        /// What the key is.
        format: KeyFileFormat,
        /// The modulus's size.
        bits: usize,
    },
    /// An RSA key whose public exponent is not 65537.
    #[error(
        "{format}: an RSA key with public exponent {exponent}; this HSM keeps keys with exponent 65537 only"
    )]
    RsaExponent {
        /// What the key is.
        format: KeyFileFormat,
        /// The exponent, in decimal (or its size, when large).
        exponent: String,
    },
    /// A private scalar or seed of the wrong length.
    #[error("{format}: a {what} of {length} bytes; {expected}")]
    PrivateLength {
        /// What the key is.
        format: KeyFileFormat,
        /// Which private value.
        what: &'static str,
        /// Its length.
        length: usize,
        /// What is accepted.
        expected: &'static str,
    },
    /// The parts of the key do not belong together.
    #[error("{format}: the key is inconsistent: {what}")]
    Inconsistent {
        /// What the key is.
        format: KeyFileFormat,
        /// Which parts disagree.
        what: &'static str,
    },
    /// AWS-LC refused the key's values.
    #[error("{format}: the {spec} key is not valid ({reason})")]
    Rejected {
        /// What the key is.
        format: KeyFileFormat,
        /// Its kind.
        spec: crate::spec::KeySpec,
        /// AWS-LC's reason.
        reason: &'static str,
    },
    /// A line of a BIND private key file is wrong.
    #[error("BIND private key file, line {line}: {problem}")]
    Bind {
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        problem: BindProblem,
    },
    /// A field a BIND private key file needs is missing.
    #[error("BIND private key file: no {field} line, which an algorithm {algorithm} key needs")]
    BindMissing {
        /// The field.
        field: &'static str,
        /// The file's algorithm number.
        algorithm: u8,
    },
}

/// What is wrong with a line of a BIND private key file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindProblem {
    /// The first line is not the format line.
    #[error("expected \"Private-key-format: v1.2\" (or v1.3)")]
    FormatLine,
    /// A format version this does not read.
    #[error("Private-key-format {0:?} is not v1.2 or v1.3")]
    Version(String),
    /// The second line is not the algorithm line.
    #[error("expected \"Algorithm: N (NAME)\"")]
    AlgorithmLine,
    /// An algorithm no `KeySpec` holds.
    #[error(
        "algorithm {0} is not one this HSM keeps: 8 (RSASHA256), 13 (ECDSAP256SHA256) or 15 (ED25519)"
    )]
    Algorithm(u8),
    /// Not a `Field: value` line.
    #[error("not a \"Field: value\" line")]
    NoColon,
    /// A field BIND does not write.
    #[error("{0:?} is not a field of a BIND private key file")]
    UnknownField(String),
    /// A field of another algorithm's key.
    #[error("{0} is a field of another algorithm's key")]
    OtherAlgorithm(&'static str),
    /// A field given twice.
    #[error("{0} appears a second time")]
    Duplicate(&'static str),
    /// A value that is not base64.
    #[error("the value of {0} is not base64")]
    NotBase64(&'static str),
    /// An empty value.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// The key is kept elsewhere (an HSM through an OpenSSL engine, or an
    /// external key): the file holds no private key.
    #[error(
        "{0}: the private key is not in this file but in an HSM; adopt it from that token instead"
    )]
    External(&'static str),
}

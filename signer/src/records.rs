//! DNS records in zone-file form, as a ceremony prints them for the parent
//! and the resolvers, and the random names and numbers it makes.

use ksr::{DigestType, Dnskey, DomainName, Ds};
use rand::TryRng as _;
use zeroize::Zeroizing;

/// A DNSKEY record in zone-file form.
pub fn dnskey_record(domain: &DomainName, ttl: u32, dnskey: &Dnskey) -> String {
    format!(
        "{domain} {ttl} IN DNSKEY {} {} {} {}",
        dnskey.flags(),
        dnskey.protocol(),
        dnskey.algorithm().to_int(),
        ksr::to_base64(dnskey.public_key())
    )
}

/// The SHA-256 DS record of a KSK (Flags 257) in zone-file form.
pub fn ds_record(domain: &DomainName, dnskey: &Dnskey) -> String {
    format!(
        "{domain} IN DS {}",
        Ds::compute(domain, dnskey, DigestType::Sha256).rdata_text()
    )
}

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0; N]);
    if rand::rngs::SysRng.try_fill_bytes(bytes.as_mut()).is_err() {
        // Nothing may go on with predictable bytes.
        panic!("the operating system's random number generator failed");
    }
    bytes
}

/// A random RFC 9562 version 4 UUID in lowercase, as KSR and bundle ids.
pub fn uuid() -> String {
    let mut bytes = *random::<16>();
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let (time_low, rest) = bytes.split_at(4);
    let (time_mid, rest) = rest.split_at(2);
    let (version, rest) = rest.split_at(2);
    let (variant, node) = rest.split_at(2);
    [time_low, time_mid, version, variant, node]
        .map(hex::encode)
        .join("-")
}

/// A random string of decimal digits (a PUK), uniformly drawn.
pub fn random_digits(count: usize) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(count));
    while text.len() < count {
        let [byte] = *random::<1>();
        // 250 = 25 · 10: rejecting 250..=255 keeps the digits uniform.
        if byte < 250 {
            text.push(char::from(b'0' + byte % 10));
        }
    }
    text
}

/// A card serial: eight random hexadecimal digits, upper case.
pub(crate) fn serial() -> String {
    hex::encode_upper(*random::<4>())
}

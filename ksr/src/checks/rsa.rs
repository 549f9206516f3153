//! `KSR-KEY-RSA`: sanity of RSA public keys, beyond their size.

use num_bigint::BigUint;

use crate::dnssec::algorithm::{Algorithm, AlgorithmFamily};
use crate::dnssec::dnskey::{Dnskey, PublicKey};

/// Returns what is wrong with an RSA key: its encoding (RFC 3110, minimal),
/// its modulus (full bit length, odd, composite, no prime factor below
/// 2^16, 512 to 4096 bits for algorithm 8 and 1024 to 4096 for 10) and its
/// exponent (odd, 3 ≤ e < n). Other keys have no problems here.
pub(super) fn rsa_problems(key: &Dnskey) -> Vec<String> {
    if key.algorithm().family() != Some(AlgorithmFamily::Rsa) {
        return Vec::new();
    }
    let Ok(PublicKey::Rsa { exponent, modulus }) = key.decode_public_key() else {
        return vec!["the public key is not RFC 3110 encoded".into()];
    };
    let mut problems = Vec::new();
    if key.public_key().first() == Some(&0) && exponent.len() <= 255 {
        problems.push(format!(
            "the exponent length {} uses the long form, which is for more than 255 octets",
            exponent.len()
        ));
    }
    if exponent.first() == Some(&0) {
        problems.push("the exponent has a leading zero octet".into());
    }
    if modulus.first() == Some(&0) {
        problems.push("the modulus has a leading zero octet".into());
    } else if modulus.first().is_some_and(|top| *top < 0x80) {
        problems.push(format!(
            "the modulus does not use all {} bits of its octets",
            modulus.len() * 8
        ));
    }
    let bits = modulus.len() * 8;
    let range = if key.algorithm() == Algorithm::RSASHA512 {
        1024..=4096
    } else {
        512..=4096
    };
    if !range.contains(&bits) {
        problems.push(format!(
            "a {bits}-bit modulus is outside {} to {} bits",
            range.start(),
            range.end()
        ));
    }
    let n = BigUint::from_bytes_be(&modulus);
    let e = BigUint::from_bytes_be(&exponent);
    if modulus.last().is_some_and(|low| low % 2 == 0) {
        problems.push("the modulus is even".into());
    } else if let Some(factor) = small_factor(&modulus) {
        problems.push(format!("the modulus has the small prime factor {factor}"));
    } else if is_probable_prime(&modulus) {
        problems.push("the modulus is prime".into());
    }
    if exponent.last().is_some_and(|low| low % 2 == 0) {
        problems.push("the exponent is even".into());
    }
    if e < BigUint::from(3u8) || e >= n {
        problems.push("the exponent is not in 3 ≤ e < n".into());
    }
    problems
}

/// Returns a prime below 2^16 that divides the big-endian number, if any.
///
/// One gcd with the product of all those primes answers whether there is
/// one (a few microseconds); only then is the factor looked for by trial
/// division, which alone would cost milliseconds per key.
fn small_factor(number: &[u8]) -> Option<u32> {
    use num_integer::Integer as _;
    let n = BigUint::from_bytes_be(number);
    if n == BigUint::from(0u8) {
        return None;
    }
    // Reduce the big product first, so the gcd works on numbers of the
    // modulus's size.
    let remainder = primorial() % &n;
    if n.gcd(&remainder) == BigUint::from(1u8) {
        return None;
    }
    trial_division(number)
}

/// The product of the primes below 2^16, computed once.
fn primorial() -> &'static BigUint {
    static PRODUCT: std::sync::OnceLock<BigUint> = std::sync::OnceLock::new();
    PRODUCT.get_or_init(|| {
        // A product tree keeps the multiplications balanced.
        let mut level: Vec<BigUint> = small_primes()
            .iter()
            .map(|prime| BigUint::from(*prime))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| {
                    pair.iter()
                        .fold(BigUint::from(1u8), |product, factor| product * factor)
                })
                .collect();
        }
        level.pop().unwrap_or_else(|| BigUint::from(1u8))
    })
}

/// Finds a prime below 2^16 that divides the number, the slow way.
fn trial_division(number: &[u8]) -> Option<u32> {
    // Four octets at a time: the remainder stays below 2^16, so
    // remainder · 2^32 + chunk fits 64 bits.
    let head = number.len() % 4;
    let (first, rest) = number.split_at(head);
    let chunks: Vec<u64> = rest
        .chunks_exact(4)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u64, |value, octet| (value << 8) | u64::from(*octet))
        })
        .collect();
    let start = first
        .iter()
        .fold(0u64, |value, octet| (value << 8) | u64::from(*octet));
    small_primes().iter().copied().find(|prime| {
        let prime = u64::from(*prime);
        chunks.iter().fold(start % prime, |remainder, chunk| {
            ((remainder << 32) | chunk) % prime
        }) == 0
    })
}

/// The primes below 2^16, computed once.
fn small_primes() -> &'static [u32] {
    static PRIMES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    PRIMES.get_or_init(sieve)
}

/// The primes below 2^16, by the sieve of Eratosthenes.
fn sieve() -> Vec<u32> {
    const LIMIT: usize = 1 << 16;
    let mut composite = vec![false; LIMIT];
    let mut primes = Vec::new();
    for candidate in 2..LIMIT {
        if composite.get(candidate).copied().unwrap_or(true) {
            continue;
        }
        primes.push(u32::try_from(candidate).unwrap_or(u32::MAX));
        for multiple in (candidate * candidate..LIMIT).step_by(candidate) {
            if let Some(slot) = composite.get_mut(multiple) {
                *slot = true;
            }
        }
    }
    primes
}

/// Baillie–PSW (Miller–Rabin to base 2 and a strong Lucas test, as
/// crypto-primes implements it): no composite is known to pass. A
/// composite modulus, the usual case, costs one 2048-bit exponentiation.
fn is_probable_prime(number: &[u8]) -> bool {
    let bits = u32::try_from(number.len() * 8).unwrap_or(u32::MAX);
    match crypto_bigint::BoxedUint::from_be_slice(number, bits.max(64)) {
        Ok(n) => crypto_primes::is_prime(crypto_primes::Flavor::Any, &n),
        // Not reachable: the precision is the number's own length.
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnssec::dnskey::Flags;

    fn rsa(exponent: &[u8], modulus: &[u8]) -> Dnskey {
        let mut key = vec![u8::try_from(exponent.len()).unwrap()];
        key.extend_from_slice(exponent);
        key.extend_from_slice(modulus);
        Dnskey::new(Flags::ZSK, 3, Algorithm::RSASHA256, key)
    }

    #[test]
    fn finds_primes_and_small_factors() {
        let prime = |n: &BigUint| is_probable_prime(&n.to_bytes_be());
        assert!(prime(&BigUint::from(65_537u32)));
        assert!(!prime(&BigUint::from(65_537u64 * 65_539)));
        // 2047 = 23 · 89 passes Miller–Rabin to base 2 alone.
        assert!(!prime(&BigUint::from(2047u32)));
        // 2^521 - 1 is a Mersenne prime, 2^523 - 1 is not.
        let mersenne = (BigUint::from(1u8) << 521) - 1u8;
        assert!(prime(&mersenne));
        assert!(!prime(&((BigUint::from(1u8) << 523) - 1u8)));
        let modulus = mersenne.to_bytes_be();
        let problems = rsa(&[1, 0, 1], &modulus)
            .decode_public_key()
            .map(|_| rsa_problems(&rsa(&[1, 0, 1], &modulus)))
            .unwrap();
        assert!(problems.iter().any(|p| p.contains("prime")), "{problems:?}");
        assert_eq!(
            small_factor(&(BigUint::from(65_521u32) * 7919u32).to_bytes_be()),
            Some(7919)
        );
    }

    #[test]
    fn names_encoding_and_exponent_problems() {
        let mut modulus = vec![0xC0; 64];
        modulus[63] = 0xC3;
        let problems = rsa(&[0, 2], &modulus)
            .decode_public_key()
            .map(|_| rsa_problems(&rsa(&[0, 2], &modulus)))
            .unwrap();
        assert!(
            problems.iter().any(|p| p.contains("leading zero")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("exponent is even")),
            "{problems:?}"
        );
    }
}

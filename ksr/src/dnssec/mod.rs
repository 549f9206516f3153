//! DNSSEC records: the parts of RFC 4034 (with RFC 4509, 5011, 5702, 6605
//! and 8080) that KSRs and SKRs are made of.

pub mod algorithm;
pub mod dnskey;
pub mod ds;
pub mod keytag;
pub mod name;
pub mod rrsig;
pub mod time;
pub mod verify;

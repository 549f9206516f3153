//! The policy of `ceremony.toml`: what a KSR must satisfy, what the KSK
//! operator signs with, and which checks are switched off.
//!
//! The built-in defaults ([`Config::default`]) are the root zone's published
//! practice, the values of `ksr-checks.md`, so the real root documents pass
//! as they did in production. Every section rejects unknown keys.

mod config;
mod serde_helpers;

pub use config::{
    Config, ConfigError, KskConfig, KskPolicy, RequestPolicy, ResponsePolicy, TextCds, TextPolicy,
};

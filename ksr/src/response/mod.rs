//! Building an SKR from a checked KSR: the KSKs of each bundle's schema
//! action added to its ZSKs, and the DNSKEY RRset signed through a
//! [`BundleSigner`], which the HSM implements.

mod build;
mod schema;

pub use build::{
    BuildError, BundleSigner, KeySource, Signed, SignerError, SignerErrorKind, SkrPlan, build_skr,
    plan_skr,
};
pub use schema::{Action, KskRole, Schema, SchemaProfile, builtin, resolve};

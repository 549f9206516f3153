//! End-to-end tests of the `ceremony` binary: each runs the built binary
//! and checks its exit status, stdout and stderr. The modules mirror the
//! command tree.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a panic in a test is a failing test"
)]

mod harness;

mod airgap;
mod audit;
mod browser;
mod card;
mod ceremony;
mod crash;
mod demo;
mod ds;
mod exercise;
mod hash;
mod hostile;
mod interrupt;
mod knot;
mod kskm;
mod ksr_check;
mod ksr_policy;
mod ksr_show;
mod load;
mod paperwork;
mod refusals;
mod servers;
mod service;
mod skr_check;
mod threats;
mod usage;

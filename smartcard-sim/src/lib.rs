//! Simulated crypto-officer smartcards.
//!
//! This crate is laid down with the workspace and is still empty. It will
//! hold the `Card` trait at the level of ISO 7816-4 APDUs and the
//! file-backed simulator with PIN and PUK retry counters (issue 5).

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

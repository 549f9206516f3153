//! k-of-n activation of the HSM with Feldman verifiable secret sharing.
//!
//! This crate is laid down with the workspace and is still empty. It will
//! hold the shares that activate the HSM, the officer roster and the
//! activation session that verifies and combines them (issue 4). It knows
//! nothing of files or cards.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

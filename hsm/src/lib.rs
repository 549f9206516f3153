//! The sealed store of the KSKs.
//!
//! This crate is laid down with the workspace and is still empty. It will
//! hold the `Hsm` trait, the embedded soft HSM, the PKCS#11 backend, the
//! power-on self-tests and the hash-chained audit log (issue 6).

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

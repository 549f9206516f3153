//! HTTPS for the ceremony room's service: the TLS 1.3 server over
//! `signer`'s service (routes, limits, the witness page, the status codes
//! of its refusals), and the connection its clients use. No rule of the
//! ceremony lives here: the handlers translate.
//!
//! Main items: [`run`] with [`Serving`] and [`Witness`]; [`Remote`].

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod client;
mod intake;
mod server;

use std::path::PathBuf;

pub use client::{Answer, Remote};
pub use intake::run_intake;
pub use server::{Limits, Serving, Witness, run};

/// Why the server or a client failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A TLS file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key is not PEM of the right kind.
    #[error("{}: {reason}", .path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The service cannot be reached, or the connection failed.
    #[error("cannot reach {server}: {reason}")]
    Unreachable {
        /// The service.
        server: String,
        /// Why.
        reason: String,
    },
    /// The service answered something unexpected.
    #[error("the service answered {status} with something unexpected: {reason}")]
    Answer {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// The server could not run.
    #[error("{0}")]
    Serve(String),
}

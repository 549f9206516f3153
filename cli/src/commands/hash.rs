//! `ceremony hash FILE…`.

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `hash`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ceremony hash ksr.xml")]
pub struct Args {
    /// The files to hash.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// The hash of one file, for JSON.
#[derive(Serialize)]
struct Hashed {
    file: String,
    file_sha256: String,
    file_pgp_words: String,
}

/// Prints each file's SHA-256 in hex and as PGP words.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let mut hashed = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path).map_err(signer::Error::read(path))?;
        let digest = Sha256::digest(&bytes);
        hashed.push(Hashed {
            file: path.display().to_string(),
            file_sha256: hex::encode(digest),
            file_pgp_words: ksr::pgp_words(&digest),
        });
    }
    if context.json {
        render::json(&hashed)?;
    } else {
        for entry in &hashed {
            out(format!("SHA-256 ({}) = {}", entry.file, entry.file_sha256))?;
            out(format!("  {}", entry.file_pgp_words))?;
        }
    }
    Ok(Outcome::Success)
}

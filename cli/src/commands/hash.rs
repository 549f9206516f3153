//! `ceremony hash FILE…`.

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{CliError, Outcome};
use crate::render::{self, Context, out};

/// Arguments of `hash`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The files to hash.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// The hash of one file, for JSON.
#[derive(Serialize)]
struct Hashed {
    file: String,
    sha256: String,
    pgp_words: String,
}

/// Prints each file's SHA-256 in hex and as PGP words.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    let mut hashed = Vec::new();
    for path in &args.files {
        let bytes = std::fs::read(path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        let digest = Sha256::digest(&bytes);
        hashed.push(Hashed {
            file: path.display().to_string(),
            sha256: hex::encode(digest),
            pgp_words: ksr::pgp_words(&digest),
        });
    }
    if context.json {
        render::json(&hashed)?;
    } else {
        for entry in &hashed {
            out(format!("SHA-256 ({}) = {}", entry.file, entry.sha256))?;
            out(format!("  {}", entry.pgp_words))?;
        }
    }
    Ok(Outcome::Success)
}

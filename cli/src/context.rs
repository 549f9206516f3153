//! What every command may need: the output form, the policy and the one
//! evaluation instant. Only the binary reads files, the clock or the
//! environment (DESIGN.md); the libraries get these as parameters.

use std::path::{Path, PathBuf};

use ksr::{Config, Timestamp};

use crate::error::CliError;

/// The default policy file, read when it exists.
const DEFAULT_CONFIG: &str = "ceremony.toml";

/// The global options, resolved on demand.
pub struct Context {
    /// Print JSON on stdout instead of text.
    pub json: bool,
    /// `--config`, if given.
    pub config: Option<PathBuf>,
    /// `--now`, if given.
    pub now: Option<String>,
}

/// Where the evaluation instant came from (`TOOL-NOW`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NowSource {
    /// `--now`.
    Option,
    /// The system clock, read once.
    SystemClock,
}

impl Context {
    /// Loads the policy: `--config FILE`, else `./ceremony.toml` if it
    /// exists, else the built-in root-zone defaults. Returns the path read.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or it is not a valid policy (`TOOL-CONFIG`).
    pub fn config(&self) -> Result<(Config, Option<PathBuf>), CliError> {
        let path = match &self.config {
            Some(path) => path.clone(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok((Config::default(), None)),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        let config = Config::from_toml(&text).map_err(|source| CliError::Config {
            path: path.clone(),
            source,
        })?;
        Ok((config, Some(path)))
    }

    /// Returns the evaluation instant, fixed once (`TOOL-NOW`).
    ///
    /// # Errors
    ///
    /// `--now` is not an RFC 3339 instant in UTC.
    pub fn now(&self) -> Result<(Timestamp, NowSource), CliError> {
        match &self.now {
            Some(text) => Timestamp::parse_document(text)
                .map(|now| (now, NowSource::Option))
                .map_err(|source| CliError::Now {
                    text: text.clone(),
                    source,
                }),
            None => {
                let seconds = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|since| since.as_secs())
                    .unwrap_or(0);
                Ok((
                    Timestamp::from_unix(u32::try_from(seconds).unwrap_or(u32::MAX)),
                    NowSource::SystemClock,
                ))
            }
        }
    }
}

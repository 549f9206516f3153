//! Tabletop exercises (`ceremony exercise`, `ceremony demo`): a scenario
//! of numbered steps with roles and injected faults, run through the same
//! command lines as a real ceremony, and a scored transcript.

pub mod engine;
pub mod html;
pub mod people;
pub mod scenario;
pub mod transcript;

pub use scenario::{Scenario, ScenarioError};

/// The built-in scenarios: name and TOML text.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "normal-quarter",
        include_str!("scenarios/normal-quarter.toml"),
    ),
    (
        "first-ceremony",
        include_str!("scenarios/first-ceremony.toml"),
    ),
    ("ksk-roll", include_str!("scenarios/ksk-roll.toml")),
    ("lost-card", include_str!("scenarios/lost-card.toml")),
    ("tampered-ksr", include_str!("scenarios/tampered-ksr.toml")),
    ("power-cut", include_str!("scenarios/power-cut.toml")),
    (
        "everything-goes-wrong",
        include_str!("scenarios/everything-goes-wrong.toml"),
    ),
];

/// A built-in scenario by name, or a scenario file.
///
/// # Errors
///
/// Neither a built-in name nor a readable file, or the scenario does not
/// check (with line and column).
pub fn load(name_or_path: &str) -> Result<Scenario, crate::error::CliError> {
    if let Some((name, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
        return Ok(scenario::parse(&format!("built-in {name}"), name, text)?);
    }
    let path = std::path::Path::new(name_or_path);
    let metadata = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            crate::error::CliError::Exercise(format!(
                "{name_or_path} is neither a built-in scenario ({}) nor a file",
                BUILT_IN
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            signer::Error::Read {
                path: path.to_owned(),
                source,
            }
            .into()
        }
    })?;
    if !metadata.is_file() {
        // A FIFO or a device would be read forever.
        return Err(crate::error::CliError::Exercise(format!(
            "{name_or_path} is not a regular file"
        )));
    }
    if metadata.len() > scenario::MAX_BYTES as u64 {
        return Err(ScenarioError::too_large(name_or_path).into());
    }
    let text = std::fs::read_to_string(path).map_err(|source| signer::Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let name = path.file_stem().map_or_else(
        || "scenario".into(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    Ok(scenario::parse(name_or_path, &name, &text)?)
}

//! Reading and writing policy values in the document forms: durations as
//! in `ksr-skr-format.md` §1.9, instants as RFC 3339 in UTC.

use serde::{Deserialize, Deserializer, Serializer};

use crate::dnssec::time::{Duration, Timestamp};

/// Reads a duration such as `P21D`.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    Duration::parse_document(&text)
        .map_err(|err| serde::de::Error::custom(format!("{text:?}: {err}")))
}

/// Writes a duration in the document form.
pub fn write_duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(duration)
}

/// Reads an optional duration.
pub fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    duration(deserializer).map(Some)
}

/// Writes an optional duration in the document form.
pub fn write_optional_duration<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.collect_str(duration),
        None => serializer.serialize_none(),
    }
}

/// Reads an instant such as `2017-02-02T00:00:00Z`.
pub fn instant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    Timestamp::parse_document(&text)
        .map_err(|err| serde::de::Error::custom(format!("{text:?}: {err}")))
}

/// Reads an optional instant.
pub fn optional_instant<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    instant(deserializer).map(Some)
}

/// Writes an instant as RFC 3339 with `Z`.
pub fn write_instant<S: Serializer>(instant: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(instant)
}

/// Writes an optional instant (only called when it is set).
pub fn write_optional_instant<S: Serializer>(
    instant: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match instant {
        Some(instant) => serializer.collect_str(instant),
        None => serializer.serialize_none(),
    }
}

//! Times and durations as the documents write them (`ksr-skr-format.md`
//! §1.8, §1.9).

use std::fmt;

use serde::Serialize;

//------------ Timestamp -----------------------------------------------------

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z, as RRSIG
/// times are (RFC 4034 §3.1.5).
///
/// Validators compare RRSIG times with serial arithmetic, but the documents
/// only allow 1970 … 2106-02-07T06:28:15Z, where the full 32-bit value is
/// unambiguous; so timestamps are ordered as plain numbers
/// (`ksr-skr-format.md` §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u32);

impl Timestamp {
    /// Makes a timestamp from seconds since the epoch.
    pub const fn from_unix(seconds: u32) -> Self {
        Self(seconds)
    }

    /// Reads a document timestamp: `YYYY-MM-DDThh:mm:ss` followed by
    /// nothing (UTC), `Z`, `+00:00` or `-00:00` (`KSR-PARSE-TIME`).
    ///
    /// # Errors
    ///
    /// Any other form, offset, fraction, an invalid calendar date or a value
    /// outside the 32-bit range.
    pub fn parse_document(text: &str) -> Result<Self, TimeError> {
        let (civil, zone) = text.split_at_checked(19).ok_or(TimeError::Form)?;
        if !matches!(zone, "" | "Z" | "+00:00" | "-00:00") {
            return Err(if zone.starts_with('.') {
                TimeError::Fraction
            } else {
                TimeError::Offset
            });
        }
        let bytes = civil.as_bytes();
        let shape_ok = bytes.iter().enumerate().all(|(i, byte)| match i {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        });
        if !shape_ok {
            return Err(TimeError::Form);
        }
        let field = |range: std::ops::Range<usize>| -> Result<i16, TimeError> {
            civil
                .get(range)
                .and_then(|digits| digits.parse().ok())
                .ok_or(TimeError::Form)
        };
        let to_i8 = |value: i16| i8::try_from(value).map_err(|_| TimeError::Calendar);
        let datetime = jiff::civil::DateTime::new(
            field(0..4)?,
            to_i8(field(5..7)?)?,
            to_i8(field(8..10)?)?,
            to_i8(field(11..13)?)?,
            to_i8(field(14..16)?)?,
            to_i8(field(17..19)?)?,
            0,
        )
        .map_err(|_| TimeError::Calendar)?;
        let seconds = datetime
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| TimeError::Calendar)?
            .timestamp()
            .as_second();
        u32::try_from(seconds)
            .map(Self)
            .map_err(|_| TimeError::Range)
    }

    /// Returns seconds since the epoch.
    pub const fn to_unix(self) -> u32 {
        self.0
    }

    /// Returns the time `seconds` later, or `None` past 2106.
    pub fn checked_add(self, seconds: u32) -> Option<Self> {
        self.0.checked_add(seconds).map(Self)
    }

    /// Returns the signed number of seconds from `earlier` to `self`.
    pub fn seconds_since(self, earlier: Self) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// Returns the civil UTC time.
    fn civil(self) -> jiff::civil::DateTime {
        // Every u32 second count is a valid jiff timestamp (years 1970-2106).
        jiff::Timestamp::from_second(i64::from(self.0))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .datetime()
    }

    /// Writes the document form `YYYY-MM-DDThh:mm:ss+00:00`.
    pub fn to_document(self) -> String {
        self.civil().strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    }

    /// The C `ctime` form in UTC, `Sat Apr  1 00:00:00 2017`, as BIND's
    /// text headers show the time.
    pub fn to_ctime(self) -> String {
        self.civil().strftime("%a %b %e %H:%M:%S %Y").to_string()
    }

    /// `YYYYMMDDHHmmSS` in UTC (RFC 4034 §3.2), as RRSIG records and BIND's
    /// text headers write it.
    pub fn to_rrsig_text(self) -> String {
        self.civil().strftime("%Y%m%d%H%M%S").to_string()
    }
}

//--- Display, Serialize

impl fmt::Display for Timestamp {
    /// Writes RFC 3339 in UTC with `Z`, such as `2017-04-01T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.civil().strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

//------------ Duration ------------------------------------------------------

/// A policy duration in whole seconds, at most 2^32 − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u32);

impl Duration {
    /// Makes a duration from seconds.
    pub const fn from_seconds(seconds: u32) -> Self {
        Self(seconds)
    }

    /// Returns the length in seconds.
    pub const fn as_seconds(self) -> u32 {
        self.0
    }

    /// Reads the subset of ISO 8601 durations the documents allow
    /// (`ksr-skr-format.md` §1.9): `P` then either `<n>W`, or
    /// `[<n>D][T[<n>H][<n>M][<n>S]]` with at least one number, and a `T`
    /// followed by at least one of H, M, S.
    ///
    /// # Errors
    ///
    /// Years, months, signs, fractions, empty values, misplaced designators
    /// and values over 2^32 − 1 seconds (`KSR-PARSE-DURATION`).
    pub fn parse_document(text: &str) -> Result<Self, DurationError> {
        let body = text.strip_prefix('P').ok_or(DurationError::Form)?;
        if let Some(weeks) = body.strip_suffix('W') {
            return Self::total(&[(weeks, 7 * 86_400)]);
        }
        let (date, time) = match body.split_once('T') {
            Some((date, time)) => {
                if time.is_empty() {
                    return Err(DurationError::Form);
                }
                (date, Some(time))
            }
            None => (body, None),
        };
        let mut parts: Vec<(&str, u64)> = Vec::new();
        if !date.is_empty() {
            let days = date.strip_suffix('D').ok_or(DurationError::Form)?;
            parts.push((days, 86_400));
        }
        if let Some(mut rest) = time {
            for (designator, unit) in [('H', 3_600), ('M', 60), ('S', 1)] {
                if let Some((number, after)) = rest.split_once(designator) {
                    parts.push((number, unit));
                    rest = after;
                }
            }
            if !rest.is_empty() {
                return Err(DurationError::Form);
            }
        }
        if parts.is_empty() {
            return Err(DurationError::Form);
        }
        Self::total(&parts)
    }

    /// Adds up `number × unit` for each part, refusing anything but digits.
    fn total(parts: &[(&str, u64)]) -> Result<Self, DurationError> {
        let mut seconds: u64 = 0;
        for (number, unit) in parts {
            if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(DurationError::Form);
            }
            let value: u64 = number.parse().map_err(|_| DurationError::Range)?;
            seconds = value
                .checked_mul(*unit)
                .and_then(|part| seconds.checked_add(part))
                .ok_or(DurationError::Range)?;
        }
        u32::try_from(seconds)
            .map(Self)
            .map_err(|_| DurationError::Range)
    }

    /// Writes the duration byte for byte as kskm does
    /// (`ksr-skr-format.md` §1.9): days, then hours only when the rest is
    /// more than an hour and minutes only when it is more than a minute, so
    /// one hour is `PT60M` and one minute `PT60S`.
    pub fn to_document(self) -> String {
        let mut seconds = self.0;
        if seconds == 0 {
            return "PT0S".into();
        }
        let mut text = String::from("P");
        let days = seconds / 86_400;
        seconds %= 86_400;
        if days > 0 {
            text.push_str(&format!("{days}D"));
        }
        if seconds > 0 {
            text.push('T');
            if seconds > 3_600 {
                text.push_str(&format!("{}H", seconds / 3_600));
                seconds %= 3_600;
            }
            if seconds > 60 {
                text.push_str(&format!("{}M", seconds / 60));
                seconds %= 60;
            }
            if seconds > 0 {
                text.push_str(&format!("{seconds}S"));
            }
        }
        text
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_document())
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

//------------ Errors --------------------------------------------------------

/// Why a document timestamp does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not `YYYY-MM-DDThh:mm:ss` plus an allowed zone.
    #[error("expected YYYY-MM-DDThh:mm:ss with nothing, Z, +00:00 or -00:00 after it")]
    Form,
    /// A zone offset other than UTC.
    #[error("only UTC is allowed: the offset must be Z, +00:00 or -00:00")]
    Offset,
    /// Fractional seconds.
    #[error("fractional seconds are not allowed: RRSIG times are whole seconds")]
    Fraction,
    /// Not a real date or time of day.
    #[error("not a valid calendar date and time")]
    Calendar,
    /// Outside 1970-01-01T00:00:00Z … 2106-02-07T06:28:15Z.
    #[error("outside 1970-01-01T00:00:00Z … 2106-02-07T06:28:15Z (the 32-bit RRSIG range)")]
    Range,
}

/// Why a document duration does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the grammar of `ksr-skr-format.md` §1.9.
    #[error(
        "expected an ISO 8601 duration such as P21D, PT1H or P1W (no years, months, signs or fractions)"
    )]
    Form,
    /// More than 2^32 − 1 seconds.
    #[error("longer than 4294967295 seconds")]
    Range,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_durations_as_the_spec_table_says() {
        // The table of ksr-skr-format.md §1.9, including kskm's quirks.
        let table = [
            (0, "PT0S"),
            (59, "PT59S"),
            (60, "PT60S"),
            (61, "PT1M1S"),
            (120, "PT2M"),
            (3600, "PT60M"),
            (3601, "PT1H1S"),
            (3660, "PT1H60S"),
            (7200, "PT2H"),
            (86400, "P1D"),
            (86460, "P1DT60S"),
            (90000, "P1DT60M"),
            (93600, "P1DT2H"),
            (1_814_400, "P21D"),
        ];
        for (seconds, text) in table {
            assert_eq!(
                Duration::from_seconds(seconds).to_document(),
                text,
                "{seconds}"
            );
            assert_eq!(
                Duration::parse_document(text),
                Ok(Duration::from_seconds(seconds))
            );
        }
    }

    #[test]
    fn reads_weeks_and_time_parts() {
        assert_eq!(
            Duration::parse_document("P3W").map(Duration::as_seconds),
            Ok(1_814_400)
        );
        assert_eq!(
            Duration::parse_document("PT1H").map(Duration::as_seconds),
            Ok(3_600)
        );
        assert_eq!(
            Duration::parse_document("P1DT1H1M1S").map(Duration::as_seconds),
            Ok(90_061)
        );
        assert_eq!(
            Duration::parse_document("PT4294967295S").map(Duration::as_seconds),
            Ok(u32::MAX)
        );
    }

    #[test]
    fn refuses_what_kskm_tolerates() {
        for text in [
            "",
            "P",
            "PT",
            "P1Y",
            "P1M",
            "-P1D",
            "P1.5D",
            "P1D5",
            "PT1D",
            "P1H",
            "P1WT1H",
            "P1W1D",
            "P+1D",
            "P 1D",
            "PT1M1H",
            "PT4294967296S",
            "p1d",
            "P1DT",
        ] {
            assert!(
                Duration::parse_document(text).is_err(),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn reads_the_four_utc_forms() {
        for text in [
            "2017-04-01T00:00:00",
            "2017-04-01T00:00:00Z",
            "2017-04-01T00:00:00+00:00",
            "2017-04-01T00:00:00-00:00",
        ] {
            assert_eq!(
                Timestamp::parse_document(text),
                Ok(Timestamp::from_unix(1_491_004_800))
            );
        }
        let time = Timestamp::from_unix(1_492_819_200);
        assert_eq!(time.to_document(), "2017-04-22T00:00:00+00:00");
        assert_eq!(time.to_rrsig_text(), "20170422000000");
    }

    #[test]
    fn refuses_other_time_forms() {
        let cases = [
            ("2017-04-01T00:00:00+01:00", TimeError::Offset),
            ("2017-04-01T00:00:00.5Z", TimeError::Fraction),
            ("2017-04-01 00:00:00", TimeError::Form),
            ("2017-04-01", TimeError::Form),
            ("20170401T000000", TimeError::Form),
            ("2017-02-29T00:00:00", TimeError::Calendar),
            ("2017-04-01T24:00:00", TimeError::Calendar),
            ("1969-12-31T23:59:59", TimeError::Range),
            ("2106-02-07T06:28:16Z", TimeError::Range),
            ("2017-04-01T00:00:00ZZ", TimeError::Offset),
            ("+017-04-01T00:00:00", TimeError::Form),
        ];
        for (text, error) in cases {
            assert_eq!(Timestamp::parse_document(text), Err(error), "{text}");
        }
        assert_eq!(
            Timestamp::parse_document("2106-02-07T06:28:15Z"),
            Ok(Timestamp::from_unix(u32::MAX))
        );
    }
}

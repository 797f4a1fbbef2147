//! Go duration strings (`time.ParseDuration` / `Duration.String`) as Pebble reads and writes them.
//!
//! Pebble renders every duration of the plan back in Go's canonical form (`60s` becomes `1m0s`),
//! so [`GoDuration`] keeps the value, not the text: two durations are equal when they are the
//! same length of time, and serialising always produces the canonical form.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;
const NANOS_PER_MINUTE: u128 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: u128 = 60 * NANOS_PER_MINUTE;
/// Go's `time.Duration` is an `int64` of nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

/// A non-negative Go duration, held as nanoseconds.
///
/// Parses every form Go's `time.ParseDuration` accepts for non-negative values (`"0"`, `"300ms"`,
/// `"1.5s"`, `"2h45m"`, `"1µs"`); [`fmt::Display`] and serde render Go's `Duration.String()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(Duration);

/// Why a string is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Go duration {input:?}: {reason}")]
pub struct ParseDurationError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl GoDuration {
    /// A duration of `secs` whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    /// The length of time as a std [`Duration`].
    pub const fn as_duration(self) -> Duration {
        self.0
    }
}

impl From<Duration> for GoDuration {
    fn from(value: Duration) -> Self {
        Self(value)
    }
}

impl From<GoDuration> for Duration {
    fn from(value: GoDuration) -> Self {
        value.0
    }
}

impl FromStr for GoDuration {
    type Err = ParseDurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input)
            .map(|nanos| Self(nanos_to_duration(nanos)))
            .map_err(|reason| ParseDurationError {
                input: input.to_owned(),
                reason,
            })
    }
}

fn nanos_to_duration(nanos: u128) -> Duration {
    // `nanos <= i64::MAX` was checked while parsing, so both parts fit.
    let secs = (nanos / NANOS_PER_SECOND) as u64;
    let sub = (nanos % NANOS_PER_SECOND) as u32;
    Duration::new(secs, sub)
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => NANOS_PER_MINUTE,
        "h" => NANOS_PER_HOUR,
        _ => return None,
    })
}

/// Go's grammar: `[+]` then one or more `<decimal>[.<decimal>]<unit>`; a bare `0` is allowed.
fn parse(input: &str) -> Result<u128, &'static str> {
    let mut rest = input.strip_prefix('+').unwrap_or(input);
    if rest.starts_with('-') {
        return Err("negative durations are not valid here");
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("empty duration");
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err("expected a number");
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err("missing unit");
        }
        let scale = unit_nanos(&rest[..unit_len]).ok_or("unknown unit")?;
        rest = &rest[unit_len..];

        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| "number out of range")?
        };
        let mut value = whole.checked_mul(scale).ok_or("duration out of range")?;
        // Fractional digits beyond nanosecond precision are truncated, as Go does.
        let mut digit_scale = scale;
        for digit in frac_part.bytes() {
            digit_scale /= 10;
            if digit_scale == 0 {
                break;
            }
            value += u128::from(digit - b'0') * digit_scale;
        }
        total = total.checked_add(value).ok_or("duration out of range")?;
        if total > MAX_NANOS {
            return Err("duration out of range");
        }
    }
    Ok(total)
}

/// Writes `value / 10^precision` with trailing fractional zeros (and a bare dot) removed.
fn write_fraction(out: &mut String, value: u128, precision: u32) {
    let divisor = 10u128.pow(precision);
    let whole = value / divisor;
    let frac = value % divisor;
    out.push_str(&whole.to_string());
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = precision as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        let mut out = String::new();
        if nanos == 0 {
            out.push_str("0s");
        } else if nanos < NANOS_PER_MICRO {
            out.push_str(&format!("{nanos}ns"));
        } else if nanos < NANOS_PER_MILLI {
            write_fraction(&mut out, nanos, 3);
            out.push_str("µs");
        } else if nanos < NANOS_PER_SECOND {
            write_fraction(&mut out, nanos, 6);
            out.push_str("ms");
        } else {
            let hours = nanos / NANOS_PER_HOUR;
            let minutes = (nanos % NANOS_PER_HOUR) / NANOS_PER_MINUTE;
            let secs_nanos = nanos % NANOS_PER_MINUTE;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            if hours > 0 || minutes > 0 {
                out.push_str(&format!("{minutes}m"));
            }
            write_fraction(&mut out, secs_nanos, 9);
            out.push('s');
        }
        f.write_str(&out)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Pebble insists on YAML strings for durations ("duration must be a YAML string").
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> GoDuration {
        text.parse().unwrap()
    }

    #[test]
    fn renders_go_canonical_form() {
        for (input, canonical) in [
            ("60s", "1m0s"),
            ("500ms", "500ms"),
            ("1.5s", "1.5s"),
            ("0", "0s"),
            ("0s", "0s"),
            ("1h", "1h0m0s"),
            ("2h45m", "2h45m0s"),
            ("90m", "1h30m0s"),
            ("1500ms", "1.5s"),
            ("1.5ms", "1.5ms"),
            ("2us", "2µs"),
            ("2µs", "2µs"),
            ("100ns", "100ns"),
            ("168h", "168h0m0s"),
            ("1m0.25s", "1m0.25s"),
            ("3600.000000001s", "1h0m0.000000001s"),
        ] {
            assert_eq!(d(input).to_string(), canonical, "rendering {input}");
            assert_eq!(d(canonical), d(input), "{canonical} re-parses to {input}");
        }
    }

    #[test]
    fn equal_by_value_not_text() {
        assert_eq!(d("60s"), d("1m"));
        assert_eq!(d("1m0s"), d("60000ms"));
        assert_ne!(d("60s"), d("61s"));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "s",
            "5",
            "1x",
            "-1s",
            "1.s5",
            ".s",
            "1h1",
            "abc",
            "9999999999h",
        ] {
            let err = bad.parse::<GoDuration>();
            assert!(err.is_err(), "{bad:?} should not parse, got {err:?}");
        }
    }

    #[test]
    fn accepts_go_edge_forms() {
        assert_eq!(d("1.s"), d("1s"));
        assert_eq!(d(".5s"), d("500ms"));
        assert_eq!(d("+2s"), d("2s"));
        assert_eq!(
            d("1h2m3s4ms5us6ns").as_duration().as_nanos(),
            3_723_004_005_006
        );
    }

    #[test]
    fn serde_round_trip_uses_canonical_text() {
        let yaml = serde_yaml::to_string(&d("60s")).unwrap();
        assert_eq!(yaml.trim(), "1m0s");
        let back: GoDuration = serde_yaml::from_str("\"90s\"").unwrap();
        assert_eq!(back, d("1m30s"));
        let not_string = serde_yaml::from_str::<GoDuration>("5");
        assert!(not_string.is_err());
    }
}

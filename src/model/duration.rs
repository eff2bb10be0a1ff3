//! Durations as users write them: a whole number and a unit (`500ms`, `30s`,
//! `15m`, `2h`, `1d`).

use std::time::Duration;

/// Parses `<number><unit>`; the error is a sentence for a diagnostic's help.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err("a duration starts with a whole number, like `30s` or `15m`".into());
    }
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{number}` is too large for a duration"))?;
    let seconds = |factor: u64| {
        n.checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("`{text}` is too long a duration"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        "" => Err(format!(
            "`{text}` has no unit: write `{n}s`, `{n}m` or `{n}h`"
        )),
        other => Err(match unit_meant(other.trim()) {
            Some(unit) if other.starts_with(char::is_whitespace) => {
                format!("write `{n}{unit}`: the unit follows the number directly")
            }
            Some(unit) => format!("write `{n}{unit}`: units are `ms`, `s`, `m`, `h` and `d`"),
            None => format!(
                "`{}` is not a duration unit: use `ms`, `s`, `m`, `h` or `d`",
                other.trim()
            ),
        }),
    }
}

/// The unit a spelled-out or spaced-out one means (`5 minutes` → `m`).
fn unit_meant(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        _ => return None,
    })
}

/// Formats a duration the way users write them, choosing the largest exact unit.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    if s == 0 {
        "0s".into()
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
#[allow(clippy::duration_suboptimal_units)] // seconds make the expected values checkable
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn rejects_missing_number_unit_and_overflow() {
        assert!(parse_duration("h").unwrap_err().contains("whole number"));
        assert!(parse_duration("15").unwrap_err().contains("no unit"));
        assert!(parse_duration("15x").unwrap_err().contains("`x`"));
        assert_eq!(
            parse_duration("5 minutes").unwrap_err(),
            "write `5m`: the unit follows the number directly"
        );
        assert!(parse_duration("2 H").unwrap_err().contains("`2h`"));
        assert!(
            parse_duration("10mins")
                .unwrap_err()
                .starts_with("write `10m`: units")
        );
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("999999999999999999h").is_err());
    }

    #[test]
    fn formats_with_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(900)), "15m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    }
}

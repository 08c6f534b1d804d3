//! Value parsers for Java-style settings, shared by the client, producer and consumer configs so
//! that every component reads `ms`, sizes, booleans and lists the same way.
//!
//! Each returns [`ConfigError::InvalidValue`] naming the key and the value as given.

use std::time::Duration;

use super::ConfigError;

/// A number of any [`FromStr`](std::str::FromStr) type, surrounding spaces ignored.
pub fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|e| ConfigError::invalid(key, value, e.to_string()))
}

/// A duration given in milliseconds, as every Java `*.ms` setting is; negative values are refused.
pub fn ms(key: &str, value: &str) -> Result<Duration, ConfigError> {
    let ms: i64 =
        num(key, value).map_err(|_| ConfigError::invalid(key, value, "expected milliseconds"))?;
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| ConfigError::invalid(key, value, "must be >= 0 ms"))
}

/// A size in bytes; negative values are refused.
pub fn size(key: &str, value: &str) -> Result<usize, ConfigError> {
    let n: i64 = num(key, value)?;
    usize::try_from(n).map_err(|_| ConfigError::invalid(key, value, "must be >= 0 bytes"))
}

/// `true` or `false`, in any letter case.
pub fn bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::invalid(key, value, "expected true or false")),
    }
}

/// A comma-separated list; items are trimmed and empty items dropped.
pub fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(ms("a.ms", " 250 ").unwrap(), Duration::from_millis(250));
        assert!(matches!(
            ms("a.ms", "-1"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            ms("a.ms", "x"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert_eq!(size("b", "16384").unwrap(), 16384);
        assert!(size("b", "-5").is_err());
        assert!(bool("c", "TRUE").unwrap());
        assert!(bool("c", "yes").is_err());
        assert_eq!(list(" a, ,b ,"), vec!["a".to_string(), "b".to_string()]);
        assert_eq!(num::<i32>("d", "7").unwrap(), 7);
    }
}

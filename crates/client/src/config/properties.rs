//! A Java `.properties` parser: the format Kafka's command-line tools and most deployments use
//! for client settings (`java.util.Properties#load`).
//!
//! Supported: `key=value`, `key: value` and `key value`; `#` and `!` comment lines; a `\` at the
//! end of a line continues the value on the next line (leading blanks of that line dropped);
//! escapes `\t \n \r \f \\ \uXXXX` and `\x` for any other `x` (so `\=` and `\:` keep those
//! characters in keys). Later occurrences of a key replace earlier ones, as in Java.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::config::ConfigError;

/// An ordered set of `key → value` strings named as Java names them (`bootstrap.servers`).
///
/// Component configs take the keys they know out of it (see
/// [`crate::ClientConfig::from_properties`]) and hand the rest on, so the producer and consumer
/// configs can layer on top of the client's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: BTreeMap<String, String>,
}

impl Properties {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the text of a `.properties` file.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming the line of a malformed `\uXXXX` escape.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut props = Properties::new();
        let mut lines = text.lines().enumerate().peekable();
        while let Some((index, line)) = lines.next() {
            let first_line = index + 1;
            let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                continue;
            }
            // Join continuation lines: an odd number of trailing backslashes escapes the newline.
            let mut logical = String::from(trimmed);
            while ends_with_odd_backslashes(&logical) {
                logical.pop();
                match lines.next() {
                    Some((_, next)) => {
                        logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']))
                    }
                    None => break,
                }
            }
            let (key, value) = split_key_value(&logical);
            let key = unescape(key, first_line)?;
            let value = unescape(value, first_line)?;
            props.entries.insert(key, value);
        }
        Ok(props)
    }

    /// Reads and parses a `.properties` file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, [`ConfigError::Parse`] as
    /// [`Properties::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Sets `key` to `value`, replacing any earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.insert(key.into(), value.into());
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.remove(key)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All `(key, value)` pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Gives every `(key, value)` to `apply` (a config's `apply`), in key order.
    ///
    /// # Errors
    /// The first error `apply` returns, or [`ConfigError::UnknownKey`] for the first key it
    /// did not know.
    pub fn apply_each(
        &self,
        mut apply: impl FnMut(&str, &str) -> Result<bool, ConfigError>,
    ) -> Result<(), ConfigError> {
        self.iter()
            .try_for_each(|(key, value)| ConfigError::known(apply(key, value)?, key))
    }

    /// Fails on the first key left over after every component took its own: the last step of
    /// loading a config, so that a misspelt setting is reported instead of silently ignored.
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] naming the first (in key order) leftover key.
    pub fn ensure_empty(&self) -> Result<(), ConfigError> {
        match self.entries.keys().next() {
            Some(key) => Err(ConfigError::UnknownKey { key: key.clone() }),
            None => Ok(()),
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Properties {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl From<HashMap<String, String>> for Properties {
    fn from(map: HashMap<String, String>) -> Self {
        map.into_iter().collect()
    }
}

impl IntoIterator for Properties {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or blank; blanks around the separator
/// belong to neither side. Escapes stay in place for [`unescape`].
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(bytes.len());
    let mut j = key_end;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
        j += 1;
    }
    if j < bytes.len() && matches!(bytes[j], b'=' | b':') {
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
            j += 1;
        }
    }
    (&line[..key_end], &line[j..])
}

fn unescape(s: &str, line: usize) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| ConfigError::Parse {
                        line,
                        reason: format!("malformed \\u escape \"\\u{hex}\""),
                    })?;
                out.push(code);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_comments_and_blanks() {
        let p = Properties::parse(
            "# comment\n! also comment\n\n  a=1\nb : 2\nc 3\nd\ne=\n  f = spaced value  \n",
        )
        .unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), Some("3"));
        assert_eq!(p.get("d"), Some(""));
        assert_eq!(p.get("e"), Some(""));
        // Trailing blanks of a value are kept, as in Java.
        assert_eq!(p.get("f"), Some("spaced value  "));
        assert_eq!(p.len(), 6);
    }

    #[test]
    fn continuation_lines() {
        let p = Properties::parse(
            "sasl.jaas.config=org.example.Login required \\\n    username=\"u\" \\\n    password=\"p\";\nnext=x\n",
        )
        .unwrap();
        assert_eq!(
            p.get("sasl.jaas.config"),
            Some("org.example.Login required username=\"u\" password=\"p\";")
        );
        assert_eq!(p.get("next"), Some("x"));
        // An even number of backslashes is an escaped backslash, not a continuation.
        let p = Properties::parse("path=C:\\\\\nother=1").unwrap();
        assert_eq!(p.get("path"), Some("C:\\"));
        assert_eq!(p.get("other"), Some("1"));
    }

    #[test]
    fn escapes_in_keys_and_values() {
        let p = Properties::parse("a\\=b=c\\:d\nk=tab\\there\\u0041\n").unwrap();
        assert_eq!(p.get("a=b"), Some("c:d"));
        assert_eq!(p.get("k"), Some("tab\there\u{41}"));
        let err = Properties::parse("\n\nk=\\u00zz").unwrap_err();
        assert!(matches!(err, ConfigError::Parse { line: 3, .. }), "{err:?}");
    }

    #[test]
    fn last_value_wins_and_leftovers_named() {
        let mut p = Properties::parse("x=1\nx=2\nzz=3").unwrap();
        assert_eq!(p.get("x"), Some("2"));
        assert_eq!(p.remove("x"), Some("2".into()));
        assert_eq!(
            p.ensure_empty().unwrap_err(),
            ConfigError::UnknownKey { key: "zz".into() }
        );
        p.remove("zz");
        assert!(p.ensure_empty().is_ok());
    }

    #[test]
    fn from_hash_map() {
        let mut m = HashMap::new();
        m.insert("client.id".to_string(), "me".to_string());
        let p = Properties::from(m);
        assert_eq!(p.get("client.id"), Some("me"));
    }
}

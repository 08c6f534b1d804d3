//! Client settings from the command line: `-F file.properties` first, then each `-X key=value`,
//! then what a subcommand sets itself. Later values win, as in Java's `Properties#putAll`.
//!
//! The pairs keep where they came from so an unknown key is reported against the flag or file
//! that introduced it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `.properties` file (`-F`, `--consumer.config`, ...).
    File(PathBuf),
    /// A `-X key=value` flag.
    Flag,
    /// Set by the subcommand from its own options (e.g. `--acks`).
    Command,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Flag => f.write_str("-X"),
            Origin::Command => f.write_str("command line"),
        }
    }
}

/// An ordered list of Java client settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pairs: Vec<(String, String, Origin)>,
}

impl Settings {
    /// No settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Settings from an optional properties file followed by `-X` pairs.
    ///
    /// # Errors
    /// When the file cannot be read or parsed (one line naming the file).
    pub fn from_cli(file: Option<&Path>, flags: &[(String, String)]) -> anyhow::Result<Self> {
        let mut s = Settings::new();
        if let Some(path) = file {
            s.load_file(path)?;
        }
        for (k, v) in flags {
            s.set(k, v, Origin::Flag);
        }
        Ok(s)
    }

    /// Appends every setting of a Java `.properties` file.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn load_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read properties file {}: {e}", path.display()))?;
        for (k, v) in parse_properties(&text)
            .map_err(|e| anyhow::anyhow!("bad properties file {}: {e}", path.display()))?
        {
            self.set(&k, &v, Origin::File(path.to_path_buf()));
        }
        Ok(())
    }

    /// Appends one setting (it overrides earlier ones with the same key).
    pub fn set(&mut self, key: &str, value: &str, origin: Origin) {
        self.pairs
            .push((key.to_string(), value.to_string(), origin));
    }

    /// The effective value of `key` (the last one set).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }

    /// Removes every value of `key` and returns the effective one.
    pub fn take(&mut self, key: &str) -> Option<String> {
        let value = self.get(key).map(str::to_string);
        self.pairs.retain(|(k, _, _)| k != key);
        value
    }

    /// The settings in application order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Origin)> {
        self.pairs
            .iter()
            .map(|(k, v, o)| (k.as_str(), v.as_str(), o))
    }

    /// Applies every setting in order through `apply`, which returns `Ok(false)` for a key it does
    /// not know.
    ///
    /// # Errors
    /// The first unknown key or rejected value, as one line naming its origin.
    pub fn apply_all<E: fmt::Display>(
        &self,
        mut apply: impl FnMut(&str, &str) -> Result<bool, E>,
    ) -> anyhow::Result<()> {
        for (k, v, origin) in &self.pairs {
            match apply(k, v) {
                Ok(true) => {}
                Ok(false) => anyhow::bail!("unknown configuration property '{k}' (from {origin})"),
                Err(e) => anyhow::bail!("invalid value for '{k}' (from {origin}): {e}"),
            }
        }
        Ok(())
    }
}

/// Parses the subset of Java `.properties` syntax Kafka configs use: `k=v`, `k: v`, `k v`,
/// `#`/`!` comments, `\` line continuations and `\t \n \r \\ \uXXXX` escapes.
///
/// # Errors
/// A malformed `\u` escape, with its line number.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let mut logical = line.to_string();
        while logical.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1 {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|e| format!("line {}: {e}", index + 1))?;
        let value = unescape(value).map_err(|e| format!("line {}: {e}", index + 1))?;
        out.push((key, value));
    }
    Ok(out)
}

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
    let i = i.min(bytes.len());
    let key = &line[..i];
    let mut rest = line[i..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\x0c']);
    }
    (key, rest)
}

fn unescape(s: &str) -> Result<String, String> {
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
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad \\u escape '\\u{hex}'"))?;
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
    fn parses_java_properties_forms() {
        let text = "# comment\n! also\nbootstrap.servers=h:1\nacks : all\nclient.id my-app\n\
                    sasl.jaas.config=a \\\n    b\nkey\\=with\\:seps=v\\tx\nempty=\n";
        let p = parse_properties(text).unwrap();
        assert_eq!(
            p,
            vec![
                ("bootstrap.servers".into(), "h:1".into()),
                ("acks".into(), "all".into()),
                ("client.id".into(), "my-app".into()),
                ("sasl.jaas.config".into(), "a b".into()),
                ("key=with:seps".into(), "v\tx".into()),
                ("empty".into(), "".into()),
            ]
        );
    }

    #[test]
    fn bad_unicode_escape_names_the_line() {
        let err = parse_properties("a=1\nb=\\uZZZZ\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn later_settings_win_and_unknown_keys_name_their_origin() {
        let mut s = Settings::new();
        s.set("acks", "1", Origin::File("p.properties".into()));
        s.set("acks", "all", Origin::Flag);
        assert_eq!(s.get("acks"), Some("all"));
        let mut seen = Vec::new();
        s.apply_all(|k, v| {
            seen.push((k.to_string(), v.to_string()));
            Ok::<_, String>(true)
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].1, "all");

        s.set("no.such.key", "1", Origin::Flag);
        let err = s
            .apply_all(|k, _| Ok::<_, String>(k != "no.such.key"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown configuration property 'no.such.key' (from -X)"
        );
        assert_eq!(s.take("acks"), Some("all".into()));
        assert_eq!(s.get("acks"), None);
    }

    #[test]
    fn missing_file_is_a_one_line_error() {
        let err = Settings::from_cli(Some(Path::new("/nonexistent/x.properties")), &[])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read properties file /nonexistent/x.properties"));
        assert!(!err.contains('\n'));
    }
}

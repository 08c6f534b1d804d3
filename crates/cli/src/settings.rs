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

    /// Appends every setting of a Java `.properties` file (parsed by rafka-client's
    /// [`rafka_client::Properties`], the same loader the client configs use).
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn load_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let props = rafka_client::Properties::load(path).map_err(|e| match e {
            rafka_client::ConfigError::Io { message, .. } => {
                anyhow::anyhow!("cannot read properties file {}: {message}", path.display())
            }
            other => anyhow::anyhow!("bad properties file {}: {other}", path.display()),
        })?;
        for (k, v) in props.iter() {
            self.set(k, v, Origin::File(path.to_path_buf()));
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn properties_files_load_in_order_under_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.properties");
        std::fs::write(&path, "# c\nacks=1\nclient.id : app\n").unwrap();
        let s = Settings::from_cli(Some(&path), &[("acks".into(), "all".into())]).unwrap();
        assert_eq!(s.get("acks"), Some("all"));
        assert_eq!(s.get("client.id"), Some("app"));
        let origins: Vec<String> = s.iter().map(|(k, _, o)| format!("{k}@{o}")).collect();
        assert!(
            origins.contains(&format!("client.id@{}", path.display())),
            "{origins:?}"
        );
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

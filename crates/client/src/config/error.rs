//! [`ConfigError`]: what can be wrong with a configuration.

/// A configuration problem: an unknown or invalid key, or settings that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No component knows this setting.
    #[error("unknown configuration key \"{key}\"")]
    UnknownKey {
        /// The key as given.
        key: String,
    },
    /// The value of a known key cannot be used.
    #[error("invalid value \"{value}\" for \"{key}\": {reason}")]
    InvalidValue {
        /// The Java setting name.
        key: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A required setting is missing.
    #[error("missing required configuration \"{key}\"")]
    Missing {
        /// The Java setting name.
        key: &'static str,
    },
    /// Settings that cannot be used together.
    #[error("incompatible configuration: {reason}")]
    Incompatible {
        /// Which settings clash and why.
        reason: String,
    },
    /// A setting the chosen `group.protocol` does not use was set explicitly (Java refuses
    /// it too): with `group.protocol=consumer` (KIP-848) the broker owns the session
    /// timeout, the heartbeat interval and the assignor (`group.consumer.*` broker settings),
    /// so `session.timeout.ms`, `heartbeat.interval.ms` and `partition.assignment.strategy`
    /// are refused; with `classic`, `group.remote.assignor` is.
    #[error("\"{key}\" cannot be set when group.protocol={protocol}{}", if *protocol == "consumer" { " (KIP-848: the broker owns it; see its group.consumer.* settings)" } else { "" })]
    NotForGroupProtocol {
        /// The Java setting name.
        key: &'static str,
        /// The `group.protocol` in use: `consumer` or `classic`.
        protocol: &'static str,
    },
    /// A `.properties` line could not be parsed.
    #[error("properties line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A file named by the configuration could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error's text.
        message: String,
    },
    /// The value needs a cargo feature this build was compiled without: `security.protocol=SSL`
    /// or `SASL_SSL` without the `tls` feature (of `rafka`, `rafka-client`, `rafka-producer` or
    /// `rafka-consumer`).
    #[error("\"{key}={value}\" needs rafka's cargo feature \"{feature}\", which this build was compiled without")]
    FeatureDisabled {
        /// The Java setting name.
        key: &'static str,
        /// The value as given.
        value: String,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
}

impl ConfigError {
    /// Builds an [`ConfigError::InvalidValue`].
    pub fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// `Ok` when a setting was `applied`, else [`ConfigError::UnknownKey`] naming `key`: the
    /// step every builder's `set` shares after its `apply`.
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] when `applied` is false.
    pub fn known(applied: bool, key: &str) -> Result<(), ConfigError> {
        if applied {
            Ok(())
        } else {
            Err(ConfigError::UnknownKey {
                key: key.to_string(),
            })
        }
    }
}

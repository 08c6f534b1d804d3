//! SASL authentication (KIP-43, KIP-152): SaslHandshake v1 names the mechanism, then each
//! mechanism message travels in a SaslAuthenticate request.
//!
//! The mechanisms are sans-IO ([`plain`], [`scram`]): bytes in, bytes out. The connection
//! code drives them (see `connection::handshake`).

pub mod plain;
pub mod scram;

/// A SASL failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The broker does not offer the configured mechanism.
    #[error("broker does not enable SASL mechanism {mechanism} (enabled: {enabled:?})")]
    MechanismNotEnabled {
        /// The mechanism asked for.
        mechanism: &'static str,
        /// The mechanisms the broker listed.
        enabled: Vec<String>,
    },
    /// The broker refused the credentials (SASL_AUTHENTICATION_FAILED, error 58).
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// The SCRAM exchange broke down (RFC 5802).
    #[error("SCRAM: {0}")]
    Scram(String),
    /// The security protocol needs SASL but no username or password is configured.
    #[error("missing SASL credentials")]
    MissingCredentials,
}

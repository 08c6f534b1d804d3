//! SCRAM credentials of users (KIP-554): DescribeUserScramCredentials (API 50) and
//! AlterUserScramCredentials (API 51), as Java's `Admin.describeUserScramCredentials` and
//! `Admin.alterUserScramCredentials`.
//!
//! The password never travels: for an upsertion the client picks a salt and sends
//! `SaltedPassword = Hi(password, salt, iterations)` (RFC 5802 section 3, PBKDF2 with the
//! mechanism's HMAC; the password as its UTF-8 bytes, without SASLprep, as Kafka's
//! `ScramFormatter` does). The broker derives and stores the StoredKey and ServerKey from it.
//! Describing only returns mechanisms and iteration counts, never salts or keys.
//!
//! Kafka accepts 4096..=16384 iterations for both mechanisms (`ScramMechanism` min/max
//! iterations); outside that range the broker answers UNACCEPTABLE_CREDENTIAL (93). rafka
//! refuses above 16384 and below 1 itself, with the same code, so that it never spends more on
//! PBKDF2 than Kafka would accept.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use rafka_wire::error_code::ErrorCode;

use super::{str_bytes, Admin};
use crate::client::Target;
use crate::error::Error;
use crate::sasl::scram::ScramHash;

const DESCRIBE: &str = "DescribeUserScramCredentials";
const ALTER: &str = "AlterUserScramCredentials";

/// Kafka's smallest accepted iteration count for SCRAM-SHA-256 and SCRAM-SHA-512
/// (`ScramMechanism.minIterations`).
pub const KAFKA_MIN_ITERATIONS: i32 = 4096;
/// Kafka's largest accepted iteration count (`ScramMechanism.maxIterations`).
pub const KAFKA_MAX_ITERATIONS: i32 = 16384;
/// Length of the random salt rafka picks when an upsertion names none, bytes (Java picks
/// about 26 printable bytes; any length is valid).
pub const DEFAULT_SALT_LEN: usize = 32;

/// The KIP-554 mechanism type of a SCRAM hash: 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512
/// (0 is UNKNOWN).
pub fn mechanism_type(mechanism: ScramHash) -> i8 {
    match mechanism {
        ScramHash::Sha256 => 1,
        ScramHash::Sha512 => 2,
    }
}

/// The SCRAM hash of a KIP-554 mechanism type, `None` for 0 (UNKNOWN) and unassigned types.
pub fn mechanism_from_type(mechanism: i8) -> Option<ScramHash> {
    match mechanism {
        1 => Some(ScramHash::Sha256),
        2 => Some(ScramHash::Sha512),
        _ => None,
    }
}

/// `SaltedPassword = Hi(password, salt, iterations)` (RFC 5802 section 3): PBKDF2 with
/// HMAC-SHA-256 (32 bytes out) or HMAC-SHA-512 (64 bytes out) over the password's UTF-8 bytes.
/// This is the value an upsertion carries (KIP-554).
///
/// # Panics
/// When `iterations` is 0.
pub fn salted_password(
    mechanism: ScramHash,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Vec<u8> {
    assert!(iterations > 0, "PBKDF2 needs at least one iteration");
    mechanism.salted_password(password.as_bytes(), salt, iterations)
}

/// One SCRAM credential of a user, as DescribeUserScramCredentials reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScramCredentialInfo {
    /// The mechanism.
    pub mechanism: ScramHash,
    /// The PBKDF2 iteration count the credential was made with.
    pub iterations: i32,
}

/// A change to one SCRAM credential of a user (Java's `UserScramCredentialAlteration`).
#[derive(Clone, PartialEq, Eq)]
pub enum ScramCredentialAlteration {
    /// Creates or replaces the user's credential for `mechanism`.
    Upsert {
        /// The user name (the SASL authentication id).
        user: String,
        /// The mechanism.
        mechanism: ScramHash,
        /// PBKDF2 iterations; Kafka accepts 4096..=16384.
        iterations: i32,
        /// The password (its UTF-8 bytes are salted and hashed; it is never sent).
        password: String,
        /// The salt; `None` = [`DEFAULT_SALT_LEN`] random bytes.
        salt: Option<Vec<u8>>,
    },
    /// Deletes the user's credential for `mechanism`.
    Delete {
        /// The user name.
        user: String,
        /// The mechanism.
        mechanism: ScramHash,
    },
}

impl std::fmt::Debug for ScramCredentialAlteration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramCredentialAlteration::Upsert {
                user,
                mechanism,
                iterations,
                salt,
                ..
            } => f
                .debug_struct("Upsert")
                .field("user", user)
                .field("mechanism", mechanism)
                .field("iterations", iterations)
                .field("password", &"<redacted>")
                .field("salt", salt)
                .finish(),
            ScramCredentialAlteration::Delete { user, mechanism } => f
                .debug_struct("Delete")
                .field("user", user)
                .field("mechanism", mechanism)
                .finish(),
        }
    }
}

impl ScramCredentialAlteration {
    /// An upsertion with a random salt.
    pub fn upsert(
        user: impl Into<String>,
        mechanism: ScramHash,
        iterations: i32,
        password: impl Into<String>,
    ) -> Self {
        ScramCredentialAlteration::Upsert {
            user: user.into(),
            mechanism,
            iterations,
            password: password.into(),
            salt: None,
        }
    }

    /// A deletion.
    pub fn delete(user: impl Into<String>, mechanism: ScramHash) -> Self {
        ScramCredentialAlteration::Delete {
            user: user.into(),
            mechanism,
        }
    }

    /// The same upsertion with a fixed salt (no effect on a deletion).
    pub fn with_salt(mut self, new_salt: impl Into<Vec<u8>>) -> Self {
        if let ScramCredentialAlteration::Upsert { salt, .. } = &mut self {
            *salt = Some(new_salt.into());
        }
        self
    }

    /// The user the alteration is about.
    pub fn user(&self) -> &str {
        match self {
            ScramCredentialAlteration::Upsert { user, .. }
            | ScramCredentialAlteration::Delete { user, .. } => user,
        }
    }
}

/// The request for `alterations`, with the users refused before sending (iteration counts
/// PBKDF2 should not run with). Salts are drawn from `rng` where none is given.
fn build_alter_request(
    alterations: &[ScramCredentialAlteration],
    rng: &mut dyn rand::RngCore,
) -> (AlterUserScramCredentialsRequest, BTreeMap<String, Error>) {
    let mut refused = BTreeMap::new();
    let mut request = AlterUserScramCredentialsRequest::default();
    for alteration in alterations {
        match alteration {
            ScramCredentialAlteration::Upsert {
                user,
                mechanism,
                iterations,
                password,
                salt,
            } => {
                if !(1..=KAFKA_MAX_ITERATIONS).contains(iterations) {
                    refused.insert(
                        user.clone(),
                        Error::broker(
                            ErrorCode::UNACCEPTABLE_CREDENTIAL,
                            Some(format!(
                                "{iterations} iterations outside 1..={KAFKA_MAX_ITERATIONS} \
                                 (refused by the client)"
                            )),
                            ALTER,
                        ),
                    );
                    continue;
                }
                let salt = salt.clone().unwrap_or_else(|| {
                    let mut bytes = vec![0u8; DEFAULT_SALT_LEN];
                    rng.fill_bytes(&mut bytes);
                    bytes
                });
                let salted = salted_password(*mechanism, password, &salt, *iterations as u32);
                request.upsertions.push(
                    ScramCredentialUpsertion::default()
                        .with_name(str_bytes(user))
                        .with_mechanism(mechanism_type(*mechanism))
                        .with_iterations(*iterations)
                        .with_salt(Bytes::from(salt))
                        .with_salted_password(Bytes::from(salted)),
                );
            }
            ScramCredentialAlteration::Delete { user, mechanism } => {
                request.deletions.push(
                    ScramCredentialDeletion::default()
                        .with_name(str_bytes(user))
                        .with_mechanism(mechanism_type(*mechanism)),
                );
            }
        }
    }
    // A user refused here is left out of the request entirely, as Java does, so that none of
    // its alterations is applied without the others.
    request
        .upsertions
        .retain(|u| !refused.contains_key(u.name.as_str()));
    request
        .deletions
        .retain(|d| !refused.contains_key(d.name.as_str()));
    (request, refused)
}

impl Admin {
    /// Creates, replaces and deletes users' SCRAM credentials (AlterUserScramCredentials v0,
    /// KIP-554), sent to any broker (which forwards it to the KRaft controller).
    ///
    /// Returns one result per user named in `alterations`. Per-user errors, from the broker's
    /// answer: UNACCEPTABLE_CREDENTIAL (93) for an empty user name or iterations outside
    /// 4096..=16384, RESOURCE_NOT_FOUND (91) for deleting a credential that does not exist,
    /// DUPLICATE_RESOURCE (92) for a user named by more than one alteration of the request
    /// (Kafka's KRaft controller refuses that even for different mechanisms: alter one user's
    /// SHA-256 and SHA-512 credentials in two calls), UNSUPPORTED_SASL_MECHANISM (33),
    /// CLUSTER_AUTHORIZATION_FAILED (31) without ALTER on the cluster. A user with iterations above 16384 or below 1 is refused by rafka with
    /// UNACCEPTABLE_CREDENTIAL before sending, and none of that user's alterations are sent.
    /// The controller commits the changes to the metadata log before answering, but brokers
    /// take them in a moment later: right after this returns, a login with a new credential
    /// may still fail and [`Admin::describe_user_scram_credentials`] may still show the old
    /// state (seen on Kafka 4.4).
    ///
    /// # Errors
    /// The error of the whole request after retrying retriable ones until
    /// `default.api.timeout.ms`; [`Error::NoCommonVersion`] from a broker without KIP-554
    /// (before Kafka 2.7).
    pub async fn alter_user_scram_credentials(
        &self,
        alterations: &[ScramCredentialAlteration],
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error> {
        let (request, refused) = build_alter_request(alterations, &mut rand::thread_rng());
        let mut out: BTreeMap<String, Result<(), Error>> =
            refused.into_iter().map(|(u, e)| (u, Err(e))).collect();
        if request.upsertions.is_empty() && request.deletions.is_empty() {
            return Ok(out);
        }
        let client = self.client();
        let response = client
            .with_retries(ALTER, || async {
                let resp = client.send(Target::Any, request.clone()).await?;
                // The broker forwards to the controller; a controller change on the way comes
                // back per user as NOT_CONTROLLER, which is worth one more try.
                if let Some(r) = resp
                    .results
                    .iter()
                    .find(|r| r.error_code == ErrorCode::NOT_CONTROLLER.0)
                {
                    client.invalidate_metadata();
                    Error::check(r.error_code, r.error_message.as_deref(), ALTER, None, None)?;
                }
                Ok(resp)
            })
            .await?;
        for r in &response.results {
            let result = Error::check(r.error_code, r.error_message.as_deref(), ALTER, None, None);
            out.insert(r.user.to_string(), result);
        }
        Ok(out)
    }

    /// Describes users' SCRAM credentials (DescribeUserScramCredentials v0, KIP-554): the
    /// mechanisms and iteration counts each user has, never salts or keys. `users = None`
    /// describes every user that has a credential.
    ///
    /// Per-user errors: RESOURCE_NOT_FOUND (91) for a named user without any credential,
    /// DUPLICATE_RESOURCE (92) for a user named twice. Credentials of a mechanism this client
    /// does not know are left out.
    ///
    /// # Errors
    /// The request's top-level error (CLUSTER_AUTHORIZATION_FAILED without DESCRIBE on the
    /// cluster) or transport error, after retrying retriable ones until
    /// `default.api.timeout.ms`.
    pub async fn describe_user_scram_credentials(
        &self,
        users: Option<&[&str]>,
    ) -> Result<BTreeMap<String, Result<Vec<ScramCredentialInfo>, Error>>, Error> {
        let request = DescribeUserScramCredentialsRequest::default().with_users(users.map(|u| {
            u.iter()
                .map(|name| UserName::default().with_name(str_bytes(name)))
                .collect()
        }));
        let client = self.client();
        let response = client
            .with_retries(DESCRIBE, || async {
                let resp = client.send(Target::Any, request.clone()).await?;
                Error::check(
                    resp.error_code,
                    resp.error_message.as_deref(),
                    DESCRIBE,
                    None,
                    None,
                )?;
                Ok(resp)
            })
            .await?;
        Ok(response
            .results
            .iter()
            .map(|r| {
                let result = Error::check(
                    r.error_code,
                    r.error_message.as_deref(),
                    DESCRIBE,
                    None,
                    None,
                )
                .map(|()| {
                    r.credential_infos
                        .iter()
                        .filter_map(|c| {
                            Some(ScramCredentialInfo {
                                mechanism: mechanism_from_type(c.mechanism)?,
                                iterations: c.iterations,
                            })
                        })
                        .collect()
                });
                (r.user.to_string(), result)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;
    use rand::SeedableRng;

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 7677 section 3's user: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096
    /// iterations. The expected SaltedPassword was computed independently with Python's
    /// `hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)`; the rafka login over the same
    /// values reproduces RFC 7677's client proof (see `sasl::scram` tests), which only holds
    /// with this SaltedPassword.
    #[test]
    fn salted_password_sha256_rfc7677_user() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(ScramHash::Sha256, "pencil", &salt, 4096);
        assert_eq!(
            hex(&salted),
            "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d"
        );
    }

    /// Python: `hashlib.pbkdf2_hmac("sha512", b"pencil", b"QSXCR+Q6sek8bf92", 4096)`.
    #[test]
    fn salted_password_sha512() {
        let salted = salted_password(ScramHash::Sha512, "pencil", b"QSXCR+Q6sek8bf92", 4096);
        assert_eq!(
            hex(&salted),
            "b3a3c6c9dd254c41930fdfcce26b4296ad330afd8d6ac10987a654de61285df9\
             209247b7e37a30a24d300d5966529297229f88d7a3cbdd3cfbdf60ee87ad80f2"
        );
    }

    #[test]
    fn mechanism_types_are_kip554s() {
        assert_eq!(mechanism_type(ScramHash::Sha256), 1);
        assert_eq!(mechanism_type(ScramHash::Sha512), 2);
        assert_eq!(mechanism_from_type(1), Some(ScramHash::Sha256));
        assert_eq!(mechanism_from_type(2), Some(ScramHash::Sha512));
        assert_eq!(mechanism_from_type(0), None);
        assert_eq!(mechanism_from_type(3), None);
    }

    #[test]
    fn alter_request_carries_salted_passwords_and_deletions() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (req, refused) = build_alter_request(
            &[
                ScramCredentialAlteration::upsert("user", ScramHash::Sha256, 4096, "pencil")
                    .with_salt(salt.clone()),
                ScramCredentialAlteration::upsert("bob", ScramHash::Sha512, 8192, "pw"),
                ScramCredentialAlteration::delete("carol", ScramHash::Sha512),
            ],
            &mut rng,
        );
        assert!(refused.is_empty());
        assert_eq!(req.upsertions.len(), 2);
        let u = &req.upsertions[0];
        assert_eq!(u.name.as_str(), "user");
        assert_eq!(u.mechanism, 1);
        assert_eq!(u.iterations, 4096);
        assert_eq!(&u.salt[..], &salt[..]);
        assert_eq!(
            hex(&u.salted_password),
            "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d"
        );
        let b = &req.upsertions[1];
        assert_eq!(
            (b.name.as_str(), b.mechanism, b.iterations),
            ("bob", 2, 8192)
        );
        assert_eq!(b.salt.len(), DEFAULT_SALT_LEN);
        assert_eq!(
            &b.salted_password[..],
            &salted_password(ScramHash::Sha512, "pw", &b.salt, 8192)[..]
        );
        assert_eq!(req.deletions.len(), 1);
        assert_eq!(req.deletions[0].name.as_str(), "carol");
        assert_eq!(req.deletions[0].mechanism, 2);
    }

    #[test]
    fn random_salts_differ() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let a = ScramCredentialAlteration::upsert("a", ScramHash::Sha256, 4096, "pw");
        let (req, _) = build_alter_request(&[a.clone(), a], &mut rng);
        assert_ne!(req.upsertions[0].salt, req.upsertions[1].salt);
        assert_ne!(
            req.upsertions[0].salted_password,
            req.upsertions[1].salted_password
        );
    }

    #[test]
    fn iterations_kafka_cannot_accept_are_refused_before_sending() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (req, refused) = build_alter_request(
            &[
                ScramCredentialAlteration::upsert("huge", ScramHash::Sha256, 16385, "pw"),
                ScramCredentialAlteration::delete("huge", ScramHash::Sha512),
                ScramCredentialAlteration::upsert("zero", ScramHash::Sha256, 0, "pw"),
                ScramCredentialAlteration::upsert("max", ScramHash::Sha256, 16384, "pw"),
            ],
            &mut rng,
        );
        assert_eq!(
            refused.keys().map(String::as_str).collect::<Vec<_>>(),
            ["huge", "zero"]
        );
        assert_eq!(
            refused["huge"].code(),
            Some(ErrorCode::UNACCEPTABLE_CREDENTIAL)
        );
        // The refused user's deletion is not sent either.
        assert!(req.deletions.is_empty());
        assert_eq!(req.upsertions.len(), 1);
        assert_eq!(req.upsertions[0].name.as_str(), "max");
    }

    #[test]
    fn debug_hides_the_password() {
        let a = ScramCredentialAlteration::upsert("u", ScramHash::Sha256, 4096, "hunter2");
        let shown = format!("{a:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(a.user(), "u");
    }
}

//! The environment variables rafka's tests read, and what a test does when one is missing.
//!
//! `scripts/test.sh` sets all of them and `RAFKA_TEST_STRICT=1`, so under the test command a
//! missing service is a failure. Run by hand (`cargo test -p ...`) a test that needs a missing
//! service prints a loud SKIP line and returns early instead.

use std::path::PathBuf;

/// Shared Tansu broker address, `127.0.0.1:19092` under `scripts/test.sh`.
pub const BROKERS: &str = "RAFKA_TEST_BROKERS";
/// Bootstrap list of the shared Apache Kafka cluster (three nodes, `127.0.0.1:39092,...` under
/// `scripts/test.sh`).
pub const BOOTSTRAP: &str = "RAFKA_TEST_BOOTSTRAP";
/// `tansu` runs the tests that use [`crate::TestTarget`] on a private Tansu instead of Kafka.
pub const TARGET: &str = "RAFKA_TEST_TARGET";
/// Path of the Tansu binary.
pub const TANSU_BIN: &str = "TANSU_BIN";
/// Python interpreter with confluent-kafka 2.16 installed.
pub const PYTHON: &str = "RAFKA_TEST_PYTHON";
/// `postgres://rafka:rafka@127.0.0.1:15432/rafka` under `scripts/test.sh`.
pub const POSTGRES_URL: &str = "RAFKA_TEST_POSTGRES_URL";
/// `mysql://rafka:rafka@127.0.0.1:13306/rafka` under `scripts/test.sh`.
pub const MYSQL_URL: &str = "RAFKA_TEST_MYSQL_URL";
/// `redis://rafka:rafka@127.0.0.1:16379/0` under `scripts/test.sh`.
pub const REDIS_URL: &str = "RAFKA_TEST_REDIS_URL";
/// `1` when a missing variable must fail the test rather than skip it.
pub const STRICT: &str = "RAFKA_TEST_STRICT";

/// The repository root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// True under `scripts/test.sh` (`RAFKA_TEST_STRICT=1`).
pub fn strict() -> bool {
    std::env::var(STRICT).is_ok_and(|v| v == "1")
}

/// The value of `var`, for a test that cannot run without it.
///
/// Returns `None` after printing a loud SKIP line when the variable is unset or empty, so the
/// test can `return`; use as `let Some(url) = require_env(env::REDIS_URL) else { return };`.
///
/// # Panics
/// When the variable is missing and [`strict`] is on: under `scripts/test.sh` a skipped test
/// would hide a broken setup.
pub fn require_env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if strict() {
                panic!("{var} is not set but RAFKA_TEST_STRICT=1: scripts/test.sh must provide it");
            }
            eprintln!(
                "\n*** SKIP: {var} is not set; run `bash scripts/test.sh` (or scripts/services.sh / \
                 scripts/tansu.sh) to provide it ***\n"
            );
            None
        }
    }
}

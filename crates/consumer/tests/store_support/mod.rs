//! Shared by the offset-store tests: finding the test servers and naming things uniquely.

#![allow(dead_code)] // each test binary uses a different part

pub mod kafka;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The URL of a test server from `var`, or `None` (after a loud message) when it is not set.
///
/// When `CI`, `RAFKA_REQUIRE_SERVICES` or `RAFKA_TEST_STRICT` (set by scripts/test.sh) is set, a
/// missing server is a failure, not a skip: the test command starts the servers, so a missing URL
/// there means the harness is broken.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = ["CI", "RAFKA_REQUIRE_SERVICES", "RAFKA_TEST_STRICT"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty() && x != "0"));
            assert!(
                !required,
                "{var} is not set but CI/RAFKA_REQUIRE_SERVICES/RAFKA_TEST_STRICT is: \
                 the test server is missing"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED: {var} is not set, so this test did not run. \
                 Run scripts/test.sh (it starts the servers) or export {var}. !!!!!!!!\n"
            );
            None
        }
    }
}

/// A name no other test, process or earlier run uses: `{base}_{pid}_{nanos}_{n}`.
pub fn unique_name(base: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{base}_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

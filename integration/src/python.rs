//! Running Python snippets with confluent-kafka 2.16 (librdkafka 2.16), rafka's interop peer.
//!
//! The interpreter is `$RAFKA_TEST_PYTHON`, else `<repo>/.venv-test/bin/python` (both made by
//! `scripts/deps.sh`). Snippets get their arguments in `sys.argv[1:]` and report through stdout.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use anyhow::{bail, Context};

use crate::env::{repo_root, PYTHON};

/// The Python interpreter with confluent-kafka installed, if one is there.
pub fn python_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(PYTHON).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = repo_root().join(".venv-test/bin/python");
    venv.is_file().then_some(venv)
}

/// Like [`python_bin`], but follows the skip-or-fail rule of [`crate::env::require_env`]: `None`
/// (after a loud SKIP line) when no interpreter is found outside `scripts/test.sh`.
///
/// # Panics
/// Under `RAFKA_TEST_STRICT=1` when no interpreter is found.
pub fn require_python() -> Option<PathBuf> {
    python_bin().or_else(|| crate::env::require_env(PYTHON).map(PathBuf::from))
}

/// Runs `script` (Python source) with `args` as `sys.argv[1:]`, blocking, and returns its stdout.
///
/// # Errors
/// When no interpreter is found, it cannot be spawned, or the script exits non-zero (the error
/// carries stdout and stderr).
pub fn run_python(script: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = command(script, args)?.output().context("running python")?;
    into_stdout(out)
}

/// Async form of [`run_python`] for tests that drive rafka at the same time.
///
/// # Errors
/// As [`run_python`].
pub async fn run_python_async(script: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::from(command(script, args)?)
        .kill_on_drop(true)
        .output()
        .await
        .context("running python")?;
    into_stdout(out)
}

/// Starts `script` in the background (stdout and stderr piped) and returns the child, for peers
/// that must run while the test does something else (e.g. a librdkafka group member).
///
/// # Errors
/// When no interpreter is found or it cannot be spawned.
pub fn spawn_python(script: &str, args: &[&str]) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::from(command(script, args)?)
        .kill_on_drop(true)
        .spawn()
        .context("spawning python")
}

fn command(script: &str, args: &[&str]) -> anyhow::Result<std::process::Command> {
    let Some(python) = python_bin() else {
        bail!("no python with confluent-kafka: set {PYTHON} or run scripts/deps.sh");
    };
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(cmd)
}

fn into_stdout(out: Output) -> anyhow::Result<String> {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "python exited with {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

//! `rafka demo-member`: one consumer-group member of the demo, in its own process so the demo
//! can SIGKILL it.
//!
//! Per poll batch, one SQLite transaction inserts every record into `processed` and stores the
//! new positions through rafka's SQL offset store; on assignment the member seeks to the stored
//! positions. A crash at any instant therefore leaves rows and positions in agreement.

use std::process::ExitCode;

use anyhow::bail;

use crate::args::DemoMemberArgs;
use crate::shutdown::Shutdown;

/// Runs one member until SIGTERM/SIGINT.
///
/// # Errors
/// Consumer or database failures.
pub async fn run(args: DemoMemberArgs, shutdown: Shutdown) -> anyhow::Result<ExitCode> {
    let _ = (args, shutdown);
    bail!("demo members need rafka-consumer, which is not wired in yet")
}

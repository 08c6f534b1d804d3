//! `rafka group`.

use std::process::ExitCode;

use crate::args::GroupCommand;
use crate::settings::Settings;

/// Runs `rafka group`.
///
/// # Errors
/// Connection and broker errors.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: GroupCommand,
) -> anyhow::Result<ExitCode> {
    let _bootstrap = super::bootstrap(brokers, &settings)?;
    let _ = args;
    anyhow::bail!("'group' needs rafka-client, which is not wired in yet")
}

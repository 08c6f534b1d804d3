//! `rafka topic`.

use std::process::ExitCode;

use crate::args::TopicCommand;
use crate::settings::Settings;

/// Runs `rafka topic`.
///
/// # Errors
/// Connection and broker errors.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: TopicCommand,
) -> anyhow::Result<ExitCode> {
    let _bootstrap = super::bootstrap(brokers, &settings)?;
    let _ = args;
    anyhow::bail!("'topic' needs rafka-client, which is not wired in yet")
}

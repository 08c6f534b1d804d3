//! `rafka metadata`.

use std::process::ExitCode;

use crate::args::MetadataArgs;
use crate::settings::Settings;

/// Runs `rafka metadata`.
///
/// # Errors
/// Connection and broker errors.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: MetadataArgs,
) -> anyhow::Result<ExitCode> {
    let _bootstrap = super::bootstrap(brokers, &settings)?;
    let _ = args;
    anyhow::bail!("'metadata' needs rafka-client, which is not wired in yet")
}

//! `rafka produce`.

use std::process::ExitCode;

use crate::args::ProduceArgs;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Runs `rafka produce`.
///
/// # Errors
/// Connection and broker errors.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: ProduceArgs,
    shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let _bootstrap = super::bootstrap(brokers, &settings)?;
    let _ = (args, shutdown);
    anyhow::bail!("'produce' is not wired in yet")
}

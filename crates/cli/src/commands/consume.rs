//! `rafka consume`.

use std::process::ExitCode;

use crate::args::ConsumeArgs;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Runs `rafka consume`.
///
/// # Errors
/// Connection and broker errors.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: ConsumeArgs,
    shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let _bootstrap = super::bootstrap(brokers, &settings)?;
    let _ = (args, shutdown);
    anyhow::bail!("'consume' is not wired in yet")
}

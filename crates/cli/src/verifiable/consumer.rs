//! `rafka verifiable-consumer`.

use std::process::ExitCode;

use crate::args::VerifiableConsumerArgs;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Runs the verifiable consumer until done or signalled.
///
/// # Errors
/// Setup failures.
pub async fn run(
    settings: Settings,
    args: VerifiableConsumerArgs,
    shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let _ = (settings, args, shutdown);
    anyhow::bail!("verifiable-consumer is not wired in yet")
}

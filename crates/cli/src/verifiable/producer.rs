//! `rafka verifiable-producer`.

use std::process::ExitCode;

use crate::args::VerifiableProducerArgs;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Runs the verifiable producer until done or signalled.
///
/// # Errors
/// Setup failures.
pub async fn run(
    settings: Settings,
    args: VerifiableProducerArgs,
    shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let _ = (settings, args, shutdown);
    anyhow::bail!("verifiable-producer is not wired in yet")
}

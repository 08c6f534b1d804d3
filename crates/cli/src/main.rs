//! The `rafka` binary: parses the command line and runs [`rafka_cli::dispatch`].

use std::process::ExitCode;

use clap::Parser;

use rafka_cli::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rafka: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(rafka_cli::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` joins the context chain on one line.
            eprintln!("rafka: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings only, and not sqlx's "slow
/// statement" notes about the demo's final counting query), so stdout stays data.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

//! `rafka`: a kcat-like command-line client, Kafka's verifiable clients, and the exactly-once
//! demo, all on rafka's own client crates.
//!
//! # Layout
//! - `args`: the clap structure of every subcommand.
//! - `settings`: `-F` properties files and `-X key=value` overrides (Java setting names).
//! - `format`: kcat `-f` formats; `progress`: stderr bars/lines; `shutdown`: SIGINT/SIGTERM.
//! - `commands/`: metadata, topic, produce, consume, group.
//! - `verifiable/`: the JSON-event contract of Kafka's system tests.
//! - `demo/`: `rafka demo` (orchestrator) and `rafka demo-member` (one group member).
//!
//! Errors print as one line, `rafka: error: ...`, with exit code 1; bad usage exits 2 (clap).

#![warn(missing_docs)]

pub mod args;
pub mod commands;
pub mod demo;
pub mod format;
pub mod line_reader;
pub mod process;
pub mod progress;
pub mod settings;
pub mod shutdown;
pub mod verifiable;

use std::process::ExitCode;

use args::{Cli, Command};
use settings::Settings;
use shutdown::Shutdown;

/// Runs a parsed command line to completion (inside a tokio runtime).
///
/// # Errors
/// Whatever the subcommand fails with; `main` prints it as one line.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let shutdown = Shutdown::install()?;
    let settings = Settings::from_cli(cli.properties_file.as_deref(), &cli.settings)?;
    let brokers = cli.brokers;
    match cli.command {
        Command::Metadata(a) => commands::metadata::run(brokers, settings, a).await,
        Command::Topic(a) => commands::topic::run(brokers, settings, a).await,
        Command::Produce(a) => commands::produce::run(brokers, settings, a, shutdown).await,
        Command::Consume(a) => commands::consume::run(brokers, settings, a, shutdown).await,
        Command::Group(a) => commands::group::run(brokers, settings, a).await,
        Command::VerifiableConsumer(a) => verifiable::consumer::run(settings, a, shutdown).await,
        Command::VerifiableProducer(a) => verifiable::producer::run(settings, a, shutdown).await,
        Command::Demo(a) => demo::run(a, shutdown).await,
        Command::DemoMember(a) => demo::member::run(a, shutdown).await,
    }
}

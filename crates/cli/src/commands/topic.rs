//! `rafka topic create|delete|list`.

use std::process::ExitCode;

use crate::args::TopicCommand;
use crate::settings::Settings;

/// Runs `rafka topic ...`.
///
/// # Errors
/// Connection and broker errors (an existing or missing topic, a bad config).
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: TopicCommand,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(brokers, &settings)?;
    let client = super::connect::connect(&bootstrap, &settings).await?;
    match args {
        TopicCommand::List => {
            let cluster = client.refresh_all_topics().await?;
            for t in cluster.topics.values() {
                println!("{}\t{}", t.name, t.partitions.len());
            }
        }
        TopicCommand::Create { .. } | TopicCommand::Delete { .. } => {
            anyhow::bail!(
                "topic create/delete need rafka-client's Admin, which is not wired in yet"
            )
        }
    }
    client.close();
    Ok(ExitCode::SUCCESS)
}

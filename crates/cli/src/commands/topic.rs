//! `rafka topic create|delete|list`.

use std::process::ExitCode;

use rafka_client::admin::NewTopic;
use rafka_client::Admin;

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
    let admin = Admin::new(client.clone());
    match args {
        TopicCommand::List => {
            for (name, info) in admin.list_topics(false).await? {
                println!("{name}\t{}", info.partitions.len());
            }
        }
        TopicCommand::Create {
            name,
            partitions,
            replication_factor,
            configs,
        } => {
            let mut topic = NewTopic::new(name.as_str(), partitions, replication_factor);
            for (k, v) in configs {
                topic = topic.config(k, v);
            }
            let results = admin.create_topics(&[topic], false).await?;
            if let Some(Err(e)) = results.get(&name) {
                anyhow::bail!("cannot create topic {name}: {e}");
            }
            eprintln!("created topic {name} with {partitions} partitions");
        }
        TopicCommand::Delete { name } => {
            let results = admin.delete_topics(&[name.as_str()]).await?;
            if let Some(Err(e)) = results.get(&name) {
                anyhow::bail!("cannot delete topic {name}: {e}");
            }
            eprintln!("deleted topic {name}");
        }
    }
    client.close();
    Ok(ExitCode::SUCCESS)
}

//! The membership task body (see [`crate::group_driver`]).

use std::sync::Arc;

use rafka_client::Client;
use tokio::sync::mpsc;

use crate::config::ConsumerConfig;
use crate::group_driver::{Command, DriverShared, GroupEvent};

/// Runs the membership loop until `Leave`.
pub(crate) async fn run(
    _client: Client,
    _config: Arc<ConsumerConfig>,
    _topics: Vec<String>,
    _shared: Arc<DriverShared>,
    _events: mpsc::UnboundedSender<GroupEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    while let Some(command) = commands.recv().await {
        if let Command::Leave(done) = command {
            let _ = done.send(());
            return;
        }
    }
}

//! The background metadata refresher: a task that drives the sans-IO
//! [`RefreshSchedule`](crate::metadata::schedule::RefreshSchedule), sleeping until its deadline
//! and waking early when metadata is marked stale or replaced.

use std::sync::Arc;

use super::{Client, Inner};
use crate::config::ClientConfig;
use crate::metadata::schedule::RefreshSchedule;
use crate::metadata::MetadataState;

/// Refreshes metadata as the schedule says (see [`Client::new`]). Holds only a weak reference
/// so the client can be dropped; ends on `shutdown`.
pub(super) async fn metadata_refresher(
    client: std::sync::Weak<Inner>,
    state: Arc<MetadataState>,
    config: Arc<ClientConfig>,
) {
    let mut schedule = RefreshSchedule::new(
        config.metadata_max_age,
        config.retry_backoff,
        config.retry_backoff_max,
    );
    loop {
        let wake =
            schedule.poll_timeout(state.snapshot().updated_at, state.is_stale(), crate::now());
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = state.notify.notified() => continue,
            _ = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        if !schedule.is_due(state.snapshot().updated_at, state.is_stale(), crate::now()) {
            continue;
        }
        let Some(inner) = client.upgrade() else {
            return;
        };
        let result = Client { inner }.refresh_metadata().await;
        match result {
            Ok(_) => schedule.on_success(crate::now()),
            Err(e) => {
                tracing::debug!(error = %e, "background metadata refresh failed");
                schedule.on_failure(crate::now(), &mut rand::thread_rng());
            }
        }
    }
}

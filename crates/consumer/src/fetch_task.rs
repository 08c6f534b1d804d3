//! The per-broker fetch task: keeps one Fetch in flight to its broker while the application
//! processes what `poll` returned. It only drives [`crate::fetcher::Fetcher`]: build, send,
//! feed back the response or failure with `now`, wake `poll`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::FetchRequest;
use rafka_client::{Client, Purpose};

use crate::fetcher::decode_response;
use crate::shared::Shared;

/// Longest sleep when idle without a wake-up: bounds how late a missed notification or an
/// expired backoff is noticed.
const IDLE_RECHECK: Duration = Duration::from_millis(200);

/// Runs until the consumer closes.
pub(crate) async fn run(broker: i32, client: Client, shared: Arc<Shared>) {
    let request_timeout = client.config().request_timeout;
    loop {
        let wanted = shared.fetch_wanted.notified();
        tokio::pin!(wanted);
        wanted.as_mut().enable();

        let conn = match client.connection(broker, Purpose::Fetch).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(broker, error = %e, "fetch: no connection");
                let now = Instant::now();
                {
                    let mut st = shared.lock();
                    if st.closed {
                        return;
                    }
                    st.fetcher.handle_failure(broker, now);
                    st.refresh_metadata = true;
                }
                shared.records_ready.notify_one();
                tokio::time::sleep(client.config().retry_backoff).await;
                continue;
            }
        };
        let version = conn.version_of::<FetchRequest>().unwrap_or(4);
        let sessions = version >= 7;

        let (request, wait) = {
            let mut st = shared.lock();
            if st.closed {
                return;
            }
            let now = Instant::now();
            let st = &mut *st;
            let leaders = &st.leaders;
            let request = st.fetcher.next_request(
                broker,
                &st.subs,
                &|tp| leaders.get(tp).copied(),
                sessions,
                now,
            );
            let wait = st
                .fetcher
                .next_deadline()
                .map(|d| d.saturating_duration_since(now))
                .unwrap_or(IDLE_RECHECK)
                .min(IDLE_RECHECK);
            (request, wait)
        };
        let Some(request) = request else {
            tokio::select! {
                _ = &mut wanted => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        };

        let timeout = request_timeout + Duration::from_millis(request.max_wait_ms.max(0) as u64);
        let result = conn.send_versioned(&request, version, timeout).await;
        // Decode outside the lock, so `poll` is not held up while records are parsed.
        let decoded = match result {
            Ok(response) => {
                let asked = shared.lock().fetcher.take_in_flight(broker);
                asked.map(|asked| Ok(decode_response(&asked, response)))
            }
            Err(e) => Some(Err(e)),
        };
        let now = Instant::now();
        {
            let mut st = shared.lock();
            if st.closed {
                return;
            }
            let st = &mut *st;
            match decoded {
                Some(Ok(decoded)) => {
                    let outcome = st
                        .fetcher
                        .apply_response(broker, decoded, &mut st.subs, now);
                    st.refresh_metadata |= outcome.refresh_metadata;
                }
                Some(Err(e)) => {
                    tracing::debug!(broker, error = %e, "fetch failed");
                    st.fetcher.handle_failure(broker, now);
                    if e.invalidates_metadata() {
                        st.refresh_metadata = true;
                    }
                }
                None => {}
            }
        }
        shared.records_ready.notify_one();
    }
}

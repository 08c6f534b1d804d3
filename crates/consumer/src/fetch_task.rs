//! The per-broker fetch task: keeps one Fetch in flight to its broker while the application
//! processes what `poll` returned. It only drives [`crate::fetcher::Fetcher`]: build, send,
//! feed back the response or failure with `now`, wake `poll`.
//!
//! A response is applied in two steps (see `fetcher/response.rs`): its headers first, which
//! moves the fetch offsets on, then its records. The next Fetch is sent between the two, so
//! the records of one response are parsed while the broker works on the next request rather
//! than before it is sent. Large responses are parsed on the blocking pool: parsed inline, they
//! would hold this worker thread, and with it the connection's writer task woken by the send
//! (tokio runs it next on this thread), so the request would leave only after the parsing.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use kafka_protocol::messages::FetchRequest;
use rafka_client::{Client, Purpose};

use crate::fetcher::{decode, UndecodedFetch};
use crate::shared::Shared;

/// Responses with at least this many bytes of records are decoded on the blocking pool
/// (about 0.1 ms of parsing, more than the trip there costs); smaller ones inline.
const OFFLOAD_MIN_BYTES: usize = 64 * 1024;

/// Longest sleep when idle without a wake-up: bounds how late a missed notification or an
/// expired backoff is noticed.
const IDLE_RECHECK: Duration = Duration::from_millis(200);

/// Runs until the consumer closes.
pub(crate) async fn run(broker: i32, client: Client, shared: Arc<Shared>) {
    let request_timeout = client.config().request_timeout;
    // Records of the last response, their fetch offsets applied, not parsed yet.
    let mut undecoded: Option<UndecodedFetch> = None;
    loop {
        let wanted = shared.fetch_wanted.notified();
        tokio::pin!(wanted);
        wanted.as_mut().enable();

        let conn = match client.connection(broker, Purpose::Fetch).await {
            Ok(c) => c,
            Err(e) => {
                if !finish(&shared, undecoded.take()).await {
                    return;
                }
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
            if undecoded.is_some() {
                // Nothing to send (the buffer is full, or nothing is fetchable): decode now,
                // then look again.
                if !finish(&shared, undecoded.take()).await {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = &mut wanted => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        };

        let timeout = request_timeout + Duration::from_millis(request.max_wait_ms.max(0) as u64);
        let send = conn.send_versioned(&request, version, timeout);
        tokio::pin!(send);
        // The first poll hands the request to the connection's writer; the previous
        // response's records are decoded while the broker answers this one.
        let sent = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
        if !finish(&shared, undecoded.take()).await {
            return;
        }
        let result = match sent {
            Poll::Ready(result) => result,
            Poll::Pending => send.await,
        };
        let now = Instant::now();
        let wake = {
            let mut st = shared.lock();
            if st.closed {
                return;
            }
            let st = &mut *st;
            match result {
                Ok(response) => {
                    let (outcome, records) =
                        st.fetcher
                            .apply_response(broker, response, &mut st.subs, now);
                    st.refresh_metadata |= outcome.refresh_metadata;
                    // Records wake `poll` once decoded; errors and resets now.
                    let wake = records.is_none()
                        || outcome.refresh_metadata
                        || outcome.resets_requested
                        || !st.fetcher.errors.is_empty();
                    undecoded = records;
                    wake
                }
                Err(e) => {
                    tracing::debug!(broker, error = %e, "fetch failed");
                    st.fetcher.handle_failure(broker, now);
                    if e.invalidates_metadata() {
                        st.refresh_metadata = true;
                    }
                    true
                }
            }
        };
        if wake {
            shared.records_ready.notify_one();
        }
    }
}

/// Decodes `undecoded` (outside the lock) and buffers its records, waking `poll`. False
/// when the consumer closed.
async fn finish(shared: &Shared, undecoded: Option<UndecodedFetch>) -> bool {
    let Some(undecoded) = undecoded else {
        return true;
    };
    let decoded = if undecoded.bytes() >= OFFLOAD_MIN_BYTES {
        match tokio::task::spawn_blocking(move || decode(undecoded)).await {
            Ok(decoded) => decoded,
            // A decoder bug: re-raise the panic here.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down, and this task with it.
            Err(_) => return false,
        }
    } else {
        decode(undecoded)
    };
    {
        let mut st = shared.lock();
        if st.closed {
            return false;
        }
        let st = &mut *st;
        st.fetcher
            .apply_decoded(decoded, &mut st.subs, Instant::now());
    }
    shared.records_ready.notify_one();
    true
}

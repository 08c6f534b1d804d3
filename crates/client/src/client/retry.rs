//! [`Client::with_retries`]: jittered exponential backoff until `default.api.timeout.ms`.

use std::future::Future;
use std::time::Instant;

use super::Client;
use crate::backoff::{Backoff, RetryDecision, RetryPolicy};
use crate::error::{BrokerRef, Error};

impl Client {
    // ----- retries -----

    /// Runs `attempt` until it succeeds, fails with a non-retriable error, or
    /// `default.api.timeout.ms` passes; waits with jittered exponential backoff
    /// (`retry.backoff.ms` → `retry.backoff.max.ms`) between attempts and marks metadata stale
    /// after errors that mean it is out of date.
    ///
    /// # Errors
    /// The first non-retriable error, or [`Error::DeadlineExceeded`] holding the last error.
    pub async fn with_retries<T, F, Fut>(&self, operation: &str, attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.with_retries_until(
            operation,
            crate::now() + self.inner.config.default_api_timeout,
            attempt,
        )
        .await
    }

    /// [`Client::with_retries`] with an explicit deadline.
    ///
    /// # Errors
    /// As [`Client::with_retries`].
    pub async fn with_retries_until<T, F, Fut>(
        &self,
        operation: &str,
        deadline: Instant,
        attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.with_retries_if(operation, deadline, Error::is_retriable, attempt)
            .await
    }

    /// [`Client::with_retries_until`] with the caller's judgement of which errors to retry
    /// (for an error whose retry depends on the caller's state, such as KIP-848's
    /// STALE_MEMBER_EPOCH once the member has a newer epoch).
    ///
    /// # Errors
    /// As [`Client::with_retries`].
    pub async fn with_retries_if<T, F, Fut, R>(
        &self,
        operation: &str,
        deadline: Instant,
        mut is_retriable: R,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
        R: FnMut(&Error) -> bool,
    {
        let started = crate::now();
        let backoff = Backoff::new(
            self.inner.config.retry_backoff,
            self.inner.config.retry_backoff_max,
        );
        let mut policy = RetryPolicy::new(backoff, deadline);
        let mut last: Option<Error> = None;
        loop {
            let error = match tokio::time::timeout_at(deadline.into(), attempt()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
                Err(_) => {
                    // The attempt in progress was cut off: report the failure before it, or
                    // that the attempt itself ran out of time.
                    let last = last.unwrap_or_else(|| Error::Timeout {
                        broker: BrokerRef {
                            node_id: -1,
                            addr: "(no response)".to_string(),
                        },
                        what: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                    });
                    return Err(Error::DeadlineExceeded {
                        operation: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                        last: Box::new(last),
                    });
                }
            };
            if error.invalidates_metadata() {
                self.inner.metadata.mark_stale();
            }
            let retriable = is_retriable(&error);
            let decision = policy.on_failure(retriable, crate::now(), &mut rand::thread_rng());
            match decision {
                RetryDecision::RetryAfter(delay) => {
                    tracing::debug!(operation, error = %error, ?delay, attempt = policy.attempts(), "retrying");
                    last = Some(error);
                    tokio::time::sleep(delay).await;
                }
                RetryDecision::GiveUp if retriable => {
                    return Err(Error::DeadlineExceeded {
                        operation: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                        last: Box::new(error),
                    })
                }
                RetryDecision::GiveUp => return Err(error),
            }
        }
    }
}

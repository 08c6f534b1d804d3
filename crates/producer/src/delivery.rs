//! Delivery results: one shared completion per batch, one cheap future per record.
//!
//! A batch of N records owns one `Arc<BatchCompletion>`; each record's [`DeliveryFuture`] is
//! that `Arc` plus the record's index and timestamp. Completing a batch sets its result once
//! and wakes whoever is waiting, so a fire-and-forget `send` costs one `Arc` clone and no
//! channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use crate::error::ProduceError;
use crate::record::RecordMetadata;

/// A callback run once a record is acknowledged or failed (Java `Callback.onCompletion`).
/// It runs on the producer's sender task: it must not block.
pub type DeliveryCallback = Box<dyn FnOnce(Result<RecordMetadata, ProduceError>) + Send>;

/// What the broker said about a whole batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchAck {
    /// Offset of the first record, or -1 with `acks=0`.
    pub base_offset: i64,
    /// The broker's timestamp when the topic uses LogAppendTime.
    pub log_append_time: Option<i64>,
}

#[derive(Default)]
struct Waiters {
    wakers: Vec<Option<Waker>>,
    callbacks: Vec<(u32, i64, DeliveryCallback)>,
}

/// The result slot shared by every record of one batch.
pub(crate) struct BatchCompletion {
    pub topic: Arc<str>,
    pub partition: i32,
    result: OnceLock<Result<BatchAck, ProduceError>>,
    waiters: Mutex<Waiters>,
}

impl BatchCompletion {
    pub fn new(topic: Arc<str>, partition: i32) -> Arc<Self> {
        Arc::new(BatchCompletion {
            topic,
            partition,
            result: OnceLock::new(),
            waiters: Mutex::new(Waiters::default()),
        })
    }

    fn metadata(&self, ack: &BatchAck, index: u32, timestamp: i64) -> RecordMetadata {
        RecordMetadata {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: if ack.base_offset < 0 {
                -1
            } else {
                ack.base_offset + index as i64
            },
            timestamp: ack.log_append_time.unwrap_or(timestamp),
        }
    }

    /// The outcome of record `index`, once the batch is complete.
    pub fn record_result(
        &self,
        index: u32,
        timestamp: i64,
    ) -> Option<Result<RecordMetadata, ProduceError>> {
        self.result.get().map(|r| match r {
            Ok(ack) => Ok(self.metadata(ack, index, timestamp)),
            Err(e) => Err(e.clone()),
        })
    }

    /// Registers a callback for record `index`; runs it now if the batch is complete.
    pub fn add_callback(&self, index: u32, timestamp: i64, cb: DeliveryCallback) {
        {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if self.result.get().is_none() {
                w.callbacks.push((index, timestamp, cb));
                return;
            }
        }
        if let Some(r) = self.record_result(index, timestamp) {
            cb(r);
        }
    }

    /// Sets the batch's outcome (the first call wins), wakes waiting futures and runs
    /// callbacks on this task.
    pub fn complete(&self, result: Result<BatchAck, ProduceError>) {
        if self.result.set(result).is_err() {
            return;
        }
        let waiters = {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *w)
        };
        for w in waiters.wakers.into_iter().flatten() {
            w.wake();
        }
        for (index, ts, cb) in waiters.callbacks {
            if let Some(r) = self.record_result(index, ts) {
                cb(r);
            }
        }
    }

    fn register(&self, slot: &mut Option<usize>, waker: &Waker) -> bool {
        let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: `complete` sets the result before taking it, so a result
        // not yet visible here means our waker will be taken and woken.
        if self.result.get().is_some() {
            return false;
        }
        match slot {
            Some(i) if *i < w.wakers.len() => {
                let cur = &mut w.wakers[*i];
                if !cur.as_ref().is_some_and(|c| c.will_wake(waker)) {
                    *cur = Some(waker.clone());
                }
            }
            _ => {
                *slot = Some(w.wakers.len());
                w.wakers.push(Some(waker.clone()));
            }
        }
        true
    }
}

/// Resolves to the record's [`RecordMetadata`] once the broker acknowledged it, or to the
/// [`ProduceError`] that failed it. Dropping it does not cancel the send (fire-and-forget).
#[must_use = "dropping a DeliveryFuture is fire-and-forget; await it to learn the outcome"]
pub struct DeliveryFuture {
    batch: Arc<BatchCompletion>,
    index: u32,
    timestamp: i64,
    slot: Option<usize>,
}

impl std::fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryFuture")
            .field("topic", &self.batch.topic)
            .field("partition", &self.batch.partition)
            .field("index", &self.index)
            .finish()
    }
}

impl DeliveryFuture {
    pub(crate) fn new(batch: Arc<BatchCompletion>, index: u32, timestamp: i64) -> Self {
        DeliveryFuture {
            batch,
            index,
            timestamp,
            slot: None,
        }
    }

    /// The partition the record was appended to.
    pub fn partition(&self) -> i32 {
        self.batch.partition
    }

    /// The outcome if it is already known, without waiting.
    pub fn try_result(&self) -> Option<Result<RecordMetadata, ProduceError>> {
        self.batch.record_result(self.index, self.timestamp)
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ProduceError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(r) = this.batch.record_result(this.index, this.timestamp) {
            return Poll::Ready(r);
        }
        if this.batch.register(&mut this.slot, cx.waker()) {
            return Poll::Pending;
        }
        match this.batch.record_result(this.index, this.timestamp) {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn records_of_a_batch_get_consecutive_offsets() {
        let c = BatchCompletion::new("t".into(), 2);
        let mut f0 = DeliveryFuture::new(c.clone(), 0, 100);
        let f2 = DeliveryFuture::new(c.clone(), 2, 102);
        assert!((&mut f0).now_or_never().is_none());
        let got = Arc::new(Mutex::new(None));
        let g = got.clone();
        c.add_callback(1, 101, Box::new(move |r| *g.lock().unwrap() = Some(r)));
        c.complete(Ok(BatchAck {
            base_offset: 40,
            log_append_time: None,
        }));
        let m0 = f0.now_or_never().unwrap().unwrap();
        assert_eq!((m0.partition, m0.offset, m0.timestamp), (2, 40, 100));
        assert_eq!(f2.now_or_never().unwrap().unwrap().offset, 42);
        assert_eq!(got.lock().unwrap().take().unwrap().unwrap().offset, 41);
        // A second completion is ignored.
        c.complete(Err(ProduceError::Closed));
        assert!(c.record_result(0, 0).unwrap().is_ok());
    }

    #[test]
    fn failure_and_log_append_time_reach_every_record() {
        let c = BatchCompletion::new("t".into(), 0);
        c.complete(Err(ProduceError::Closed));
        assert!(matches!(
            DeliveryFuture::new(c, 5, 0).now_or_never(),
            Some(Err(ProduceError::Closed))
        ));
        let c = BatchCompletion::new("t".into(), 0);
        c.complete(Ok(BatchAck {
            base_offset: -1,
            log_append_time: Some(9),
        }));
        let m = c.record_result(3, 1).unwrap().unwrap();
        assert_eq!((m.offset, m.timestamp), (-1, 9));
    }

    #[tokio::test]
    async fn waiting_future_is_woken() {
        let c = BatchCompletion::new("t".into(), 0);
        let f = DeliveryFuture::new(c.clone(), 1, 0);
        let h = tokio::spawn(f);
        tokio::task::yield_now().await;
        c.complete(Ok(BatchAck {
            base_offset: 10,
            log_append_time: None,
        }));
        assert_eq!(h.await.unwrap().unwrap().offset, 11);
    }
}

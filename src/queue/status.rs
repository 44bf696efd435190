//! `scanwerk queue status`: what is queued, in progress (which worker, since when, how far) and
//! dead-lettered (with the reason), read from the server.

use serde::Serialize;

use super::{CONSUMER, DEAD, JOBS, PROGRESS, Queue, QueueError, nats, read_all};

#[derive(Debug, Default, Serialize)]
pub struct QueueStatus {
    pub format: &'static str,
    pub server: String,
    /// Jobs not yet delivered to any worker.
    pub pending: u64,
    /// Jobs delivered and not yet acked.
    pub in_progress: u64,
    /// Jobs waiting to be delivered again (returned by a worker or past their ack wait).
    pub redelivering: u64,
    /// What the workers last said about the batches they hold.
    pub working: Vec<serde_json::Value>,
    /// Jobs that cannot succeed, with the reason.
    pub dead: Vec<serde_json::Value>,
}

pub fn status(url: &str) -> Result<QueueStatus, QueueError> {
    let queue = Queue::connect(url, None)?;
    queue.runtime.block_on(async {
        let mut status = QueueStatus {
            format: crate::json::COMMAND_FORMAT,
            server: queue.url.clone(),
            ..Default::default()
        };
        let jobs = queue.js.get_stream(JOBS).await.map_err(|e| nats(JOBS)(&e))?;
        let mut consumer: async_nats::jetstream::consumer::PullConsumer =
            jobs.get_consumer(CONSUMER).await.map_err(|e| nats(CONSUMER)(&e))?;
        let info = consumer.info().await.map_err(|e| nats(CONSUMER)(&e))?;
        status.pending = info.num_pending;
        status.in_progress = info.num_ack_pending as u64;
        status.redelivering = info.num_redelivered as u64;
        let mut progress = queue.js.get_stream(PROGRESS).await.map_err(|e| nats(PROGRESS)(&e))?;
        for message in read_all(&mut progress).await? {
            status.working.push(serde_json::from_slice(&message.payload).unwrap_or_default());
        }
        let mut dead = queue.js.get_stream(DEAD).await.map_err(|e| nats(DEAD)(&e))?;
        for message in read_all(&mut dead).await? {
            {
                let mut letter: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
                if message.subject.as_str() != super::DEAD_SUBJECT {
                    // The server's advisory: a job delivered the maximum number of times.
                    letter = serde_json::json!({
                        "reason": "delivered the maximum number of times without an answer (workers crashed on it?)",
                        "advisory": letter,
                    });
                }
                status.dead.push(letter);
            }
        }
        Ok(status)
    })
}

//! Past one machine: batches as jobs in a NATS JetStream work queue (`scanwerk submit`,
//! `scanwerk worker`, `scanwerk queue status`).
//!
//! ```text
//! stream SCANWERK_JOBS   subject scanwerk.jobs   work queue, file storage; one job per batch,
//!                                                message id = batch id (a double submit is dropped)
//! consumer scanwerk-workers                      durable pull consumer, explicit acks, ack wait,
//!                                                maximum deliveries
//! stream SCANWERK_DEAD   subject scanwerk.dead   jobs that cannot succeed, with the reason; and the
//!                                                server's max-deliveries advisories
//! stream SCANWERK_PROGRESS subjects scanwerk.progress.<batch>   the last word of the worker on
//!                                                each batch in progress: worker, since, pages done
//! ```
//!
//! The queue delivers at least once; publication is atomic and a batch found published from the
//! same input is verified and moved, never published twice: together, exactly one published batch
//! per submitted batch. The engine is NATS; scanwerk adds no coordination of its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use serde::{Deserialize, Serialize};

mod status;
mod submit;
mod worker;

pub use status::{QueueStatus, status};
pub use submit::{Submitted, submit, submit_ready};
pub use worker::{WorkerOptions, work};

pub const JOBS: &str = "SCANWERK_JOBS";
pub const JOB_SUBJECT: &str = "scanwerk.jobs";
pub const DEAD: &str = "SCANWERK_DEAD";
pub const DEAD_SUBJECT: &str = "scanwerk.dead";
pub const CONSUMER: &str = "scanwerk-workers";
pub const PROGRESS: &str = "SCANWERK_PROGRESS";
/// The server's advisory when a job was delivered the maximum number of times.
const MAX_DELIVERIES: &str = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.SCANWERK_JOBS.scanwerk-workers";

/// One batch to ingest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Job {
    pub format: String,
    pub batch_id: String,
    /// The batch folder on the storage every worker shares.
    pub batch_dir: PathBuf,
    /// Where `done/` and `failed/` are (the inbox the batch came from, else its parent folder).
    pub inbox: PathBuf,
    /// SHA-256 over the batch's file list, sizes and batch sheet as submitted: a worker refuses a
    /// batch that changed since.
    pub sha256: String,
    pub submitter: String,
    pub submitted: String,
    /// The profile the submitter chose, if any; else the worker's.
    pub profile: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("NATS server {url}: {reason}; is it running with JetStream (nats-server -js)?")]
    Connect { url: String, reason: String },
    #[error("work queue {what}: {reason}")]
    Nats { what: String, reason: String },
    #[error("{0}")]
    Batch(String),
}

fn nats(what: &str) -> impl Fn(&dyn std::fmt::Display) -> QueueError + '_ {
    move |e| QueueError::Nats {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

/// How long a worker may hold a job without a sign of life before it is delivered again, and how
/// often it is delivered at most.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub ack_wait: Duration,
    pub max_deliver: i64,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            ack_wait: Duration::from_secs(60),
            max_deliver: 5,
        }
    }
}

/// A connection to the work queue, its streams and consumer made if missing.
pub struct Queue {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) js: jetstream::Context,
    pub(crate) url: String,
}

impl Queue {
    /// Connects; with `delivery` (a worker's), the consumer gets its ack wait and deliveries.
    pub fn connect(url: &str, delivery: Option<Delivery>) -> Result<Queue, QueueError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| QueueError::Connect {
                url: url.into(),
                reason: e.to_string(),
            })?;
        let client = runtime
            .block_on(
                async_nats::ConnectOptions::new()
                    .connection_timeout(Duration::from_secs(5))
                    .retry_on_initial_connect()
                    .max_reconnects(None)
                    .connect(url),
            )
            .map_err(|e| QueueError::Connect {
                url: url.into(),
                reason: e.to_string(),
            })?;
        let js = {
            let _inside = runtime.enter();
            jetstream::new(client)
        };
        let queue = Queue {
            runtime,
            js,
            url: url.into(),
        };
        queue.runtime.block_on(queue.ensure(delivery))?;
        Ok(queue)
    }

    /// The streams, the consumer and the progress bucket, made if missing (idempotent).
    async fn ensure(&self, delivery: Option<Delivery>) -> Result<(), QueueError> {
        let jobs = self
            .js
            .get_or_create_stream(stream::Config {
                name: JOBS.into(),
                subjects: vec![JOB_SUBJECT.into()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(24 * 3600),
                ..Default::default()
            })
            .await
            .map_err(|e| nats("stream SCANWERK_JOBS")(&e))?;
        self.js
            .get_or_create_stream(stream::Config {
                name: DEAD.into(),
                subjects: vec![DEAD_SUBJECT.into(), MAX_DELIVERIES.into()],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| nats("stream SCANWERK_DEAD")(&e))?;
        let config = consumer::pull::Config {
            durable_name: Some(CONSUMER.into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: delivery.unwrap_or_default().ack_wait,
            max_deliver: delivery.unwrap_or_default().max_deliver,
            ..Default::default()
        };
        match delivery {
            // A worker's settings win: the server updates ack wait and deliveries in place.
            Some(_) => {
                if let Err(e) = jobs.create_consumer(config.clone()).await {
                    tracing::warn!(error = %e, "cannot set the consumer's ack wait and deliveries; the queue keeps its own");
                    jobs.get_consumer::<consumer::pull::Config>(CONSUMER)
                        .await
                        .map_err(|e| nats("consumer scanwerk-workers")(&e))?;
                }
            }
            None => {
                jobs.get_or_create_consumer(CONSUMER, config)
                    .await
                    .map_err(|e| nats("consumer scanwerk-workers")(&e))?;
            }
        }
        // The last word per batch (a key-value bucket in all but name: async-nats' KV needs a
        // 2.10 server, Debian 12 has 2.9).
        self.js
            .get_or_create_stream(stream::Config {
                name: PROGRESS.into(),
                subjects: vec!["scanwerk.progress.*".into()],
                max_messages_per_subject: 1,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| nats("stream SCANWERK_PROGRESS")(&e))?;
        Ok(())
    }

    /// Publishes the job with its batch id as the message id; `false` if the server dropped it as
    /// a duplicate of one submitted before (within 24 hours).
    pub fn submit(&self, job: &Job) -> Result<bool, QueueError> {
        let payload = serde_json::to_vec(job).expect("a job serialises");
        let ack = self.runtime.block_on(async {
            self.js
                .send_publish(
                    JOB_SUBJECT,
                    jetstream::message::PublishMessage::build()
                        .payload(payload.into())
                        .message_id(&job.batch_id),
                )
                .await
                .map_err(|e| nats("publish")(&e))?
                .await
                .map_err(|e| nats("publish")(&e))
        })?;
        Ok(!ack.duplicate)
    }

    /// Puts a job that cannot succeed, with the reason, into the dead-letter stream.
    pub(crate) async fn dead_letter(
        &self,
        job: &serde_json::Value,
        reason: &str,
        worker: &str,
    ) -> Result<(), QueueError> {
        let letter = serde_json::json!({
            "format": crate::json::COMMAND_FORMAT,
            "job": job,
            "reason": reason,
            "worker": worker,
            "time": crate::json::now_rfc3339(),
        });
        self.js
            .publish(
                DEAD_SUBJECT,
                serde_json::to_vec(&letter).expect("serialises").into(),
            )
            .await
            .map_err(|e| nats("dead letter")(&e))?
            .await
            .map_err(|e| nats("dead letter")(&e))?;
        Ok(())
    }
}

/// The progress subject of a batch: its id hashed, as ids may hold what subjects may not.
pub(crate) fn progress_subject(batch_id: &str) -> String {
    format!(
        "scanwerk.progress.{}",
        &crate::seal::hash::sha256_hex(batch_id.as_bytes())[..16]
    )
}

/// Every message still in `stream`, oldest first.
pub(crate) async fn read_all(
    stream: &mut stream::Stream,
) -> Result<Vec<jetstream::message::StreamMessage>, QueueError> {
    let state = stream.info().await.map_err(|e| nats("stream")(&e))?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            out.push(message);
        }
    }
    Ok(out)
}

/// The job for the batch folder `dir`: its sheet must be valid and its files readable.
pub fn job_for(dir: &Path, inbox: &Path, profile: Option<&str>) -> Result<Job, QueueError> {
    let batch = crate::batch::Batch::open(dir).map_err(|e| QueueError::Batch(format!("{e:#}")))?;
    Ok(Job {
        format: crate::json::COMMAND_FORMAT.into(),
        batch_id: batch.id.clone(),
        batch_dir: absolute(dir),
        inbox: absolute(inbox),
        sha256: fingerprint(dir),
        submitter: crate::config::current_user(),
        submitted: crate::json::now_rfc3339(),
        profile: profile.map(String::from).or(batch.sheet.profile.clone()),
    })
}

/// SHA-256 over each file's path and size (error files a quarantine leaves excluded), then the
/// batch sheet's bytes: what a worker compares before it starts.
pub fn fingerprint(dir: &Path) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for (path, size) in crate::batch::Listing::of(dir).files() {
        if path != crate::layout::ERROR_TEXT && path != crate::layout::ERROR_JSON {
            hash.update(format!("{path}\t{size}\n").as_bytes());
        }
    }
    if let Ok(sheet) = std::fs::read(dir.join(crate::layout::SHEET)) {
        hash.update(&sheet);
    }
    crate::seal::tree::hex(&hash.finalize())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

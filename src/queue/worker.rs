//! `scanwerk worker`: takes one job at a time from the queue, ingests it with the inbox's batch
//! handling (publish, verify, move the input to `done/`; or `failed/` with the reason), and tells
//! the queue how it went: ack after the batch is published and verified (or found so), dead letter
//! and ack for what a retry cannot fix, nak with a delay for what it may (archive, time-stamp
//! service), nak at once when stopped. While a batch runs, an in-progress ack every quarter of the
//! ack wait keeps it from being delivered to another worker, and the progress bucket says how far
//! it is.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;

use super::{CONSUMER, Delivery, JOBS, Job, PROGRESS, Queue, QueueError, nats};
use crate::inbox::{BatchOutcome, RunOptions, Status};

/// What a worker is told.
#[derive(Clone)]
pub struct WorkerOptions {
    pub url: String,
    pub delivery: Delivery,
    /// Archive, key, certificate, threads and default profile every job is ingested with; the
    /// inbox is set per job.
    pub run: RunOptions,
    /// How long a job that failed for a passing reason waits before it is delivered again.
    pub retry_delay: Duration,
    /// This worker's name in `queue status` (host:pid by default).
    pub name: String,
}

/// What a worker did until it was stopped.
#[derive(Debug, Default)]
pub struct WorkSummary {
    pub batches: Vec<BatchOutcome>,
    pub dead_lettered: usize,
    pub returned: usize,
}

/// Pages done in the current batch, for the progress bucket.
#[derive(Default)]
struct Pages(AtomicU64);

impl crate::progress::Progress for Pages {
    fn pages(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// Works jobs until `stop` is set; a job in hand when it is set goes back to the queue.
pub fn work(opts: &WorkerOptions, stop: &AtomicBool) -> Result<WorkSummary, QueueError> {
    let queue = Queue::connect(&opts.url, Some(opts.delivery))?;
    let (consumer, progress) = queue.runtime.block_on(async {
        let stream = queue
            .js
            .get_stream(super::JOBS)
            .await
            .map_err(|e| nats(JOBS)(&e))?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_consumer(CONSUMER)
            .await
            .map_err(|e| nats(CONSUMER)(&e))?;
        let progress = queue
            .js
            .get_stream(PROGRESS)
            .await
            .map_err(|e| nats(PROGRESS)(&e))?;
        Ok::<_, QueueError>((consumer, progress))
    })?;
    tracing::info!(worker = %opts.name, queue = %opts.url, "worker started");
    let mut summary = WorkSummary::default();
    while !stop.load(Ordering::SeqCst) {
        let next = queue.runtime.block_on(async {
            let mut batch = consumer
                .fetch()
                .max_messages(1)
                .expires(Duration::from_secs(2))
                .messages()
                .await?;
            batch.next().await.transpose()
        });
        let message = match next {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(e) => {
                // The server restarts or the network is away: the client reconnects.
                tracing::warn!(error = %e, "cannot fetch a job; trying again");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let job = Held {
            queue: &queue,
            message,
            progress: &progress,
            opts,
        };
        job.handle(stop, &mut summary);
    }
    tracing::info!(worker = %opts.name, batches = summary.batches.len(), "worker stopped");
    Ok(summary)
}

/// A job a worker holds.
struct Held<'a> {
    queue: &'a Queue,
    message: jetstream::Message,
    progress: &'a jetstream::stream::Stream,
    opts: &'a WorkerOptions,
}

/// How a held job ends for the queue.
enum Verdict {
    Done(Box<BatchOutcome>),
    Dead(String),
    Retry(String),
    Returned,
}

impl Held<'_> {
    fn handle(&self, stop: &AtomicBool, summary: &mut WorkSummary) {
        let raw: serde_json::Value = serde_json::from_slice(&self.message.payload).unwrap_or_default();
        let (delivered, first) = self
            .message
            .info()
            .map(|i| (i.delivered, i.delivered <= 1))
            .unwrap_or((1, true));
        let verdict = match serde_json::from_value::<Job>(raw.clone()) {
            Ok(job) => {
                tracing::info!(batch = %job.batch_id, delivered, redelivery = !first, "job taken");
                let verdict = self.run(&job, stop);
                let subject = super::progress_subject(&job.batch_id);
                let _ = self
                    .queue
                    .runtime
                    .block_on(self.progress.purge().filter(subject).into_future());
                verdict
            }
            Err(e) => Verdict::Dead(format!("not a scanwerk job: {e}")),
        };
        let verdict = match verdict {
            Verdict::Retry(reason) if delivered >= self.opts.delivery.max_deliver => Verdict::Dead(format!(
                "{reason} (delivered {delivered} times, the queue's maximum)"
            )),
            other => other,
        };
        let told = self.queue.runtime.block_on(async {
            match verdict {
                Verdict::Done(outcome) => {
                    summary.batches.push(*outcome);
                    self.message.ack().await
                }
                Verdict::Dead(reason) => {
                    tracing::warn!(reason = %reason, "job dead-lettered");
                    summary.dead_lettered += 1;
                    if let Err(e) = self.queue.dead_letter(&raw, &reason, &self.opts.name).await {
                        tracing::error!(error = %e, "cannot dead-letter the job; it will be delivered again");
                        return Ok(());
                    }
                    self.message.ack().await
                }
                Verdict::Retry(reason) => {
                    tracing::warn!(reason = %reason, delay = ?self.opts.retry_delay, "job returned for a retry");
                    self.message.ack_with(AckKind::Nak(Some(self.opts.retry_delay))).await
                }
                Verdict::Returned => {
                    summary.returned += 1;
                    self.message.ack_with(AckKind::Nak(None)).await
                }
            }
        });
        if let Err(e) = told {
            // The job comes back after the ack wait; publication is idempotent.
            tracing::warn!(error = %e, "cannot tell the queue how the job went");
        }
    }

    /// Ingests the job's batch while telling the queue it is alive.
    fn run(&self, job: &Job, stop: &AtomicBool) -> Verdict {
        let dir = &job.batch_dir;
        let archive = &self.opts.run.ingest.archive;
        if !dir.is_dir() {
            // Finished by a worker whose ack was lost, or moved away by a person.
            return match archive.join(&job.batch_id).is_dir() {
                true => Verdict::Done(Box::new(already_done(job, archive))),
                false => Verdict::Dead(format!("batch folder {} no longer exists", dir.display())),
            };
        }
        // The archive's storage away (a mount lost, a full or read-only volume) is a passing
        // fault: the job waits and the batch stays untouched, instead of being quarantined.
        if let Err(e) = crate::archive::usable(archive) {
            return Verdict::Retry(format!("archive folder {} is not usable: {e}", archive.display()));
        }
        if super::fingerprint(dir) != job.sha256 {
            return Verdict::Dead(format!(
                "batch folder {} changed since it was submitted (files or batch sheet differ); \
                 submit it again once it is complete",
                dir.display()
            ));
        }
        let pages = Arc::new(Pages::default());
        let mut run = self.opts.run.clone();
        run.inbox = job.inbox.clone();
        run.progress = pages.clone();
        if job.profile.is_some() {
            run.ingest.profile = job.profile.clone();
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let since = crate::json::now_rfc3339();
        let outcome = std::thread::scope(|scope| {
            let running = scope.spawn(|| crate::inbox::process_batch(&run, &name, dir, stop));
            let beat = (self.opts.delivery.ack_wait / 4).max(Duration::from_millis(500));
            let mut last = Instant::now() - beat;
            while !running.is_finished() {
                if last.elapsed() >= beat {
                    self.alive(job, &since, pages.0.load(Ordering::Relaxed));
                    last = Instant::now();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            running
                .join()
                .unwrap_or_else(|_| Err("the worker thread panicked".into()))
        });
        let published_meanwhile = archive.join(&job.batch_id).is_dir();
        match outcome {
            // Another worker took the job while this one was held up (a frozen process, a slow
            // network) and published it: its publication stands, and so does the job's ack.
            Ok(Some(outcome)) if outcome.status == Status::Failed && published_meanwhile => {
                tracing::warn!(batch = %job.batch_id, error = ?outcome.error, "published meanwhile by another worker");
                Verdict::Done(Box::new(already_done(job, archive)))
            }
            Err(reason) if published_meanwhile => {
                tracing::warn!(batch = %job.batch_id, error = %reason, "published meanwhile by another worker");
                Verdict::Done(Box::new(already_done(job, archive)))
            }
            Ok(Some(outcome)) if outcome.status == Status::Failed => {
                Verdict::Dead(outcome.error.clone().unwrap_or_else(|| "failed".into()))
            }
            Ok(Some(outcome)) => Verdict::Done(Box::new(outcome)),
            Ok(None) => Verdict::Returned,
            Err(reason) => Verdict::Retry(reason),
        }
    }

    /// An in-progress ack and the progress entry.
    fn alive(&self, job: &Job, since: &str, pages: u64) {
        let entry = serde_json::json!({
            "batch_id": job.batch_id,
            "worker": self.opts.name,
            "since": since,
            "updated": crate::json::now_rfc3339(),
            "pages_done": pages,
        });
        let told = self.queue.runtime.block_on(async {
            self.message.ack_with(AckKind::Progress).await?;
            self.queue
                .js
                .publish(
                    super::progress_subject(&job.batch_id),
                    serde_json::to_vec(&entry).expect("serialises").into(),
                )
                .await?
                .await?;
            Ok::<_, async_nats::Error>(())
        });
        if let Err(e) = told {
            tracing::warn!(error = %e, "cannot send an in-progress ack");
        }
    }
}

/// The outcome for a job whose batch was published and whose input moved on before the job
/// came back.
fn already_done(job: &Job, archive: &Path) -> BatchOutcome {
    tracing::info!(batch = %job.batch_id, "already published; the job is done");
    BatchOutcome::already_published(&job.batch_id, archive.join(&job.batch_id), job.batch_dir.clone())
}

//! Progress: who watches a batch go by. The pipeline tells a [`Progress`] of every page as a worker
//! finishes it and of every document as it is written; at a terminal that is a progress bar
//! (indicatif) on stderr — never on stdout, so `--json` output stays clean — and elsewhere
//! nobody ([`NoProgress`]).

use crate::batch::Batch;

/// Someone watching a batch go by (the progress bar at a terminal). Every method is called from
/// the compose stage's thread: pages as workers finish them (in any order), documents as they are
/// written (in batch order). The defaults do nothing.
pub trait Progress: Send + Sync {
    /// A batch starts (a watcher that shows totals counts them: [`Batch::count_pages`]).
    fn begin(&self, _batch: &Batch) {}
    /// `n` more pages are done (written, failed, or taken over from an interrupted run).
    fn pages(&self, _n: u64) {}
    /// One more document is done.
    fn document(&self) {}
    /// The batch is published or has failed.
    fn end(&self) {}
}

/// No one is watching.
pub struct NoProgress;

impl Progress for NoProgress {}

/// A progress bar on stderr when it is a terminal and `--quiet` is not given; else nothing.
pub fn for_terminal(quiet: bool) -> std::sync::Arc<dyn Progress> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return std::sync::Arc::new(NoProgress);
    }
    std::sync::Arc::new(Bar::default())
}

/// Batches, documents and pages at a terminal: `batch B  [####    ] 12/40 pages · document 3/8 ·
/// 1.9 pages/s · ETA 15s`. Rate and time left are scanwerk's own: finished pages over the time
/// since the batch began, so a burst of pages after a slow one does not skew them.
#[derive(Default)]
struct Bar {
    bar: std::sync::Mutex<Option<BarState>>,
    batches: std::sync::atomic::AtomicUsize,
}

struct BarState {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    pages: u64,
    total_pages: u64,
    documents: usize,
    total_documents: usize,
}

impl BarState {
    fn redraw(&self) {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if self.pages > 0 && seconds > 0.0 {
            self.pages as f64 / seconds
        } else {
            0.0
        };
        let left = self.total_pages.saturating_sub(self.pages);
        let eta = if rate > 0.0 {
            format!("ETA {}", humantime(left as f64 / rate))
        } else {
            "ETA –".into()
        };
        self.bar.set_message(format!(
            "document {}/{} · {rate:.2} pages/s · {eta}",
            self.documents, self.total_documents
        ));
        self.bar.set_position(self.pages);
    }
}

/// `42s`, `3m 05s`, `1h 02m`.
fn humantime(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

impl Progress for Bar {
    fn begin(&self, batch: &Batch) {
        let (documents, pages) = (batch.documents.len(), batch.count_pages());
        let batch = &batch.id;
        let number = self.batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let bar =
            indicatif::ProgressBar::with_draw_target(Some(pages), indicatif::ProgressDrawTarget::stderr());
        let style = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} pages · {msg}")
            .expect("a valid template")
            .progress_chars("#>-");
        bar.set_style(style);
        let prefix = if number > 1 {
            format!("batch {number}: {batch}")
        } else {
            format!("batch {batch}")
        };
        bar.set_prefix(prefix);
        let state = BarState {
            bar,
            started: std::time::Instant::now(),
            pages: 0,
            total_pages: pages,
            documents: 0,
            total_documents: documents,
        };
        state.redraw();
        *self.bar.lock().unwrap() = Some(state);
    }

    fn pages(&self, n: u64) {
        if let Some(state) = self.bar.lock().unwrap().as_mut() {
            state.pages += n;
            state.redraw();
        }
    }

    fn document(&self) {
        if let Some(state) = self.bar.lock().unwrap().as_mut() {
            state.documents += 1;
            state.redraw();
        }
    }

    fn end(&self) {
        if let Some(state) = self.bar.lock().unwrap().take() {
            state.bar.finish_and_clear();
        }
    }
}

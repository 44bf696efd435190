//! Which page a free worker recognises next.
//!
//! While the reader still reads, a worker measures a page (decode, prepare, blank measure) and
//! recognises it at once, in batch order: all workers are busy, and order would only hold pages in
//! memory longer. Once the reader has issued the last job, the workers measure up to `tail` of the
//! remaining pages ahead into the pool and recognise the dearest first
//! (longest-processing-time-first), so a batch does not end with one core reading its heaviest page
//! alone while the others idle. Without OCR there is nothing to schedule and nothing is measured
//! ahead: each page measured ahead holds its decoded image (over 1,000 image-only pages in
//! documents of 10, measuring ahead raised the peak from 73 to 121 MiB). Order of work only: every
//! page is read by the same engine setup and composed in batch order, so the output bytes do not
//! depend on it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A page measured and waiting for an engine.
pub(super) trait Waiting {
    /// What recognising it is expected to cost, in any unit that orders pages.
    fn cost(&self) -> u64;
    /// Its place in batch order.
    fn seq(&self) -> u64;
}

/// Pages measured and waiting for an engine, shared by the workers.
pub(super) struct Pool<P> {
    pages: Mutex<Vec<P>>,
    /// Set by the reader when it has issued its last job.
    read_all: AtomicBool,
    /// How many measured pages may wait once the reader is done (0: none, recognise at once).
    tail: usize,
}

impl<P: Waiting> Pool<P> {
    /// A pool for `workers` workers; `ocr` false (nothing to schedule) measures nothing ahead.
    pub(super) fn new(workers: usize, ocr: bool) -> Pool<P> {
        Pool {
            pages: Mutex::new(Vec::new()),
            read_all: AtomicBool::new(false),
            tail: if ocr { 2 * workers + 2 } else { 0 },
        }
    }

    /// The reader has issued every job: from now on pages are measured ahead.
    pub(super) fn read_all(&self) {
        self.read_all.store(true, Ordering::SeqCst);
    }

    /// True once the reader is done (and there is OCR): measured pages go to the pool.
    pub(super) fn ahead(&self) -> bool {
        self.tail > 0 && self.read_all.load(Ordering::SeqCst)
    }

    /// True if a worker should take another job before it recognises a page from the pool.
    pub(super) fn wants_more(&self) -> bool {
        !self.ahead() || self.lock().len() < self.tail
    }

    pub(super) fn push(&self, page: P) {
        self.lock().push(page);
    }

    /// The page to recognise next: the dearest; of equal cost, the earlier.
    pub(super) fn take(&self) -> Option<P> {
        let mut pages = self.lock();
        let at = (0..pages.len()).max_by_key(|&i| (pages[i].cost(), std::cmp::Reverse(pages[i].seq())))?;
        Some(pages.swap_remove(at))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<P>> {
        // A worker that panicked holding the lock left a plain Vec behind: still usable.
        self.pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (cost, seq)
    impl Waiting for (u64, u64) {
        fn cost(&self) -> u64 {
            self.0
        }
        fn seq(&self) -> u64 {
            self.1
        }
    }

    fn order(pool: &Pool<(u64, u64)>) -> Vec<u64> {
        std::iter::from_fn(|| pool.take()).map(|p| p.1).collect()
    }

    #[test]
    fn measured_ahead_only_at_the_end_and_the_dearest_first() {
        let pool = Pool::new(2, true);
        assert!(
            !pool.ahead(),
            "while the reader reads, a page is recognised where it was measured"
        );
        assert!(pool.wants_more());
        pool.read_all();
        assert!(pool.ahead());
        for page in [(5, 4), (2236, 5), (49, 6), (0, 7), (2101, 8), (49, 9)] {
            assert!(
                pool.wants_more(),
                "up to 2 × 2 + 2 pages measured ahead at the end"
            );
            pool.push(page);
        }
        assert!(!pool.wants_more());
        // The dearest first; of equal cost, the earlier page; a blank page (cost 0) last.
        assert_eq!(order(&pool), [5, 8, 6, 9, 4, 7]);
    }

    #[test]
    fn without_ocr_nothing_is_measured_ahead() {
        let pool: Pool<(u64, u64)> = Pool::new(2, false);
        pool.read_all();
        assert!(!pool.ahead());
        assert!(pool.wants_more());
    }
}

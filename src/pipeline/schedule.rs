//! Which page a free worker recognises next.
//!
//! While the reader still reads, a worker measures a page (decode, prepare, blank measure) and
//! recognises it at once, in batch order. Once the reader has issued the last job, the workers
//! measure up to `tail` of the remaining pages ahead and recognise the dearest first
//! (longest-processing-time-first), so a batch does not end with one core reading its heaviest page
//! alone while the others idle. Order of work only: every page is read by the same engine setup
//! and composed in batch order, so the output bytes do not depend on it.

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
    /// How many measured pages may wait once the reader is done.
    tail: usize,
}

impl<P: Waiting> Pool<P> {
    pub(super) fn new(workers: usize) -> Pool<P> {
        Pool {
            pages: Mutex::new(Vec::new()),
            read_all: AtomicBool::new(false),
            tail: 2 * workers + 2,
        }
    }

    /// The reader has issued every job: from now on pages are measured ahead.
    pub(super) fn read_all(&self) {
        self.read_all.store(true, Ordering::SeqCst);
    }

    /// True if a worker should measure another page before it recognises one.
    pub(super) fn wants_more(&self) -> bool {
        let waiting = self.lock().len();
        if self.read_all.load(Ordering::SeqCst) {
            waiting < self.tail
        } else {
            waiting == 0
        }
    }

    pub(super) fn push(&self, page: P) {
        self.lock().push(page);
    }

    /// The page to recognise next: the dearest once the reader is done, else the first in batch
    /// order (so no page waits behind dearer ones while the batch goes on).
    pub(super) fn take(&self) -> Option<P> {
        let mut pages = self.lock();
        let tail = self.read_all.load(Ordering::SeqCst);
        let at = (0..pages.len()).max_by_key(|&i| {
            let page = &pages[i];
            let cost = if tail { page.cost() } else { 0 };
            (cost, std::cmp::Reverse(page.seq()))
        })?;
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
    fn batch_order_while_reading_dearest_first_at_the_end() {
        let pool = Pool::new(2);
        assert!(pool.wants_more());
        pool.push((5, 0));
        assert!(
            !pool.wants_more(),
            "while the reader reads, one page is measured at a time"
        );
        for page in [(900, 3), (40, 1), (900, 2)] {
            pool.push(page);
        }
        assert_eq!(order(&pool), [0, 1, 2, 3], "batch order while the reader reads");
        pool.read_all();
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
}

//! The pieces of a sharded run (`--threads N`): which worker a packet goes
//! to, what workers share while they run, and the merge of what they log.
//!
//! One reader numbers the packets of the capture (their *capture index*)
//! and sends each to the worker its outer address pair hashes to, so both
//! directions of a flow, every fragment of a datagram and everything a
//! tunnel between two hosts carries meet in one worker, each with its own
//! connection table, timers and analyzers. Every worker also learns every
//! packet's time ([`crate::engine::Engine::tick`]), so its timers fire where
//! a single-threaded run's would. Workers keep their output with the key of
//! its place in a single-threaded run's output ([`crate::log::RowKey`]);
//! [`Merge`] writes it in that order, and runs the sinks whose memory spans
//! connections ([`crate::event::PlacedSink::global`]). The one thing workers
//! tell each other while running is the connections analyzers announce
//! ([`crate::engine::ShardLink`]): a new connection waits until every other
//! worker has passed its packet, then takes what they announced before it.

use crate::engine::ShardLink;
use crate::event::EventSink;
use crate::expected::Expectation;
use crate::log::{Keyed, Logs};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The worker (of `workers`) for a frame whose outermost IP header has
/// these addresses: the same for both directions. Frames without IP go to
/// worker 0.
pub fn worker_for(addresses: Option<(IpAddr, IpAddr)>, workers: usize) -> usize {
    let Some((a, b)) = addresses else {
        return 0;
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = rustc_hash::FxHasher::default();
    (lo, hi).hash(&mut h);
    // FxHash's low bits are weak for addresses that differ in few bytes.
    let x = h.finish();
    let x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    ((x >> 32) % workers.max(1) as u64) as usize
}

/// What the workers of one run share.
pub struct Shared {
    /// Per worker: capture indexes it has finished (all below this).
    progress: Vec<AtomicU64>,
    /// Per worker: expectations other workers announced, with the capture
    /// index of the packet that announced them.
    mailboxes: Vec<Mutex<Vec<(u64, Expectation)>>>,
    /// Workers blocked in `collect`, and where they sleep.
    waiting: AtomicU64,
    wake: (Mutex<()>, Condvar),
    /// How many times a new connection had to wait for another worker
    /// (and how many new connections asked), for the run's statistics.
    pub waits: AtomicU64,
    pub asks: AtomicU64,
}

impl Shared {
    pub fn new(workers: usize) -> Arc<Shared> {
        Arc::new(Shared {
            progress: (0..workers).map(|_| AtomicU64::new(0)).collect(),
            mailboxes: (0..workers).map(|_| Mutex::new(Vec::new())).collect(),
            waiting: AtomicU64::new(0),
            wake: (Mutex::new(()), Condvar::new()),
            waits: AtomicU64::new(0),
            asks: AtomicU64::new(0),
        })
    }

    /// Worker `me` has finished every packet below capture index `done`
    /// (`u64::MAX`: all of them).
    #[inline]
    pub fn finished_below(&self, me: usize, done: u64) {
        self.progress[me].store(done, Ordering::SeqCst);
        // Paired with the waiter's SeqCst increment before it checks progress:
        // either it sees this store, or this sees it waiting.
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _lock = self.wake.0.lock().unwrap_or_else(|p| p.into_inner());
            self.wake.1.notify_all();
        }
    }

    fn all_reached(&self, me: usize, index: u64) -> bool {
        self.progress
            .iter()
            .enumerate()
            .all(|(i, p)| i == me || p.load(Ordering::SeqCst) >= index)
    }

    /// Blocks until every worker but `me` has finished everything below `index`.
    fn wait_for_others(&self, me: usize, index: u64) {
        self.asks.fetch_add(1, Ordering::Relaxed);
        if self.all_reached(me, index) {
            return;
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        // The others are usually close behind: spin, then let them run, and
        // only then sleep.
        for round in 0..2048u32 {
            if round < 1024 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            if self.all_reached(me, index) {
                return;
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut lock = self.wake.0.lock().unwrap_or_else(|p| p.into_inner());
        while !self.all_reached(me, index) {
            // The timeout only guards against a wake-up lost to a bug.
            lock = self
                .wake
                .1
                .wait_timeout(lock, Duration::from_millis(10))
                .map(|(l, _)| l)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        drop(lock);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// The link an engine of worker `me` joins with.
    pub fn link(self: &Arc<Shared>, me: usize) -> Box<dyn ShardLink> {
        Box::new(WorkerLink {
            me,
            shared: Arc::clone(self),
        })
    }
}

struct WorkerLink {
    me: usize,
    shared: Arc<Shared>,
}

impl ShardLink for WorkerLink {
    fn publish(&mut self, index: u64, e: &Expectation) {
        for (i, mailbox) in self.shared.mailboxes.iter().enumerate() {
            if i != self.me {
                // A poisoned mailbox only means another worker panicked; its
                // entries are still whole.
                let mut m = mailbox.lock().unwrap_or_else(|p| p.into_inner());
                m.push((index, e.clone()));
            }
        }
    }

    fn collect(&mut self, index: u64) -> Vec<(u64, Expectation)> {
        self.shared.wait_for_others(self.me, index);
        let mut mailbox = self.shared.mailboxes[self.me]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if mailbox.is_empty() {
            return Vec::new();
        }
        // Those announced before `index`; the rest wait for a later connection.
        let mut due: Vec<(u64, Expectation)> = Vec::new();
        mailbox.retain(|(at, e)| {
            if *at < index {
                due.push((*at, e.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(at, _)| *at);
        due
    }

    fn passed(&self, index: u64) -> bool {
        self.shared.all_reached(self.me, index)
    }
}

/// Writes the workers' output in a single-threaded run's order: items come
/// in per worker, in key order, with how far that worker has got; an item
/// is written once no worker can still produce one before it.
pub struct Merge {
    logs: Logs,
    /// The global sinks, in subscription order.
    sinks: Vec<Box<dyn EventSink>>,
    queues: Vec<VecDeque<Keyed>>,
    /// Per worker: capture index all its future items are at or after.
    reached: Vec<u64>,
}

impl Merge {
    pub fn new(workers: usize, logs: Logs, sinks: Vec<Box<dyn EventSink>>) -> Merge {
        Merge {
            logs,
            sinks,
            queues: (0..workers).map(|_| VecDeque::new()).collect(),
            reached: vec![0; workers],
        }
    }

    /// Worker `worker`'s next items (in key order), and the capture index
    /// it has reached (`u64::MAX` once it has finished); writes what can be.
    pub fn push(&mut self, worker: usize, items: Vec<Keyed>, reached: u64) {
        self.queues[worker].extend(items);
        self.reached[worker] = self.reached[worker].max(reached);
        self.write_ready();
    }

    fn write_ready(&mut self) {
        let floor = self.reached.iter().copied().min().unwrap_or(u64::MAX);
        loop {
            let next = self
                .queues
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.front().map(|k| (k.key, i)))
                .min();
            let Some((key, i)) = next else {
                return;
            };
            // A worker that has not reached this index may yet write before
            // it; after the last packet, all have finished.
            if key.index >= floor && floor != u64::MAX {
                return;
            }
            let item = self.queues[i].pop_front().expect("has a front");
            self.logs.replay(item, &mut self.sinks);
        }
    }

    /// Items held, waiting for a slower worker.
    pub fn pending(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Every worker has finished: the global sinks finish, in order, and the
    /// logs are closed. The first error, after all were finished.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.reached.iter_mut().for_each(|r| *r = u64::MAX);
        self.write_ready();
        crate::event::finish_sinks(&mut self.sinks, &mut self.logs)
    }

    /// The merged logs (to move their clock on, e.g. to the last packet's time).
    pub fn logs_mut(&mut self) -> &mut Logs {
        &mut self.logs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Captured, Format, RowKey, Schema, Value};
    use crate::zeek::Time;

    static TEST_LOG: Schema = Schema {
        path: "merged",
        stream: "Merged::LOG",
        columns: &[("n", "count")],
    };

    fn row(key: RowKey, n: u64) -> Keyed {
        Keyed {
            key,
            now: Time::ZERO,
            upto: Time::ZERO,
            item: Captured::Row {
                schema: &TEST_LOG,
                row: vec![Value::Count(n)],
            },
        }
    }

    fn rows(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("merged.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn both_directions_and_every_fragment_go_to_one_worker() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "2001:db8::7".parse().unwrap();
        for workers in 1..9 {
            assert_eq!(
                worker_for(Some((a, b)), workers),
                worker_for(Some((b, a)), workers)
            );
            assert!(worker_for(Some((a, b)), workers) < workers);
        }
        assert_eq!(worker_for(None, 4), 0, "frames without IP");
        // Address pairs spread over the workers.
        let spread: std::collections::HashSet<usize> = (0..64u8)
            .map(|i| worker_for(Some((a, IpAddr::from([10, 0, 1, i]))), 4))
            .collect();
        assert_eq!(spread.len(), 4);
    }

    #[test]
    fn rows_are_written_in_key_order_once_every_worker_has_passed_them() {
        let dir = std::env::temp_dir().join(format!("netpac-merge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut merge = Merge::new(2, Logs::new(&dir, Format::Tsv), Vec::new());
        let timer = |index, at| RowKey::timer(index, Time(at), 1, 1);
        // Worker 0 has reached index 10, worker 1 only 4: rows from 4 on wait.
        merge.push(
            0,
            vec![
                row(RowKey::packet(2), 1),
                row(timer(5, 3), 3),
                row(RowKey::packet(7), 5),
            ],
            10,
        );
        merge.push(1, vec![row(RowKey::packet(3), 2)], 4);
        assert_eq!(merge.pending(), 2);
        // A timer due by packet 5 on worker 1 fires before worker 0's, due later.
        merge.push(1, vec![row(timer(5, 2), 4)], 6);
        assert_eq!(merge.pending(), 1, "packet 7 waits for worker 1");
        // The end-of-run drain comes after every packet, by start time.
        merge.push(
            1,
            vec![row(RowKey::drain(Time(9), 1 << 8), 7)],
            u64::MAX - 1,
        );
        merge.push(
            0,
            vec![row(RowKey::drain(Time(8), 2 << 8), 6)],
            u64::MAX - 1,
        );
        merge.finish().unwrap();
        assert_eq!(rows(&dir), ["1", "2", "4", "3", "5", "6", "7"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

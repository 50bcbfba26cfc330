//! A sharded analysis (`--threads N`): the calling thread reads, numbers
//! and dispatches packets and writes the logs; N worker threads each run an
//! engine over their share of the flows. The logs are those of a
//! single-threaded run, row for row (see `netpac_runtime::shard`).
//!
//! Packets travel in batches of [`BATCH`] capture indexes: every worker gets
//! every batch's timestamps (its clock, and so its timers, follow the whole
//! capture) and the bytes of its own packets, copied once into the batch.
//! At most [`QUEUE`] batches wait per worker, which bounds both memory and
//! how far the workers drift apart.

use netpac_runtime::analyzer::Registry;
use netpac_runtime::decode::{Decoder, DecoderConfig};
use netpac_runtime::engine::{Config, Engine, EngineStats, Summary};
use netpac_runtime::event::{EventSink, Events, ForwardSink};
use netpac_runtime::log::{Keyed, Logs};
use netpac_runtime::packet::{LinkType, RawPacket};
use netpac_runtime::shard::{worker_for, Merge, Shared};
use netpac_runtime::zeek::Time;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Capture indexes per batch.
pub const BATCH: usize = 1024;
/// Batches waiting per worker.
pub const QUEUE: usize = 4;
/// Longest a batch is filled before it goes (live captures).
const MAX_BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(100);

/// One worker's packet in a batch.
struct OwnPacket {
    /// Capture index minus the batch's first.
    offset: u32,
    wire_len: u32,
    link: LinkType,
    start: usize,
    end: usize,
}

struct Batch {
    first: u64,
    /// Every capture index's time, shared by all workers' copies.
    times: Arc<[Time]>,
    packets: Vec<OwnPacket>,
    data: Vec<u8>,
}

enum FromWorker {
    Items {
        worker: usize,
        items: Vec<Keyed>,
        reached: u64,
        stats: Option<EngineStats>,
    },
    Done {
        worker: usize,
        result: std::io::Result<Summary>,
        items: Vec<Keyed>,
        now: Time,
        stats: EngineStats,
    },
}

/// The sharded counterpart of a single engine: packets in, merged logs out.
pub(crate) struct Sharded {
    to_workers: Vec<SyncSender<Batch>>,
    /// Per worker: its emptied batch buffers, to fill again (no allocation
    /// per batch once the run is going).
    recycled: Vec<Receiver<(Vec<OwnPacket>, Vec<u8>)>>,
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    from_workers: Receiver<FromWorker>,
    merge: Merge,
    /// Finds each packet's outer addresses (for its worker).
    decoder: Decoder,
    next_index: u64,
    latest: Time,
    times: Vec<Time>,
    /// Per worker: the batch being filled.
    filling: Vec<(Vec<OwnPacket>, Vec<u8>)>,
    stats: Vec<EngineStats>,
    summaries: Vec<Option<std::io::Result<Summary>>>,
    last_time: Time,
    /// When the batch being filled got its first packet.
    batch_started: std::time::Instant,
    /// Workers whose thread is gone (a bug): the run's logs are incomplete.
    lost: usize,
}

/// What each worker is built from.
#[derive(Clone)]
pub(crate) struct WorkerSetup {
    pub config: Config,
    pub registry: Registry,
    pub zeek_logs: bool,
}

impl Sharded {
    /// Starts `threads` workers. `logs` are the run's (the merge writes
    /// them); `sinks` are the subscribers, which the merge runs in order
    /// after Zeek's global log sinks.
    pub fn start(
        threads: usize,
        setup: WorkerSetup,
        logs: Logs,
        sinks: Vec<Box<dyn EventSink>>,
    ) -> Sharded {
        let threads = threads.max(1);
        // The merge runs the sinks whose memory spans connections.
        let mut globals: Vec<Box<dyn EventSink>> = Vec::new();
        if setup.zeek_logs {
            globals.extend(
                netpac_analyzers::log_sinks(&setup.config)
                    .into_iter()
                    .filter(|s| s.global)
                    .map(|s| s.sink),
            );
        }
        globals.extend(sinks);
        let wants: Arc<Vec<Vec<bool>>> = Arc::new(
            globals
                .iter()
                .map(|s| ForwardSink::wants_of(&**s))
                .collect(),
        );
        // Limits are a budget for the run, not per worker.
        let mut config = setup.config.clone();
        let share = |total: u64| {
            if total == 0 {
                0
            } else {
                total.div_ceil(threads as u64).max(1)
            }
        };
        config.max_connections = share(config.max_connections as u64) as usize;
        config.reassembly_memcap = share(config.reassembly_memcap);
        let worker_setup = WorkerSetup {
            config,
            ..setup.clone()
        };

        let shared = Shared::new(threads);
        let (tx, from_workers) = channel();
        let mut to_workers = Vec::new();
        let mut recycled = Vec::new();
        let mut handles = Vec::new();
        for me in 0..threads {
            let (to_worker, batches) = sync_channel(QUEUE);
            to_workers.push(to_worker);
            let (recycle, recycled_here) = channel();
            recycled.push(recycled_here);
            let (setup, shared, wants, tx) = (
                worker_setup.clone(),
                Arc::clone(&shared),
                Arc::clone(&wants),
                tx.clone(),
            );
            let handle = std::thread::Builder::new()
                .name(format!("netpac-worker-{me}"))
                .spawn(move || worker(me, threads, setup, &wants, shared, batches, recycle, tx))
                .expect("a thread can be started");
            handles.push(handle);
        }
        Sharded {
            to_workers,
            recycled,
            shared,
            handles,
            from_workers,
            merge: Merge::new(threads, logs, globals),
            decoder: Decoder::new(DecoderConfig::default()),
            next_index: 0,
            latest: Time::ZERO,
            times: Vec::with_capacity(BATCH),
            filling: (0..threads).map(|_| (Vec::new(), Vec::new())).collect(),
            stats: vec![EngineStats::default(); threads],
            summaries: (0..threads).map(|_| None).collect(),
            last_time: Time::ZERO,
            batch_started: std::time::Instant::now(),
            lost: 0,
        }
    }

    pub fn packet(&mut self, raw: &RawPacket<'_>) {
        let worker = worker_for(self.decoder.outer_addresses(raw), self.to_workers.len());
        let (packets, data) = &mut self.filling[worker];
        let start = data.len();
        data.extend_from_slice(raw.data);
        packets.push(OwnPacket {
            offset: self.times.len() as u32,
            wire_len: raw.wire_len,
            link: raw.link,
            start,
            end: data.len(),
        });
        self.latest = self.latest.max(raw.ts);
        self.push_time(raw.ts);
    }

    /// Network time moves on without a packet (a quiet live link).
    pub fn advance_time(&mut self, now: Time) {
        if now > self.latest {
            self.latest = now;
            self.push_time(now);
        }
        // Whatever waits goes out now: a quiet link must not hold logs back.
        self.send_batch();
    }

    fn push_time(&mut self, ts: Time) {
        self.times.push(ts);
        self.next_index += 1;
        let filled = self.times.len();
        if filled == 1 {
            self.batch_started = std::time::Instant::now();
        }
        // A slow live link must not hold a batch (and its logs) back for long.
        let stale = filled % 64 == 0 && self.batch_started.elapsed() >= MAX_BATCH_AGE;
        if filled >= BATCH || stale {
            self.send_batch();
        }
    }

    fn send_batch(&mut self) {
        if self.times.is_empty() {
            return;
        }
        let first = self.next_index - self.times.len() as u64;
        let times: Arc<[Time]> = Arc::from(&self.times[..]);
        self.times.clear();
        for (worker, to_worker) in self.to_workers.iter().enumerate() {
            let empty = self.recycled[worker].try_recv().unwrap_or_default();
            let (packets, data) = std::mem::replace(&mut self.filling[worker], empty);
            let batch = Batch {
                first,
                times: Arc::clone(&times),
                packets,
                data,
            };
            // A worker that is gone has reported why (or panicked); the rest go on.
            let _ = to_worker.send(batch);
        }
        self.collect(false);
    }

    /// Takes what the workers sent; waits for them all to finish when `until_done`.
    fn collect(&mut self, until_done: bool) {
        loop {
            let message = if until_done {
                match self.from_workers.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                }
            } else {
                match self.from_workers.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
                }
            };
            match message {
                FromWorker::Items {
                    worker,
                    items,
                    reached,
                    stats,
                } => {
                    if let Some(stats) = stats {
                        self.stats[worker] = stats;
                    }
                    self.merge.push(worker, items, reached);
                }
                FromWorker::Done {
                    worker,
                    result,
                    items,
                    now,
                    stats,
                } => {
                    self.stats[worker] = stats;
                    self.last_time = self.last_time.max(now);
                    self.summaries[worker] = Some(result);
                    // Its drained connections wait for the others'.
                    self.merge.push(worker, items, u64::MAX - 1);
                }
            }
        }
    }

    /// The counters of the workers' last reports, added up.
    pub fn stats(&self) -> EngineStats {
        let mut total = EngineStats::default();
        for s in &self.stats {
            total.packets += s.packets;
            total.bytes += s.bytes;
            for i in 0..3 {
                total.active[i] += s.active[i];
                total.total[i] += s.total[i];
            }
            total.events_dispatched += s.events_dispatched;
            total.timers_scheduled += s.timers_scheduled;
            total.timers_queued += s.timers_queued;
            total.reassembly_bytes += s.reassembly_bytes;
            total.fragment_bytes += s.fragment_bytes;
        }
        total
    }

    pub fn logs_mut(&mut self) -> &mut Logs {
        self.merge.logs_mut()
    }

    /// End of input: the workers drain their connections, everything is
    /// merged and the logs are closed.
    pub fn finish(mut self) -> std::io::Result<Summary> {
        self.send_batch();
        self.to_workers.clear();
        self.collect(true);
        for handle in std::mem::take(&mut self.handles) {
            if handle.join().is_err() {
                self.lost += 1;
            }
        }
        if std::env::var_os("NETPAC_SHARD_STATS").is_some() {
            use std::sync::atomic::Ordering::Relaxed;
            eprintln!(
                "netpac: {} of {} new TCP connections waited for another worker",
                self.shared.waits.load(Relaxed),
                self.shared.asks.load(Relaxed)
            );
        }
        let Sharded {
            mut merge,
            summaries,
            last_time,
            lost,
            ..
        } = self;
        merge.logs_mut().advance(last_time, last_time);
        let merged = merge.finish();
        let mut total = Summary::default();
        for s in summaries.into_iter().flatten() {
            let s = s?;
            total.packets += s.packets;
            total.bytes += s.bytes;
            total.connections += s.connections;
            total.weirds += s.weirds;
            total.evicted += s.evicted;
            total.reassembly_memcap_hits += s.reassembly_memcap_hits;
        }
        merged?;
        if lost > 0 {
            return Err(std::io::Error::other(format!(
                "{lost} analysis threads failed; the logs are incomplete"
            )));
        }
        Ok(total)
    }
}

/// Marks a worker finished however its thread ends (a panic included), so
/// that no other worker waits for it.
struct FinishedGuard(Arc<Shared>, usize);

impl Drop for FinishedGuard {
    fn drop(&mut self) {
        self.0.finished_below(self.1, u64::MAX);
    }
}

#[allow(clippy::too_many_arguments)]
fn worker(
    me: usize,
    workers: usize,
    setup: WorkerSetup,
    wants: &[Vec<bool>],
    shared: Arc<Shared>,
    batches: Receiver<Batch>,
    recycle: Sender<(Vec<OwnPacket>, Vec<u8>)>,
    to_merge: Sender<FromWorker>,
) {
    let guard = FinishedGuard(Arc::clone(&shared), me);
    let mut events = Events::with_logs(Logs::capturing());
    let mut global = 0u16;
    let forward = |events: &mut Events, global: &mut u16| {
        events.subscribe(Box::new(ForwardSink::with_wants(
            *global,
            wants[usize::from(*global)].clone(),
        )));
        *global += 1;
    };
    if setup.zeek_logs {
        for s in netpac_analyzers::log_sinks(&setup.config) {
            if s.global {
                forward(&mut events, &mut global);
            } else {
                events.subscribe(s.sink);
            }
        }
    }
    while usize::from(global) < wants.len() {
        forward(&mut events, &mut global);
    }
    let mut engine = Engine::new(setup.config, setup.registry, events);
    // A lone worker has no one to wait for: its connections need no settling.
    if workers > 1 {
        engine.join_shards(shared.link(me));
    }
    let mut batches_seen = 0u64;
    while let Ok(batch) = batches.recv() {
        let mut own = batch.packets.iter().peekable();
        for (offset, &ts) in batch.times.iter().enumerate() {
            let index = batch.first + offset as u64;
            match own.next_if(|p| p.offset as usize == offset) {
                Some(p) => engine.packet_at(
                    index,
                    &RawPacket {
                        ts,
                        wire_len: p.wire_len,
                        link: p.link,
                        data: &batch.data[p.start..p.end],
                    },
                ),
                None => engine.tick(index, ts),
            }
            shared.finished_below(me, index + 1);
        }
        engine.settle_ready();
        batches_seen += 1;
        let Batch {
            mut packets,
            mut data,
            ..
        } = batch;
        packets.clear();
        data.clear();
        let _ = recycle.send((packets, data));
        let message = FromWorker::Items {
            worker: me,
            items: engine.take_captured(),
            reached: batch.first + batch.times.len() as u64,
            // Counting connections walks the table: now and then.
            stats: batches_seen.is_multiple_of(64).then(|| engine.stats()),
        };
        if to_merge.send(message).is_err() {
            return;
        }
    }
    drop(guard);
    let now = engine.network_time();
    let stats = engine.stats();
    let (result, items) = engine.finish_worker();
    let _ = to_merge.send(FromWorker::Done {
        worker: me,
        result,
        items,
        now,
        stats,
    });
}

//! Zeek's timers, in packet time: one heap of (time, sequence) so timers due
//! at the same moment fire in the order they were set. A timer names its
//! connection by slot, generation and epoch, so one set for a connection that
//! has since been removed or re-used is skipped when it fires.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TimerKind {
    Inactivity,
    TcpExpire,
    TcpAttempt,
    TcpPartialClose,
    TcpReset,
    ConnDelete,
    /// An analyzer's expire timer ([`crate::analyzer::AnalyzerSpec::expire_after`]).
    AnalyzerExpire(Interval),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Timer {
    pub(super) at: Time,
    pub(super) seq: u64,
    pub(super) slot: u32,
    pub(super) gen: u32,
    pub(super) epoch: u32,
    pub(super) kind: TimerKind,
}

#[derive(Default)]
pub(super) struct Timers {
    pub(super) heap: BinaryHeap<Reverse<Timer>>,
    pub(super) seq: u64,
}

impl Timers {
    pub(super) fn add(&mut self, at: Time, slot: u32, gen: u32, epoch: u32, kind: TimerKind) {
        self.seq += 1;
        self.heap.push(Reverse(Timer {
            at,
            seq: self.seq,
            slot,
            gen,
            epoch,
            kind,
        }));
    }
}

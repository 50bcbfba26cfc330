//! Zeek's timers, in packet time: one heap ordered by due time, then by the
//! connection's creation order and the timer's place among that
//! connection's timers, so timers due at the same moment fire in an order
//! that does not depend on the other connections (a sharded run's workers
//! fire them as a single-threaded run does). A timer names its connection by
//! slot, generation and epoch, so one set for a connection that has since
//! been removed or re-used is skipped when it fires. The engine's `advance`
//! runs what is due and `fire` runs one timer.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TimerKind {
    Inactivity,
    TcpExpire,
    TcpAttempt,
    TcpPartialClose,
    TcpReset,
    ConnDelete,
    /// An analyzer's expire timer ([`crate::analyzer::AnalyzerSpec::expire_after`]),
    /// its timeout in `Timer::expire_ms`.
    AnalyzerExpire,
}

/// 40 bytes: the heap holds one timer or more per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Timer {
    pub(super) at: Time,
    /// The connection's creation order.
    pub(super) order: u64,
    pub(super) slot: u32,
    pub(super) gen: u32,
    pub(super) epoch: u32,
    /// An analyzer expire timer's timeout in milliseconds.
    pub(super) expire_ms: u32,
    /// The timer's place among its connection's (wraps after 65,536: it
    /// only orders timers of one connection due at the same nanosecond).
    pub(super) seq: u16,
    pub(super) kind: TimerKind,
}

impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> std::cmp::Ordering {
        (self.at, self.order, self.seq).cmp(&(other.at, other.order, other.seq))
    }
}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Timer {
    /// Where what this timer logs falls in the run's output.
    pub(super) fn row_key(&self, index: u64) -> crate::log::RowKey {
        crate::log::RowKey::timer(index, self.at, self.order, self.seq)
    }
}

#[derive(Default)]
pub(super) struct Timers {
    pub(super) heap: BinaryHeap<Reverse<Timer>>,
    /// Timers set so far.
    pub(super) seq: u64,
    /// Per slot: the creation order of its connection and the number of
    /// timers set for it.
    per_slot: Vec<(u64, u16)>,
}

impl Timers {
    /// A new connection in `slot`, created `order`-th.
    pub(super) fn new_connection(&mut self, slot: u32, order: u64) {
        let slot = slot as usize;
        if self.per_slot.len() <= slot {
            self.per_slot.resize(slot + 1, (0, 0));
        }
        self.per_slot[slot] = (order, 0);
    }

    /// Arms the expire timer of an analyzer attached at `now` (however it
    /// was attached: by port or by payload, as Zeek's analyzer arms it in
    /// its constructor).
    pub(super) fn add_analyzer_expire(&mut self, now: Time, slot: u32, gen: u32, after: Interval) {
        let ms = u32::try_from(after.0 / 1_000_000).unwrap_or(u32::MAX);
        self.push(now.add(after), slot, gen, 0, TimerKind::AnalyzerExpire, ms);
    }

    pub(super) fn add(&mut self, at: Time, slot: u32, gen: u32, epoch: u32, kind: TimerKind) {
        self.push(at, slot, gen, epoch, kind, 0);
    }

    fn push(&mut self, at: Time, slot: u32, gen: u32, epoch: u32, kind: TimerKind, expire_ms: u32) {
        self.seq += 1;
        let (order, seq) = self.per_slot.get_mut(slot as usize).map_or((0, 0), |s| {
            s.1 = s.1.wrapping_add(1);
            (s.0, s.1)
        });
        self.heap.push(Reverse(Timer {
            at,
            order,
            slot,
            gen,
            epoch,
            expire_ms,
            seq,
            kind,
        }));
    }
}

impl Engine {
    /// Runs every timer due at or before `ts`.
    pub(super) fn advance(&mut self, ts: Time) {
        if ts > self.now {
            self.now = ts;
        }
        while let Some(Reverse(t)) = self.timers.heap.peek().copied() {
            if t.at > self.now {
                break;
            }
            // Log rotation is a timer too: what a timer after it logs goes
            // to the next file.
            let now = self.now;
            let logs = self.events.logs_mut();
            logs.advance(now, t.at);
            // While a packet is being analysed (a tunnel's inner packet
            // advancing time again) what fires belongs to that packet's rows.
            if !self.in_packet {
                logs.set_row_key(t.row_key(self.index));
            }
            self.timers.heap.pop();
            self.fire(t);
            if !self.in_packet {
                self.flush_weirds();
            }
        }
        let now = self.now;
        self.events.logs_mut().advance(now, now);
    }

    /// Runs one timer. Like Zeek's timers, handlers see the current network
    /// time (not the time they were due), so a jump in time cannot make a
    /// rescheduling timer loop.
    pub(super) fn fire(&mut self, t: Timer) {
        let slot = t.slot as usize;
        if self
            .slots
            .get(slot)
            .is_none_or(|s| s.gen != t.gen || s.conn.is_none())
        {
            return;
        }
        let now = self.now;
        let to = self.config.timeouts;
        let conn = self.slots[slot].conn.as_mut().expect("checked");
        match t.kind {
            TimerKind::Inactivity => {
                if t.epoch != conn.inactivity_epoch {
                    return;
                }
                let due = conn.core.last_time.add(conn.core.inactivity_timeout);
                if due <= now {
                    raise!(
                        &mut self.events,
                        now,
                        ConnectionTimeout {
                            c: conn.core.record()
                        }
                    );
                    self.remove(t.slot, false);
                } else {
                    self.timers
                        .add(due, t.slot, t.gen, t.epoch, TimerKind::Inactivity);
                }
            }
            TimerKind::AnalyzerExpire => {
                let timeout = Interval(i64::from(t.expire_ms) * 1_000_000);
                // Zeek allows a second of slack so that a request and its
                // reply do not re-arm the timer.
                if now.since(conn.core.last_time).0 >= timeout.0 - 1_000_000_000 {
                    raise!(
                        &mut self.events,
                        now,
                        ConnectionTimeout {
                            c: conn.core.record()
                        }
                    );
                    self.remove(t.slot, false);
                } else {
                    let at = now.add(timeout);
                    self.timers.push(at, t.slot, t.gen, t.epoch, t.kind, t.expire_ms);
                }
            }
            _ => {
                if t.epoch != conn.analyzer_epoch {
                    return;
                }
                let Transport::Tcp(tc) = &mut conn.core.transport else {
                    return;
                };
                match t.kind {
                    TimerKind::TcpExpire => {
                        if !tc.is_active {
                            return;
                        }
                        if conn.core.last_time.add(to.tcp_connection_linger) < now {
                            let (o, r) = (tc.orig(), tc.resp());
                            let timed_out = if o.did_close || r.did_close {
                                (o.did_close && r.did_close)
                                    || o.state == S::Reset
                                    || r.state == S::Reset
                                    || o.state == S::Inactive
                                    || r.state == S::Inactive
                            } else {
                                false
                            };
                            let never_active = r.state == S::Inactive && o.state == S::Inactive;
                            if timed_out || never_active {
                                if timed_out {
                                    tc.is_active = false;
                                }
                                raise!(
                                    &mut self.events,
                                    now,
                                    ConnectionTimeout {
                                        c: conn.core.record()
                                    }
                                );
                                self.remove(t.slot, false);
                                return;
                            }
                        }
                        self.timers.add(
                            now.add(to.tcp_session_timer),
                            t.slot,
                            t.gen,
                            t.epoch,
                            TimerKind::TcpExpire,
                        );
                    }
                    TimerKind::TcpAttempt => {
                        if !tc.is_active {
                            return;
                        }
                        if matches!(tc.orig().state, S::SynSent | S::SynAckSent)
                            && tc.resp().state == S::Inactive
                        {
                            tc.is_active = false;
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionAttempt {
                                    c: conn.core.record()
                                }
                            );
                            self.remove(t.slot, false);
                        }
                    }
                    TimerKind::TcpPartialClose => {
                        if !tc.is_active {
                            return;
                        }
                        let (o, r) = (tc.orig(), tc.resp());
                        if o.state != S::Inactive
                            && r.state != S::Inactive
                            && (!o.did_close || !r.did_close)
                        {
                            if o.state == S::Reset || r.state == S::Reset {
                                return;
                            }
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionPartialClose {
                                    c: conn.core.record()
                                }
                            );
                            self.remove(t.slot, false);
                        }
                    }
                    TimerKind::TcpReset => {
                        if !tc.is_active {
                            return;
                        }
                        if !tc.both_closed() {
                            tc.is_active = false;
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionReset {
                                    c: conn.core.record()
                                }
                            );
                        }
                        self.remove(t.slot, false);
                    }
                    TimerKind::ConnDelete => self.remove(t.slot, false),
                    TimerKind::Inactivity | TimerKind::AnalyzerExpire => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod size {
    /// The heap holds a timer or more per connection: keep them small.
    #[test]
    fn a_timer_is_40_bytes() {
        assert!(std::mem::size_of::<super::Timer>() <= 40, "{}", std::mem::size_of::<super::Timer>());
    }
}

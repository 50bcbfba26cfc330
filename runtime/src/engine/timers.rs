//! Zeek's timers, in packet time: one heap of (time, sequence) so timers due
//! at the same moment fire in the order they were set. A timer names its
//! connection by slot, generation and epoch, so one set for a connection that
//! has since been removed or re-used is skipped when it fires. The engine's
//! `advance` runs what is due and `fire` runs one timer.

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
    /// in milliseconds: a timer is 40 bytes instead of 48, and the heap holds one
    /// per connection or more.
    AnalyzerExpire(u32),
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
    /// Arms the expire timer of an analyzer attached at `now` (however it
    /// was attached: by port or by payload, as Zeek's analyzer arms it in
    /// its constructor).
    pub(super) fn add_analyzer_expire(&mut self, now: Time, slot: u32, gen: u32, after: Interval) {
        self.add(
            now.add(after),
            slot,
            gen,
            0,
            TimerKind::AnalyzerExpire(u32::try_from(after.0 / 1_000_000).unwrap_or(u32::MAX)),
        );
    }

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
            self.events.logs_mut().advance(now, t.at);
            self.timers.heap.pop();
            self.fire(t);
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
            TimerKind::AnalyzerExpire(ms) => {
                let timeout = Interval(i64::from(ms) * 1_000_000);
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
                    self.timers.add(at, t.slot, t.gen, t.epoch, t.kind);
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
                    TimerKind::Inactivity | TimerKind::AnalyzerExpire(_) => {}
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

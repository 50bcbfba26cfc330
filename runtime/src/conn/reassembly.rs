//! One direction of a TCP stream, reassembled.
//!
//! Sequence numbers here are *relative* 64-bit offsets (the first payload
//! byte after the SYN is 1), as the TCP endpoint computes them. In-order
//! data is handed straight back to the caller without copying; only data
//! that arrives above a hole is copied into the buffer. Data the peer
//! acknowledges but that never arrived becomes a gap.

use std::collections::BTreeMap;

/// What the caller must deliver to the analyzers, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Bytes `start..end` of the packet payload just handed in, at `seq`.
    Packet { seq: u64, start: usize, end: usize },
    /// A buffered block that became contiguous.
    Buffered { seq: u64, data: Vec<u8> },
    /// `len` bytes at `seq` never arrived.
    Gap { seq: u64, len: u64 },
}

/// Limits on what one direction may buffer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Zeek's `tcp_max_above_hole_without_any_acks`.
    pub max_above_hole_without_acks: u64,
    /// Zeek's `tcp_excessive_data_without_further_acks`.
    pub max_buffered: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_above_hole_without_acks: 16_384,
            max_buffered: 10 * 1024 * 1024,
        }
    }
}

/// Why buffering stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    AboveHoleWithoutAcks,
    ExcessiveData,
}

#[derive(Debug)]
pub struct Reassembler {
    /// Everything below this was delivered or declared missing.
    last_reassem_seq: u64,
    /// Everything below this was acknowledged by the peer.
    trim_seq: u64,
    /// Upper end of delivered data still unacknowledged (Zeek keeps such
    /// blocks until acked; only whether any exist matters here).
    held_upper: u64,
    /// Out-of-order blocks above `last_reassem_seq`, non-overlapping.
    blocks: BTreeMap<u64, Vec<u8>>,
    buffered: u64,
    /// Buffering was abandoned: nothing more is delivered or reported.
    pub skip_deliveries: bool,
    pub had_gap: bool,
    pub did_eof: bool,
    /// Set when new data disagreed with buffered data for the same bytes.
    pub inconsistent: bool,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new()
    }
}

impl Reassembler {
    pub const fn new() -> Reassembler {
        Reassembler {
            last_reassem_seq: 1,
            trim_seq: 1,
            held_upper: 1,
            blocks: BTreeMap::new(),
            buffered: 0,
            skip_deliveries: false,
            had_gap: false,
            did_eof: false,
            inconsistent: false,
        }
    }

    /// Next sequence number to deliver.
    pub fn data_seq(&self) -> u64 {
        self.last_reassem_seq
    }

    /// Whether any data (delivered-but-unacked or out of order) is held.
    pub fn has_blocks(&self) -> bool {
        !self.blocks.is_empty() || self.held_upper > self.trim_seq
    }

    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }

    /// What the buffer costs in memory: its bytes and, for each block, the
    /// map entry and allocation around them (one-byte segments above holes
    /// cost a hundred times their data).
    pub fn memory(&self) -> u64 {
        const PER_BLOCK: u64 = 64;
        self.buffered + PER_BLOCK * self.blocks.len() as u64
    }

    fn undelivered_bytes(&self) -> u64 {
        match self.blocks.iter().next_back() {
            Some((s, d)) => (s + d.len() as u64).saturating_sub(self.last_reassem_seq),
            None => 0,
        }
    }

    /// New payload `data` at relative `seq`; `acked` is how far the peer
    /// acknowledged this direction; `no_data_acked` whether it acked nothing yet.
    pub fn data_sent(
        &mut self,
        mut seq: u64,
        mut data: &[u8],
        acked: u64,
        no_data_acked: bool,
        limits: &Limits,
        out: &mut Vec<Piece>,
    ) -> Result<bool, Overflow> {
        if self.skip_deliveries || data.is_empty() {
            return Ok(false);
        }
        let mut offset = 0usize;
        let upper = seq + data.len() as u64;
        if seq < acked {
            if upper <= acked {
                return Ok(false);
            }
            let cut = (acked - seq) as usize;
            offset += cut;
            data = &data[cut..];
            seq = acked;
        }
        if upper <= self.trim_seq {
            return Ok(true);
        }
        if seq < self.trim_seq {
            let cut = (self.trim_seq - seq) as usize;
            offset += cut;
            data = &data[cut..];
            seq = self.trim_seq;
        }
        self.insert(seq, data, offset, out);
        if no_data_acked && self.undelivered_bytes() > limits.max_above_hole_without_acks {
            self.clear();
            self.skip_deliveries = true;
            return Err(Overflow::AboveHoleWithoutAcks);
        }
        if self.buffered > limits.max_buffered {
            self.clear();
            self.skip_deliveries = true;
            return Err(Overflow::ExcessiveData);
        }
        Ok(true)
    }

    /// Stops reassembling: what is buffered is dropped, nothing more is
    /// delivered (a memory limit was reached).
    pub fn abandon(&mut self) {
        self.clear();
        self.skip_deliveries = true;
    }

    fn clear(&mut self) {
        self.blocks.clear();
        self.buffered = 0;
        self.held_upper = self.trim_seq;
    }

    /// Inserts `[seq, seq+len)` (already trimmed below `trim_seq`).
    fn insert(&mut self, seq: u64, data: &[u8], offset: usize, out: &mut Vec<Piece>) {
        let upper = seq + data.len() as u64;
        if upper <= self.last_reassem_seq {
            return; // already delivered (or given up on)
        }
        // Skip the part at or below what was delivered.
        let (mut seq, mut data, mut offset) = (seq, data, offset);
        if seq < self.last_reassem_seq {
            let cut = (self.last_reassem_seq - seq) as usize;
            seq += cut as u64;
            data = &data[cut..];
            offset += cut;
        }
        // Fast path: nothing buffered, so in-order data goes straight out
        // and out-of-order data becomes one block (no bookkeeping vectors).
        if self.blocks.is_empty() {
            if seq == self.last_reassem_seq {
                out.push(Piece::Packet {
                    seq,
                    start: offset,
                    end: offset + data.len(),
                });
                self.last_reassem_seq = upper;
                self.held_upper = self.held_upper.max(upper);
            } else {
                self.buffered += data.len() as u64;
                self.blocks.insert(seq, data.to_vec());
            }
            return;
        }
        // Compare with overlapping buffered blocks; keep existing bytes.
        let mut pieces: Vec<(u64, usize, usize)> = Vec::new(); // (seq, start, end) in `data`
        let mut cursor = seq;
        // Blocks do not overlap each other, so only the one starting below
        // `seq` can reach into it: look from there, not from the first block
        // (which made many blocks above a hole cost O(n) per segment).
        let from = self
            .blocks
            .range(..seq)
            .next_back()
            .filter(|(s, d)| **s + d.len() as u64 > seq)
            .map_or(seq, |(s, _)| *s);
        let overlapping: Vec<(u64, u64)> = self
            .blocks
            .range(from..upper)
            .map(|(s, d)| (*s, *s + d.len() as u64))
            .collect();
        for (bs, be) in overlapping {
            if bs > cursor {
                pieces.push((cursor, (cursor - seq) as usize, (bs - seq) as usize));
            }
            let os = bs.max(seq);
            let oe = be.min(upper);
            if oe > os {
                let existing = &self.blocks[&bs][(os - bs) as usize..(oe - bs) as usize];
                let new = &data[(os - seq) as usize..(oe - seq) as usize];
                if existing != new {
                    self.inconsistent = true;
                }
            }
            cursor = cursor.max(be);
        }
        if cursor < upper {
            pieces.push((cursor, (cursor - seq) as usize, data.len()));
        }
        for (pseq, start, end) in pieces {
            if pseq == self.last_reassem_seq {
                out.push(Piece::Packet {
                    seq: pseq,
                    start: offset + start,
                    end: offset + end,
                });
                self.last_reassem_seq += (end - start) as u64;
                self.held_upper = self.held_upper.max(self.last_reassem_seq);
                self.drain_contiguous(out);
            } else {
                self.buffered += (end - start) as u64;
                self.blocks.insert(pseq, data[start..end].to_vec());
            }
        }
    }

    fn drain_contiguous(&mut self, out: &mut Vec<Piece>) {
        while let Some(entry) = self.blocks.first_entry() {
            let bs = *entry.key();
            if bs > self.last_reassem_seq {
                break;
            }
            let block = entry.remove();
            self.buffered -= block.len() as u64;
            let be = bs + block.len() as u64;
            if be <= self.last_reassem_seq {
                continue;
            }
            let cut = (self.last_reassem_seq - bs) as usize;
            let data = if cut == 0 {
                block
            } else {
                block[cut..].to_vec()
            };
            out.push(Piece::Buffered {
                seq: self.last_reassem_seq,
                data,
            });
            self.last_reassem_seq = be;
            self.held_upper = self.held_upper.max(be);
        }
    }

    /// The peer acknowledged everything below `seq`: data below it that
    /// never arrived is a gap. `partial_start` suppresses the gap Zeek ignores
    /// right after a partial connection's faked start.
    pub fn trim_to(&mut self, seq: u64, partial_start: bool, out: &mut Vec<Piece>) {
        if seq <= self.trim_seq {
            return;
        }
        if seq > self.last_reassem_seq {
            self.undelivered(seq, partial_start, out);
        }
        self.trim_seq = seq;
        // Drop buffered blocks now entirely acknowledged (they were delivered above).
        while let Some(entry) = self.blocks.first_entry() {
            let bs = *entry.key();
            let be = bs + entry.get().len() as u64;
            if be > seq {
                break;
            }
            self.buffered -= entry.remove().len() as u64;
        }
    }

    fn undelivered(&mut self, up_to: u64, partial_start: bool, out: &mut Vec<Piece>) {
        if up_to <= 2 && partial_start {
            return;
        }
        if !self.skip_deliveries {
            while let Some((&bs, _)) = self.blocks.iter().next() {
                if bs >= up_to {
                    break;
                }
                if bs > self.last_reassem_seq {
                    out.push(Piece::Gap {
                        seq: self.last_reassem_seq,
                        len: bs - self.last_reassem_seq,
                    });
                    self.had_gap = true;
                    self.last_reassem_seq = bs;
                }
                self.drain_contiguous(out);
            }
            if up_to > self.last_reassem_seq {
                out.push(Piece::Gap {
                    seq: self.last_reassem_seq,
                    len: up_to - self.last_reassem_seq,
                });
                self.had_gap = true;
            }
        }
        if up_to > self.last_reassem_seq {
            self.last_reassem_seq = up_to;
        }
    }

    /// Zeek trims delivered data at once when it will never be acked usefully.
    pub fn trim_delivered(&mut self) {
        if self.last_reassem_seq > self.trim_seq {
            self.trim_seq = self.last_reassem_seq;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(r: &mut Reassembler, seq: u64, data: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        r.data_sent(seq, data, 0, false, &Limits::default(), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn in_order_data_is_not_copied() {
        let mut r = Reassembler::new();
        assert_eq!(
            send(&mut r, 1, b"abc"),
            vec![Piece::Packet {
                seq: 1,
                start: 0,
                end: 3
            }]
        );
        assert_eq!(
            send(&mut r, 4, b"de"),
            vec![Piece::Packet {
                seq: 4,
                start: 0,
                end: 2
            }]
        );
        assert_eq!(r.data_seq(), 6);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn out_of_order_data_is_buffered_then_delivered() {
        let mut r = Reassembler::new();
        assert!(send(&mut r, 4, b"def").is_empty());
        assert_eq!(r.buffered_bytes(), 3);
        let out = send(&mut r, 1, b"abc");
        assert_eq!(
            out,
            vec![
                Piece::Packet {
                    seq: 1,
                    start: 0,
                    end: 3
                },
                Piece::Buffered {
                    seq: 4,
                    data: b"def".to_vec()
                }
            ]
        );
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn retransmissions_deliver_only_new_bytes() {
        let mut r = Reassembler::new();
        send(&mut r, 1, b"abc");
        assert_eq!(
            send(&mut r, 1, b"abcdef"),
            vec![Piece::Packet {
                seq: 4,
                start: 3,
                end: 6
            }]
        );
        assert!(send(&mut r, 2, b"bc").is_empty());
    }

    #[test]
    fn acked_hole_becomes_a_gap() {
        let mut r = Reassembler::new();
        send(&mut r, 1, b"ab");
        send(&mut r, 10, b"xyz");
        let mut out = Vec::new();
        r.trim_to(20, false, &mut out);
        assert_eq!(
            out,
            vec![
                Piece::Gap { seq: 3, len: 7 },
                Piece::Buffered {
                    seq: 10,
                    data: b"xyz".to_vec()
                },
                Piece::Gap { seq: 13, len: 7 }
            ]
        );
        assert_eq!(r.data_seq(), 20);
        assert!(r.had_gap);
    }

    #[test]
    fn inconsistent_overlap_is_flagged() {
        let mut r = Reassembler::new();
        send(&mut r, 5, b"hello");
        assert!(!r.inconsistent);
        send(&mut r, 7, b"LLox!");
        assert!(r.inconsistent);
        // The buffered bytes win; only the new tail is added.
        let out = send(&mut r, 1, b"abcd");
        assert_eq!(out.len(), 3);
        assert_eq!(r.data_seq(), 12);
    }

    #[test]
    fn data_above_a_hole_without_acks_is_bounded() {
        let mut r = Reassembler::new();
        let big = vec![0u8; 20_000];
        let mut out = Vec::new();
        let res = r.data_sent(100, &big, 0, true, &Limits::default(), &mut out);
        assert_eq!(res, Err(Overflow::AboveHoleWithoutAcks));
        assert!(r.skip_deliveries);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn partial_connection_start_is_not_a_gap() {
        let mut r = Reassembler::new();
        let mut out = Vec::new();
        r.trim_to(2, true, &mut out);
        assert!(out.is_empty());
    }

    proptest::proptest! {
        /// Whatever the order, overlap and acks of the segments, delivered
        /// bytes are the stream's bytes at their sequence numbers and gaps
        /// plus data cover the stream without overlap.
        #[test]
        fn deliveries_match_the_stream(
            segs in proptest::collection::vec((0u64..400, 1usize..60, proptest::bool::ANY), 1..40)
        ) {
            let stream: Vec<u8> = (0..600u32).map(|i| (i * 7 % 251) as u8).collect();
            let mut r = Reassembler::new();
            let mut out = Vec::new();
            let mut next = 1u64;
            let limits = Limits { max_above_hole_without_acks: u64::MAX, max_buffered: u64::MAX };
            for (start, len, ack) in segs {
                let seq = start + 1;
                let data = &stream[start as usize..(start as usize + len).min(stream.len())];
                let _ = r.data_sent(seq, data, 0, false, &limits, &mut out);
                if ack {
                    r.trim_to(seq, false, &mut out);
                }
                for piece in out.drain(..) {
                    match piece {
                        Piece::Packet { seq, start, end } => {
                            proptest::prop_assert_eq!(seq, next);
                            let s0 = (seq - 1) as usize;
                            proptest::prop_assert_eq!(&data[start..end], &stream[s0..s0 + end - start]);
                            next += (end - start) as u64;
                        }
                        Piece::Buffered { seq, data: d } => {
                            proptest::prop_assert_eq!(seq, next);
                            let s0 = (seq - 1) as usize;
                            proptest::prop_assert_eq!(&d[..], &stream[s0..s0 + d.len()]);
                            next += d.len() as u64;
                        }
                        Piece::Gap { seq, len } => {
                            proptest::prop_assert_eq!(seq, next);
                            next += len;
                        }
                    }
                }
                proptest::prop_assert_eq!(r.data_seq(), next);
            }
        }
    }
}

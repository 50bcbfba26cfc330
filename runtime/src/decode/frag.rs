//! IPv4 / IPv6 fragment reassembly, bounded in fragments, bytes, datagrams
//! and time. Weirds follow Zeek's fragment reassembler: overlaps with equal
//! bytes are `fragment_overlap`, with different bytes
//! `fragment_inconsistency` (the bytes seen first win), and size, DF and
//! header mismatches are reported under Zeek's names.

use super::{flow_weird, DecoderConfig};
use crate::weird::Weird;
use crate::zeek::{Interval, Time};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// A fragment whose tail is below this many bytes (with more to follow) is
/// suspicious (Zeek's MIN_ACCEPTABLE_FRAG_SIZE).
const MIN_ACCEPTABLE_FRAG_SIZE: usize = 64;
/// Reassembled sizes above this are suspicious (Zeek's MAX_ACCEPTABLE_FRAG_SIZE).
const MAX_ACCEPTABLE_FRAG_SIZE: usize = 64_000;

/// Counters for the reassembler.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FragmentStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams dropped incomplete after `frag_timeout`.
    pub timed_out: u64,
    /// Datagrams dropped to respect `max_datagrams_in_flight` or
    /// `max_fragment_bytes_total`.
    pub evicted: u64,
    /// Datagrams abandoned for exceeding `max_fragments_per_datagram` or
    /// `max_datagram_bytes`.
    pub over_limit: u64,
}

/// One fragment as the IP layer hands it over.
pub(crate) struct FragmentIn<'a> {
    pub ts: Time,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub v6: bool,
    /// The unfragmentable part: the IPv4 header with options, or the IPv6
    /// header and extension headers before the fragment header.
    pub header: &'a [u8],
    /// IPv4 protocol, or the IPv6 fragment header's next header.
    pub next_proto: u8,
    /// Header bytes of this packet up to the fragment data (IPv6: with the
    /// fragment header).
    pub hdr_len: usize,
    /// IPv4 total length / IPv6 payload length + 40.
    pub total_len: usize,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: usize,
    pub more: bool,
    pub dont_fragment: bool,
    pub data: &'a [u8],
    pub ttl: u8,
    pub flow_label: u32,
}

/// A completed datagram.
pub(crate) struct Reassembled {
    pub v6: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    pub flow_label: u32,
    /// The fragments' identification: Zeek's `IP_Hdr::ID` of the rebuilt
    /// IPv4 packet (an IPv6 one loses its fragment header, so 0).
    pub id: u32,
    pub header_len: usize,
    pub next_proto: u8,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    v6: bool,
}

#[derive(Debug)]
struct Datagram {
    generation: u64,
    v6: bool,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    flow_label: u32,
    header_len: usize,
    /// IPv4: protocol and header length; IPv6: next header after the
    /// fragment header of the offset-0 fragment.
    next_proto: u8,
    /// Payload size known from the last fragment (0: not yet known).
    frag_size: usize,
    /// Payload bytes by offset; only the ranges in `have` are meaningful.
    buf: Vec<u8>,
    /// Covered byte ranges, sorted and merged.
    have: Vec<(usize, usize)>,
    fragments: usize,
}

impl Datagram {
    /// Adds bytes at `start`, filling only holes (bytes seen first win).
    /// Returns (overlapped, overlapped with different bytes).
    fn insert(&mut self, start: usize, bytes: &[u8]) -> (bool, bool) {
        let end = start + bytes.len();
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        let mut overlap = false;
        let mut inconsistent = false;
        let mut cursor = start;
        for &(a, b) in &self.have {
            if b <= start || a >= end {
                continue;
            }
            if a > cursor {
                self.buf[cursor..a].copy_from_slice(&bytes[cursor - start..a - start]);
            }
            let (lo, hi) = (a.max(start), b.min(end));
            if lo < hi {
                overlap = true;
                if self.buf[lo..hi] != bytes[lo - start..hi - start] {
                    inconsistent = true;
                }
            }
            cursor = cursor.max(hi);
        }
        if cursor < end {
            self.buf[cursor..end].copy_from_slice(&bytes[cursor - start..]);
        }
        if start < end {
            self.have.push((start, end));
            self.have.sort_unstable_by_key(|r| r.0);
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
            for &(a, b) in &self.have {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            self.have = merged;
        }
        (overlap, inconsistent)
    }
}

#[derive(Debug)]
pub(crate) struct FragmentTable {
    timeout: Interval,
    max_fragments: usize,
    max_bytes: usize,
    max_in_flight: usize,
    max_total_bytes: usize,
    table: FxHashMap<Key, Datagram>,
    /// Expiry times in creation order, for timeouts and oldest-first eviction.
    order: VecDeque<(Time, Key, u64)>,
    total_bytes: usize,
    next_generation: u64,
    stats: FragmentStats,
}

impl FragmentTable {
    pub fn new(config: &DecoderConfig) -> FragmentTable {
        FragmentTable {
            timeout: config.frag_timeout,
            max_fragments: config.max_fragments_per_datagram.max(1),
            max_bytes: config.max_datagram_bytes,
            max_in_flight: config.max_datagrams_in_flight.max(1),
            max_total_bytes: config.max_fragment_bytes_total,
            table: FxHashMap::default(),
            order: VecDeque::new(),
            total_bytes: 0,
            next_generation: 0,
            stats: FragmentStats::default(),
        }
    }

    /// Bytes of incomplete datagrams held.
    pub fn buffered_bytes(&self) -> usize {
        self.total_bytes
    }

    pub fn stats(&self) -> FragmentStats {
        self.stats
    }

    pub fn in_flight(&self) -> usize {
        self.table.len()
    }

    fn remove(&mut self, key: &Key) -> Option<Datagram> {
        let d = self.table.remove(key)?;
        self.total_bytes -= d.buf.len();
        Some(d)
    }

    /// Drops datagrams whose time ran out by `now`.
    fn expire(&mut self, now: Time) {
        while let Some(&(expires, key, generation)) = self.order.front() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            if self
                .table
                .get(&key)
                .is_some_and(|d| d.generation == generation)
            {
                self.remove(&key);
                self.stats.timed_out += 1;
            }
        }
    }

    /// Drops the oldest datagram still held.
    fn evict_oldest(&mut self) {
        while let Some((_, key, generation)) = self.order.pop_front() {
            if self
                .table
                .get(&key)
                .is_some_and(|d| d.generation == generation)
            {
                self.remove(&key);
                self.stats.evicted += 1;
                return;
            }
        }
    }

    /// Adds a fragment; returns the datagram when this fragment completes it.
    pub fn add(&mut self, f: FragmentIn<'_>, weirds: &mut Vec<Weird>) -> Option<Reassembled> {
        self.stats.fragments += 1;
        self.expire(f.ts);
        let key = Key {
            src: f.src,
            dst: f.dst,
            id: f.id,
            v6: f.v6,
        };
        let weird = |weirds: &mut Vec<Weird>, name: &'static str| {
            flow_weird(weirds, f.ts, name, "", f.src, f.dst)
        };

        if !self.table.contains_key(&key) {
            while self.table.len() >= self.max_in_flight {
                self.evict_oldest();
            }
            let generation = self.next_generation;
            self.next_generation += 1;
            self.order
                .push_back((f.ts.add(self.timeout), key, generation));
            self.table.insert(
                key,
                Datagram {
                    generation,
                    v6: f.v6,
                    src: f.src,
                    dst: f.dst,
                    ttl: f.ttl,
                    flow_label: f.flow_label,
                    header_len: f.header.len(),
                    next_proto: f.next_proto,
                    frag_size: 0,
                    buf: Vec::new(),
                    have: Vec::new(),
                    fragments: 0,
                },
            );
        }

        let d = self.table.get_mut(&key)?;
        // Header consistency with the first fragment seen.
        let stored_ihl = d.header_len;
        if d.next_proto != f.next_proto || stored_ihl != f.header.len() {
            weird(weirds, "fragment_protocol_inconsistency");
        }
        if f.dont_fragment {
            weird(weirds, "fragment_with_DF");
        }
        if f.total_len < f.hdr_len {
            weird(weirds, "fragment_protocol_inconsistency");
            return None;
        }
        let len = f.total_len - f.hdr_len;
        let upper = f.offset + len;
        if f.offset == 0 {
            // The offset-0 fragment's header names the payload protocol.
            d.next_proto = f.next_proto;
        }
        if !f.more {
            if d.frag_size == 0 {
                d.frag_size = upper;
            } else if upper != d.frag_size {
                weird(weirds, "fragment_size_inconsistency");
                if upper > d.frag_size {
                    d.frag_size = upper;
                }
            }
        } else if f.total_len < MIN_ACCEPTABLE_FRAG_SIZE {
            weird(weirds, "excessively_small_fragment");
        }
        if upper > MAX_ACCEPTABLE_FRAG_SIZE {
            weird(weirds, "excessively_large_fragment");
        }
        if d.frag_size != 0 && upper > d.frag_size {
            weird(weirds, "fragment_size_inconsistency");
            d.frag_size = upper;
        }

        d.fragments += 1;
        if d.fragments > self.max_fragments || upper > self.max_bytes {
            self.remove(&key);
            self.stats.over_limit += 1;
            return None;
        }
        // The caller hands over exactly the captured fragment data; it can
        // be shorter than claimed only if the caller skipped that check.
        let data = &f.data[..f.data.len().min(len)];
        let before = d.buf.len();
        let (overlap, inconsistent) = d.insert(f.offset, data);
        let grown = d.buf.len() - before;
        if overlap {
            weird(
                weirds,
                if inconsistent {
                    "fragment_inconsistency"
                } else {
                    "fragment_overlap"
                },
            );
        }
        self.total_bytes += grown;

        let complete = self.check_complete(&key, f.ts, weirds);
        if complete {
            let d = self.remove(&key)?;
            self.stats.reassembled += 1;
            let mut payload = d.buf;
            payload.truncate(d.frag_size);
            // Addresses, TTL and header come from the first fragment seen, as in Zeek.
            return Some(Reassembled {
                v6: d.v6,
                src: d.src,
                dst: d.dst,
                ttl: d.ttl,
                flow_label: d.flow_label,
                id: if d.v6 { 0 } else { key.id },
                header_len: d.header_len,
                next_proto: d.next_proto,
                payload,
            });
        }
        while self.total_bytes > self.max_total_bytes && !self.table.is_empty() {
            self.evict_oldest();
        }
        None
    }

    /// Whether the datagram under `key` is complete (Zeek's rules: from 0
    /// contiguously up to the size the last fragment announced; data past a
    /// hole beyond that size makes the contiguous part count).
    fn check_complete(&mut self, key: &Key, ts: Time, weirds: &mut Vec<Weird>) -> bool {
        let Some(d) = self.table.get_mut(key) else {
            return false;
        };
        let Some(&(first_start, first_end)) = d.have.first() else {
            return false;
        };
        if first_start > 0 || d.frag_size == 0 {
            return false;
        }
        let (src, dst) = (d.src, d.dst);
        if d.have.len() > 1 {
            if first_end >= d.frag_size {
                flow_weird(weirds, ts, "fragment_size_inconsistency", "", src, dst);
                d.frag_size = first_end;
                return true;
            }
            return false;
        }
        if first_end > d.frag_size {
            flow_weird(weirds, ts, "fragment_size_inconsistency", "", src, dst);
            d.frag_size = first_end;
            return true;
        }
        first_end == d.frag_size
    }
}

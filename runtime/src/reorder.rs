//! A stream whose bytes arrive as pieces that each say where in the stream
//! they belong (QUIC's CRYPTO frames: an offset and the data), in any order.
//! A grammar's `feed sink = data at offset` puts them in order here; what has
//! come without a hole from the start goes on to the sink.
//!
//! As a Spicy sink does (Zeek's QUIC analyzer writes its CRYPTO frames to
//! one), bytes already held or delivered win over later copies of them.
//! Memory is bounded: only bytes within `window` of what was delivered are
//! held, and they are held as they came (nothing is reserved for a hole).

/// One direction's stream being put in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetStream {
    /// How many bytes from the start were delivered.
    delivered: u64,
    /// Pieces past a hole, by offset, disjoint: a map, so that pieces coming
    /// in any order cost a logarithm each, not a shift of all held ones.
    pending: std::collections::BTreeMap<u64, Vec<u8>>,
    /// Bytes held in `pending`.
    held: usize,
}

/// What a piece did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// These bytes follow what was delivered before, in order (maybe empty:
    /// the piece waits for a hole before it to fill, or repeated old bytes).
    Ready(Vec<u8>),
    /// The piece lies beyond `window` bytes past what was delivered; why, for
    /// a protocol violation. Nothing was kept.
    Violation(&'static str),
}

impl OffsetStream {
    /// Places `data` at `offset`; returns the bytes now ready in order.
    pub fn add(&mut self, offset: u64, data: &[u8], window: usize) -> Placed {
        let Some(end) = offset.checked_add(data.len() as u64) else {
            return Placed::Violation("data past the end of the stream");
        };
        if end <= self.delivered {
            return Placed::Ready(Vec::new());
        }
        if end - self.delivered > window as u64 {
            return Placed::Violation("data too far ahead of the stream");
        }
        // Only the part after what was delivered matters.
        let skip = self.delivered.saturating_sub(offset) as usize;
        let (offset, data) = (offset.max(self.delivered), &data[skip..]);
        self.insert(offset, data);
        Placed::Ready(self.take_ready())
    }

    /// How many bytes from the start were delivered.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Forgets everything: the stream starts anew at offset 0.
    pub fn reset(&mut self) {
        *self = OffsetStream::default();
    }

    /// Keeps the parts of `data` no piece held covers yet (earlier bytes win).
    fn insert(&mut self, mut offset: u64, mut data: &[u8]) {
        while !data.is_empty() {
            // Inside a held piece: skip what it covers.
            if let Some((start, bytes)) = self.pending.range(..=offset).next_back() {
                let held_end = start + bytes.len() as u64;
                if held_end > offset {
                    let covered = (held_end - offset).min(data.len() as u64) as usize;
                    offset += covered as u64;
                    data = &data[covered..];
                    continue;
                }
            }
            // Up to the next held piece (or all of it): new bytes, kept.
            let end = offset + data.len() as u64;
            let n = match self.pending.range(offset..).next() {
                Some((&next, _)) if next < end => (next - offset) as usize,
                _ => data.len(),
            };
            self.pending.insert(offset, data[..n].to_vec());
            self.held += n;
            offset += n as u64;
            data = &data[n..];
        }
    }

    /// The held pieces that now follow what was delivered, joined.
    fn take_ready(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.delivered {
                break;
            }
            let bytes = entry.remove();
            self.delivered += bytes.len() as u64;
            self.held -= bytes.len();
            if out.is_empty() {
                out = bytes;
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(p: Placed) -> Vec<u8> {
        match p {
            Placed::Ready(b) => b,
            Placed::Violation(why) => panic!("violation: {why}"),
        }
    }

    #[test]
    fn in_order_pieces_go_straight_through() {
        let mut s = OffsetStream::default();
        assert_eq!(ready(s.add(0, b"abc", 100)), b"abc");
        assert_eq!(ready(s.add(3, b"de", 100)), b"de");
        assert_eq!(s.delivered(), 5);
    }

    #[test]
    fn a_hole_holds_later_pieces_until_it_fills() {
        let mut s = OffsetStream::default();
        assert_eq!(ready(s.add(4, b"ef", 100)), b"");
        assert_eq!(ready(s.add(2, b"cd", 100)), b"");
        assert_eq!(ready(s.add(0, b"ab", 100)), b"abcdef");
        assert_eq!(s.held, 0);
    }

    #[test]
    fn earlier_bytes_win_over_overlapping_copies() {
        let mut s = OffsetStream::default();
        assert_eq!(ready(s.add(2, b"CD", 100)), b"");
        // Overlaps the held piece on both sides; its middle is ignored.
        assert_eq!(ready(s.add(1, b"xyzw", 100)), b"");
        assert_eq!(ready(s.add(0, b"a", 100)), b"axCDw");
        // Bytes already delivered are not delivered again.
        assert_eq!(ready(s.add(0, b"abcdef", 100)), b"f");
    }

    #[test]
    fn pieces_too_far_ahead_are_refused_and_not_kept() {
        let mut s = OffsetStream::default();
        assert_eq!(s.add(90, b"0123456789abc", 100), Placed::Violation("data too far ahead of the stream"));
        assert_eq!(s.add(u64::MAX, b"x", 100), Placed::Violation("data past the end of the stream"));
        assert_eq!(s.held, 0);
        assert_eq!(ready(s.add(0, b"ok", 100)), b"ok");
    }

    #[test]
    fn one_byte_pieces_last_first_make_the_stream() {
        let mut s = OffsetStream::default();
        let text: Vec<u8> = (0..16_000u32).map(|i| (i % 251) as u8).collect();
        for i in (1..text.len()).rev() {
            assert_eq!(ready(s.add(i as u64, &text[i..=i], 16_644)), b"");
        }
        assert_eq!(ready(s.add(0, &text[..1], 16_644)), text);
        assert_eq!(s.held, 0);
    }

    #[test]
    fn reset_starts_over() {
        let mut s = OffsetStream::default();
        assert_eq!(ready(s.add(0, b"abc", 100)), b"abc");
        s.add(5, b"zz", 100);
        s.reset();
        assert_eq!(ready(s.add(0, b"new", 100)), b"new");
    }

    #[test]
    fn memory_stays_within_the_window_whatever_comes() {
        let mut s = OffsetStream::default();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let off = x % 3000;
            let len = (x >> 20) % 64;
            let _ = s.add(off, &vec![b'q'; len as usize], 1000);
            assert!(s.held <= 1000);
        }
    }
}

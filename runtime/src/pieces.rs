//! Messages sent in pieces, each piece saying where in its message it goes
//! (DTLS handshake fragments: a message sequence number, an offset and the
//! message's length). A grammar's `feed sink = data pieces(...)` puts them
//! together here; the whole message then goes to the sink's stream.
//!
//! One message per direction is put together at a time, as in Zeek's DTLS
//! analyzer: a piece of another message (or one announcing another length)
//! abandons the one under way. A piece that is a whole message by itself goes
//! straight through and leaves the one under way alone. Unlike Zeek, which
//! tracks the records' sequence numbers, bytes are put together by offset, and
//! a message is delivered once however its pieces repeat.

/// Pieces a message may come in before it is given up (Zeek's DTLS gives up
/// a message whose fragments span more than 30 records).
pub const MAX_PIECES: usize = 30;

/// What one piece did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceOutcome {
    /// The message is whole: [`Pieces::message`] holds its header and its bytes.
    Whole,
    /// More pieces are awaited (or the piece repeated bytes already held).
    Pending,
    /// The piece cannot belong to its message; why, for a protocol violation.
    Violation(&'static str),
}

/// One direction's message under way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pieces {
    /// The message under way: its key and length.
    current: Option<(u64, usize)>,
    /// Whether the message under way was already delivered (repeats are ignored).
    delivered: bool,
    /// The header given with the message's first piece.
    header: Vec<u8>,
    /// The pieces' bytes, in the order they came (nothing is reserved for the
    /// announced length: memory follows what arrived, not what was claimed).
    data: Vec<u8>,
    /// Each piece: its offset in the message, its start in `data`, its length.
    parts: Vec<(usize, usize, usize)>,
    /// Byte ranges of the message held, sorted and disjoint.
    held: Vec<(usize, usize)>,
    /// The last whole message: header, then bytes.
    out: Vec<u8>,
}

impl Pieces {
    /// Adds `data`, the piece at `offset` of message `key` (`length` bytes long;
    /// at most `max`). `header` goes before the message once it is whole.
    pub fn add(&mut self, key: u64, offset: u64, length: u64, header: &[u8], data: &[u8], max: usize) -> PieceOutcome {
        let Ok(length) = usize::try_from(length) else {
            return PieceOutcome::Violation("message longer than the limit");
        };
        let Ok(offset) = usize::try_from(offset) else {
            return PieceOutcome::Violation("piece past the end of its message");
        };
        // A whole message in one piece needs no buffer.
        if offset == 0 && data.len() == length {
            self.out.clear();
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(data);
            return PieceOutcome::Whole;
        }
        if length > max {
            return PieceOutcome::Violation("message longer than the limit");
        }
        if self.current != Some((key, length)) {
            self.current = Some((key, length));
            self.delivered = false;
            self.header.clear();
            self.header.extend_from_slice(header);
            self.data.clear();
            self.parts.clear();
            self.held.clear();
        }
        if self.delivered {
            return PieceOutcome::Pending;
        }
        let end = match offset.checked_add(data.len()) {
            Some(end) if end <= length => end,
            _ => return PieceOutcome::Violation("piece past the end of its message"),
        };
        if self.parts.len() >= MAX_PIECES {
            return PieceOutcome::Violation("message in more pieces than can be put together");
        }
        self.parts.push((offset, self.data.len(), data.len()));
        self.data.extend_from_slice(data);
        self.hold(offset, end);
        if self.held.first() != Some(&(0, length)) {
            return PieceOutcome::Pending;
        }
        // Whole: the pieces in the order they came (a later one overwrites).
        self.delivered = true;
        self.out.clear();
        self.out.extend_from_slice(&self.header);
        let base = self.out.len();
        self.out.resize(base + length, 0);
        for &(at, from, n) in &self.parts {
            self.out[base + at..base + at + n].copy_from_slice(&self.data[from..from + n]);
        }
        self.data.clear();
        self.parts.clear();
        PieceOutcome::Whole
    }

    /// The last whole message (header, then bytes), after [`PieceOutcome::Whole`].
    pub fn message(&self) -> &[u8] {
        &self.out
    }

    /// Takes the last whole message out (to hand it on while `self` is borrowed
    /// elsewhere); give the buffer back with [`Pieces::restore`] to reuse it.
    pub fn take_message(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Gives back a buffer taken by [`Pieces::take_message`].
    pub fn restore(&mut self, buf: Vec<u8>) {
        self.out = buf;
    }

    /// Records `[start, end)` as held, merging neighbours.
    fn hold(&mut self, start: usize, end: usize) {
        if start == end {
            return;
        }
        let mut s = start;
        let mut e = end;
        self.held.retain(|&(a, b)| {
            if b < s || a > e {
                true
            } else {
                s = s.min(a);
                e = e.max(b);
                false
            }
        });
        let at = self.held.partition_point(|&(a, _)| a < s);
        self.held.insert(at, (s, e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_piece_goes_straight_through_and_keeps_the_message_under_way() {
        let mut p = Pieces::default();
        assert_eq!(p.add(1, 0, 4, b"H", b"ab", 100), PieceOutcome::Pending);
        assert_eq!(p.add(2, 0, 3, b"W", b"xyz", 100), PieceOutcome::Whole);
        assert_eq!(p.message(), b"Wxyz");
        assert_eq!(p.add(1, 2, 4, b"H", b"cd", 100), PieceOutcome::Whole);
        assert_eq!(p.message(), b"Habcd");
    }

    #[test]
    fn pieces_out_of_order_and_overlapping_make_the_message_once() {
        let mut p = Pieces::default();
        assert_eq!(p.add(7, 6, 9, b"", b"ghi", 100), PieceOutcome::Pending);
        assert_eq!(p.add(7, 0, 9, b"", b"abcd", 100), PieceOutcome::Pending);
        assert_eq!(p.add(7, 3, 9, b"", b"def", 100), PieceOutcome::Whole);
        assert_eq!(p.message(), b"abcdefghi");
        // A repeat of a delivered message is not delivered again.
        assert_eq!(p.add(7, 0, 9, b"", b"abcd", 100), PieceOutcome::Pending);
    }

    #[test]
    fn another_message_abandons_the_one_under_way() {
        let mut p = Pieces::default();
        assert_eq!(p.add(1, 0, 4, b"", b"ab", 100), PieceOutcome::Pending);
        assert_eq!(p.add(2, 0, 4, b"", b"wx", 100), PieceOutcome::Pending);
        // Message 1's second half does not complete message 2.
        assert_eq!(p.add(1, 2, 4, b"", b"cd", 100), PieceOutcome::Pending);
        assert_eq!(p.add(2, 2, 4, b"", b"yz", 100), PieceOutcome::Pending);
    }

    #[test]
    fn a_claimed_length_reserves_nothing() {
        let mut p = Pieces::default();
        for key in 0..100 {
            assert_eq!(p.add(key, 5, 10_000_000, b"", b"ab", 10_485_760), PieceOutcome::Pending);
        }
        assert!(p.data.capacity() < 1024, "{}", p.data.capacity());
    }

    #[test]
    fn hostile_pieces_are_violations_not_allocations() {
        let mut p = Pieces::default();
        assert!(matches!(p.add(1, 0, 1 << 40, b"", b"a", 1 << 20), PieceOutcome::Violation(_)));
        assert!(matches!(p.add(1, 3, 4, b"", b"abc", 100), PieceOutcome::Violation(_)));
        assert!(matches!(p.add(1, u64::MAX, 4, b"", b"a", 100), PieceOutcome::Violation(_)));
        let mut outcome = PieceOutcome::Pending;
        for i in 0..=MAX_PIECES as u64 {
            outcome = p.add(9, i, 1000, b"", b"a", 10_000);
        }
        assert!(matches!(outcome, PieceOutcome::Violation(_)));
    }
}

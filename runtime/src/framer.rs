//! Framing of a TCP byte stream into whole PDUs.
//!
//! A PDU that lies entirely inside one delivered chunk is handed out in place
//! (no copy). Only a PDU that straddles chunks is buffered, and only up to
//! `max_pdu` bytes. The frame length comes from a function generated from the
//! grammar's top unit (`unit TcpMessage { len: u16; ... } &size = len + 2`), or,
//! for a unit that frames itself, from parsing what is at hand
//! ([`FrameLen::More`] until it parses).

/// What a frame-length function knows about the bytes at the start of a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLen {
    /// At least this many bytes are needed to know the length.
    Need(usize),
    /// The PDU is this many bytes long (header included).
    Pdu(usize),
    /// The length field is impossible (e.g. arithmetic overflow).
    Invalid,
    /// More bytes are needed, how many is not known (a unit that frames itself
    /// by parsing ran out of input): everything at hand is kept and the length
    /// asked again when more comes.
    More,
    /// The bytes at hand cannot start a PDU (a unit that frames itself failed to
    /// parse): they are handed out as one PDU, whose parse reports why, and the
    /// stream ends.
    Malformed,
}

/// Why framing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A PDU announced a length beyond the limit.
    TooLarge { len: usize, max: usize },
    /// The frame length could not be computed.
    BadLength,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "PDU of {len} bytes exceeds the limit of {max}")
            }
            FrameError::BadLength => f.write_str("bad PDU length"),
        }
    }
}

/// Frames one direction of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framer {
    pending: Vec<u8>,
    /// Where the scans of the last try at `pending` ran out (a unit that frames
    /// itself): kept while `pending` only grows, so trying again costs the new bytes.
    memo: std::cell::Cell<crate::parse::ScanMemo>,
    /// `pending.len()` when that try asked for more (0: none): the same bytes are not tried again.
    more_at: usize,
    max_pdu: usize,
    failed: bool,
    /// A PDU longer than this is handed out cut to its first `keep` bytes once
    /// all of it passed (a grammar's `&keep(n)`); the rest is never buffered.
    keep: usize,
    /// Bytes of the current PDU still to pass unbuffered after its kept prefix.
    skip_left: usize,
}

impl Framer {
    pub fn new(max_pdu: usize) -> Framer {
        Framer {
            pending: Vec::new(),
            memo: Default::default(),
            more_at: 0,
            max_pdu,
            failed: false,
            keep: usize::MAX,
            skip_left: 0,
        }
    }

    /// PDUs longer than `keep` bytes are handed out cut to their first `keep`
    /// bytes, when the last of their bytes has passed.
    pub fn with_keep(mut self, keep: usize) -> Framer {
        self.keep = keep.max(1);
        self
    }

    /// The bytes of a PDU under way (its kept prefix, for one cut by `keep`).
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Whether a PDU is under way: bytes buffered, or the tail of a cut PDU still to pass.
    pub fn in_pdu(&self) -> bool {
        !self.pending.is_empty() || self.skip_left > 0
    }

    /// Bytes buffered for a PDU that straddles chunks.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Whether framing has failed (the stream is out of sync for good).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Drops what is buffered.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.skip_left = 0;
        self.forget_tries();
    }

    /// Gives up on this direction: after a gap the PDU boundaries are lost.
    pub fn desync(&mut self) {
        self.pending.clear();
        self.skip_left = 0;
        self.failed = true;
        self.forget_tries();
    }

    /// Feeds in-order stream bytes; calls `on_pdu` for every complete PDU.
    pub fn deliver(
        &mut self,
        data: &[u8],
        frame_len: impl Fn(&[u8]) -> FrameLen,
        on_pdu: &mut dyn FnMut(&[u8]),
    ) -> Result<(), FrameError> {
        self.deliver_while(data, frame_len, &mut |pdu| {
            on_pdu(pdu);
            true
        })
        .map(|_| ())
    }

    /// As [`Framer::deliver`], but `on_pdu` may end the stream: when it returns
    /// false, nothing more is framed (a grammar's `close`: SSH's packets end at
    /// NEWKEYS, what follows is ciphertext), and the result is how many bytes of
    /// `data` came after that PDU (0 otherwise).
    pub fn deliver_while(
        &mut self,
        data: &[u8],
        frame_len: impl Fn(&[u8]) -> FrameLen,
        on_pdu: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<usize, FrameError> {
        self.deliver_framed(data, &|p, _| frame_len(p), on_pdu)
    }

    /// As [`Framer::deliver_while`], for a unit that frames itself by parsing:
    /// `frame_len` gets a memo for its cursor ([`crate::parse::Cursor::streaming_with_memo`]),
    /// kept while the bytes of a PDU under way only grow, so that parsing them again
    /// as more come costs what came, not all of them (a 16 MiB line in 1-KiB
    /// segments is read once, not 16,000 times).
    pub fn deliver_while_memo(
        &mut self,
        data: &[u8],
        frame_len: impl Fn(&[u8], &std::cell::Cell<crate::parse::ScanMemo>) -> FrameLen,
        on_pdu: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<usize, FrameError> {
        self.deliver_framed(data, &frame_len, on_pdu)
    }

    /// The bytes of `pending` changed other than by growing: forget what tries found.
    fn forget_tries(&mut self) {
        self.memo.set(Default::default());
        self.more_at = 0;
    }

    fn deliver_framed(
        &mut self,
        mut data: &[u8],
        frame_len: &dyn Fn(&[u8], &std::cell::Cell<crate::parse::ScanMemo>) -> FrameLen,
        on_pdu: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<usize, FrameError> {
        if self.failed {
            return Ok(0);
        }
        // The tail of a PDU cut by `keep` passes unbuffered; then its prefix goes out.
        if self.skip_left > 0 {
            let n = self.skip_left.min(data.len());
            self.skip_left -= n;
            data = &data[n..];
            if self.skip_left > 0 {
                return Ok(0);
            }
            let go_on = on_pdu(&self.pending);
            self.pending.clear();
            self.forget_tries();
            if !go_on {
                self.desync();
                return Ok(data.len());
            }
        }
        // A PDU started earlier is completed first. Its length is asked again after
        // every byte added to a short prefix, so a PDU that is only its prefix
        // (length 0) is delivered as soon as the prefix is complete.
        while !self.pending.is_empty() {
            // The same bytes asked for more before: they still do.
            let len = if self.more_at == self.pending.len() {
                FrameLen::More
            } else {
                let len = frame_len(&self.pending, &self.memo);
                self.more_at = if len == FrameLen::More { self.pending.len() } else { 0 };
                self.check(len)?
            };
            let ready = matches!(len, FrameLen::Malformed) || matches!(len, FrameLen::Pdu(n) if self.pending.len() >= n);
            if data.is_empty() && !ready {
                return Ok(0);
            }
            match len {
                FrameLen::Need(n) => {
                    let want = n.saturating_sub(self.pending.len()).max(1).min(data.len());
                    self.pending.extend_from_slice(&data[..want]);
                    data = &data[want..];
                }
                // A unit that frames itself: everything at hand, then ask again.
                FrameLen::More => {
                    self.pending.extend_from_slice(data);
                    data = &[];
                    self.check_buffered()?;
                }
                FrameLen::Malformed => {
                    self.pending.extend_from_slice(data);
                    on_pdu(&self.pending);
                    self.desync();
                    return Ok(0);
                }
                FrameLen::Pdu(n) => {
                    let kept = n.min(self.keep);
                    let want = kept.saturating_sub(self.pending.len()).min(data.len());
                    self.pending.extend_from_slice(&data[..want]);
                    data = &data[want..];
                    if self.pending.len() < kept {
                        continue;
                    }
                    if n > kept {
                        self.skip_left = n - kept;
                        return self.deliver_framed(data, frame_len, on_pdu);
                    }
                    let go_on = on_pdu(&self.pending[..n]);
                    self.pending.drain(..n);
                    self.forget_tries();
                    if !go_on {
                        let rest = self.pending.len() + data.len();
                        self.desync();
                        return Ok(rest);
                    }
                }
                FrameLen::Invalid => return Err(FrameError::BadLength),
            }
        }
        // Then parse in place while whole PDUs are present.
        while !data.is_empty() {
            // A try in place leaves what its scans found for the bytes to be kept.
            self.forget_tries();
            let len = frame_len(data, &self.memo);
            match self.check(len)? {
                FrameLen::Pdu(n) if n <= data.len() && n > 0 => {
                    if !on_pdu(&data[..n.min(self.keep)]) {
                        self.desync();
                        return Ok(data.len() - n);
                    }
                    data = &data[n..];
                }
                FrameLen::Pdu(n) => {
                    let kept = n.min(self.keep);
                    if data.len() >= kept {
                        // Cut by `keep`: the prefix waits for the rest to pass.
                        self.pending.extend_from_slice(&data[..kept]);
                        self.skip_left = n - data.len();
                    } else {
                        self.pending.reserve(kept);
                        self.pending.extend_from_slice(data);
                    }
                    return Ok(0);
                }
                FrameLen::Need(_) | FrameLen::More => {
                    self.pending.extend_from_slice(data);
                    if len == FrameLen::More {
                        self.more_at = self.pending.len();
                    }
                    self.check_buffered()?;
                    return Ok(0);
                }
                FrameLen::Malformed => {
                    on_pdu(data);
                    self.desync();
                    return Ok(0);
                }
                FrameLen::Invalid => return Err(FrameError::BadLength),
            }
        }
        Ok(0)
    }

    /// A unit that frames itself may not buffer past the limit either.
    fn check_buffered(&mut self) -> Result<(), FrameError> {
        if self.pending.len() > self.max_pdu {
            let len = self.pending.len();
            self.desync();
            return Err(FrameError::TooLarge { len, max: self.max_pdu });
        }
        Ok(())
    }

    fn check(&mut self, len: FrameLen) -> Result<FrameLen, FrameError> {
        match len {
            FrameLen::Pdu(0) | FrameLen::Invalid => {
                self.failed = true;
                self.pending.clear();
                Err(FrameError::BadLength)
            }
            FrameLen::Pdu(n) if n.min(self.keep) > self.max_pdu => {
                self.failed = true;
                self.pending.clear();
                Err(FrameError::TooLarge {
                    len: n,
                    max: self.max_pdu,
                })
            }
            FrameLen::Need(n) if n > self.max_pdu => {
                self.failed = true;
                self.pending.clear();
                Err(FrameError::TooLarge {
                    len: n,
                    max: self.max_pdu,
                })
            }
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_prefix(b: &[u8]) -> FrameLen {
        if b.len() < 2 {
            FrameLen::Need(2)
        } else {
            FrameLen::Pdu(2 + u16::from_be_bytes([b[0], b[1]]) as usize)
        }
    }

    fn run(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, usize) {
        let mut f = Framer::new(100);
        let mut out = Vec::new();
        let mut max_buffered = 0;
        for c in chunks {
            f.deliver(c, u16_prefix, &mut |p| out.push(p.to_vec()))
                .unwrap();
            max_buffered = max_buffered.max(f.buffered());
        }
        (out, max_buffered)
    }

    #[test]
    fn whole_pdus_are_not_buffered() {
        let (pdus, buffered) = run(&[&[0, 1, 9, 0, 2, 7, 8]]);
        assert_eq!(pdus, vec![vec![0, 1, 9], vec![0, 2, 7, 8]]);
        assert_eq!(buffered, 0);
    }

    #[test]
    fn straddling_pdus_are_joined() {
        let (pdus, _) = run(&[&[0], &[3, 1], &[2, 3, 0, 1], &[5]]);
        assert_eq!(pdus, vec![vec![0, 3, 1, 2, 3], vec![0, 1, 5]]);
    }

    #[test]
    fn an_empty_pdu_completed_by_its_prefix_is_delivered_at_once() {
        // The prefix straddles deliveries and says length 0: the PDU is whole
        // when the prefix is, not when more data comes.
        let (pdus, buffered) = run(&[&[0], &[0]]);
        assert_eq!(pdus, vec![vec![0, 0]]);
        assert_eq!(buffered, 1);
    }

    #[test]
    fn oversized_pdus_fail() {
        let mut f = Framer::new(10);
        let r = f.deliver(&[0xff, 0xff, 1], u16_prefix, &mut |_| {});
        assert!(matches!(r, Err(FrameError::TooLarge { .. })));
        assert!(f.failed());
    }

    /// A line unit that frames itself: a PDU ends at `\n`.
    fn line(b: &[u8]) -> FrameLen {
        match b.iter().position(|&x| x == b'\n') {
            Some(i) => FrameLen::Pdu(i + 1),
            None if b.first() == Some(&b'!') => FrameLen::Malformed,
            None => FrameLen::More,
        }
    }

    #[test]
    fn self_framed_pdus_wait_for_their_end_and_keep_what_follows() {
        let mut f = Framer::new(100);
        let mut out = Vec::new();
        for c in [&b"ab"[..], b"c\nd", b"e\nf\ng", b"\n"] {
            f.deliver(c, line, &mut |p| out.push(p.to_vec())).unwrap();
        }
        assert_eq!(out, vec![b"abc\n".to_vec(), b"de\n".to_vec(), b"f\n".to_vec(), b"g\n".to_vec()]);
        assert!(!f.in_pdu());
    }

    #[test]
    fn a_malformed_self_framed_pdu_is_handed_out_and_ends_the_stream() {
        let mut f = Framer::new(100);
        let mut out = Vec::new();
        f.deliver(b"ok\n!x", line, &mut |p| out.push(p.to_vec())).unwrap();
        f.deliver(b"y\n", line, &mut |p| out.push(p.to_vec())).unwrap();
        assert_eq!(out, vec![b"ok\n".to_vec(), b"!x".to_vec()]);
        assert!(f.failed());
    }

    #[test]
    fn a_pdu_found_malformed_once_its_pieces_are_joined_is_handed_out() {
        // Malformed once 4 bytes are there without an end.
        let capped = |b: &[u8]| match b.iter().position(|&x| x == b'\n') {
            Some(i) if i < 4 => FrameLen::Pdu(i + 1),
            _ if b.len() >= 4 => FrameLen::Malformed,
            _ => FrameLen::More,
        };
        let mut f = Framer::new(100);
        let mut out = Vec::new();
        f.deliver(b"ab", capped, &mut |p| out.push(p.to_vec())).unwrap();
        f.deliver(b"cd", capped, &mut |p| out.push(p.to_vec())).unwrap();
        assert_eq!(out, vec![b"abcd".to_vec()]);
        assert!(f.failed());
    }

    #[test]
    fn a_memo_gives_the_same_pdus_and_is_forgotten_when_the_buffer_moves_on() {
        use crate::parse::{Cursor, ScanMemo};
        use std::cell::Cell;
        // A line unit that scans for its end, remembering where it ran out.
        let line_memo = |b: &[u8], memo: &Cell<ScanMemo>| {
            let mut c = Cursor::streaming_with_memo(b, memo);
            match c.until(b"\n", "line") {
                Ok(_) => FrameLen::Pdu(c.pos()),
                Err(e) if e.is_incomplete() => FrameLen::More,
                Err(_) => FrameLen::Malformed,
            }
        };
        let long: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let stream = [&long[..], b"\nxy\n", &long[..300], b"\n", b"zz"].concat();
        for size in [1, 7, 100, 999, 5001] {
            let (mut with, mut without) = (Framer::new(10_000), Framer::new(10_000));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for chunk in stream.chunks(size) {
                with.deliver_while_memo(chunk, line_memo, &mut |p| { a.push(p.to_vec()); true }).unwrap();
                without.deliver(chunk, line, &mut |p| b.push(p.to_vec())).unwrap();
            }
            assert_eq!(a, b, "pieces of {size}");
            assert_eq!(a.len(), 3);
            assert_eq!(with.pending(), b"zz");
        }
    }

    #[test]
    fn self_framed_pdus_stay_within_the_limit() {
        let mut f = Framer::new(4);
        assert!(f.deliver(b"abc", line, &mut |_| {}).is_ok());
        let r = f.deliver(b"de", line, &mut |_| {});
        assert!(matches!(r, Err(FrameError::TooLarge { len: 5, max: 4 })));
        assert!(f.failed());
    }

    #[test]
    fn long_pdus_are_cut_to_what_is_kept_and_the_rest_passes_unbuffered() {
        // 2-byte length prefixes; PDUs are kept to 4 bytes.
        let mut f = Framer::new(4).with_keep(4);
        let mut out = Vec::new();
        let mut most = 0;
        let mut pdu = vec![0u8, 200];
        pdu.extend(1..=200u8);
        pdu.extend([0, 1, 9]);
        for c in pdu.chunks(7) {
            f.deliver(c, u16_prefix, &mut |p| out.push(p.to_vec())).unwrap();
            most = most.max(f.buffered());
        }
        assert_eq!(out, vec![vec![0, 200, 1, 2], vec![0, 1, 9]]);
        assert!(most <= 4);
        // In one piece the same.
        let mut out2 = Vec::new();
        Framer::new(4).with_keep(4).deliver(&pdu, u16_prefix, &mut |p| out2.push(p.to_vec())).unwrap();
        assert_eq!(out2, out);
        // A cut PDU under way at the end: its prefix is what is pending.
        let mut f = Framer::new(4).with_keep(4);
        f.deliver(&pdu[..50], u16_prefix, &mut |_| {}).unwrap();
        assert!(f.in_pdu());
        assert_eq!(f.pending(), &[0, 200, 1, 2]);
    }
}

//! Framing of a TCP byte stream into whole PDUs.
//!
//! A PDU that lies entirely inside one delivered chunk is handed out in place
//! (no copy). Only a PDU that straddles chunks is buffered, and only up to
//! `max_pdu` bytes. The frame length comes from a function generated from the
//! grammar's top unit (`unit TcpMessage { len: u16; ... } &size = len + 2`).

/// What a frame-length function knows about the bytes at the start of a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLen {
    /// At least this many bytes are needed to know the length.
    Need(usize),
    /// The PDU is this many bytes long (header included).
    Pdu(usize),
    /// The length field is impossible (e.g. arithmetic overflow).
    Invalid,
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
    max_pdu: usize,
    failed: bool,
}

impl Framer {
    pub fn new(max_pdu: usize) -> Framer {
        Framer {
            pending: Vec::new(),
            max_pdu,
            failed: false,
        }
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
    }

    /// Gives up on this direction: after a gap the PDU boundaries are lost.
    pub fn desync(&mut self) {
        self.pending.clear();
        self.failed = true;
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
        mut data: &[u8],
        frame_len: impl Fn(&[u8]) -> FrameLen,
        on_pdu: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<usize, FrameError> {
        if self.failed {
            return Ok(0);
        }
        // First finish a PDU that straddles the previous chunk.
        // A PDU started earlier is completed first. Its length is asked again after
        // every byte added to a short prefix, so a PDU that is only its prefix
        // (length 0) is delivered as soon as the prefix is complete.
        while !self.pending.is_empty() {
            match self.check(frame_len(&self.pending))? {
                FrameLen::Need(_) | FrameLen::Pdu(_) if data.is_empty() && !self.complete(&frame_len) => {
                    return Ok(0);
                }
                FrameLen::Need(n) => {
                    let want = n.saturating_sub(self.pending.len()).max(1).min(data.len());
                    self.pending.extend_from_slice(&data[..want]);
                    data = &data[want..];
                }
                FrameLen::Pdu(n) => {
                    let want = n.saturating_sub(self.pending.len()).min(data.len());
                    self.pending.extend_from_slice(&data[..want]);
                    data = &data[want..];
                    if self.pending.len() >= n {
                        let go_on = on_pdu(&self.pending);
                        self.pending.clear();
                        if !go_on {
                            self.desync();
                            return Ok(data.len());
                        }
                    }
                }
                FrameLen::Invalid => return Err(FrameError::BadLength),
            }
        }
        if !self.pending.is_empty() {
            // Still incomplete; the loop above consumed all of `data`.
            return Ok(0);
        }
        // Then parse in place while whole PDUs are present.
        while !data.is_empty() {
            match self.check(frame_len(data))? {
                FrameLen::Pdu(n) if n <= data.len() && n > 0 => {
                    if !on_pdu(&data[..n]) {
                        self.desync();
                        return Ok(data.len() - n);
                    }
                    data = &data[n..];
                }
                FrameLen::Pdu(n) => {
                    self.pending.reserve(n);
                    self.pending.extend_from_slice(data);
                    return Ok(0);
                }
                FrameLen::Need(_) => {
                    self.pending.extend_from_slice(data);
                    return Ok(0);
                }
                FrameLen::Invalid => return Err(FrameError::BadLength),
            }
        }
        Ok(0)
    }

    /// Whether the bytes held make a whole PDU already.
    fn complete(&self, frame_len: &impl Fn(&[u8]) -> FrameLen) -> bool {
        matches!(frame_len(&self.pending), FrameLen::Pdu(n) if self.pending.len() >= n)
    }

    fn check(&mut self, len: FrameLen) -> Result<FrameLen, FrameError> {
        match len {
            FrameLen::Pdu(0) | FrameLen::Invalid => {
                self.failed = true;
                self.pending.clear();
                Err(FrameError::BadLength)
            }
            FrameLen::Pdu(n) if n > self.max_pdu => {
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
}

//! binpac's `FlowBuffer` in its `CR_OR_LF` line style, as Zeek's SIP
//! analyzer uses it for each of its two flows: the bytes of a direction are a
//! stream, whatever datagrams they came in, cut into lines (CR, LF or CRLF)
//! and frames (a body of a given length). A line or frame that does not end
//! in the datagram is kept and completed by the next one.
//!
//! What binpac does with pointers into the current datagram is done here with
//! offsets into the datagram a call is given (`data`); between deliveries
//! everything not yet used has been copied into the buffer, as in binpac.
//! The buffer's capacity grows as binpac's does (doubling, at least 512
//! bytes) so that it fails at the same point: growing past the limit is
//! binpac's `ExceptionFlowBufferAlloc`.

const CR: u8 = b'\r';
const LF: u8 = b'\n';
/// binpac's `FlowBuffer::policy`: smallest capacity, and the capacity from
/// which a new message shrinks the buffer back to it.
const MIN_CAPACITY: usize = 512;
const CONTRACT_THRESHOLD: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Line,
    Frame,
}

/// binpac's `state_`: after a CR that ended a line, an LF right after it is
/// skipped (`Cr1`); `Frame0` once a frame started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    Cr0,
    Cr1,
    Frame0,
}

/// The buffer would grow past its limit (binpac's `ExceptionFlowBufferAlloc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow(pub String);

/// One direction's buffer. Offsets `begin..end` point into the datagram of
/// the current delivery; `attached` is false where binpac's pointers are null
/// (before any data, and after [`FlowBuffer::discard`]).
#[derive(Debug)]
pub struct FlowBuffer {
    buf: Vec<u8>,
    capacity: usize,
    max_capacity: usize,
    mode: Mode,
    state: LineState,
    /// binpac's `frame_length_` (an `int`: a body length may be negative).
    frame_length: i64,
    message_complete: bool,
    have_pending_request: bool,
    begin: usize,
    end: usize,
    attached: bool,
}

impl FlowBuffer {
    pub fn new(max_capacity: usize) -> FlowBuffer {
        FlowBuffer {
            buf: Vec::new(),
            capacity: 0,
            max_capacity,
            mode: Mode::Unknown,
            state: LineState::Cr0,
            frame_length: 0,
            message_complete: false,
            have_pending_request: false,
            begin: 0,
            end: 0,
            attached: false,
        }
    }

    /// A new datagram of this direction (binpac's `NewData`).
    pub fn new_data(&mut self, data: &[u8]) -> Result<(), Overflow> {
        self.begin = 0;
        self.end = data.len();
        self.attached = true;
        self.mark_or_copy(data)
    }

    /// Whether the last line or frame asked for is complete.
    pub fn ready(&self) -> bool {
        self.message_complete || self.mode == Mode::Unknown
    }

    pub fn data_available(&self) -> bool {
        !self.buf.is_empty() || self.end > self.begin
    }

    pub fn have_pending_request(&self) -> bool {
        self.have_pending_request
    }

    /// The complete line (without its terminator) or frame.
    pub fn message<'d>(&'d self, data: &'d [u8]) -> &'d [u8] {
        if self.buf.is_empty() {
            let len = usize::try_from(self.frame_length).unwrap_or(0);
            let end = self.begin.saturating_add(len).min(self.end);
            &data[self.begin.min(end)..end]
        } else {
            &self.buf
        }
    }

    /// Asks for the next line.
    pub fn new_line(&mut self, data: &[u8]) -> Result<(), Overflow> {
        self.new_message();
        self.mode = Mode::Line;
        self.frame_length = 0;
        self.have_pending_request = true;
        if self.state == LineState::Frame0 {
            self.state = LineState::Cr0;
        }
        self.mark_or_copy_line(data)
    }

    /// Asks for the next `len` bytes (a negative length never completes).
    pub fn new_frame(&mut self, data: &[u8], len: i64) -> Result<(), Overflow> {
        self.new_message();
        self.mode = Mode::Frame;
        self.frame_length = len;
        self.have_pending_request = true;
        self.mark_or_copy_frame(data)
    }

    /// After a parse error: everything buffered and the rest of the datagram
    /// are dropped (the CR state stays, as in binpac).
    pub fn discard(&mut self) {
        self.mode = Mode::Unknown;
        self.message_complete = false;
        self.have_pending_request = false;
        self.attached = false;
        self.begin = 0;
        self.end = 0;
        self.buf.clear();
        self.frame_length = 0;
        self.contract();
    }

    /// Moves past the message just used.
    fn new_message(&mut self) {
        if self.buf.is_empty() {
            let advance = match self.mode {
                Mode::Line => self.frame_length.saturating_add(1),
                Mode::Frame => self.frame_length,
                Mode::Unknown => 0,
            };
            let advance = usize::try_from(advance).unwrap_or(0);
            self.begin = self.begin.saturating_add(advance).min(self.end);
        }
        self.buf.clear();
        self.message_complete = false;
        self.contract();
    }

    fn contract(&mut self) {
        if self.capacity >= CONTRACT_THRESHOLD {
            self.capacity = MIN_CAPACITY;
            self.buf.shrink_to(MIN_CAPACITY);
        }
    }

    fn expand(&mut self, needed: usize) -> Result<(), Overflow> {
        if self.capacity >= needed {
            return Ok(());
        }
        let length = needed
            .max(MIN_CAPACITY)
            .max(self.capacity.saturating_mul(2));
        if length > self.max_capacity {
            return Err(Overflow(format!(
                "expand past max capacity {length}/{}",
                self.max_capacity
            )));
        }
        self.capacity = length;
        Ok(())
    }

    fn append(&mut self, data: &[u8], len: usize) -> Result<(), Overflow> {
        if len == 0 {
            return Ok(());
        }
        self.expand(self.buf.len() + len)?;
        self.buf.extend_from_slice(&data[self.begin..self.begin + len]);
        self.begin += len;
        Ok(())
    }

    fn mark_or_copy(&mut self, data: &[u8]) -> Result<(), Overflow> {
        if self.message_complete {
            return Ok(());
        }
        match self.mode {
            Mode::Line => self.mark_or_copy_line(data),
            Mode::Frame => self.mark_or_copy_frame(data),
            Mode::Unknown => Ok(()),
        }
    }

    fn mark_or_copy_line(&mut self, data: &[u8]) -> Result<(), Overflow> {
        if !self.attached {
            return Ok(());
        }
        if self.state == LineState::Cr1 && self.begin < self.end && data[self.begin] == LF {
            self.state = LineState::Cr0;
            self.begin += 1;
        }
        let found = data[self.begin..self.end]
            .iter()
            .position(|&c| c == CR || c == LF);
        let Some(at) = found else {
            return self.append(data, self.end - self.begin);
        };
        if data[self.begin + at] == CR {
            self.state = LineState::Cr1;
        }
        if self.buf.is_empty() {
            self.frame_length = at as i64;
        } else {
            self.append(data, at + 1)?;
            self.buf.pop();
        }
        self.message_complete = true;
        Ok(())
    }

    fn mark_or_copy_frame(&mut self, data: &[u8]) -> Result<(), Overflow> {
        if self.mode == Mode::Frame && self.state == LineState::Cr1 && self.begin < self.end {
            if data[self.begin] == LF {
                self.begin += 1;
            }
            self.state = LineState::Frame0;
        }
        let avail = self.end - self.begin;
        if self.buf.is_empty() {
            if self.frame_length >= 0 && avail as i64 >= self.frame_length {
                self.message_complete = true;
            } else {
                self.append(data, avail)?;
                self.message_complete = false;
            }
        } else {
            let mut n = avail;
            self.message_complete = false;
            if self.frame_length >= 0 && (self.buf.len() + n) as i64 >= self.frame_length {
                n = usize::try_from(self.frame_length - self.buf.len() as i64).unwrap_or(0);
                self.message_complete = true;
            }
            self.append(data, n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fb: &mut FlowBuffer, data: &[u8]) -> Option<Vec<u8>> {
        fb.new_line(data).unwrap();
        fb.ready().then(|| fb.message(data).to_vec())
    }

    #[test]
    fn lines_end_at_cr_lf_or_crlf() {
        let mut fb = FlowBuffer::new(1 << 20);
        let d = b"a\r\nb\nc\rd";
        fb.new_data(d).unwrap();
        assert_eq!(line(&mut fb, d).unwrap(), b"a");
        assert_eq!(line(&mut fb, d).unwrap(), b"b");
        assert_eq!(line(&mut fb, d).unwrap(), b"c");
        assert_eq!(line(&mut fb, d), None);
        // The rest waits for the next datagram.
        let d2 = b"e\r\n";
        fb.new_data(d2).unwrap();
        assert!(fb.ready());
        assert_eq!(fb.message(d2), b"de");
    }

    #[test]
    fn an_lf_after_a_cr_in_the_next_datagram_is_skipped() {
        let mut fb = FlowBuffer::new(1 << 20);
        let d = b"a\r";
        fb.new_data(d).unwrap();
        assert_eq!(line(&mut fb, d).unwrap(), b"a");
        // The next line is asked for at once (as the flow does), and waits.
        assert_eq!(line(&mut fb, d), None);
        let d2 = b"\nb\n";
        fb.new_data(d2).unwrap();
        assert!(fb.ready());
        assert_eq!(fb.message(d2), b"b");
    }

    #[test]
    fn frames_span_datagrams() {
        let mut fb = FlowBuffer::new(1 << 20);
        let d = b"\r\n1234";
        fb.new_data(d).unwrap();
        assert_eq!(line(&mut fb, d).unwrap(), b"");
        fb.new_frame(d, 6).unwrap();
        assert!(!fb.ready());
        let d2 = b"56789";
        fb.new_data(d2).unwrap();
        assert!(fb.ready());
        assert_eq!(fb.message(d2), b"123456");
        // What follows the frame starts the next line.
        assert_eq!(line(&mut fb, d2), None);
        assert!(fb.data_available());
    }

    #[test]
    fn growing_past_the_limit_fails_as_binpac_does() {
        let mut fb = FlowBuffer::new(1000);
        let d = [b'x'; 600];
        fb.new_data(&d).unwrap();
        // 600 bytes fit in a capacity of 600; the next 600 would double it to 1200.
        assert!(fb.new_line(&d).is_ok());
        assert_eq!(
            fb.new_data(&d),
            Err(Overflow("expand past max capacity 1200/1000".into()))
        );
    }
}

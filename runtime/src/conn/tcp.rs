//! TCP endpoint state, sequence-number bookkeeping and header parsing, as
//! Zeek's TCP analyzer keeps them. The per-packet state machine that drives
//! these lives in the engine, which owns events, timers and analyzers.

use super::reassembly::Reassembler;
use super::tcp_stats::TcpStatsEndpoint;
use crate::wire::tcp::TcpPacket;

/// Zeek's TCP endpoint states (the numbers scripts see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    Inactive = 0,
    SynSent = 1,
    SynAckSent = 2,
    Partial = 3,
    Established = 4,
    Closed = 5,
    Reset = 6,
}

impl EndpointState {
    pub fn from_u64(n: u64) -> EndpointState {
        match n {
            1 => EndpointState::SynSent,
            2 => EndpointState::SynAckSent,
            3 => EndpointState::Partial,
            4 => EndpointState::Established,
            5 => EndpointState::Closed,
            6 => EndpointState::Reset,
            _ => EndpointState::Inactive,
        }
    }
    /// Still in the opening handshake.
    pub fn is_handshake(self) -> bool {
        matches!(
            self,
            EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent
        )
    }
}

/// History bits (Zeek's HIST_* masks; the responder's are shifted by 16).
pub mod hist {
    pub const SYN: u32 = 0x1;
    pub const FIN: u32 = 0x2;
    pub const RST: u32 = 0x4;
    pub const FIN_RST: u32 = 0x8;
    pub const ACK: u32 = 0x10;
    pub const DATA: u32 = 0x20;
    pub const MULTI_FLAG: u32 = 0x40;
}

/// One side of a TCP connection.
#[derive(Debug)]
pub struct TcpEndpoint {
    pub is_orig: bool,
    pub state: EndpointState,
    pub prev_state: EndpointState,
    pub start_seq: u32,
    pub last_seq: u32,
    pub ack_seq: u32,
    pub seq_wraps: u32,
    pub ack_wraps: u32,
    pub window: u32,
    pub window_scale: u32,
    pub window_seq: u32,
    pub window_ack_seq: u32,
    pub fin_seq: u64,
    pub fin_cnt: u32,
    pub rst_cnt: u32,
    pub did_close: bool,
    pub hist_last_syn: u64,
    pub hist_last_fin: u64,
    pub hist_last_rst: u64,
    /// (count, threshold) for the scaled history letters.
    pub chk: (u32, u32),
    pub rxmt: (u32, u32),
    pub win0: (u32, u32),
    pub gap: (u32, u32),
    pub last_time: crate::zeek::Time,
    /// Built on the first data or acknowledgement: a SYN that is never
    /// answered (a flood) does not pay for it. Read through `reasm()`.
    reasm: Option<Box<Reassembler>>,
}

/// What an endpoint without a reassembler reads.
static NO_REASSEMBLER: Reassembler = Reassembler::new();

impl TcpEndpoint {
    pub fn new(is_orig: bool) -> TcpEndpoint {
        TcpEndpoint {
            is_orig,
            state: EndpointState::Inactive,
            prev_state: EndpointState::Inactive,
            start_seq: 0,
            last_seq: 0,
            ack_seq: 0,
            seq_wraps: 0,
            ack_wraps: 0,
            window: 0,
            window_scale: 0,
            window_seq: 0,
            window_ack_seq: 0,
            fin_seq: 0,
            fin_cnt: 0,
            rst_cnt: 0,
            did_close: false,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            chk: (0, 1),
            rxmt: (0, 1),
            win0: (0, 1),
            gap: (0, 1),
            last_time: crate::zeek::Time::ZERO,
            reasm: None,
        }
    }

    pub fn reasm(&self) -> &Reassembler {
        self.reasm.as_deref().unwrap_or(&NO_REASSEMBLER)
    }

    pub fn reasm_mut(&mut self) -> &mut Reassembler {
        self.reasm.get_or_insert_with(|| Box::new(Reassembler::new()))
    }

    pub fn full_seq(seq: u32, wraps: u32) -> u64 {
        (u64::from(wraps) << 32) | u64::from(seq)
    }
    pub fn relative(&self, seq: u32, wraps: u32) -> u64 {
        Self::full_seq(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }
    pub fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }
    pub fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }
    pub fn init_seqs(&mut self, start: u32, ack: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = ack;
        self.last_seq = last;
    }
    /// The peer acknowledged none of our data (beyond a SYN).
    pub fn no_data_acked(&self) -> bool {
        let ack = Self::full_seq(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }
    pub fn is_active(&self) -> bool {
        self.state != EndpointState::Inactive && !self.did_close
    }
    /// Bytes sent, from sequence numbers (Zeek's TCP_Endpoint::Size).
    pub fn size(&self, peer: &TcpEndpoint) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer.state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            return 0;
        }
        let last = Self::full_seq(self.last_seq, self.seq_wraps);
        let ack = Self::full_seq(self.ack_seq, self.ack_wraps);
        let top = if last > ack { last } else { ack };
        let mut size = top.wrapping_sub(u64::from(self.start_seq));
        if size != 0 {
            size = size.wrapping_sub(1);
        }
        if self.fin_cnt > 0 && size != 0 {
            size -= 1;
        }
        size
    }
    /// Zeek's DataPending for this endpoint's reassembler.
    pub fn data_pending(&self, peer: &TcpEndpoint) -> bool {
        if self.reasm().skip_deliveries {
            return false;
        }
        let delivered = u64::from(self.start_seq).wrapping_add(self.reasm().data_seq());
        let last = Self::full_seq(self.last_seq, self.seq_wraps);
        if last < delivered {
            return false;
        }
        if delivered != last.wrapping_sub(1) && delivered != last {
            return true;
        }
        self.state != EndpointState::Reset && peer.reasm().has_blocks()
    }
}

/// A TCP connection's two endpoints and the analyzer-level flags. The
/// endpoints live in an array so a role flip swaps an index, not the values
/// (code holding an endpoint's index keeps pointing at the same side).
#[derive(Debug)]
pub struct TcpConn {
    pub eps: [TcpEndpoint; 2],
    /// Index of the originator's endpoint in `eps`.
    pub orig_idx: usize,
    pub is_active: bool,
    pub is_partial: bool,
    pub first_packet_seen: u8,
    pub seen_first_ack: bool,
    pub close_deferred: bool,
    pub deferred_gen_event: bool,
    /// Zeek's TCPSTATS analyzer, per endpoint (indexed as `eps`), when enabled.
    pub stats: Option<Box<[TcpStatsEndpoint; 2]>>,
    /// Where `set_contents_file` records each endpoint's stream (indexed as `eps`).
    pub contents: [Option<super::contents::ContentsFile>; 2],
}

impl Default for TcpConn {
    fn default() -> Self {
        TcpConn::new()
    }
}

impl TcpConn {
    pub fn new() -> TcpConn {
        TcpConn {
            eps: [TcpEndpoint::new(true), TcpEndpoint::new(false)],
            orig_idx: 0,
            is_active: true,
            is_partial: false,
            first_packet_seen: 0,
            seen_first_ack: false,
            close_deferred: false,
            deferred_gen_event: false,
            stats: None,
            contents: [None, None],
        }
    }
    pub fn orig(&self) -> &TcpEndpoint {
        &self.eps[self.orig_idx]
    }
    pub fn resp(&self) -> &TcpEndpoint {
        &self.eps[1 - self.orig_idx]
    }
    /// Index of the endpoint sending in direction `is_orig`.
    pub fn idx(&self, is_orig: bool) -> usize {
        if is_orig {
            self.orig_idx
        } else {
            1 - self.orig_idx
        }
    }
    pub fn flip(&mut self) {
        self.orig_idx = 1 - self.orig_idx;
        for e in &mut self.eps {
            e.is_orig = !e.is_orig;
        }
        let f = self.first_packet_seen;
        self.first_packet_seen = ((f & 1) << 1) | ((f & 2) >> 1);
        self.is_partial = false;
    }
    pub fn both_closed(&self) -> bool {
        self.eps[0].did_close && self.eps[1].did_close
    }
}

/// Signed distance between two sequence numbers, modulo 2^32.
pub fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// TCP header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    pub fn fin(self) -> bool {
        self.0 & 0x01 != 0
    }
    pub fn syn(self) -> bool {
        self.0 & 0x02 != 0
    }
    pub fn rst(self) -> bool {
        self.0 & 0x04 != 0
    }
    pub fn push(self) -> bool {
        self.0 & 0x08 != 0
    }
    pub fn ack(self) -> bool {
        self.0 & 0x10 != 0
    }
    pub fn urg(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// Zeek's flag string: S F R A P U in that order.
    pub fn as_string(self) -> String {
        let mut s = String::with_capacity(6);
        for (on, c) in [
            (self.syn(), 'S'),
            (self.fin(), 'F'),
            (self.rst(), 'R'),
            (self.ack(), 'A'),
            (self.push(), 'P'),
            (self.urg(), 'U'),
        ] {
            if on {
                s.push(c);
            }
        }
        s
    }
}

/// The fixed part of a TCP header.
#[derive(Debug, Clone, Copy)]
pub struct TcpHeader {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub hdr_len: usize,
    pub flags: Flags,
    pub window: u16,
    pub checksum: u16,
}

impl TcpHeader {
    /// Reads the fixed header (the caller checked it is there).
    pub fn parse(b: &[u8]) -> Option<TcpHeader> {
        let tcp = TcpPacket::new_checked(b)?;
        Some(TcpHeader {
            sport: tcp.src_port(),
            dport: tcp.dst_port(),
            seq: tcp.seq_number(),
            ack: tcp.ack_number(),
            hdr_len: tcp.header_len(),
            flags: Flags(tcp.flags()),
            window: tcp.window_len(),
            checksum: tcp.checksum(),
        })
    }
}

/// Options of a SYN that `SYN_packet` reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct SynOptions {
    pub win_scale: i64,
    pub mss: u64,
    pub sack_ok: bool,
    pub tsval: Option<u64>,
    pub tsecr: Option<u64>,
}

pub fn syn_options(opts: &[u8]) -> SynOptions {
    let mut o = SynOptions {
        win_scale: -1,
        ..Default::default()
    };
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        if kind == 0 {
            break;
        }
        if kind == 1 {
            i += 1;
            continue;
        }
        if i + 1 >= opts.len() {
            break;
        }
        let len = usize::from(opts[i + 1]);
        if len == 0 || i + len > opts.len() {
            break;
        }
        let body = &opts[i..i + len];
        match kind {
            4 => o.sack_ok = true,
            2 if len >= 4 => o.mss = u64::from(u16::from_be_bytes([body[2], body[3]])),
            3 if len >= 3 => o.win_scale = i64::from(body[2]),
            8 if len >= 10 => {
                o.tsval = Some(u64::from(u32::from_be_bytes([
                    body[2], body[3], body[4], body[5],
                ])));
                o.tsecr = Some(u64::from(u32::from_be_bytes([
                    body[6], body[7], body[8], body[9],
                ])));
            }
            _ => {}
        }
        i += len;
    }
    o
}

/// Every option as (kind, length), the way `tcp_option` reports them.
pub fn option_list(opts: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        let len = if kind < 2 {
            1
        } else if i + 1 >= opts.len() {
            break;
        } else {
            usize::from(opts[i + 1])
        };
        if len == 0 || i + len > opts.len() {
            break;
        }
        out.push((kind, len as u8));
        i += len;
        if kind == 0 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_delta_wraps() {
        assert_eq!(seq_delta(5, u32::MAX - 4), 10);
        assert_eq!(seq_delta(u32::MAX - 4, 5), -10);
    }

    #[test]
    fn size_counts_payload_not_syn_or_fin() {
        let mut e = TcpEndpoint::new(true);
        let peer = TcpEndpoint::new(false);
        e.init_seqs(1000, 1000, 1001); // SYN seen
        e.update_last_seq(1101); // 100 bytes
        e.update_last_seq(1102); // FIN
        e.fin_cnt = 1;
        assert_eq!(e.size(&peer), 100);
    }

    #[test]
    fn size_survives_sequence_wraparound() {
        let mut e = TcpEndpoint::new(true);
        let peer = TcpEndpoint::new(false);
        let start = u32::MAX - 9;
        e.init_seqs(start, start, start.wrapping_add(1));
        e.update_last_seq(start.wrapping_add(1 + 50)); // wraps past zero
        assert_eq!(e.seq_wraps, 1);
        assert_eq!(e.size(&peer), 50);
        assert_eq!(e.relative(start.wrapping_add(21), 1), 21);
    }

    #[test]
    fn aborted_half_open_has_size_zero() {
        let mut e = TcpEndpoint::new(true);
        let peer = TcpEndpoint::new(false);
        e.init_seqs(100, 100, 101);
        e.ack_seq = 5000;
        e.prev_state = EndpointState::SynSent;
        e.state = EndpointState::Reset;
        assert_eq!(e.size(&peer), 0);
    }

    #[test]
    fn flags_print_like_zeek() {
        assert_eq!(Flags(0x12).as_string(), "SA");
        assert_eq!(Flags(0x19).as_string(), "FAP");
    }

    #[test]
    fn syn_options_parse() {
        let opts = [
            2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
        ];
        let o = syn_options(&opts);
        assert_eq!(o.mss, 1460);
        assert_eq!(o.win_scale, 7);
        assert!(o.sack_ok);
        assert_eq!(o.tsval, Some(1));
        assert_eq!(o.tsecr, Some(2));
        assert_eq!(
            option_list(&opts),
            vec![(2, 4), (1, 1), (3, 3), (4, 2), (8, 10)]
        );
    }
}

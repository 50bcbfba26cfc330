//! Zeek's TCPSTATS analyzer: per-endpoint packet statistics that tell a
//! retransmission (`tcp_rexmit`) from reordering by the IP identification.
//! Off by default, as Zeek lists it in `Analyzer::disabled_analyzers`.

/// What the sender's IP IDs look like: Zeek's `endian_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdOrder {
    #[default]
    Unknown,
    Little,
    Big,
    Confused,
}

/// One endpoint's statistics (Zeek's `TCPStats_Endpoint`).
#[derive(Debug, Clone, Default)]
pub struct TcpStatsEndpoint {
    pub num_pkts: u64,
    pub num_rxmit: u64,
    pub num_rxmit_bytes: u64,
    pub num_in_order: u64,
    pub num_out_of_order: u64,
    pub num_replicated: u64,
    pub id_order: IdOrder,
    max_top_seq: u64,
    last_id: u32,
}

/// A retransmission found by [`TcpStatsEndpoint::packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rexmit {
    pub seq: u64,
    pub len: u64,
}

fn byte_swapped(id: u32) -> i32 {
    (((id & 0xff) << 8) | ((id & 0xff00) >> 8)) as i32
}

impl TcpStatsEndpoint {
    /// Accounts one packet of this endpoint (relative data sequence number,
    /// payload length, IP ID). Returns the retransmission it is, if any.
    /// Zeek's rule: packets whose ID repeats the last one are replicas, a
    /// small step back in ID (either byte order) is reordering, and a packet
    /// in ID order that does not advance the top sequence is a retransmission.
    pub fn packet(&mut self, seq: u64, len: u64, ip_id: u32) -> Option<Rexmit> {
        self.num_pkts += 1;
        if self.num_pkts == 1 {
            self.last_id = ip_id;
            return None;
        }
        if ip_id == self.last_id {
            self.num_replicated += 1;
            return None;
        }
        // Zeek computes the deltas in 16 bits.
        let delta = i32::from((ip_id as i32).wrapping_sub(self.last_id as i32) as i16);
        let swapped_delta =
            i32::from(byte_swapped(ip_id).wrapping_sub(byte_swapped(self.last_id)) as i16);
        let (order, final_delta) = if delta.abs() < swapped_delta.abs() {
            (IdOrder::Big, delta)
        } else {
            (IdOrder::Little, swapped_delta)
        };
        self.id_order = match self.id_order {
            IdOrder::Unknown => order,
            same if same == order => same,
            _ => IdOrder::Confused,
        };
        if final_delta < 0 && final_delta > -256 {
            self.num_out_of_order += 1;
            return None;
        }
        self.last_id = ip_id;
        self.num_in_order += 1;
        let top_seq = seq.wrapping_add(len);
        if (top_seq.wrapping_sub(self.max_top_seq) as i64) <= 0 {
            self.num_rxmit += 1;
            self.num_rxmit_bytes += len;
            Some(Rexmit { seq, len })
        } else {
            self.max_top_seq = top_seq;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resent_segment_with_a_new_id_is_a_retransmission() {
        let mut s = TcpStatsEndpoint::default();
        assert_eq!(s.packet(1, 0, 100), None);
        assert_eq!(s.packet(1, 5, 101), None);
        assert_eq!(s.packet(1, 5, 102), Some(Rexmit { seq: 1, len: 5 }));
        assert_eq!(s.packet(6, 5, 103), None);
        assert_eq!((s.num_in_order, s.num_rxmit, s.num_rxmit_bytes), (3, 1, 5));
        assert_eq!(s.id_order, IdOrder::Big);
    }

    #[test]
    fn the_same_id_twice_is_a_replica_and_a_step_back_is_reordering() {
        let mut s = TcpStatsEndpoint::default();
        s.packet(1, 5, 100);
        assert_eq!(s.packet(1, 5, 100), None);
        assert_eq!(s.packet(6, 5, 105), None);
        assert_eq!(s.packet(1, 5, 103), None);
        assert_eq!(
            (s.num_replicated, s.num_out_of_order, s.num_rxmit),
            (1, 1, 0)
        );
    }

    #[test]
    fn little_endian_ids_are_recognised() {
        let mut s = TcpStatsEndpoint::default();
        s.packet(1, 5, 0x0100);
        s.packet(6, 5, 0x0200);
        assert_eq!(s.id_order, IdOrder::Little);
    }
}

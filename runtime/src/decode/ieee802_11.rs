//! IEEE 802.11 data frames, as Zeek's IEEE802_11 packet analyzer reads
//! them: the data header, then LLC/SNAP naming an EtherType. An A-MSDU frame
//! carries several subframes; the decoder hands out the first with the
//! frame and the others one per [`Decoder::decode_more`] call.

use super::{be16, mac, net_weird, Decoder};
use crate::packet::{Decoded, Layer2, RawPacket};
use crate::weird::Weird;

const SOURCE: &str = "IEEE802_11";
/// Destination, source, length.
const AMSDU_HEADER_LEN: usize = 14;
/// DSAP, SSAP, control, OUI, EtherType.
const LLC_SNAP_LEN: usize = 8;

/// The rest of an A-MSDU frame: where its next subframe starts in the frame
/// (as [`RawPacket::data`] holds it), and the addresses its subframes share.
#[derive(Debug, Clone, Copy)]
pub struct MoreInFrame {
    at: usize,
    l2: Layer2,
}

impl Decoder {
    /// Whether the frame last decoded holds more packets; hands out where
    /// they start (for [`Decoder::decode_more`]) and forgets it, so that a
    /// frame decoded meanwhile (a tunnel's inner frame) cannot lose it.
    pub fn take_more_in_frame(&mut self) -> Option<MoreInFrame> {
        self.more_in_frame.take()
    }

    /// The next packet of `raw`, the frame [`Decoder::take_more_in_frame`]
    /// was about.
    pub fn decode_more<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        more: MoreInFrame,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        self.more_in_frame = None;
        self.depth = self.start_depth;
        let rest = raw.data.get(more.at..)?;
        self.amsdu_subframe(raw, rest, more.l2, weirds)
    }

    /// An 802.11 frame; `data` runs to the end of the captured frame.
    pub(super) fn ieee802_11<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        mut l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        let truncated =
            |weirds: &mut Vec<Weird>| net_weird(weirds, ts, "truncated_802_11_header", SOURCE);
        let mut header_len = 24;
        if data.len() <= header_len {
            truncated(weirds);
            return None;
        }
        let frame_control = data[0];
        // Management and control frames, and data subtypes without data.
        if (frame_control >> 2) & 0x02 == 0 || (frame_control >> 4) & 0x04 != 0 {
            return None;
        }
        let ds_bits = data[1] & 0x03;
        if ds_bits == 0x03 {
            header_len += 6;
        }
        if data.len() <= header_len {
            truncated(weirds);
            return None;
        }
        let mut amsdu = false;
        if (frame_control >> 4) & 0x08 != 0 {
            // QoS data: A-MSDU flag in the QoS control field; protected
            // (encrypted) payloads cannot be analysed. Zeek looks for the
            // protected bit only here.
            amsdu = data[header_len] & 0x80 != 0;
            if data[1] & 0x40 != 0 {
                return None;
            }
            header_len += 2;
        }
        if data.len() <= header_len {
            truncated(weirds);
            return None;
        }
        let (src_at, dst_at) = match ds_bits {
            0x00 => (10, 4),
            0x01 => (10, 16),
            0x02 => (16, 4),
            _ => (24, 16),
        };
        l2.src_mac = Some(mac(&data[src_at..src_at + 6]));
        l2.dst_mac = Some(mac(&data[dst_at..dst_at + 6]));
        let body = &data[header_len..];
        if amsdu {
            if !self.forward(weirds, raw.ts, SOURCE, None) {
                return None;
            }
            return self.amsdu_subframe(raw, body, l2, weirds);
        }
        let (ether_type, payload) = llc_snap(ts, body, weirds)?;
        if !self.forward(weirds, raw.ts, SOURCE, None) {
            return None;
        }
        self.ethertype(raw, ether_type, payload, l2, weirds)
    }

    /// The A-MSDU subframe at the start of `rest` (a suffix of the frame);
    /// where the next one starts is kept for [`Decoder::take_more_in_frame`].
    fn amsdu_subframe<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        rest: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        if rest.len() < AMSDU_HEADER_LEN {
            net_weird(weirds, ts, "truncated_802_11_amsdu_header", SOURCE);
            return None;
        }
        let len = usize::from(be16(rest, 12));
        let Some(subframe) = rest.get(AMSDU_HEADER_LEN..AMSDU_HEADER_LEN + len) else {
            net_weird(weirds, ts, "truncated_802_11_amsdu_packet", SOURCE);
            return None;
        };
        let Some((ether_type, payload)) = llc_snap(ts, subframe, weirds) else {
            // Zeek gives up on the rest of the frame.
            net_weird(weirds, ts, "invalid_802_11_amsdu_inner_packet", SOURCE);
            return None;
        };
        let mut next = &rest[AMSDU_HEADER_LEN + len..];
        // Subframes are padded to a multiple of four bytes, the last one not.
        // Zeek skips `len % 4` bytes when there are that many; kept as Zeek
        // does it (the padding that aligns 14 + len can differ).
        let padding = len % 4;
        if next.len() >= padding {
            next = &next[padding..];
        }
        if !next.is_empty() {
            // `rest` and so `next` run to the end of the frame.
            self.more_in_frame = Some(MoreInFrame {
                at: raw.data.len() - next.len(),
                l2,
            });
        }
        self.ethertype(raw, ether_type, payload, l2, weirds)
    }
}

/// LLC with SNAP and a zero OUI: the EtherType and what follows. Other LLC
/// frames cannot carry a protocol Zeek analyses.
fn llc_snap<'a>(
    ts: crate::zeek::Time,
    body: &'a [u8],
    weirds: &mut Vec<Weird>,
) -> Option<(u16, &'a [u8])> {
    if body.len() < LLC_SNAP_LEN {
        net_weird(weirds, ts, "truncated_802_11_llc_header", SOURCE);
        return None;
    }
    if body[..6] != [0xaa, 0xaa, 0x03, 0, 0, 0] {
        return None;
    }
    Some((be16(body, 6), &body[LLC_SNAP_LEN..]))
}

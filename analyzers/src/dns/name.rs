//! DNS glue the grammar cannot say: compressed names (RFC 1035 4.1.4).
//!
//! A [`Name`] is parsed in place (labels up to the terminating zero or a
//! pointer) and validated once: every pointer must point strictly backward
//! from where it sits, so each hop moves to an earlier offset and a chain can
//! neither loop nor take more than `max_hops` steps; the decoded text is
//! bounded by [`MAX_NAME_TEXT`]. Decoding (for events) repeats the same
//! bounded walk, so hostile input costs O(hops × name length) at most.

use netpac_runtime::parse::{Cursor, InvalidKind, ParseCx, ParseError, Pdu};
use netpac_runtime::zeek::ZString;

/// Longest decoded name kept (Zeek uses a 513-byte buffer).
pub const MAX_NAME_TEXT: usize = 512;
/// Names this long or longer are reported as `DNS_NAME_too_long` (Zeek's threshold).
const LONG_NAME: usize = 255;

const AT: &str = "dns.Name";

/// A domain name as it sits in a message, resolved lazily.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    /// The message from its start up to the end of this name's own bytes.
    msg: &'a [u8],
    /// Offset of the name in `msg`.
    at: usize,
    max_hops: u16,
    /// Labels longer than 63 bytes are allowed (NetBIOS name service).
    long_labels: bool,
}

impl std::fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Name({:?})", self.to_zstring())
    }
}

/// What one step of the walk found.
enum Step {
    /// A label at `start..start + len`.
    Label(usize, usize),
    /// End of name (zero byte, or a problem that ends the name).
    End,
    /// A label length above 63 that is no pointer (0x40..0xbf): Zeek's
    /// `DNS_label_too_long`, which ends the name.
    TooLong,
    /// A pointer to `target`, found at `at`.
    Pointer { at: usize, target: usize },
}

fn step(msg: &[u8], pos: usize, long_labels: bool) -> Step {
    let Some(&b) = msg.get(pos) else {
        return Step::End;
    };
    match b {
        0 => Step::End,
        b if b & 0xc0 == 0xc0 => match msg.get(pos + 1) {
            Some(&lo) => Step::Pointer {
                at: pos,
                target: (usize::from(b & 0x3f) << 8) | usize::from(lo),
            },
            None => Step::End,
        },
        b if b > 63 && !long_labels => Step::TooLong,
        b => Step::Label(pos + 1, usize::from(b)),
    }
}

impl<'a> Name<'a> {
    /// Parses a name at the cursor; offsets count from the cursor's origin.
    pub fn parse(
        cur: &mut Cursor<'a>,
        cx: &mut ParseCx,
        max_hops: u64,
    ) -> Result<Name<'a>, ParseError> {
        let origin = cur.origin();
        let start = cur.pos();
        let long_labels = cx.resp_port == 137;
        let mut text_len = 0usize;
        // 1. The name's own bytes: labels until a zero byte or a pointer.
        let mut pointer = None;
        loop {
            let b = cur.u8(AT)?;
            if b == 0 {
                break;
            }
            if b & 0xc0 == 0xc0 {
                let lo = cur.u8(AT)?;
                pointer = Some((
                    cur.pos() - 2 - origin,
                    (usize::from(b & 0x3f) << 8) | usize::from(lo),
                ));
                break;
            }
            if b > 63 && !long_labels {
                cx.weird("DNS_label_too_long", String::new());
                return Err(ParseError::invalid(
                    cur.pos() - 1,
                    AT,
                    InvalidKind::BadValue("label length"),
                ));
            }
            cur.skip(usize::from(b), AT)?;
            text_len += usize::from(b) + 1;
        }
        let msg = &cur.input()[origin..cur.pos()];
        let name = Name {
            msg,
            at: start - origin,
            max_hops: max_hops.min(u64::from(u16::MAX)) as u16,
            long_labels,
        };
        // 2. Validate the pointer chain once, so decoding never meets a surprise.
        let mut hops = 0u64;
        while let Some((at, target)) = pointer {
            if target >= at {
                cx.weird("DNS_label_forward_compress_offset", String::new());
                break;
            }
            hops += 1;
            if hops > max_hops {
                cx.weird("DNS_max_compression_chain_depth_exceeded", String::new());
                break;
            }
            pointer = None;
            let mut pos = target;
            // Only bytes before the pointer may be read: the window shrinks every hop.
            let window = &msg[..at];
            loop {
                match step(window, pos, long_labels) {
                    Step::Label(s, len) => {
                        if s + len > window.len() {
                            cx.weird("DNS_label_len_gt_pkt", String::new());
                            break;
                        }
                        // Zeek's 512-byte name buffer would not hold the label.
                        if text_len + len >= MAX_NAME_TEXT {
                            cx.weird("DNS_label_len_gt_name_len", String::new());
                            break;
                        }
                        text_len += len + 1;
                        pos = s + len;
                    }
                    Step::TooLong => {
                        cx.weird("DNS_label_too_long", String::new());
                        break;
                    }
                    Step::Pointer { at, target } => {
                        pointer = Some((at, target));
                        break;
                    }
                    Step::End => break,
                }
            }
        }
        if text_len > LONG_NAME {
            cx.weird("DNS_NAME_too_long", String::new());
        }
        Ok(name)
    }

    /// The name as Zeek prints it: labels joined by dots, lower case, no trailing dot.
    pub fn to_zstring(&self) -> ZString {
        let mut out: Vec<u8> = Vec::new();
        let mut window = self.msg;
        let mut pos = self.at;
        let mut hops = 0u16;
        loop {
            match step(window, pos, self.long_labels) {
                Step::Label(s, len) => {
                    let Some(label) = window.get(s..s + len) else {
                        break;
                    };
                    if out.len() + len + 1 > MAX_NAME_TEXT {
                        break;
                    }
                    if !out.is_empty() {
                        out.push(b'.');
                    }
                    out.extend(label.iter().map(|c| c.to_ascii_lowercase()));
                    pos = s + len;
                }
                Step::Pointer { at, target } => {
                    hops += 1;
                    if target >= at || hops > self.max_hops {
                        break;
                    }
                    window = &window[..at];
                    pos = target;
                }
                Step::End | Step::TooLong => break,
            }
        }
        ZString::from(out)
    }
}

/// `name(n)` in `dns.evt`.
pub fn name_string(_pdu: &Pdu<'_>, n: &Name<'_>) -> ZString {
    n.to_zstring()
}

/// The target of an SVCB/HTTPS record: the root (the service is at the owner name) is ".", as Zeek prints it.
pub fn svcb_target_string(pdu: &Pdu<'_>, n: &Name<'_>) -> ZString {
    let s = name_string(pdu, n);
    if s.as_bytes().is_empty() {
        ZString::from(".")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_at(msg: &[u8], at: usize) -> (Result<Name<'_>, ParseError>, Vec<&'static str>) {
        let mut cur = Cursor::new(msg);
        cur.skip(at, "t").unwrap();
        let mut cx = ParseCx::new(true, 53);
        let r = Name::parse(&mut cur, &mut cx, 32);
        (r, cx.weirds().iter().map(|w| w.0).collect())
    }

    #[test]
    fn plain_and_compressed_names() {
        // "Www.Example.COM" at 0, then "mail" + pointer to offset 4 ("example.com").
        let mut msg = b"\x03Www\x07Example\x03COM\x00".to_vec();
        let second = msg.len();
        msg.extend_from_slice(b"\x04mail\xc0\x04");
        let (n, w) = parse_at(&msg, 0);
        assert_eq!(n.unwrap().to_zstring().as_bytes(), b"www.example.com");
        let (n, w2) = parse_at(&msg, second);
        assert_eq!(n.unwrap().to_zstring().as_bytes(), b"mail.example.com");
        assert!(w.is_empty() && w2.is_empty());
    }

    #[test]
    fn forward_and_self_pointers_end_the_name() {
        let msg = b"\x01a\xc0\x02";
        let (n, w) = parse_at(msg, 0);
        assert_eq!(n.unwrap().to_zstring().as_bytes(), b"a");
        assert_eq!(w, vec!["DNS_label_forward_compress_offset"]);
    }

    #[test]
    fn pointer_chains_are_bounded() {
        // Each name is one label plus a pointer to the previous name: a long backward chain.
        let mut msg = b"\x01x\x00".to_vec();
        let mut prev = 0usize;
        for _ in 0..100 {
            let here = msg.len();
            msg.extend_from_slice(&[1, b'y', 0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = here;
        }
        let (n, w) = parse_at(&msg, prev);
        let text = n.unwrap().to_zstring();
        assert!(w.contains(&"DNS_max_compression_chain_depth_exceeded"));
        assert!(text.len() <= MAX_NAME_TEXT);
    }

    #[test]
    fn a_chain_reaching_a_byte_that_is_no_label_length_is_weird() {
        // The pointer leads to 0x80: neither a label length (at most 63) nor a pointer.
        let msg = b"\x80\x00\x01a\xc0\x00";
        let (n, w) = parse_at(msg, 2);
        assert_eq!(n.unwrap().to_zstring().as_bytes(), b"a");
        assert_eq!(w, vec!["DNS_label_too_long"]);
    }

    #[test]
    fn a_chain_longer_than_zeeks_name_buffer_is_weird() {
        // Nine 63-byte labels, each pointing to the one before: Zeek's 512-byte
        // name buffer takes eight of them.
        let mut msg = Vec::new();
        let mut prev = None::<usize>;
        for _ in 0..9 {
            let here = msg.len();
            msg.push(63);
            msg.extend_from_slice(&[b'x'; 63]);
            match prev {
                Some(p) => msg.extend_from_slice(&[0xc0 | (p >> 8) as u8, p as u8]),
                None => msg.push(0),
            }
            prev = Some(here);
        }
        let (n, w) = parse_at(&msg, prev.unwrap());
        assert!(n.is_ok());
        assert!(w.contains(&"DNS_label_len_gt_name_len"), "{w:?}");
    }

    #[test]
    fn truncated_labels_are_errors() {
        let (n, _) = parse_at(b"\x05ab", 0);
        assert!(matches!(
            n,
            Err(ParseError::Invalid {
                kind: InvalidKind::Truncated,
                ..
            })
        ));
    }
}

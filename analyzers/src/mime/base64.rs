//! Zeek's `Base64Converter` (src/Base64.cc) as the MIME analyzer uses it: a
//! streaming decoder that skips characters outside the alphabet, counts `=` as
//! padding, pads an unfinished group at the end, and reports each anomaly as
//! weird `base64_illegal_encoding` (the first ignored character only).

/// What the decoder reports; the caller turns each into a weird.
pub const WEIRD: &str = "base64_illegal_encoding";

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        // Padding fills its place in the group with zero bits.
        b'=' => Some(0),
        _ => None,
    }
}

/// The state of one decoding (one MIME entity body).
#[derive(Debug, Default)]
pub struct Base64Decoder {
    group: [u8; 4],
    next: usize,
    padding: usize,
    after_padding: bool,
    /// An anomaly was reported already (Zeek reports the first one of a kind).
    errored: bool,
}

impl Base64Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `data`, appending to `out`; anomalies are pushed to `weirds`.
    pub fn decode(&mut self, data: &[u8], out: &mut Vec<u8>, weirds: &mut Vec<String>) {
        for &c in data {
            if c == b'=' {
                self.padding += 1;
            }
            match value(c) {
                Some(v) => {
                    self.group[self.next] = v;
                    self.next += 1;
                }
                None => {
                    if !self.errored {
                        self.errored = true;
                        weirds.push(format!("character {c} ignored by Base64 decoding"));
                    }
                }
            }
            if self.next == 4 {
                self.flush_group(out, weirds);
            }
        }
    }

    fn flush_group(&mut self, out: &mut Vec<u8>, weirds: &mut Vec<String>) {
        self.next = 0;
        if self.after_padding {
            if !self.errored {
                self.errored = true;
                weirds.push("extra base64 groups after '=' padding are ignored".to_string());
            }
            self.padding = 0;
            return;
        }
        let g = &self.group;
        let bits = (u32::from(g[0]) << 18)
            | (u32::from(g[1]) << 12)
            | (u32::from(g[2]) << 6)
            | u32::from(g[3]);
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        let n = 3usize.saturating_sub(self.padding);
        out.extend_from_slice(&bytes[..n]);
        if self.padding > 0 {
            self.after_padding = true;
        }
        self.padding = 0;
    }

    /// The end of the encoded data: an unfinished group is padded with zero bits
    /// (reported, as Zeek's `Done` does) and decoded.
    pub fn finish(&mut self, out: &mut Vec<u8>, weirds: &mut Vec<String>) {
        if self.next == 0 {
            return;
        }
        let missing = 4 - self.next;
        weirds.push(format!(
            "incomplete base64 group, padding with {} bits of 0",
            missing * 6
        ));
        self.decode(&b"==="[..missing], out, weirds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(parts: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
        let mut d = Base64Decoder::new();
        let (mut out, mut w) = (Vec::new(), Vec::new());
        for p in parts {
            d.decode(p, &mut out, &mut w);
        }
        d.finish(&mut out, &mut w);
        (out, w)
    }

    #[test]
    fn decodes_across_lines() {
        assert_eq!(run(&[b"aGVsbG8g", b"d29y", b"bGQ="]).0, b"hello world");
    }

    #[test]
    fn skips_foreign_characters_once_reported() {
        let (out, w) = run(&[b"aGVs bG8*", b"!"]);
        assert_eq!(out, b"hello");
        // Only the first ignored character is reported; the unfinished group is padded.
        assert_eq!(
            w,
            vec![
                "character 32 ignored by Base64 decoding",
                "incomplete base64 group, padding with 6 bits of 0"
            ]
        );
    }

    #[test]
    fn pads_an_unfinished_group() {
        let (out, w) = run(&[b"aGVsbG"]);
        assert_eq!(out, b"hell");
        assert_eq!(w, vec!["incomplete base64 group, padding with 12 bits of 0"]);
    }

    #[test]
    fn ignores_groups_after_padding() {
        let (out, w) = run(&[b"aGk=aGVsbG8="]);
        assert_eq!(out, b"hi");
        assert_eq!(w.len(), 1);
    }
}

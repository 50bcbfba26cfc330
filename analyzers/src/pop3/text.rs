//! POP3.cc's text helpers: `trim_whitespace`, `TokenizeLine`, `ParseCmd`, and the
//! base64 of AUTH exchanges. Bounded by their input; never panic.

/// `trim_whitespace`: leading blanks (space, tab) dropped, runs of spaces
/// inside squeezed to one, trailing spaces dropped.
pub fn trim_whitespace(line: &[u8]) -> Vec<u8> {
    let start = line
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(line.len());
    let mut out = Vec::with_capacity(line.len() - start);
    let mut i = start;
    while i < line.len() {
        if line[i] == b' ' {
            while i < line.len() && line[i] == b' ' {
                i += 1;
            }
            if i == line.len() {
                break;
            }
            out.push(b' ');
        }
        out.push(line[i]);
        i += 1;
    }
    out
}

/// `TokenizeLine(str, ' ')`: the command word and the rest after its space.
pub fn tokenize(s: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if s.is_empty() {
        return (None, b"");
    }
    match s.iter().position(|c| *c == b' ') {
        None => (Some(s), b""),
        Some(0) => (None, &s[1..]),
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
    }
}

/// POP3_cmd.def, in its order (the index is Zeek's command code).
pub const COMMANDS: &[&str] = &[
    "OK", "ERR", "USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "RETR", "DELE", "RSET", "NOOP",
    "LAST", "QUIT", "TOP", "CAPA", "UIDL", "STLS", "XSENDER",
];

/// `ParseCmd`: the command code of a word. As in POP3.cc, each code tried strips
/// one more leading `+` or `-` before comparing (uppercased).
pub fn parse_cmd(word: &[u8]) -> Option<usize> {
    let mut w = word.to_ascii_uppercase();
    for (code, name) in COMMANDS.iter().enumerate() {
        if w.first().is_some_and(|c| *c == b'+' || *c == b'-') {
            w.remove(0);
        }
        if w == name.as_bytes() {
            return Some(code);
        }
    }
    None
}

fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Base64 as an AUTH line carries it: up to the first `=`; `None` for any
/// other byte outside the alphabet (POP3.cc's `pop3_bad_base64_encoding`).
pub fn decode_base64(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in b {
        if c == b'=' {
            break;
        }
        acc = (acc << 6) | sextet(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_squeezes_inner_spaces() {
        assert_eq!(
            trim_whitespace(b" \t USER  bob  smith  "),
            b"USER bob smith"
        );
        assert_eq!(trim_whitespace(b"   "), b"");
        assert_eq!(trim_whitespace(b"a\t b"), b"a\t b");
    }

    #[test]
    fn commands_and_status_words() {
        assert_eq!(tokenize(b"USER bob x"), (Some(&b"USER"[..]), &b"bob x"[..]));
        assert_eq!(tokenize(b"QUIT"), (Some(&b"QUIT"[..]), &b""[..]));
        assert_eq!(parse_cmd(b"+OK"), Some(0));
        assert_eq!(parse_cmd(b"-ERR"), Some(1));
        assert_eq!(parse_cmd(b"user"), Some(2));
        assert_eq!(parse_cmd(b"+"), None);
        assert_eq!(parse_cmd(b"*2"), None);
        // The second code tried strips the second sign.
        assert_eq!(parse_cmd(b"+-ERR"), Some(1));
    }

    #[test]
    fn base64_of_auth_lines() {
        assert_eq!(
            decode_base64(b"AGJvYgBzZWNyZXQ=").unwrap(),
            b"\0bob\0secret"
        );
        assert_eq!(decode_base64(b"Ym9i").unwrap(), b"bob");
        assert!(decode_base64(b"Ym9i*").is_none());
    }
}

//! Text builtins of the grammar language for ASCII line protocols (FTP, SMTP, ...):
//! decimal numbers and blank trimming. Never panics, never allocates.

/// The decimal number `b` starts with (grammar `dec(b)`): leading ASCII digits,
/// saturating at `u64::MAX` as a numeric text longer than any real value is still
/// "very large"; 0 when `b` does not start with a digit.
pub fn ascii_dec(b: &[u8]) -> u64 {
    b.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u64, |n, c| {
            n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        })
}

/// `b` without leading and trailing spaces and tabs (grammar `trim(b)`), as
/// Zeek's `skip_whitespace` and `strip` treat line text.
pub fn trim_blanks(b: &[u8]) -> &[u8] {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_prefix_saturates_and_stops_at_non_digits() {
        assert_eq!(ascii_dec(b"220 ready"), 220);
        assert_eq!(ascii_dec(b"007"), 7);
        assert_eq!(ascii_dec(b""), 0);
        assert_eq!(ascii_dec(b"x12"), 0);
        assert_eq!(ascii_dec(b"99999999999999999999999"), u64::MAX);
    }

    #[test]
    fn trimming_keeps_inner_blanks() {
        assert_eq!(trim_blanks(b" \t a b \t"), b"a b");
        assert_eq!(trim_blanks(b"   "), b"");
        assert_eq!(trim_blanks(b""), b"");
        assert_eq!(trim_blanks(b"\r x\r"), b"\r x\r");
    }
}

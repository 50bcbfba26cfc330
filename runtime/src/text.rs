//! Text builtins of the grammar language for ASCII line protocols (FTP, IRC, SMTP, ...):
//! decimal numbers, blank trimming, words split on a separator and cuts at a
//! delimiter. Never panics; only `join_words` allocates.

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

/// `a` equals the literal `lit` ignoring ASCII case (grammar `eq_ci(a, b"LIT")`):
/// commands compared after Zeek's `toupper`.
pub fn eq_ci(a: &[u8], lit: &[u8]) -> bool {
    a.eq_ignore_ascii_case(lit)
}

/// The pieces of `b` between `sep` bytes, empty pieces left out (grammar
/// `split(b, b" ")`): Zeek's IRC `SplitWords`.
pub fn split_words(b: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    b.split(move |c| *c == sep).filter(|w| !w.is_empty())
}

/// The `i`-th word (from 0) of `b` split on `sep`, empty when there are fewer
/// (grammar `word(b, b" ", i)`).
pub fn word(b: &[u8], sep: u8, i: u64) -> &[u8] {
    usize::try_from(i)
        .ok()
        .and_then(|i| split_words(b, sep).nth(i))
        .unwrap_or(&[])
}

/// How many words `b` splits into on `sep` (grammar `words(b, b" ")`).
pub fn word_count(b: &[u8], sep: u8) -> u64 {
    split_words(b, sep).count() as u64
}

/// `b` from its `n`-th word (from 0) on, separators inside kept; empty when
/// there are no more than `n` words (grammar `skip_words(b, b" ", n)`): the
/// rest of an IRC line after its leading parameters.
pub fn skip_words(b: &[u8], sep: u8, n: u64) -> &[u8] {
    let mut seen = 0u64;
    let mut in_word = false;
    for (i, c) in b.iter().enumerate() {
        if *c == sep {
            in_word = false;
        } else if !in_word {
            if seen == n {
                return &b[i..];
            }
            seen += 1;
            in_word = true;
        }
    }
    &[]
}

/// The words of `b` joined by single `sep` bytes (grammar `join_words(b, b" ")`):
/// Zeek rebuilds texts such as a WHOIS real name from their words.
pub fn join_words(b: &[u8], sep: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for (i, w) in split_words(b, sep).enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend_from_slice(w);
    }
    out
}

fn find(b: &[u8], lit: &[u8]) -> Option<usize> {
    if lit.is_empty() {
        return Some(0);
    }
    b.windows(lit.len()).position(|w| w == lit)
}

/// `b` up to the first `lit`, all of `b` without one (grammar `before(b, b" ")`).
pub fn before<'a>(b: &'a [u8], lit: &[u8]) -> &'a [u8] {
    find(b, lit).map_or(b, |i| &b[..i])
}

/// The first element of the `sep`-separated list `a` that is also an element of
/// `b` (grammar `first_common(client, server, b",")`: the algorithm an SSH client
/// and server agree on); empty when they share none.
pub fn first_common<'a>(a: &'a [u8], b: &[u8], sep: u8) -> &'a [u8] {
    a.split(|&c| c == sep)
        .find(|x| b.split(|&c| c == sep).any(|y| y == *x))
        .unwrap_or(&[])
}

/// `b` after the first `lit`, empty without one (grammar `after(b, b" ")`).
pub fn after<'a>(b: &'a [u8], lit: &[u8]) -> &'a [u8] {
    find(b, lit).map_or(&[], |i| &b[i + lit.len()..])
}

/// `b` contains `lit` (grammar `contains(b, b"!")`).
pub fn contains(b: &[u8], lit: &[u8]) -> bool {
    find(b, lit).is_some()
}

/// `b` without its leading bytes that are in `set` (grammar `lstrip(b, b" ")`):
/// Zeek's IRC `SkipLeadingWhitespace` strips spaces only.
pub fn lstrip<'a>(b: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = b.iter().position(|c| !set.contains(c)).unwrap_or(b.len());
    &b[start..]
}

/// `b` without `lit` at its start, if it starts with it (grammar `drop_prefix(b, b":")`).
pub fn drop_prefix<'a>(b: &'a [u8], lit: &[u8]) -> &'a [u8] {
    b.strip_prefix(lit).unwrap_or(b)
}

/// `b` without `lit` at its end, if it ends with it (grammar `drop_suffix(b, b"\x01")`).
pub fn drop_suffix<'a>(b: &'a [u8], lit: &[u8]) -> &'a [u8] {
    b.strip_suffix(lit).unwrap_or(b)
}

/// How many ASCII digits `b` starts with (grammar `digits(b)`): tells "0" from "no number".
pub fn leading_digits(b: &[u8]) -> u64 {
    b.iter().take_while(|c| c.is_ascii_digit()).count() as u64
}

/// The first `n` bytes of `b` (all of it if shorter; grammar `head(b, n)`).
pub fn head(b: &[u8], n: u64) -> &[u8] {
    &b[..usize::try_from(n).unwrap_or(usize::MAX).min(b.len())]
}

/// `b` after its first `n` bytes (empty if shorter) (grammar `tail(b, 2)`).
pub fn tail(b: &[u8], n: u64) -> &[u8] {
    &b[usize::try_from(n).unwrap_or(usize::MAX).min(b.len())..]
}

/// The decimal number (as `ascii_dec`) of the word before the last word equal to
/// `lit`, words split on spaces; 0 without one (grammar `dec_before(b, b"users")`):
/// Zeek's IRC reads "`42 users on 3 servers`" this way.
pub fn dec_before(b: &[u8], lit: &[u8]) -> u64 {
    let mut prev: &[u8] = &[];
    let mut found = 0;
    for w in split_words(b, b' ') {
        if w == lit {
            found = ascii_dec(prev);
        }
        prev = w;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_common_is_the_first_of_the_first_list() {
        assert_eq!(first_common(b"a,b,c", b"c,b", b','), b"b");
        assert_eq!(first_common(b"a", b"b", b','), b"");
    }

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

    #[test]
    fn words_split_as_zeeks_split_words() {
        let b = b"  a  bb c ";
        assert_eq!(
            split_words(b, b' ').collect::<Vec<_>>(),
            vec![&b"a"[..], b"bb", b"c"]
        );
        assert_eq!(word(b, b' ', 1), b"bb");
        assert_eq!(word(b, b' ', 3), b"");
        assert_eq!(word(b, b' ', u64::MAX), b"");
        assert_eq!(word_count(b, b' '), 3);
        assert_eq!(skip_words(b, b' ', 1), b"bb c ");
        assert_eq!(skip_words(b, b' ', 3), b"");
        assert_eq!(skip_words(b, b' ', 0), b"a  bb c ");
        assert_eq!(join_words(b, b' '), b"a bb c");
        assert_eq!(word_count(b"", b','), 0);
    }

    #[test]
    fn cuts_at_delimiters() {
        assert_eq!(before(b"a b c", b" "), b"a");
        assert_eq!(before(b"abc", b" "), b"abc");
        assert_eq!(after(b"a b c", b" "), b"b c");
        assert_eq!(after(b"abc", b" "), b"");
        assert!(contains(b"n!u@h", b"!"));
        assert_eq!(lstrip(b"  :x ", b" "), b":x ");
        assert_eq!(drop_prefix(b"::x", b":"), b":x");
        assert_eq!(drop_suffix(b"x\x01", b"\x01"), b"x");
        assert_eq!(leading_digits(b"12a"), 2);
        assert!(eq_ci(b"PrivMsg", b"PRIVMSG"));
        assert_eq!(
            dec_before(b"There are 5 users and 0 services on 2 servers", b"users"),
            5
        );
        assert_eq!(dec_before(b"x users", b"servers"), 0);
    }
}

/// Up to `N` bytes kept in place (a grammar's `state tag: bytes(N);`): set from
/// a PDU, read by later ones, never allocating; a longer value is cut to `N`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShortBytes<const N: usize> {
    len: usize,
    buf: [u8; N],
}

impl<const N: usize> Default for ShortBytes<N> {
    fn default() -> Self {
        ShortBytes { len: 0, buf: [0; N] }
    }
}

impl<const N: usize> ShortBytes<N> {
    pub fn set(&mut self, b: &[u8]) {
        let n = b.len().min(N);
        self.buf[..n].copy_from_slice(&b[..n]);
        self.len = n;
    }
    /// `b` after what is held, as much of it as fits.
    pub fn append(&mut self, b: &[u8]) {
        let n = b.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> std::fmt::Debug for ShortBytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// `b` up to the last `lit` (all of `b` without one): Zeek's BitTorrent tracker cuts
/// a line at its last CR.
pub fn before_last<'a>(b: &'a [u8], lit: &[u8]) -> &'a [u8] {
    if lit.is_empty() || lit.len() > b.len() {
        return b;
    }
    (0..=b.len() - lit.len()).rev().find(|&i| &b[i..i + lit.len()] == lit).map_or(b, |i| &b[..i])
}

/// `b` as a little-endian unsigned number, 0 past 8 bytes.
pub fn le_uint(b: &[u8]) -> u64 {
    if b.len() > 8 {
        return 0;
    }
    b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x))
}

/// `data` XORed byte by byte with `key` repeated (WebSocket's masking; an empty
/// key leaves `data` as it is).
pub fn unmask(data: &[u8], key: &[u8]) -> Vec<u8> {
    if key.is_empty() {
        return data.to_vec();
    }
    data.iter().zip(key.iter().cycle()).map(|(d, k)| d ^ k).collect()
}

#[cfg(test)]
mod unmask_tests {
    use super::*;

    #[test]
    fn unmask_repeats_the_key_and_tail_drops_a_prefix() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let masked: Vec<u8> = b"hello".iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
        assert_eq!(unmask(&masked, &key), b"hello");
        assert_eq!(unmask(b"as is", b""), b"as is");
        assert_eq!(tail(b"\x03\xe8bye", 2), b"bye");
        assert_eq!(tail(b"x", 2), b"");
        assert_eq!(tail(b"abc", u64::MAX), b"");
        assert_eq!(before_last(b"GET /a\rb HTTP/1.0\r", b"\r"), b"GET /a\rb HTTP/1.0");
        assert_eq!(before_last(b"no cr", b"\r"), b"no cr");
        assert_eq!(le_uint(&[0x1a, 0xe1]), 0xe11a);
        assert_eq!(le_uint(&[1; 9]), 0);
    }
}

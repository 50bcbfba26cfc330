//! Small line helpers shared by the message framing and multipart bodies.

/// A grammar limit as a length bound.
pub(crate) fn cap(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Where the LF of the next CRLF is in `data`, given the partial line before it.
pub(crate) fn crlf_end(partial: &[u8], data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = data[from..].iter().position(|&b| b == b'\n') {
        let at = from + p;
        let prev = if at > 0 {
            data.get(at - 1)
        } else {
            partial.last()
        };
        if prev == Some(&b'\r') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

pub(crate) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

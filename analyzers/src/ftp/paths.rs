//! The path and number helpers of Zeek's ftp scripts (base/utils/paths.zeek,
//! numbers.zeek, and the `compress_path` BIF): the URL of file commands, the
//! working directory, sizes in replies.

/// `build_path`: a relative `file` goes under `dir`; an absolute one (`/x`,
/// `C:\x`) or an empty `dir` leaves it as it is.
fn build_path(dir: &[u8], file: &[u8]) -> Vec<u8> {
    let absolute = file.first() == Some(&b'/')
        || (file.len() >= 3
            && file[0].is_ascii_alphabetic()
            && file[1] == b':'
            && matches!(file[2], b'\\' | b'/'));
    if absolute || dir.is_empty() {
        return file.to_vec();
    }
    let mut out = dir.to_vec();
    if !dir.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(file);
    out
}

/// Zeek's `compress_path` (util's normalize_path): empty and inner `.`
/// components go, `x/..` pairs cancel; a leading `.` stays.
pub fn compress_path(path: &[u8]) -> Vec<u8> {
    let has = |n: &[u8]| path.windows(n.len()).any(|w| w == n);
    if !has(b"/.") && !has(b"//") {
        return path.to_vec();
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for (i, c) in path.split(|&b| b == b'/').enumerate() {
        if c.is_empty() || (c == b"." && i != 0) {
            continue;
        }
        parts.push(c);
        if c == b".." && parts.len() > 1 {
            let last = parts[parts.len() - 2];
            if last != b"/" && last != b"." && last != b".." {
                parts.truncate(parts.len() - 2);
            }
        }
    }
    let mut out = if path.first() == Some(&b'/') {
        b"/".to_vec()
    } else {
        Vec::new()
    };
    for p in parts {
        out.extend_from_slice(p);
        out.push(b'/');
    }
    if out.len() > 1 && out.ends_with(b"/") {
        out.pop();
    }
    out
}

/// `build_path_compressed`.
pub fn build_path_compressed(dir: &[u8], file: &[u8]) -> Vec<u8> {
    compress_path(&build_path(dir, file))
}

/// `extract_path`: the first `/...` or `C:\...` run of the text, up to a
/// quote or an unescaped space ("" without one) — PWD's reply.
pub fn extract_path(s: &[u8]) -> Vec<u8> {
    let start = (0..s.len()).find(|&i| {
        s[i] == b'/'
            || (s[i].is_ascii_alphabetic()
                && s.get(i + 1) == Some(&b':')
                && matches!(s.get(i + 2), Some(b'\\') | Some(b'/')))
    });
    let Some(start) = start else {
        return Vec::new();
    };
    let mut i = start + if s[start] == b'/' { 1 } else { 3 };
    while i < s.len() {
        match s[i] {
            b'\\' if s.get(i + 1) == Some(&b' ') => i += 2,
            b'"' | b' ' => break,
            _ => i += 1,
        }
    }
    s[start..i].to_vec()
}

/// `extract_count(s, F)`: the last run of digits (0 without one).
pub fn last_count(s: &[u8]) -> u64 {
    let end = s.iter().rposition(u8::is_ascii_digit);
    let Some(end) = end else {
        return 0;
    };
    let start = s[..end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    netpac_runtime::text::ascii_dec(&s[start..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_zeek_builds_them() {
        assert_eq!(build_path_compressed(b".", b"robots.txt"), b"./robots.txt");
        assert_eq!(build_path_compressed(b"./pub", b"../x"), b"./x");
        assert_eq!(build_path_compressed(b"/a/b", b"/c//d/./e"), b"/c/d/e");
        assert_eq!(build_path_compressed(b"/a/b", b".."), b"/a");
        assert_eq!(build_path_compressed(b"", b"f"), b"f");
        assert_eq!(compress_path(b"/.."), b"/..");
    }

    #[test]
    fn pwd_paths_and_sizes() {
        assert_eq!(
            extract_path(b"\"/home/ftp\" is current directory."),
            b"/home/ftp"
        );
        assert_eq!(extract_path(b"no path"), b"");
        assert_eq!(
            last_count(b"Opening BINARY mode data connection (39695 bytes)"),
            39695
        );
        assert_eq!(last_count(b"none"), 0);
    }
}

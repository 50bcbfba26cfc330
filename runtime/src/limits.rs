//! Grammar limits changed at run time, as Zeek scripts `redef` them
//! (`redef Gnutella::max_line_length = 100;`): `--limit gnutella.max_line_length=100`
//! or a config file's `[limits]`. They are process-wide: every analyzer of that
//! grammar made afterwards starts with them (its generated `Limits::configured()`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// Whether any limit was changed: analyzers made before that, or never, skip the lock.
static CHANGED: AtomicBool = AtomicBool::new(false);
/// (grammar module, limit, value), the last setting of a name winning.
static OVERRIDES: RwLock<Vec<(String, String, u64)>> = RwLock::new(Vec::new());

/// Sets limit `name` of grammar `module` (booleans: 0 = false) for analyzers made from now on.
pub fn set(module: &str, name: &str, value: u64) {
    let mut o = OVERRIDES.write().unwrap_or_else(|e| e.into_inner());
    o.retain(|(m, n, _)| !(m == module && n == name));
    o.push((module.to_string(), name.to_string(), value));
    CHANGED.store(true, Ordering::Release);
}

/// Calls `f` with each limit of `module` changed at run time.
pub fn apply(module: &str, mut f: impl FnMut(&str, u64)) {
    if !CHANGED.load(Ordering::Acquire) {
        return;
    }
    let o = OVERRIDES.read().unwrap_or_else(|e| e.into_inner());
    for (m, n, v) in o.iter() {
        if m == module {
            f(n, *v);
        }
    }
}

/// A limit's key as a user writes it, `gnutella.max_line_length` or Zeek's
/// `Gnutella::max_line_length`: the grammar module (lower case) and the name.
pub fn split_key(key: &str) -> Option<(String, &str)> {
    let (m, n) = key.split_once("::").or_else(|| key.split_once('.'))?;
    (!m.is_empty() && !n.is_empty()).then(|| (m.to_ascii_lowercase(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_take_either_spelling_and_later_settings_win() {
        assert_eq!(split_key("Gnutella::max_line_length"), Some(("gnutella".into(), "max_line_length")));
        assert_eq!(split_key("gnutella.max_header_length"), Some(("gnutella".into(), "max_header_length")));
        assert_eq!(split_key("nomodule"), None);
        set("limits_test", "a", 1);
        set("limits_test", "a", 2);
        let mut seen = Vec::new();
        apply("limits_test", |n, v| seen.push((n.to_string(), v)));
        assert_eq!(seen, [("a".to_string(), 2)]);
    }
}

//! Dynamic protocol detection: analyzers found by what a connection carries,
//! not only by its port (Zeek's PIA and its DPD signatures).
//!
//! Grammars declare signatures in their `analyzer` block
//! (`signature tcp orig /^GET /, resp /^HTTP\//;`): one anchored pattern per
//! direction, all of which must match the start of that direction's stream
//! (TCP) or of a datagram (UDP: each one while bytes are still kept); with `or` instead of `,` either one does. While a connection is young its first
//! bytes are kept (at most [`BUFFER_SIZE`] for both directions together, like
//! Zeek's `dpd_buffer_size`); when a signature matches then, its analyzer is
//! attached and handed the kept bytes in their original order. A match after
//! the buffer ran out can no longer be analysed: it is recorded as a
//! *speculative* service (Zeek's `speculative_service` column).
//!
//! Everything is bounded: matching looks at most [`MATCH_WINDOW`] bytes of
//! each direction, and the state is dropped once every signature is decided.
//!
//! Each pattern is a DFA run over a direction's bytes as they arrive: a
//! connection keeps one DFA state per open pattern, so every byte is looked at
//! once per pattern, and a pattern is given up at the first byte that rules it
//! out (most connections fail every signature within a few bytes).

use crate::analyzer::AnalyzerSpec;
use crate::zeek::Proto;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::util::primitives::StateID;
use regex_automata::util::{start, syntax};
use regex_automata::Anchored;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// An anchored pattern as a DFA, and the state it starts in.
struct Pattern {
    dfa: Arc<dense::DFA<Vec<u32>>>,
    start: StateID,
}

/// Every pattern is compiled once per process (engines are made often in tests).
fn compiled(p: &'static str) -> Result<Arc<dense::DFA<Vec<u32>>>, String> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Arc<dense::DFA<Vec<u32>>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(d) = cache.lock().map_err(|e| e.to_string())?.get(p) {
        return Ok(Arc::clone(d));
    }
    // `(?s-u)`: `.` matches any byte, classes are bytes, not UTF-8.
    let dfa = dense::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(dense::Config::new().start_kind(StartKind::Anchored))
        .build(&format!("(?s-u)(?:{p})"))
        .map_err(|e| e.to_string())?;
    let dfa = Arc::new(dfa);
    cache
        .lock()
        .map_err(|e| e.to_string())?
        .insert(p, Arc::clone(&dfa));
    Ok(dfa)
}

impl Pattern {
    fn new(p: &'static str) -> Result<Pattern, String> {
        let dfa = compiled(p)?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .map_err(|e| e.to_string())?;
        Ok(Pattern { dfa, start })
    }

    /// Runs `data` from `state`: whether a match ended in it (or at its end),
    /// else the state reached (`None` once no match can come any more).
    fn run(&self, mut state: StateID, data: &[u8]) -> Step {
        for &b in data {
            state = self.dfa.next_state(state, b);
            // Match states come one byte after the match ends.
            if self.dfa.is_match_state(state) {
                return Step::Matched;
            }
            if self.dfa.is_dead_state(state) {
                return Step::Failed;
            }
        }
        if self.dfa.is_match_state(self.dfa.next_eoi_state(state)) {
            return Step::Matched;
        }
        Step::Open(state)
    }
}

enum Step {
    Matched,
    Failed,
    Open(StateID),
}

/// Zeek's `dpd_buffer_size`: bytes kept (both directions) for replay.
pub const BUFFER_SIZE: usize = 1024;
/// Bytes of each direction a signature may look at.
pub const MATCH_WINDOW: usize = 1024;

pub use crate::analyzer::Signature;

struct Compiled {
    spec: AnalyzerSpec,
    either: bool,
    /// Index 0: originator, 1: responder.
    pats: [Option<Pattern>; 2],
}

/// The compiled signatures of every registered analyzer.
#[derive(Default)]
pub struct Detector {
    sigs: Vec<Compiled>,
}

/// A signature's pattern that did not compile (a grammar bug caught at start).
#[derive(Debug)]
pub struct BadSignature {
    pub tag: &'static str,
    pub error: String,
}

impl Detector {
    pub fn new(specs: &[AnalyzerSpec]) -> Result<Detector, BadSignature> {
        let mut sigs = Vec::new();
        for spec in specs {
            let Some(sig) = spec.signature else { continue };
            let compile = |p: Option<&'static str>| -> Result<Option<Pattern>, BadSignature> {
                p.map(|p| {
                    Pattern::new(p).map_err(|error| BadSignature {
                        tag: spec.tag,
                        error,
                    })
                })
                .transpose()
            };
            sigs.push(Compiled {
                spec: *spec,
                either: sig.either,
                pats: [compile(sig.orig)?, compile(sig.resp)?],
            });
        }
        Ok(Detector { sigs })
    }

    /// Detection state for a new connection, if any signature could apply.
    /// Whether any signature is for this transport.
    pub fn has_signatures(&self, proto: Proto) -> bool {
        self.sigs.iter().any(|s| s.spec.proto == proto)
    }

    pub fn start(&self, proto: Proto) -> Option<Box<Dpd>> {
        let candidates: Vec<Candidate> = self
            .sigs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.spec.proto == proto)
            .map(|(i, s)| Candidate {
                sig: i as u16,
                // A direction without a pattern: nothing to wait for (all must match),
                // or nothing it can contribute (either may match).
                side: s.pats.each_ref().map(|p| match (p, s.either) {
                    (None, false) => Side::Matched,
                    (None, true) => Side::Failed,
                    (Some(p), _) => Side::Open(p.start),
                }),
                either: s.either,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        Some(Box::new(Dpd {
            proto,
            candidates,
            seen: [0, 0],
            replay: Vec::new(),
            chunks: Vec::new(),
            buffering: true,
        }))
    }

    /// Feeds `data` (next stream bytes, or one datagram) of one direction.
    /// `attached(tag)` says whether an analyzer with that tag already runs
    /// (or ran and was removed) on the connection.
    pub fn data(
        &self,
        st: &mut Dpd,
        is_orig: bool,
        data: &[u8],
        attached: impl Fn(&str) -> bool,
    ) -> Found {
        let d = usize::from(!is_orig);
        let mut found = Found::default();
        // What a pattern may look at: the rest of the direction's window (TCP; the
        // state carries over between deliveries) or this datagram (UDP, from the start).
        let (window, window_full) = if st.proto == Proto::Tcp {
            let room = MATCH_WINDOW.saturating_sub(st.seen[d]);
            let n = data.len().min(room);
            st.seen[d] += n;
            (&data[..n], st.seen[d] >= MATCH_WINDOW)
        } else {
            (&data[..data.len().min(MATCH_WINDOW)], true)
        };
        // UDP: every datagram is matched from its start while the connection's first
        // bytes are still kept (Zeek's PIA_UDP matches each packet until its buffer is full).
        let udp_again =
            st.proto == Proto::Udp && st.buffering && st.replay.len() + data.len() <= BUFFER_SIZE;
        for c in st.candidates.iter_mut() {
            let Side::Open(state) = c.side[d] else {
                continue;
            };
            let sig = &self.sigs[usize::from(c.sig)];
            let pat = sig.pats[d].as_ref().expect("open sides have a pattern");
            let from = if st.proto == Proto::Udp { pat.start } else { state };
            match pat.run(from, window) {
                Step::Matched => {
                    // With `or` each direction is a signature of its own, as in Zeek: its
                    // match attaches, or is late, whatever the other direction does.
                    let complete = if c.either {
                        c.side[d] = Side::Done;
                        true
                    } else {
                        c.side[d] = Side::Matched;
                        let both = c.side[1 - d] == Side::Matched;
                        if both {
                            c.side = [Side::Done, Side::Done];
                        }
                        both
                    };
                    if complete {
                        let spec = sig.spec;
                        if st.buffering && !attached(spec.tag) {
                            found.attach.push(spec);
                        } else if !st.buffering {
                            found.late.push(spec.tag);
                        }
                    }
                }
                Step::Failed | Step::Open(_) if udp_again => c.side[d] = Side::Open(pat.start),
                // More bytes cannot help an anchored pattern past the window.
                Step::Failed => c.side[d] = Side::Failed,
                Step::Open(_) if window_full => c.side[d] = Side::Failed,
                Step::Open(next) => {
                    if st.proto == Proto::Tcp {
                        c.side[d] = Side::Open(next);
                    }
                }
            }
        }
        st.candidates.retain(|c| !c.decided());
        if !found.attach.is_empty() {
            found.replay = st
                .chunks
                .iter()
                .map(|&(o, s, e)| (o, st.replay[s..e].to_vec()))
                .collect();
        }
        if st.buffering {
            if st.replay.len() + data.len() <= BUFFER_SIZE {
                let start = st.replay.len();
                st.replay.extend_from_slice(data);
                st.chunks.push((is_orig, start, st.replay.len()));
            } else {
                // Zeek stops buffering for good once the buffer is exceeded.
                st.buffering = false;
                st.replay = Vec::new();
                st.chunks = Vec::new();
            }
        }
        found
    }

    /// A direction lost bytes: its stream start can no longer be matched.
    pub fn gap(&self, st: &mut Dpd, is_orig: bool) {
        let d = usize::from(!is_orig);
        for c in st.candidates.iter_mut() {
            if matches!(c.side[d], Side::Open(_)) {
                c.side[d] = Side::Failed;
            }
        }
        st.candidates.retain(|c| !c.decided());
        st.buffering = false;
        st.replay = Vec::new();
        st.chunks = Vec::new();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Still possible; the pattern's DFA state after the bytes seen so far.
    Open(StateID),
    Matched,
    Failed,
    Done,
}

struct Candidate {
    sig: u16,
    side: [Side; 2],
    either: bool,
}

impl Candidate {
    /// Nothing more can come of it: matched, or no match can come any more.
    fn decided(&self) -> bool {
        if self.either {
            !self.side.iter().any(|s| matches!(s, Side::Open(_)))
        } else {
            self.side.contains(&Side::Failed) || self.side == [Side::Done, Side::Done]
        }
    }
}

/// Detection state of one connection.
pub struct Dpd {
    proto: Proto,
    candidates: Vec<Candidate>,
    /// Bytes of each direction the patterns have looked at (TCP).
    seen: [usize; 2],
    replay: Vec<u8>,
    /// (is_orig, start, end) into `replay`, in arrival order.
    chunks: Vec<(bool, usize, usize)>,
    buffering: bool,
}

impl Dpd {
    /// Nothing is left to decide: the state can be dropped.
    pub fn finished(&self) -> bool {
        self.candidates.is_empty()
    }
}

/// What one delivery decided.
#[derive(Default)]
pub struct Found {
    /// Analyzers to attach now, before this delivery reaches them.
    pub attach: Vec<AnalyzerSpec>,
    /// The bytes kept so far, to replay to the new analyzers first.
    pub replay: Vec<(bool, Vec<u8>)>,
    /// Analyzers whose signature matched too late to attach them.
    pub late: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::{Analyzer, AnalyzerCx};

    struct Nop;
    impl Analyzer for Nop {
        fn deliver(&mut self, _: &mut AnalyzerCx<'_>, _: bool, _: &[u8]) {}
    }
    fn spec(orig: &'static str, resp: &'static str) -> AnalyzerSpec {
        AnalyzerSpec {
            tag: "HTTP",
            proto: Proto::Tcp,
            ports: &[],
            new: || Box::new(Nop),
            signature: Some(Signature {
                orig: Some(orig),
                resp: Some(resp),
                either: false,
            }),
            expire_after: None,
        }
    }

    #[test]
    fn with_or_either_direction_attaches() {
        let mut s = spec("GET ", r"HTTP/[0-9]");
        s.signature = Some(Signature {
            orig: Some("GET "),
            resp: Some(r"HTTP/[0-9]"),
            either: true,
        });
        let det = Detector::new(&[s]).unwrap();
        // The server's side alone: the client's bytes are replayed first.
        let mut st = det.start(Proto::Tcp).unwrap();
        let f = det.data(&mut st, true, b"QUERY / HTTP/1.1\r\n", |_| false);
        assert!(f.attach.is_empty());
        let f = det.data(&mut st, false, b"HTTP/1.1 200 OK\r\n", |_| false);
        assert_eq!(f.attach.len(), 1);
        assert_eq!(f.replay, vec![(true, b"QUERY / HTTP/1.1\r\n".to_vec())]);
        // The client's side alone.
        let mut st = det.start(Proto::Tcp).unwrap();
        assert_eq!(det.data(&mut st, true, b"GET / HTTP/1.1\r\n", |_| false).attach.len(), 1);
        // Neither: decided once both windows are past hope.
        let mut st = det.start(Proto::Tcp).unwrap();
        det.data(&mut st, true, &[b'x'; MATCH_WINDOW], |_| false);
        assert!(!st.finished());
        det.data(&mut st, false, &[b'y'; MATCH_WINDOW], |_| false);
        assert!(st.finished());
    }

    #[test]
    fn both_sides_must_match_and_kept_bytes_are_replayed_in_order() {
        let det = Detector::new(&[spec(r"[[:space:]]*GET ", r"HTTP/[0-9]")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        let f = det.data(&mut st, true, b"GET / HTTP/1.1\r\n", |_| false);
        assert!(f.attach.is_empty());
        let f = det.data(&mut st, false, b"HTTP/1.1 200 OK\r\n", |_| false);
        assert_eq!(f.attach.len(), 1);
        assert_eq!(f.replay, vec![(true, b"GET / HTTP/1.1\r\n".to_vec())]);
        assert!(st.finished());
    }

    #[test]
    fn udp_datagrams_are_each_matched_from_their_start_while_bytes_are_kept() {
        let mut s = spec("INVITE ", "SIP/2");
        s.proto = Proto::Udp;
        s.signature = Some(Signature { orig: Some("INVITE "), resp: None, either: true });
        let det = Detector::new(&[s]).unwrap();
        let mut st = det.start(Proto::Udp).unwrap();
        // Neither datagram's start is the pattern's, then the third's is.
        assert!(det.data(&mut st, true, b"junk INVITE x", |_| false).attach.is_empty());
        assert!(det.data(&mut st, true, b"more", |_| false).attach.is_empty());
        assert_eq!(det.data(&mut st, true, b"INVITE sip:x SIP/2.0", |_| false).attach.len(), 1);
        // Past the kept bytes no datagram is matched any more.
        let mut st = det.start(Proto::Udp).unwrap();
        det.data(&mut st, true, &[b'x'; BUFFER_SIZE + 1], |_| false);
        assert!(st.finished());
    }

    #[test]
    fn a_pattern_split_across_segments_still_matches() {
        let det = Detector::new(&[spec("GET /", "HTTP/")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        det.data(&mut st, true, b"GE", |_| false);
        det.data(&mut st, true, b"T /x", |_| false);
        let f = det.data(&mut st, false, b"HTTP/1.0 200", |_| false);
        assert_eq!(f.attach.len(), 1);
    }

    #[test]
    fn a_match_after_the_buffer_ran_out_is_late() {
        let det = Detector::new(&[spec("POST ", "HTTP/")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        det.data(&mut st, true, b"POST /upload HTTP/1.1\r\n", |_| false);
        det.data(&mut st, true, &[b'x'; 2000], |_| false);
        let f = det.data(&mut st, false, b"HTTP/1.1 200 OK\r\n", |_| false);
        assert!(f.attach.is_empty());
        assert_eq!(f.late, vec!["HTTP"]);
    }

    #[test]
    fn no_match_means_no_state_and_no_attach() {
        let det = Detector::new(&[spec("GET ", "HTTP/")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        det.data(&mut st, true, &[0u8; 1500], |_| false);
        assert!(st.finished());
        assert!(det.start(Proto::Udp).is_none());
    }

    #[test]
    fn an_attached_analyzer_is_not_attached_twice() {
        let det = Detector::new(&[spec("GET ", "HTTP/")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        det.data(&mut st, true, b"GET / HTTP/1.1\r\n", |_| true);
        let f = det.data(&mut st, false, b"HTTP/1.1 200 OK\r\n", |_| true);
        assert!(f.attach.is_empty() && f.late.is_empty());
    }

    #[test]
    fn a_gap_before_the_match_ends_detection() {
        let det = Detector::new(&[spec("GET ", "HTTP/")]).unwrap();
        let mut st = det.start(Proto::Tcp).unwrap();
        det.gap(&mut st, true);
        assert!(st.finished());
    }

    #[test]
    fn bad_patterns_are_reported_with_their_analyzer() {
        let err = Detector::new(&[spec("(unclosed", "x")]).err().unwrap();
        assert_eq!(err.tag, "HTTP");
    }
}

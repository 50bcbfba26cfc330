//! What every transport shares: driving and detecting analyzers, their verdicts,
//! connection sizes, history letters and endpoint states.

use super::*;
use crate::conn::Layer;

pub(super) fn conn_weird(
    core: &mut ConnCore,
    cx: &mut Cx<'_>,
    name: &'static str,
    addl: String,
    source: &'static str,
) {
    report_conn_weird(core, cx.events, cx.weirds, cx.ts, name, addl, source);
}

/// Raises `conn_weird` for the connection as it is now and counts the weird; also
/// for a connection still being made (its first SYN-ACK, before the flip).
pub(super) fn report_conn_weird(
    core: &mut ConnCore,
    events: &mut Events,
    weirds: &mut Vec<Weird>,
    ts: Time,
    name: &'static str,
    addl: String,
    source: &'static str,
) {
    core.did_weird = true;
    raise!(
        events,
        ts,
        ConnWeird {
            name,
            c: core.record(),
            addl: ZString::from(addl.clone()),
            source
        }
    );
    weirds.push(Weird {
        ts,
        name,
        addl,
        scope: WeirdScope::Conn {
            id: core.id,
            uid: core.uid.clone(),
        },
        source,
        in_tunnel: false,
    });
}

pub(super) fn check_flow_label(core: &mut ConnCore, cx: &mut Cx<'_>, is_orig: bool, label: u32) {
    if !core.id.orig_h.is_ipv6() {
        return;
    }
    let i = if is_orig { 0 } else { 1 };
    let old = core.flow_labels[i];
    if old != label {
        // Zeek's Connection::CheckFlowLabel: an event once the direction's first
        // packet was seen (its first label is no change).
        if core.size[i].pkts > 0 {
            raise!(
                cx.events,
                cx.ts,
                ConnectionFlowLabelChanged {
                    c: core.record(),
                    is_orig,
                    old_label: u64::from(old),
                    new_label: u64::from(label)
                }
            );
        }
        core.flow_labels[i] = label;
    }
}

pub(super) fn apply_verdict(
    core: &mut ConnCore,
    a: &mut Attached,
    verdict: Verdict,
    events: &mut Events,
    ts: Time,
    max_violations: u32,
) -> bool {
    match verdict {
        Verdict::Undecided => true,
        Verdict::Confirmed => {
            if !a.confirmed {
                a.confirmed = true;
                report_confirmation(core, events, ts, a.tag, a.aid);
            }
            true
        }
        Verdict::Violation(reason) => {
            report_violation(core, events, ts, a.tag, a.aid, reason);
            a.violations += 1;
            let keep = max_violations == 0 || a.violations < max_violations;
            // Zeek marks the connection `X` when DPD removes the violating analyzer,
            // not at each violation (Zeek 8.2.2: an FTP reply with a bad code leaves
            // the history as it is).
            if !keep {
                core.check_history(ConnCore::HIST_UNKNOWN_PKT, 'X');
            }
            keep
        }
    }
}

/// What an analyzer's children ([`crate::analyzer::Children`]) decided: a
/// confirmation adds the child's service after the parent's (QUIC, then SSL:
/// `quic,ssl`), as Zeek confirms a child analyzer.
fn apply_child_verdicts(
    core: &mut ConnCore,
    parent_aid: u64,
    verdicts: Vec<(&'static str, Verdict)>,
    events: &mut Events,
    ts: Time,
) {
    for (tag, verdict) in verdicts {
        match verdict {
            Verdict::Undecided => {}
            Verdict::Confirmed => report_confirmation(core, events, ts, tag, parent_aid),
            Verdict::Violation(reason) => {
                report_violation(core, events, ts, tag, parent_aid, reason)
            }
        }
    }
}

/// An analyzer confirmed its protocol: its service joins the connection's
/// (once) and `protocol_confirmation` is raised.
pub(super) fn report_confirmation(
    core: &mut ConnCore,
    events: &mut Events,
    ts: Time,
    tag: &'static str,
    aid: u64,
) {
    let svc = crate::zeek::service_name(tag);
    if !core.service.contains(&svc) {
        core.service.push(svc);
    }
    raise!(
        events,
        ts,
        ProtocolConfirmation {
            c: core.record(),
            atype: format!("Analyzer::ANALYZER_{tag}"),
            aid
        }
    );
}

/// An analyzer found a protocol violation: `protocol_violation` is raised.
pub(super) fn report_violation(
    core: &mut ConnCore,
    events: &mut Events,
    ts: Time,
    tag: &'static str,
    aid: u64,
    reason: String,
) {
    raise!(
        events,
        ts,
        ProtocolViolation {
            c: core.record(),
            atype: format!("Analyzer::ANALYZER_{tag}"),
            aid,
            reason: ZString::from(reason)
        }
    );
}

/// What to hand to analyzers.
pub(super) enum Feed<'d> {
    Data(&'d [u8]),
    Gap(u64),
    Eof,
}

pub(super) fn drive(conn: &mut Conn, cx: &mut Cx<'_>, is_orig: bool, feed: Feed<'_>) {
    let Conn {
        core,
        analyzers,
        removed,
        dpd,
        inner,
        ..
    } = conn;
    let mut top = LayerRef {
        analyzers,
        dpd,
        removed,
    };
    let forwarded = drive_layer(core, &mut top, cx, is_orig, &feed, true);
    // What analyzers handed on (WebSocket's payload) is a stream of its own, whose
    // analyzers payload detection finds; its own forwards go nowhere.
    if !forwarded.is_empty() || (matches!(feed, Feed::Eof) && inner.is_some()) {
        let layer = inner.get_or_insert_with(|| {
            Box::new(Layer {
                analyzers: Vec::new(),
                dpd: Detection::NotStarted,
                removed: Vec::new(),
            })
        });
        let mut lr = LayerRef {
            analyzers: &mut layer.analyzers,
            dpd: &mut layer.dpd,
            removed: &mut layer.removed,
        };
        for (orig, bytes) in &forwarded {
            drive_layer(core, &mut lr, cx, *orig, &Feed::Data(bytes), false);
        }
        if matches!(feed, Feed::Eof) {
            drive_layer(core, &mut lr, cx, is_orig, &Feed::Eof, false);
        }
    }
}

/// The analyzers of one stream of a connection (its own, or one inside it).
struct LayerRef<'l> {
    analyzers: &'l mut Vec<Attached>,
    dpd: &'l mut Detection,
    removed: &'l mut Vec<&'static str>,
}

/// Detection, then each analyzer of the layer; returns what they forwarded.
fn drive_layer(
    core: &mut ConnCore,
    layer: &mut LayerRef<'_>,
    cx: &mut Cx<'_>,
    is_orig: bool,
    feed: &Feed<'_>,
    top: bool,
) -> Vec<(bool, Vec<u8>)> {
    detect_layer(core, layer, cx, is_orig, feed, top);
    let LayerRef {
        analyzers,
        dpd,
        removed,
    } = layer;
    let mut forwarded = Vec::new();
    let mut i = 0;
    let mut hand_offs: Vec<(&'static str, Option<(bool, Vec<u8>)>)> = Vec::new();
    while i < analyzers.len() {
        let a = &mut analyzers[i];
        let mut acx = AnalyzerCx::new(cx.ts, &*core, cx.events, cx.weirds, a.tag);
        acx.registry = Some(cx.registry);
        acx.confirmed = a.confirmed;
        match feed {
            Feed::Data(d) => a.analyzer().deliver(&mut acx, is_orig, d),
            Feed::Gap(n) => a.analyzer().undelivered(&mut acx, is_orig, *n),
            Feed::Eof => a.analyzer().end_of_data(&mut acx, is_orig),
        }
        let (verdict, flip, detect_anew, partial) =
            (acx.verdict, acx.flip, acx.detect_anew, acx.partial);
        let child_verdicts = std::mem::take(&mut acx.child_verdicts);
        if let Some(tag) = acx.hand_off {
            hand_offs.push((tag, acx.hand_off_rest.take()));
        }
        forwarded.append(&mut acx.forwarded);
        if flip {
            core.flip_roles_by_analyzer();
        }
        if partial {
            core.check_history(ConnCore::HIST_UNKNOWN_PKT, 'X');
        }
        if detect_anew {
            // What follows is a new stream: signatures look at it from its start.
            **dpd = Detection::NotStarted;
        }
        let keep = apply_verdict(
            core,
            a,
            verdict,
            cx.events,
            cx.ts,
            cx.cfg.max_analyzer_violations,
        );
        apply_child_verdicts(core, a.aid, child_verdicts, cx.events, cx.ts);
        if keep {
            i += 1;
        } else {
            let mut gone = analyzers.remove(i);
            removed.push(gone.tag);
            let mut acx = AnalyzerCx::new(cx.ts, &*core, cx.events, cx.weirds, gone.tag);
            gone.analyzer().done(&mut acx);
        }
    }
    // The stream continues in another analyzer (STARTTLS), from the next delivery on;
    // one instance per tag, and none once DPD removed that analyzer.
    for (tag, rest) in hand_offs {
        if analyzers.iter().any(|a| a.tag == tag) || removed.contains(&tag) {
            continue;
        }
        if let Some(spec) = cx.registry.by_tag(core.proto(), tag) {
            analyzers.push(Attached::new(spec.tag, *cx.next_aid, spec.new));
            *cx.next_aid += 1;
            if let (Some((dir, bytes)), Some(a)) = (rest, analyzers.last_mut()) {
                let mut acx = AnalyzerCx::new(cx.ts, &*core, cx.events, cx.weirds, a.tag);
                acx.registry = Some(cx.registry);
                a.analyzer().deliver(&mut acx, dir, &bytes);
                forwarded.append(&mut acx.forwarded);
            }
        }
    }
    forwarded
}

/// Payload detection: attaches analyzers whose signature this delivery
/// completes, replaying the bytes they missed, before the layer's analyzers get it.
fn detect_layer(
    core: &mut ConnCore,
    layer: &mut LayerRef<'_>,
    cx: &mut Cx<'_>,
    is_orig: bool,
    feed: &Feed<'_>,
    top: bool,
) {
    if let Detection::NotStarted = layer.dpd {
        *layer.dpd = match cx.detector.start(core.proto()) {
            Some(st) => Detection::Running(st),
            None => Detection::Done,
        };
    }
    let Detection::Running(st) = &mut *layer.dpd else {
        return;
    };
    let found = match feed {
        Feed::Data(d) => {
            let (analyzers, removed) = (&*layer.analyzers, &*layer.removed);
            let attached =
                |tag: &str| analyzers.iter().any(|a| a.tag == tag) || removed.contains(&tag);
            cx.detector.data(st, is_orig, d, attached)
        }
        Feed::Gap(_) => {
            cx.detector.gap(st, is_orig);
            crate::dpd::Found::default()
        }
        Feed::Eof => crate::dpd::Found::default(),
    };
    if st.finished() {
        *layer.dpd = Detection::Done;
    }
    for tag in found.late {
        let svc = tag.to_ascii_lowercase();
        if !core.speculative_service.contains(&svc) {
            core.speculative_service.push(svc);
        }
    }
    for spec in found.attach {
        let mut a = Attached::new(spec.tag, *cx.next_aid, spec.new);
        *cx.next_aid += 1;
        let mut keep = true;
        for (orig, bytes) in &found.replay {
            let mut acx = AnalyzerCx::new(cx.ts, &*core, cx.events, cx.weirds, a.tag);
            acx.registry = Some(cx.registry);
            a.analyzer().deliver(&mut acx, *orig, bytes);
            let (verdict, flip, partial) = (acx.verdict, acx.flip, acx.partial);
            let child_verdicts = std::mem::take(&mut acx.child_verdicts);
            if flip {
                core.flip_roles_by_analyzer();
            }
            if partial {
                core.check_history(ConnCore::HIST_UNKNOWN_PKT, 'X');
            }
            let kept = apply_verdict(
                core,
                &mut a,
                verdict,
                cx.events,
                cx.ts,
                cx.cfg.max_analyzer_violations,
            );
            apply_child_verdicts(core, a.aid, child_verdicts, cx.events, cx.ts);
            if !kept {
                keep = false;
                break;
            }
        }
        if keep {
            layer.analyzers.push(a);
            if let (true, Some(after)) = (top, spec.expire_after) {
                cx.timers.add_analyzer_expire(cx.ts, cx.slot, cx.gen, after);
            }
        } else {
            layer.removed.push(a.tag);
        }
    }
}

pub(super) fn conn_size(core: &mut ConnCore, cx: &mut Cx<'_>, is_orig: bool, ip_len: u32) {
    let i = if is_orig { 0 } else { 1 };
    let s = &mut core.size[i];
    s.pkts += 1;
    s.ip_bytes += u64::from(ip_len);
    let (pkts, bytes, bt, pt) = (s.pkts, s.ip_bytes, s.bytes_threshold, s.pkts_threshold);
    if bt != 0 && bytes >= bt {
        core.size[i].bytes_threshold = 0;
        raise!(
            cx.events,
            cx.ts,
            ConnBytesThresholdCrossed {
                c: core.record(),
                threshold: bt,
                is_orig
            }
        );
    }
    if pt != 0 && pkts >= pt {
        core.size[i].pkts_threshold = 0;
        raise!(
            cx.events,
            cx.ts,
            ConnPacketsThresholdCrossed {
                c: core.record(),
                threshold: pt,
                is_orig
            }
        );
    }
}

pub(super) fn tcp_of(core: &mut ConnCore) -> &mut TcpConn {
    match &mut core.transport {
        Transport::Tcp(t) => t,
        _ => unreachable!("TCP handler on a non-TCP connection"),
    }
}

pub(super) fn tcp_ref(core: &ConnCore) -> &TcpConn {
    match &core.transport {
        Transport::Tcp(t) => t,
        _ => unreachable!("TCP handler on a non-TCP connection"),
    }
}

/// Zeek's scaled history entry plus its threshold event.
pub(super) fn scaled(core: &mut ConnCore, cx: &mut Cx<'_>, e: usize, which: u8) {
    let t = tcp_of(core);
    let is_orig = t.eps[e].is_orig;
    let (mut cnt, mut thr, upper) = {
        let ep = &t.eps[e];
        match which {
            b'c' => (ep.chk.0, ep.chk.1, 'C'),
            b't' => (ep.rxmt.0, ep.rxmt.1, 'T'),
            b'w' => (ep.win0.0, ep.win0.1, 'W'),
            _ => (ep.gap.0, ep.gap.1, 'G'),
        }
    };
    let before = thr;
    let code = if is_orig {
        upper
    } else {
        upper.to_ascii_lowercase()
    };
    let hit = core.scaled_history(code, &mut cnt, &mut thr);
    let ep = &mut tcp_of(core).eps[e];
    match which {
        b'c' => ep.chk = (cnt, thr),
        b't' => ep.rxmt = (cnt, thr),
        b'w' => ep.win0 = (cnt, thr),
        _ => ep.gap = (cnt, thr),
    }
    if hit && before > 1 {
        let threshold = u64::from(before);
        match which {
            b'c' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleChecksumErrors {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            b't' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleRetransmissions {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            b'w' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleZeroWindows {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            _ => {}
        }
    }
}

pub(super) fn check_hist(core: &mut ConnCore, e: usize, mask: u32, code: char) -> bool {
    let is_orig = tcp_of(core).eps[e].is_orig;
    let (mask, code) = if is_orig {
        (mask, code)
    } else {
        (mask << 16, code.to_ascii_lowercase())
    };
    core.check_history(mask, code)
}

pub(super) fn add_hist(core: &mut ConnCore, e: usize, code: char) {
    let is_orig = tcp_of(core).eps[e].is_orig;
    core.add_history(if is_orig {
        code
    } else {
        code.to_ascii_lowercase()
    });
}

pub(super) fn set_state(
    core: &mut ConnCore,
    cx: &mut Cx<'_>,
    conn_epochs: &mut u32,
    e: usize,
    new: S,
) {
    let t = tcp_of(core);
    let old = t.eps[e].state;
    if new == old {
        return;
    }
    let peer_state = t.eps[1 - e].state;
    t.eps[e].prev_state = old;
    t.eps[e].state = new;
    if !new.is_handshake() && old.is_handshake() && peer_state.is_handshake() {
        // The handshake is over: TCP's own inactivity timeout applies now.
        let to = cx.cfg.timeouts.tcp_inactivity_timeout;
        if core.inactivity_timeout != to {
            core.inactivity_timeout = to;
            *conn_epochs += 1;
            cx.timers.add(
                core.last_time.add(to),
                cx.slot,
                cx.gen,
                *conn_epochs,
                TimerKind::Inactivity,
            );
        }
    }
}

pub(super) fn add_analyzer_timer(conn: &Conn, cx: &mut Cx<'_>, at: Time, kind: TimerKind) {
    cx.timers
        .add(at, cx.slot, cx.gen, conn.analyzer_epoch, kind);
}

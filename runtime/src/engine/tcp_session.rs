//! The TCP session: sequence numbers, the state machine, reassembly and delivery, close.

use super::*;

/// Zeek's `tcp_storm_thresh`: FINs or RSTs of one endpoint before a storm.
const TCP_STORM_THRESH: u32 = 1000;
/// Zeek's `tcp_storm_interarrival_thresh`.
const TCP_STORM_INTERARRIVAL_THRESH: Interval = Interval(1_000_000_000);

pub(super) fn relative_seq(ep: &TcpEndpoint, cur: u32, last: u32, mut wraps: u32) -> (u64, bool) {
    let delta = tcp::seq_delta(cur, last);
    if delta < 0 {
        if wraps > 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps += 1;
    }
    if wraps == 0 {
        let d = tcp::seq_delta(cur, ep.start_seq);
        return (i64::from(d) as u64, d < 0);
    }
    (ep.relative(cur, wraps), false)
}

pub(super) const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// One TCP segment (Zeek's TCPAnalyzer::DeliverPacket and
/// TCPSessionAdapter::Process).
pub(super) fn tcp_deliver(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    is_orig: bool,
    hdr: &TcpHeader,
    ip: &IpPacket<'_>,
) {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len_total = if claimed == 0 { remaining } else { claimed };
    if hdr.hdr_len < 20 {
        conn_weird(
            &mut conn.core,
            cx,
            "bad_TCP_header_len",
            String::new(),
            "TCP",
        );
        return;
    }
    if hdr.hdr_len > len_total || hdr.hdr_len > remaining {
        conn_weird(&mut conn.core, cx, "truncated_header", String::new(), "TCP");
        return;
    }
    let len = len_total - hdr.hdr_len; // payload length the IP header promises
    let payload = &ip.l4[hdr.hdr_len..];
    let caplen = payload.len();
    let e = tcp_ref(&conn.core).idx(is_orig);

    if !cx.cfg.ignore_checksums
        && remaining >= len_total
        && !checksum::transport_checksum_ok(ip.src, ip.dst, 6, &ip.l4[..len_total])
    {
        conn_weird(&mut conn.core, cx, "bad_TCP_checksum", String::new(), "TCP");
        scaled(&mut conn.core, cx, e, b'c');
        return;
    }

    let flags = hdr.flags;
    let base_seq = hdr.seq;
    let ack_seq = hdr.ack;
    let e = tcp_ref(&conn.core).idx(is_orig);
    let p = 1 - e;
    {
        let t = tcp_of(&mut conn.core);
        // SetPartialStatus
        if is_orig {
            if t.first_packet_seen & 1 == 0 {
                t.is_partial = !flags.syn() || flags.ack();
            }
        } else if t.first_packet_seen & 2 == 0 && !t.is_partial {
            t.is_partial = !flags.syn();
        }
    }
    let mut seg_len = len as i64;
    if flags.syn() {
        seg_len += 1;
    }
    if flags.fin() {
        seg_len += 1;
    }
    if flags.rst() {
        seg_len -= len as i64;
    }
    let seq_one_past = base_seq.wrapping_add(seg_len as u32);

    // init_endpoint
    {
        let t = tcp_of(&mut conn.core);
        let size_nonzero = t.eps[e].size(&t.eps[p]) > 0;
        let ep = &mut t.eps[e];
        let mut weirds: [Option<&'static str>; 2] = [None, None];
        match ep.state {
            S::Inactive => {
                if flags.syn() {
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                } else {
                    let s = base_seq.wrapping_sub(1);
                    ep.init_seqs(s, s, base_seq);
                }
                ep.last_time = cx.ts;
            }
            S::SynSent | S::SynAckSent => {
                if flags.syn() && base_seq != ep.start_seq {
                    weirds[0] = Some("SYN_seq_jump");
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Established | S::Partial => {
                if flags.syn() {
                    if size_nonzero {
                        weirds[0] = Some("SYN_inside_connection");
                    }
                    if base_seq != ep.start_seq {
                        weirds[1] = Some("SYN_seq_jump");
                    }
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Reset => {
                if flags.syn() && ep.prev_state == S::Inactive {
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Closed => {}
        }
        for w in weirds.into_iter().flatten() {
            conn_weird(&mut conn.core, cx, w, String::new(), "TCP");
        }
    }

    let (rel_seq, seq_underflow) = {
        let ep = &tcp_ref(&conn.core).eps[e];
        relative_seq(ep, base_seq, ep.last_seq, ep.seq_wraps)
    };
    if seq_underflow && !flags.rst() {
        conn_weird(
            &mut conn.core,
            cx,
            "TCP_seq_underflow_or_misorder",
            String::new(),
            "TCP",
        );
    }

    // update_history
    let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
    if bits > 1 {
        if flags.fin() && flags.rst() {
            check_hist(&mut conn.core, e, hist::FIN_RST, 'I');
        } else {
            check_hist(&mut conn.core, e, hist::MULTI_FLAG, 'Q');
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = if flags.ack() { 'H' } else { 'S' };
            if check_hist(&mut conn.core, e, hist::SYN, code)
                && rel_seq != tcp_ref(&conn.core).eps[e].hist_last_syn
            {
                add_hist(&mut conn.core, e, code);
            }
            tcp_of(&mut conn.core).eps[e].hist_last_syn = rel_seq;
        }
        if flags.fin() {
            let end = rel_seq.wrapping_add(len as u64);
            if check_hist(&mut conn.core, e, hist::FIN, 'F')
                && end != tcp_ref(&conn.core).eps[e].hist_last_fin
            {
                add_hist(&mut conn.core, e, 'F');
            }
            tcp_of(&mut conn.core).eps[e].hist_last_fin = end;
        }
        if flags.rst() {
            if check_hist(&mut conn.core, e, hist::RST, 'R')
                && rel_seq != tcp_ref(&conn.core).eps[e].hist_last_rst
            {
                add_hist(&mut conn.core, e, 'R');
            }
            tcp_of(&mut conn.core).eps[e].hist_last_rst = rel_seq;
        }
    } else if len > 0 {
        check_hist(&mut conn.core, e, hist::DATA, 'D');
    } else if flags.ack() {
        check_hist(&mut conn.core, e, hist::ACK, 'A');
    }

    // update_window
    {
        let t = tcp_ref(&conn.core);
        let ep = &t.eps[e];
        let scale = ep.window_scale.min(14);
        let window = u32::from(hdr.window) << scale;
        let zero =
            window == 0 && !flags.rst() && t.eps[p].state != S::Closed && ep.state != S::Reset;
        let mut recision = false;
        let mut accept = false;
        if !flags.syn()
            && !flags.fin()
            && !flags.rst()
            && ep.state != S::Closed
            && ep.state != S::Reset
            && tcp::seq_delta(base_seq, ep.window_seq) >= 0
            && tcp::seq_delta(ack_seq, ep.window_ack_seq) >= 0
        {
            let new_edge = ack_seq.wrapping_add(window);
            let old_edge = ep.window_ack_seq.wrapping_add(ep.window);
            let advance = tcp::seq_delta(new_edge, old_edge);
            if advance < 0 && (-(advance as i64)) >= (1i64 << scale) {
                recision = true;
            }
            accept = true;
        }
        if zero {
            scaled(&mut conn.core, cx, e, b'w');
        }
        if recision {
            conn_weird(&mut conn.core, cx, "window_recision", String::new(), "TCP");
        }
        if accept {
            let ep = &mut tcp_of(&mut conn.core).eps[e];
            ep.window = window;
            ep.window_ack_seq = ack_seq;
            ep.window_seq = base_seq;
        }
    }

    if !tcp_ref(&conn.core).both_closed() {
        conn.core.last_time = cx.ts;
    }

    let options = &ip.l4[20..hdr.hdr_len];
    if flags.syn() {
        if flags.rst() {
            conn_weird(&mut conn.core, cx, "TCP_christmas", String::new(), "TCP");
        }
        if flags.urg() {
            conn_weird(&mut conn.core, cx, "baroque_SYN", String::new(), "TCP");
        }
        if len > 0 {
            conn_weird(&mut conn.core, cx, "SYN_with_data", String::new(), "TCP");
        }
        let o = tcp::syn_options(options);
        // init_window
        {
            let t = tcp_of(&mut conn.core);
            if o.win_scale < 0 {
                t.eps[e].window_scale = 0;
                if flags.ack() {
                    t.eps[p].window_scale = 0;
                }
            } else {
                let scale = o.win_scale.min(14) as u32;
                t.eps[e].window_scale = scale;
                t.eps[e].window_seq = base_seq;
                t.eps[e].window_ack_seq = ack_seq;
                t.eps[p].window_seq = ack_seq;
                t.eps[p].window_ack_seq = base_seq;
            }
        }
        if o.win_scale > 14 && !conn.core.did_weird {
            conn_weird(
                &mut conn.core,
                cx,
                "TCP_scale_range",
                o.win_scale.to_string(),
                "TCP",
            );
        }
        raise!(
            cx.events,
            cx.ts,
            ConnectionSynPacket {
                c: conn.core.record(),
                pkt: SynPacket {
                    is_orig,
                    df: ip.dont_fragment,
                    ttl: u64::from(ip.ttl),
                    size: u64::from(ip.counted_len),
                    win_size: u64::from(hdr.window),
                    win_scale: o.win_scale,
                    mss: o.mss,
                    sack_ok: o.sack_ok,
                    tsval: o.tsval,
                    tsecr: o.tsecr,
                },
            }
        );
    }
    // Zeek's storms: from the `tcp_storm_thresh`th FIN (or RST) of an
    // endpoint on, each one within `tcp_storm_interarrival_thresh` of that
    // endpoint's previous packet is weird.
    let now = cx.ts;
    let storm = |count: u32, last: Time| {
        count >= TCP_STORM_THRESH && now < last.add(TCP_STORM_INTERARRIVAL_THRESH)
    };
    if flags.fin() {
        let ep = &mut tcp_of(&mut conn.core).eps[e];
        ep.fin_cnt = ep.fin_cnt.saturating_add(1);
        ep.fin_seq = rel_seq.wrapping_add(seg_len as u64);
        if storm(ep.fin_cnt, ep.last_time) {
            conn_weird(&mut conn.core, cx, "FIN_storm", String::new(), "TCP");
        }
    }
    if flags.rst() {
        let ep = &mut tcp_of(&mut conn.core).eps[e];
        ep.rst_cnt = ep.rst_cnt.saturating_add(1);
        if storm(ep.rst_cnt, ep.last_time) {
            conn_weird(&mut conn.core, cx, "RST_storm", String::new(), "TCP");
        }
    }

    let mut rel_ack: u64 = 0;
    if flags.ack() {
        let t = tcp_ref(&conn.core);
        if is_orig && !t.seen_first_ack && matches!(t.eps[e].state, S::Established | S::SynSent) {
            tcp_of(&mut conn.core).seen_first_ack = true;
            raise!(
                cx.events,
                cx.ts,
                ConnectionFirstAck {
                    c: conn.core.record()
                }
            );
        }
        let t = tcp_ref(&conn.core);
        if t.eps[p].state == S::Inactive {
            rel_ack = 1;
            if !flags.syn()
                && !flags.fin()
                && !flags.rst()
                && matches!(t.eps[e].state, S::SynSent | S::SynAckSent | S::Established)
                && !conn.core.did_weird
            {
                // Zeek reports it on the connection, not from its TCP analyzer: no source.
                conn_weird(
                    &mut conn.core,
                    cx,
                    "possible_split_routing",
                    String::new(),
                    "",
                );
            }
            let s = ack_seq.wrapping_sub(1);
            tcp_of(&mut conn.core).eps[p].init_seqs(s, s, s);
        } else {
            let pe = &t.eps[p];
            let (ra, underflow) = relative_seq(pe, ack_seq, pe.ack_seq, pe.ack_wraps);
            if underflow {
                rel_ack = 0;
                conn_weird(
                    &mut conn.core,
                    cx,
                    "TCP_ack_underflow_or_misorder",
                    String::new(),
                    "TCP",
                );
            } else {
                rel_ack = ra;
                if !flags.rst() {
                    let pe = &mut tcp_of(&mut conn.core).eps[p];
                    let delta = tcp::seq_delta(ack_seq, pe.ack_seq);
                    if !(ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                        pe.update_ack_seq(ack_seq);
                    }
                }
            }
        }
    }

    // update_last_seq
    let delta_last = {
        let ep = &mut tcp_of(&mut conn.core).eps[e];
        let delta = tcp::seq_delta(seq_one_past, ep.last_seq);
        let mut rexmit = false;
        if (flags.syn() || flags.rst())
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
        {
        } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
            ep.update_last_seq(seq_one_past);
        } else if ep.state == S::Reset {
        } else if delta > 0 {
            ep.update_last_seq(seq_one_past);
        } else if len > 0 {
            rexmit = true;
        }
        ep.last_time = cx.ts;
        if rexmit {
            scaled(&mut conn.core, cx, e, b't');
        }
        delta
    };

    let (do_close, gen_event) = tcp_state_machine(
        cx, conn, e, is_orig, base_seq, ack_seq, len, delta_last, flags,
    );

    if flags.ack() {
        ack_received(cx, conn, p, rel_ack);
    }

    raise!(
        cx.events,
        cx.ts,
        TcpPacket {
            c: conn.core.record(),
            is_orig,
            flags: flags.as_string(),
            seq: rel_seq,
            ack: if flags.ack() { rel_ack } else { 0 },
            len: len as u64,
            payload: ZString::copy_from(&payload[..caplen.min(len)]),
        }
    );
    if hdr.hdr_len > 20 && cx.events.wants(<TcpOption as crate::event::TypedEvent>::ID) {
        for (opt, optlen) in tcp::option_list(options) {
            raise!(
                cx.events,
                cx.ts,
                TcpOption {
                    c: conn.core.record(),
                    is_orig,
                    opt: u64::from(opt),
                    optlen: u64::from(optlen)
                }
            );
        }
    }
    {
        let t = tcp_of(&mut conn.core);
        t.first_packet_seen |= if is_orig { 1 } else { 2 };
    }

    let rel_data_seq = if flags.syn() {
        rel_seq.wrapping_add(1)
    } else {
        rel_seq
    };
    if len > 0 && !flags.rst() && !seq_underflow {
        if caplen >= len {
            data_sent(cx, conn, e, rel_data_seq, &payload[..len]);
        } else {
            conn_weird(
                &mut conn.core,
                cx,
                "truncated_tcp_payload",
                String::new(),
                "TCP",
            );
        }
    }
    check_eof(cx, conn, e);
    if do_close {
        connection_closed(cx, conn, e, gen_event);
    }
    // The packet children, in Zeek's order: TCPSTATS, then ConnSize.
    if cx.cfg.tcp_stats {
        tcp_stats(cx, conn, e, is_orig, rel_data_seq, len as u64, ip.ip_id);
    }
    conn_size(&mut conn.core, cx, is_orig, ip.counted_len);
}

/// Zeek's TCPSTATS analyzer sees every packet after the TCP state is updated
/// and raises `tcp_rexmit` for data sent again in IP-ID order.
fn tcp_stats(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    e: usize,
    is_orig: bool,
    rel_data_seq: u64,
    len: u64,
    ip_id: u32,
) {
    let t = tcp_of(&mut conn.core);
    let stats = t.stats.get_or_insert_with(Default::default);
    let Some(rexmit) = stats[e].packet(rel_data_seq, len, ip_id) else {
        return;
    };
    let ep = &t.eps[e];
    let data_in_flight = tcp::seq_delta(ep.last_seq, ep.ack_seq).max(0) as u64;
    let window = u64::from(t.eps[1 - e].window);
    raise!(
        cx.events,
        cx.ts,
        TcpRexmit {
            c: conn.core.record(),
            is_orig,
            seq: rexmit.seq,
            len: rexmit.len,
            data_in_flight,
            window
        }
    );
}

#[allow(clippy::too_many_arguments)]
pub(super) fn tcp_state_machine(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    e: usize,
    is_orig: bool,
    base_seq: u32,
    ack_seq: u32,
    len: usize,
    delta_last: i32,
    flags: Flags,
) -> (bool, bool) {
    let p = 1 - e;
    let mut do_close = false;
    let mut gen_event = false;
    let state = |conn: &Conn, i: usize| tcp_ref(&conn.core).eps[i].state;
    let mut epoch = conn.inactivity_epoch;
    macro_rules! weird {
        ($n:expr) => {
            conn_weird(&mut conn.core, cx, $n, String::new(), "TCP")
        };
    }
    macro_rules! set {
        ($i:expr, $s:expr) => {
            set_state(&mut conn.core, cx, &mut epoch, $i, $s)
        };
    }
    match state(conn, e) {
        S::Inactive => {
            if flags.syn() {
                if is_orig {
                    if flags.ack() {
                        weird!("connection_originator_SYN_ack");
                        set!(e, S::SynAckSent);
                    } else {
                        set!(e, S::SynSent);
                    }
                    let at = cx.ts.add(cx.cfg.timeouts.tcp_attempt_delay);
                    add_analyzer_timer(conn, cx, at, TimerKind::TcpAttempt);
                } else {
                    if flags.ack() {
                        let pe = &tcp_ref(&conn.core).eps[p];
                        if pe.state != S::Inactive && pe.state != S::Partial {
                            let between = tcp::seq_delta(ack_seq, pe.start_seq) >= 0
                                && tcp::seq_delta(pe.last_seq, ack_seq) >= 0;
                            if !between {
                                weird!("bad_SYN_ack");
                            }
                        }
                    } else if state(conn, p) == S::SynAckSent
                        && base_seq == tcp_ref(&conn.core).eps[e].start_seq
                    {
                        // SYN and SYN-ACK seen in reverse order: flip and establish.
                        tcp_of(&mut conn.core).is_partial = false;
                        conn.core.flip_roles();
                        set!(p, S::Established);
                        tcp_of(&mut conn.core).first_packet_seen |= 1;
                    } else {
                        weird!("simultaneous_open");
                    }
                    if state(conn, p) == S::SynSent {
                        set!(p, S::Established);
                    } else if state(conn, p) == S::Inactive {
                        weird!("unsolicited_SYN_response");
                    }
                    set!(e, S::Established);
                    if state(conn, p) != S::Partial {
                        raise!(
                            cx.events,
                            cx.ts,
                            ConnectionEstablished {
                                c: conn.core.record()
                            }
                        );
                    }
                }
            }
            if flags.fin() {
                set!(e, S::Closed);
                do_close = true;
                gen_event = true;
                if state(conn, p) != S::Partial && !flags.syn() {
                    weird!("spontaneous_FIN");
                }
            }
            if flags.rst() {
                set!(e, S::Reset);
                let ps = state(conn, p);
                let is_reject = if is_orig {
                    ps == S::Established
                } else {
                    matches!(ps, S::SynSent | S::SynAckSent)
                };
                do_close = true;
                gen_event = !is_reject;
                if is_reject {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionRejected {
                            c: conn.core.record()
                        }
                    );
                } else if ps == S::Inactive {
                    weird!("spontaneous_RST");
                }
            }
            if state(conn, e) == S::Inactive {
                let orig_state = tcp_ref(&conn.core).orig().state;
                if !is_orig && len == 0 && orig_state == S::SynSent {
                    // An ack of the SYN before the SYN-ACK: not a partial connection.
                } else if flags.ack() && state(conn, p) == S::Established {
                    set!(e, S::Established);
                    tcp_of(&mut conn.core).is_partial = false;
                    tcp_of(&mut conn.core).first_packet_seen |= if is_orig { 1 } else { 2 };
                } else {
                    set!(e, S::Partial);
                    if state(conn, p) == S::Partial {
                        raise!(
                            cx.events,
                            cx.ts,
                            PartialConnection {
                                c: conn.core.record()
                            }
                        );
                    }
                }
            }
        }
        S::SynSent | S::SynAckSent => {
            let es = state(conn, e);
            if flags.syn() {
                if is_orig {
                    if flags.ack() && !flags.fin() && !flags.rst() && es != S::SynAckSent {
                        weird!("repeated_SYN_with_ack");
                    }
                } else if !flags.ack() && es != S::SynSent {
                    weird!("repeated_SYN_reply_wo_ack");
                }
            }
            if flags.fin() {
                if matches!(state(conn, p), S::Inactive | S::SynSent) {
                    weird!("inappropriate_FIN");
                }
                set!(e, S::Closed);
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                set!(e, S::Reset);
                connection_reset(cx, conn);
                do_close = true;
            } else if len > 0 {
                weird!("data_before_established");
            }
        }
        S::Established | S::Partial => {
            if flags.syn()
                && state(conn, e) == S::Partial
                && state(conn, p) == S::Inactive
                && !flags.ack()
            {
                weird!("SYN_after_partial");
                set!(e, S::SynSent);
            }
            if flags.fin() && !flags.rst() {
                set!(e, S::Closed);
                let pe = &tcp_ref(&conn.core).eps[p];
                if pe.state == S::Reset && pe.prev_state == S::Closed {
                    set!(p, S::Closed);
                }
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                set!(e, S::Reset);
                do_close = true;
                let pe = &tcp_ref(&conn.core).eps[p];
                if pe.state != S::Reset || pe.prev_state != S::Established {
                    connection_reset(cx, conn);
                }
            }
        }
        S::Closed => {
            if flags.syn() {
                weird!("SYN_after_close");
            }
            if flags.fin() && delta_last > 0 {
                weird!("FIN_advanced_last_seq");
            }
            if flags.rst() && state(conn, p) != S::Closed {
                set!(e, S::Reset);
                if !tcp_ref(&conn.core).eps[e].did_close {
                    do_close = true;
                }
                let at = cx.ts.add(cx.cfg.timeouts.tcp_reset_delay);
                add_analyzer_timer(conn, cx, at, TimerKind::TcpReset);
            }
        }
        S::Reset => {
            if flags.syn() {
                weird!("SYN_after_reset");
            }
            if flags.fin() {
                weird!("FIN_after_reset");
            }
            if len > 0 && !flags.rst() {
                weird!("data_after_reset");
            }
        }
    }
    conn.inactivity_epoch = epoch;
    (do_close, gen_event)
}

pub(super) fn connection_reset(cx: &mut Cx<'_>, conn: &mut Conn) {
    raise!(
        cx.events,
        cx.ts,
        ConnectionReset {
            c: conn.core.record()
        }
    );
    tcp_of(&mut conn.core).is_active = false;
}

pub(super) fn is_clean(ep: &TcpEndpoint) -> bool {
    ep.state == S::Established || (ep.state == S::Closed && ep.prev_state == S::Established)
}

/// Delivers reassembled pieces of endpoint `e`'s stream to the analyzers.
pub(super) fn deliver_pieces(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, payload: &[u8]) {
    if cx.scratch.is_empty() {
        return;
    }
    let pieces = std::mem::take(cx.scratch);
    let is_orig = tcp_ref(&conn.core).eps[e].is_orig;
    let contents = if is_orig {
        cx.cfg.tcp_content_deliver_all_orig
    } else {
        cx.cfg.tcp_content_deliver_all_resp
    };
    for piece in &pieces {
        match piece {
            Piece::Packet { seq, start, end } => {
                let data = &payload[*start..*end];
                record_contents(cx, conn, e, data, false);
                if contents {
                    raise!(
                        cx.events,
                        cx.ts,
                        TcpContents {
                            c: conn.core.record(),
                            is_orig,
                            seq: *seq,
                            contents: ZString::copy_from(data)
                        }
                    );
                }
                drive(conn, cx, is_orig, Feed::Data(data));
            }
            Piece::Buffered { seq, data } => {
                record_contents(cx, conn, e, data, false);
                if contents {
                    raise!(
                        cx.events,
                        cx.ts,
                        TcpContents {
                            c: conn.core.record(),
                            is_orig,
                            seq: *seq,
                            contents: ZString::copy_from(data)
                        }
                    );
                }
                drive(conn, cx, is_orig, Feed::Data(data));
            }
            Piece::Gap { len, .. } => {
                record_contents(cx, conn, e, format!("\n<<gap {len}>>\n").as_bytes(), true);
                let t = tcp_ref(&conn.core);
                if is_clean(&t.eps[e]) && is_clean(&t.eps[1 - e]) {
                    scaled(&mut conn.core, cx, e, b'g');
                    conn.core.missed_bytes += len;
                }
                drive(conn, cx, is_orig, Feed::Gap(*len));
            }
        }
    }
    let mut pieces = pieces;
    pieces.clear();
    *cx.scratch = pieces;
}

/// Writes in-order stream bytes (or a gap marker) to the endpoint's
/// contents file, if `set_contents_file` gave it one.
fn record_contents(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, data: &[u8], gap: bool) {
    let Some(file) = &tcp_ref(&conn.core).contents[e] else {
        return;
    };
    if file.write(data).is_ok() {
        return;
    }
    let is_orig = tcp_ref(&conn.core).eps[e].is_orig;
    let msg = if gap {
        "TCP reassembler gap write failure"
    } else {
        "TCP reassembler content write failure"
    };
    raise!(
        cx.events,
        cx.ts,
        ContentsFileWriteFailure {
            c: conn.core.record(),
            is_orig,
            msg: ZString::from(msg)
        }
    );
}

pub(super) fn data_sent(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, seq: u64, data: &[u8]) {
    let limits = cx.cfg.reassembly;
    let max_window = cx.cfg.tcp_max_initial_window;
    let before = buffered(conn, e);
    let result = {
        let t = tcp_of(&mut conn.core);
        let ep = &mut t.eps[e];
        let acked = ep.relative(ep.ack_seq, ep.ack_wraps);
        let no_acks = ep.no_data_acked();
        ep.reasm_mut()
            .data_sent(seq, data, acked, no_acks, &limits, cx.scratch)
    };
    account_buffered(cx, conn, e, before);
    if cx.cfg.reassembly_memcap > 0 && *cx.reassembly_buffered > cx.cfg.reassembly_memcap {
        // Over the global limit: this direction, the one growing, gives up.
        let before = buffered(conn, e);
        tcp_of(&mut conn.core).eps[e].reasm_mut().abandon();
        account_buffered(cx, conn, e, before);
        cx.summary.reassembly_memcap_hits += 1;
        conn_weird(
            &mut conn.core,
            cx,
            "reassembly_memcap_reached",
            String::new(),
            "TCP",
        );
    }
    deliver_pieces(cx, conn, e, data);
    match result {
        Err(Overflow::AboveHoleWithoutAcks) => conn_weird(
            &mut conn.core,
            cx,
            "above_hole_data_without_any_acks",
            String::new(),
            "TCP",
        ),
        Err(Overflow::ExcessiveData) => conn_weird(
            &mut conn.core,
            cx,
            "excessive_data_without_further_acks",
            String::new(),
            "TCP",
        ),
        Ok(_) => {}
    }
    let before = buffered(conn, e);
    let inconsistent = {
        let t = tcp_of(&mut conn.core);
        let (a, b) = t.eps.split_at_mut(1);
        let (ep, peer) = if e == 0 {
            (&mut a[0], &b[0])
        } else {
            (&mut b[0], &a[0])
        };
        if ep.no_data_acked() && max_window > 0 && ep.size(peer) > max_window {
            ep.reasm_mut().trim_delivered();
        }
        std::mem::take(&mut ep.reasm_mut().inconsistent)
    };
    account_buffered(cx, conn, e, before);
    if inconsistent {
        conn_weird(
            &mut conn.core,
            cx,
            "rexmit_inconsistency",
            String::new(),
            "TCP",
        );
    }
}

/// What one direction's reassembler holds in memory.
fn buffered(conn: &Conn, e: usize) -> u64 {
    tcp_ref(&conn.core).eps[e].reasm().memory()
}

/// Brings the engine's total up to date after a direction's buffer changed.
fn account_buffered(cx: &mut Cx<'_>, conn: &Conn, e: usize, before: u64) {
    let after = buffered(conn, e);
    *cx.reassembly_buffered = cx.reassembly_buffered.saturating_sub(before) + after;
}

pub(super) fn ack_received(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, rel_ack: u64) {
    let before = buffered(conn, e);
    {
        let t = tcp_of(&mut conn.core);
        let partial = t.is_partial;
        let ep = &mut t.eps[e];
        let mut seq = rel_ack;
        if ep.fin_cnt > 0 && seq >= ep.fin_seq {
            seq = ep.fin_seq.wrapping_sub(1);
        }
        ep.reasm_mut().trim_to(seq, partial, cx.scratch);
    }
    account_buffered(cx, conn, e, before);
    deliver_pieces(cx, conn, e, &[]);
    check_eof(cx, conn, e);
}

pub(super) fn data_pending(conn: &Conn, e: usize) -> bool {
    let t = tcp_ref(&conn.core);
    t.eps[e].data_pending(&t.eps[1 - e])
}

pub(super) fn check_eof(cx: &mut Cx<'_>, conn: &mut Conn, e: usize) {
    let ep = &tcp_ref(&conn.core).eps[e];
    if ep.reasm().did_eof
        || !(ep.fin_cnt > 0 || ep.state == S::Closed || ep.state == S::Reset)
        || data_pending(conn, e)
    {
        return;
    }
    tcp_of(&mut conn.core).eps[e].reasm_mut().did_eof = true;
    let is_orig = tcp_ref(&conn.core).eps[e].is_orig;
    raise!(
        cx.events,
        cx.ts,
        ConnectionEof {
            c: conn.core.record(),
            is_orig
        }
    );
    drive(conn, cx, is_orig, Feed::Eof);
    if tcp_ref(&conn.core).close_deferred {
        if data_pending(conn, e) && tcp_ref(&conn.core).both_closed() {
            conn_weird(
                &mut conn.core,
                cx,
                "pending_data_when_closed",
                String::new(),
                "TCP",
            );
        }
        let gen = tcp_ref(&conn.core).deferred_gen_event;
        connection_closed(cx, conn, e, gen);
        tcp_of(&mut conn.core).close_deferred = false;
    }
}

pub(super) fn connection_closed(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, mut gen_event: bool) {
    let p = 1 - e;
    if data_pending(conn, e) {
        let t = tcp_of(&mut conn.core);
        t.close_deferred = true;
        if !t.deferred_gen_event {
            t.deferred_gen_event = gen_event;
        }
        return;
    }
    let t = tcp_of(&mut conn.core);
    t.close_deferred = false;
    if t.eps[e].did_close {
        return;
    }
    t.eps[e].did_close = true;
    let (ep, pe) = (&t.eps[e], &t.eps[p]);
    let close_complete = ep.state == S::Reset || pe.did_close || pe.state == S::Inactive;
    if close_complete {
        if ep.prev_state != S::Inactive || pe.state != S::Inactive {
            let half = pe.state == S::Inactive;
            if t.deferred_gen_event {
                gen_event = true;
                t.deferred_gen_event = false;
            }
            if gen_event {
                t.is_active = false;
                if half {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionHalfFinished {
                            c: conn.core.record()
                        }
                    );
                } else {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionFinished {
                            c: conn.core.record()
                        }
                    );
                }
            }
        }
        conn.analyzer_epoch += 1;
        let at = conn.core.last_time.add(cx.cfg.timeouts.tcp_close_delay);
        add_analyzer_timer(conn, cx, at, TimerKind::ConnDelete);
    } else if ep.prev_state == S::Inactive {
        if cx
            .events
            .wants(<ConnectionPartialClose as crate::event::TypedEvent>::ID)
        {
            let at = conn
                .core
                .last_time
                .add(cx.cfg.timeouts.tcp_partial_close_delay);
            add_analyzer_timer(conn, cx, at, TimerKind::TcpPartialClose);
        }
    } else {
        let at = conn.core.last_time.add(cx.cfg.timeouts.tcp_session_timer);
        add_analyzer_timer(conn, cx, at, TimerKind::TcpExpire);
    }
}

// ----- UDP ---------------------------------------------------------------------------

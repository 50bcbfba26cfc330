//! Bodies: content length, chunked transfer, content decoding, entity data
//! and the end of a message.

use super::*;
impl Session {
    pub(super) fn chunk_size(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8]) {
        let field = trim_start(line);
        let digits = field.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let size = if digits == 0 {
            None
        } else {
            field[..digits].iter().try_fold(0i64, |n, &d| {
                n.checked_mul(16)?.checked_add(i64::from(hex(d)))
            })
        };
        match size {
            Some(n) if n > 0 => self.sides[ix(is_orig)].body = Body::ChunkData(n as u64),
            Some(_) => self.sides[ix(is_orig)].body = Body::Trailer,
            None => {
                cx.weird(
                    "HTTP_bad_chunk_size",
                    String::from_utf8_lossy(line).into_owned(),
                );
                self.sides[ix(is_orig)].body = Body::Trailer;
            }
        }
    }

    /// Consumes body bytes from `data`; returns how many were taken.
    pub(super) fn body_bytes(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        data: &[u8],
    ) -> usize {
        let side = &mut self.sides[ix(is_orig)];
        let (take, next) = match side.body {
            Body::Length(n) => {
                let take = (data.len() as u64).min(n) as usize;
                (
                    take,
                    if take as u64 == n {
                        Some(Body::None)
                    } else {
                        Some(Body::Length(n - take as u64))
                    },
                )
            }
            Body::ChunkData(n) => {
                let take = (data.len() as u64).min(n) as usize;
                (
                    take,
                    Some(if take as u64 == n {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(n - take as u64)
                    }),
                )
            }
            Body::UntilClose => (data.len(), None),
            _ => (0, None),
        };
        if let Some(b) = next {
            side.body = b;
        }
        if let Some(used) = self.entity_data(cx, is_orig, &data[..take]) {
            // A multipart body's close delimiter ends the message; what follows is parsed anew.
            self.end_message(cx, is_orig, false, NORMAL_END);
            return used;
        }
        if self.sides[ix(is_orig)].body == Body::None
            && self.sides[ix(is_orig)].phase == Phase::Body
        {
            // A Content-Length body is complete: Zeek's SetDeliverySize(-1).
            self.sides[ix(is_orig)].delivery_length = -1;
            self.end_message(cx, is_orig, false, "message ends normally");
        }
        take
    }

    /// Hands body bytes to the message; `Some(n)` when a multipart body ended after `n` of them.
    pub(super) fn entity_data(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        data: &[u8],
    ) -> Option<usize> {
        if data.is_empty() {
            return None;
        }
        let max_decoded = self.limits.max_decoded;
        let connection_close = self.connection_close;
        let msg = self.sides[ix(is_orig)].msg.as_mut()?;
        let deliver = !msg.skip_data && cx.events.wants(HttpEntityData::ID);
        if let Some(last) = msg.by_lines.as_mut() {
            let mut prev = *last;
            for &b in data {
                if b == b'\n' && prev != b'\r' {
                    msg.body_length += 1;
                }
                prev = b;
            }
            *last = prev;
        }
        if msg.decoder.is_none() {
            if let Some(mp) = msg.multipart.as_mut() {
                mp.connection_close = connection_close;
                return mp.feed(
                    cx,
                    is_orig,
                    data,
                    &mut msg.data_buf,
                    &mut msg.body_length,
                    deliver,
                    &self.limits,
                );
            }
        }
        let Message {
            decoder,
            data_buf,
            body_length,
            ..
        } = msg;
        let mut submit = |chunk: &[u8]| {
            *body_length += chunk.len() as u64;
            if deliver {
                buffer_entity_data(cx, is_orig, data_buf, chunk);
            }
        };
        match decoder.as_mut() {
            Some(dec) if !dec.failed => {
                decode(dec, data, max_decoded, &mut submit);
                if dec.failed {
                    // Zeek's ZIP analyzer reports it, then delivers nothing more of the body.
                    cx.weird_from("ZIP", "inflate_failed", String::new());
                }
            }
            Some(_) => {}
            None => submit(data),
        }
        None
    }

    pub(super) fn end_message(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        interrupted: bool,
        finish_msg: &'static str,
    ) {
        let side = &mut self.sides[ix(is_orig)];
        if side.phase != Phase::Stopped {
            side.phase = if interrupted {
                Phase::Stopped
            } else {
                Phase::FirstLine
            };
        }
        side.body = Body::None;
        let Some(mut msg) = side.msg.take() else {
            return;
        };
        if let Some(prev) = msg.last_header.take() {
            // Interrupted in the headers: submit what we have.
            let folded = msg.folded;
            side.msg = Some(msg);
            self.submit_header(cx, is_orig, &prev, folded);
            msg = self.sides[ix(is_orig)].msg.take().expect("put back above");
        }
        if msg.by_lines.is_some_and(|last| last != b'\n') {
            msg.body_length += 2;
        }
        if let Some(mut mp) = msg.multipart.take() {
            let deliver = !msg.skip_data && cx.events.wants(HttpEntityData::ID);
            mp.finish(
                cx,
                is_orig,
                &mut msg.data_buf,
                &mut msg.body_length,
                deliver,
                &self.limits,
            );
        }
        self.flush_entity_data(cx, is_orig, &mut msg);
        raise!(
            cx.events,
            cx.ts,
            HttpEndEntity {
                c: cx.conn.record(),
                is_orig
            }
        );
        raise!(
            cx.events,
            cx.ts,
            HttpMessageDone {
                c: cx.conn.record(),
                is_orig,
                stat: HttpMessageStat {
                    start: msg.start,
                    interrupted,
                    finish_msg: ZString::from(finish_msg),
                    body_length: msg.body_length,
                    content_gap_length: msg.gap_length,
                    header_length: msg.header_length,
                },
            }
        );
        if !is_orig {
            let informational = (100..200).contains(&msg.status);
            if !informational {
                self.pending.pop_front();
            }
            // An upgrade confirmed by 101 ends HTTP on this connection.
            if msg.status == 101 && self.pending.len() == 1 && msg.connection_upgrade {
                if let Some(protocol) = msg.upgrade.filter(|p| !p.is_empty()) {
                    // HTTP::upgrade_analyzers: the WebSocket analyzer takes the rest
                    // (the name as sent, else lower-cased).
                    let to = protocol
                        .as_bytes()
                        .eq_ignore_ascii_case(b"websocket")
                        .then_some("WEBSOCKET");
                    if let Some(tag) = to {
                        cx.hand_off(tag);
                    }
                    self.upgrade_rest = Some(to);
                    raise!(
                        cx.events,
                        cx.ts,
                        HttpConnectionUpgrade {
                            c: cx.conn.record(),
                            protocol
                        }
                    );
                    self.stop_all();
                }
            }
        }
    }

    /// Hands buffered entity data out as one `http_entity_data`.
    pub(super) fn flush_entity_data(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        msg: &mut Message,
    ) {
        if msg.data_buf.is_empty() {
            return;
        }
        let data = std::mem::take(&mut msg.data_buf);
        raise!(
            cx.events,
            cx.ts,
            HttpEntityData {
                c: cx.conn.record(),
                is_orig,
                length: data.len() as u64,
                data: ZString::from(data),
            }
        );
    }
}

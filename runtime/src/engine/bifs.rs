//! The script-level functions of the connection analyzers (Zeek's BIFs in
//! `tcp/functions.bif` and `conn-size/functions.bif`): looking a connection
//! up by its id and reading or changing its state from outside the packet path.

use super::*;
pub use crate::conn::contents::{ContentsDirection, ContentsFile};
use crate::analyzer::Analyzer;

impl Engine {
    pub(super) fn find(&self, cid: &ConnId) -> Option<&Conn> {
        self.table.values().copied().find_map(|s| {
            let c = self.slots[s as usize].conn.as_deref()?;
            (c.core.id == *cid).then_some(c)
        })
    }

    pub(super) fn find_mut(&mut self, cid: &ConnId) -> Option<&mut Conn> {
        let proto = match cid.resp_p.proto {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            _ => {
                return self
                    .find(cid)
                    .map(|c| c.key)
                    .and_then(|k| self.table.get(&k).copied())
                    .and_then(|s| self.slots[s as usize].conn.as_deref_mut())
            }
        };
        let key = ConnKey::new(
            (cid.orig_h, cid.orig_p.number),
            (cid.resp_h, cid.resp_p.number),
            proto,
            false,
            (None, None),
        );
        let slot = match self.table.get(&key) {
            Some(s) => *s,
            None => self
                .find(cid)
                .map(|c| c.key)
                .and_then(|k| self.table.get(&k).copied())?,
        };
        self.slots[slot as usize]
            .conn
            .as_deref_mut()
            .filter(|c| c.core.id == *cid)
    }

    /// The running analyzer `tag` of a connection, for its protocol's functions
    /// (Zeek's `analyzer_mgr` lookups in BIFs such as `skip_smtp_data`).
    pub fn analyzer_mut(&mut self, cid: &ConnId, tag: &str) -> Option<&mut dyn Analyzer> {
        let conn = self.find_mut(cid)?;
        let a = conn.analyzers.iter_mut().find(|a| a.tag == tag)?;
        Some(a.analyzer())
    }

    /// `get_orig_seq`: the originator's highest sequence number, 0 if unknown.
    pub fn get_orig_seq(&mut self, cid: &ConnId) -> u64 {
        self.seq_of(cid, true)
    }
    /// `get_resp_seq`.
    pub fn get_resp_seq(&mut self, cid: &ConnId) -> u64 {
        self.seq_of(cid, false)
    }
    fn seq_of(&mut self, cid: &ConnId, orig: bool) -> u64 {
        match self.find_mut(cid).map(|c| &c.core.transport) {
            Some(Transport::Tcp(t)) => {
                let e = if orig { t.orig() } else { t.resp() };
                TcpEndpoint::full_seq(e.last_seq, e.seq_wraps)
            }
            _ => 0,
        }
    }
    /// `set_current_conn_bytes_threshold`; false if the connection is unknown.
    pub fn set_current_conn_bytes_threshold(
        &mut self,
        cid: &ConnId,
        threshold: u64,
        is_orig: bool,
    ) -> bool {
        match self.find_mut(cid) {
            Some(c) => {
                c.core.size[if is_orig { 0 } else { 1 }].bytes_threshold = threshold;
                true
            }
            None => false,
        }
    }
    pub fn set_current_conn_packets_threshold(
        &mut self,
        cid: &ConnId,
        threshold: u64,
        is_orig: bool,
    ) -> bool {
        match self.find_mut(cid) {
            Some(c) => {
                c.core.size[if is_orig { 0 } else { 1 }].pkts_threshold = threshold;
                true
            }
            None => false,
        }
    }
    pub fn get_current_conn_bytes_threshold(&mut self, cid: &ConnId, is_orig: bool) -> u64 {
        self.find_mut(cid).map_or(0, |c| {
            c.core.size[if is_orig { 0 } else { 1 }].bytes_threshold
        })
    }
    pub fn get_current_conn_packets_threshold(&mut self, cid: &ConnId, is_orig: bool) -> u64 {
        self.find_mut(cid).map_or(0, |c| {
            c.core.size[if is_orig { 0 } else { 1 }].pkts_threshold
        })
    }

    /// `set_contents_file`: from now on, write the reassembled bytes of the
    /// chosen sides of a TCP connection to `file` (gaps as `<<gap N>>`
    /// lines, as Zeek's reassembler records them); `None` or
    /// [`ContentsDirection::None`] stops recording. False if `cid` names no
    /// live TCP connection. A failed write raises `contents_file_write_failure`.
    pub fn set_contents_file(
        &mut self,
        cid: &ConnId,
        direction: ContentsDirection,
        file: Option<ContentsFile>,
    ) -> bool {
        let Some(Transport::Tcp(t)) = self.find_mut(cid).map(|c| &mut c.core.transport) else {
            return false;
        };
        let (orig, resp) = (t.idx(true), t.idx(false));
        match direction {
            ContentsDirection::None => {
                t.contents = [None, None];
            }
            ContentsDirection::Orig => t.contents[orig] = file,
            ContentsDirection::Resp => t.contents[resp] = file,
            ContentsDirection::Both => {
                t.contents[orig] = file.clone();
                t.contents[resp] = file;
            }
        }
        true
    }

    /// `get_contents_file`: the file recording `direction` of a TCP
    /// connection; `None` if there is none (or, for both sides, if they
    /// record to different files, as Zeek reports it).
    pub fn get_contents_file(
        &mut self,
        cid: &ConnId,
        direction: ContentsDirection,
    ) -> Option<ContentsFile> {
        let Some(Transport::Tcp(t)) = self.find_mut(cid).map(|c| &mut c.core.transport) else {
            return None;
        };
        let (orig, resp) = (&t.contents[t.idx(true)], &t.contents[t.idx(false)]);
        match direction {
            ContentsDirection::None => None,
            ContentsDirection::Orig => orig.clone(),
            ContentsDirection::Resp => resp.clone(),
            ContentsDirection::Both => match (orig, resp) {
                (Some(o), Some(r)) if o.same_file(r) => Some(o.clone()),
                (None, None) => None,
                _ => None,
            },
        }
    }
}

//! BPF filters (`-f`): compiled by libpcap, run by a small interpreter here.
//!
//! libpcap's `pcap_offline_filter` as wrapped by the `pcap` crate only sees
//! the captured length, so filters on the wire length (`greater`, `less`,
//! `len`) would be wrong for snap-length-cut packets. Running the compiled
//! classic-BPF program ourselves gives the right answer and costs no FFI
//! call per packet.

use super::CaptureError;
use crate::packet::LinkType;

/// One classic BPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// A compiled BPF filter expression.
#[derive(Debug, Clone)]
pub struct BpfFilter {
    expr: String,
    program: Vec<Insn>,
    snaplen: u32,
}

/// libpcap's DLT number for a link type (the numbers `pcap_open_dead` takes;
/// they differ from the LINKTYPE numbers in files only for raw IP).
fn dlt_for(link: LinkType) -> i32 {
    match link {
        LinkType::Raw => 12,
        other => other.to_linktype() as i32,
    }
}

impl BpfFilter {
    /// Compiles `expr` (tcpdump syntax) for frames of link type `link`
    /// read from a capture with snap length `snaplen` (0 = unlimited); the
    /// snap length caps [`BpfFilter::accept_len`], as it does in libpcap.
    pub fn compile(expr: &str, link: LinkType, snaplen: u32) -> Result<BpfFilter, CaptureError> {
        let bad = |reason: String| CaptureError::BadFilter {
            expr: expr.to_string(),
            reason,
        };
        let dead =
            pcap::Capture::dead(pcap::Linktype(dlt_for(link))).map_err(|e| bad(e.to_string()))?;
        let compiled = dead.compile(expr, true).map_err(|e| bad(e.to_string()))?;
        let mut program = Vec::with_capacity(compiled.get_instructions().len());
        for insn in compiled.get_instructions() {
            // The pcap crate exposes instructions only through Display as
            // "code jt jf k".
            let text = insn.to_string();
            let mut fields = text.split_whitespace();
            let mut next = || fields.next().and_then(|f| f.parse::<u64>().ok());
            match (next(), next(), next(), next()) {
                (Some(code), Some(jt), Some(jf), Some(k))
                    if code <= 0xffff && jt <= 0xff && jf <= 0xff && k <= 0xffff_ffff =>
                {
                    program.push(Insn {
                        code: code as u16,
                        jt: jt as u8,
                        jf: jf as u8,
                        k: k as u32,
                    });
                }
                _ => return Err(bad(format!("unexpected compiled instruction '{}'", text))),
            }
        }
        if program.is_empty() {
            return Err(bad("libpcap produced an empty program".into()));
        }
        Ok(BpfFilter {
            expr: expr.to_string(),
            program,
            snaplen: if snaplen == 0 { u32::MAX } else { snaplen },
        })
    }

    /// The expression this filter was compiled from.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Whether a frame with captured bytes `data`, `wire_len` bytes long on
    /// the wire, passes the filter.
    pub fn matches(&self, data: &[u8], wire_len: u32) -> bool {
        self.accept_len(data, wire_len) != 0
    }

    /// How many bytes of the frame the filter keeps (BPF's return value,
    /// capped at the snap length); 0 means the frame is rejected.
    pub fn accept_len(&self, data: &[u8], wire_len: u32) -> u32 {
        run(&self.program, data, wire_len).min(self.snaplen)
    }
}

fn load(data: &[u8], offset: u32, size: u16) -> Option<u32> {
    let at = offset as usize;
    match size {
        0x00 => data
            .get(at..at.checked_add(4)?)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        0x08 => data
            .get(at..at.checked_add(2)?)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as u32),
        0x10 => data.get(at).map(|&b| b as u32),
        _ => None,
    }
}

/// Runs a classic BPF program as libpcap's `bpf_filter` does; returns the
/// accept length (0 = reject). Out-of-bounds loads, division by zero and
/// jumps out of the program reject.
fn run(program: &[Insn], data: &[u8], wire_len: u32) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    while let Some(insn) = program.get(pc) {
        pc += 1;
        let k = insn.k;
        let size = insn.code & 0x18;
        match insn.code & 0x07 {
            // BPF_LD
            0x00 => match insn.code & 0xe0 {
                0x00 => a = k,
                0x20 => match load(data, k, size) {
                    Some(v) => a = v,
                    None => return 0,
                },
                0x40 => match x.checked_add(k).and_then(|off| load(data, off, size)) {
                    Some(v) => a = v,
                    None => return 0,
                },
                0x60 => a = mem[(k & 15) as usize],
                0x80 => a = wire_len,
                _ => return 0,
            },
            // BPF_LDX
            0x01 => match insn.code & 0xe0 {
                0x00 => x = k,
                0x60 => x = mem[(k & 15) as usize],
                0x80 => x = wire_len,
                0xa0 => match load(data, k, 0x10) {
                    Some(v) => x = (v & 0x0f) << 2,
                    None => return 0,
                },
                _ => return 0,
            },
            0x02 => mem[(k & 15) as usize] = a,
            0x03 => mem[(k & 15) as usize] = x,
            // BPF_ALU
            0x04 => {
                let operand = if insn.code & 0x08 != 0 { x } else { k };
                a = match insn.code & 0xf0 {
                    0x00 => a.wrapping_add(operand),
                    0x10 => a.wrapping_sub(operand),
                    0x20 => a.wrapping_mul(operand),
                    0x30 => match a.checked_div(operand) {
                        Some(v) => v,
                        None => return 0,
                    },
                    0x40 => a | operand,
                    0x50 => a & operand,
                    0x60 => a.checked_shl(operand).unwrap_or(0),
                    0x70 => a.checked_shr(operand).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => match a.checked_rem(operand) {
                        Some(v) => v,
                        None => return 0,
                    },
                    0xa0 => a ^ operand,
                    _ => return 0,
                };
            }
            // BPF_JMP
            0x05 => {
                let operand = if insn.code & 0x08 != 0 { x } else { k };
                let taken = match insn.code & 0xf0 {
                    0x00 => {
                        pc = match pc.checked_add(k as usize) {
                            Some(p) => p,
                            None => return 0,
                        };
                        continue;
                    }
                    0x10 => a == operand,
                    0x20 => a > operand,
                    0x30 => a >= operand,
                    0x40 => a & operand != 0,
                    _ => return 0,
                };
                pc += if taken {
                    insn.jt as usize
                } else {
                    insn.jf as usize
                };
            }
            // BPF_RET
            0x06 => {
                return match insn.code & 0x18 {
                    0x00 => k,
                    0x10 => a,
                    _ => 0,
                }
            }
            // BPF_MISC
            _ => match insn.code & 0xf8 {
                0x00 => x = a,
                0x80 => a = x,
                _ => return 0,
            },
        }
    }
    0
}

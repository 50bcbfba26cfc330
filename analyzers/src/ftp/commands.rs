//! Pairing replies with pending commands as Zeek's ftp scripts do
//! (base/protocols/ftp/utils-commands.zeek: `cmd_reply_code`, `get_pending_cmd`).

use netpac_runtime::zeek::Time;

/// Zeek's `FTP::CmdArg`.
#[derive(Debug, Clone)]
pub struct CmdArg {
    pub ts: Time,
    pub cmd: Vec<u8>,
    pub arg: Vec<u8>,
    pub seq: u64,
    pub cwd_consumed: bool,
}

/// The reply codes RFC 959 and its extensions allow for each command
/// (`FTP::cmd_reply_code`), with the unexpected pairs Zeek lists as code 0.
const CMD_REPLY_CODES: &[(&str, &[u64])] = &[
    ("<init>", &[120, 220, 421, 0]),
    ("USER", &[230, 331, 332, 421, 530, 500, 501]),
    ("PASS", &[230, 202, 332, 421, 530, 500, 501, 503]),
    ("ACCT", &[230, 202, 421, 530, 500, 501, 503]),
    ("CWD", &[250, 421, 500, 501, 502, 530, 550]),
    ("CDUP", &[200, 250, 421, 500, 501, 502, 530, 550]),
    ("SMNT", &[202, 250, 421, 500, 501, 502, 530, 550]),
    ("REIN", &[120, 220, 421, 500, 502]),
    ("QUIT", &[221, 500, 0]),
    ("PORT", &[200, 421, 500, 501, 530]),
    ("PASV", &[227, 421, 500, 501, 502, 530]),
    ("MODE", &[200, 421, 500, 501, 502, 504, 530]),
    ("TYPE", &[200, 421, 500, 501, 504, 530]),
    ("STRU", &[200, 421, 500, 501, 504, 530]),
    ("ALLO", &[200, 202, 421, 500, 501, 504, 530]),
    ("REST", &[200, 350, 421, 500, 501, 502, 530]),
    (
        "STOR",
        &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501,
            530, 550,
        ],
    ),
    (
        "STOU",
        &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501,
            530, 550,
        ],
    ),
    (
        "RETR",
        &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 530, 550,
        ],
    ),
    (
        "LIST",
        &[
            125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550,
        ],
    ),
    (
        "NLST",
        &[
            125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550,
        ],
    ),
    (
        "APPE",
        &[
            125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501,
            502, 530,
        ],
    ),
    ("RNFR", &[350, 421, 450, 550, 500, 501, 502, 530]),
    ("RNTO", &[250, 421, 532, 553, 500, 501, 502, 503, 530]),
    ("DELE", &[250, 421, 450, 550, 500, 501, 502, 530]),
    ("RMD", &[250, 421, 500, 501, 502, 530, 550]),
    ("MKD", &[257, 421, 500, 501, 502, 530, 550]),
    ("PWD", &[257, 421, 500, 501, 502, 550]),
    ("ABOR", &[225, 226, 421, 500, 501, 502]),
    ("SYST", &[215, 421, 500, 501, 502, 530]),
    ("STAT", &[211, 212, 213, 421, 450, 500, 501, 502, 530]),
    ("HELP", &[200, 211, 214, 421, 500, 501, 502]),
    ("SITE", &[200, 202, 214, 500, 501, 502, 530]),
    ("NOOP", &[200, 421, 500]),
    ("LPRT", &[500, 501, 521]),
    ("FEAT", &[211, 500, 502]),
    ("OPTS", &[200, 451, 501]),
    ("EPSV", &[229, 500, 501]),
    ("EPRT", &[200, 500, 501, 522]),
    ("SIZE", &[213, 500, 501, 550]),
    ("MDTM", &[213, 500, 501, 550]),
    ("MLST", &[150, 226, 250, 500, 501, 550]),
    ("MLSD", &[150, 226, 250, 500, 501, 550]),
    ("CLNT", &[200, 500]),
    ("MACB", &[200, 500, 550]),
    ("<missing>", &[0]),
];

fn expected(cmd: &[u8], code: u64) -> bool {
    CMD_REPLY_CODES
        .iter()
        .any(|(c, codes)| c.as_bytes() == cmd && codes.contains(&code))
}

/// Zeek's `strstr(big, little) > 0`: `little` occurs in `big` (an empty
/// `little` is found at position 1, as Zeek's strstr says).
fn contains(big: &[u8], little: &[u8]) -> bool {
    little.is_empty() || memchr::memmem::find(big, little).is_some()
}

/// `get_pending_cmd`: the pending command that best explains a reply: an
/// allowed code (or 500) scores 100, the command in the message 20, its
/// argument 10; ties go to the oldest. `None` when nothing is pending.
pub fn best_pending<'a>(
    pending: impl Iterator<Item = &'a CmdArg>,
    code: u64,
    msg: &[u8],
) -> Option<&'a CmdArg> {
    let mut best: Option<(i64, &CmdArg)> = None;
    for cmd in pending {
        let mut score = 0;
        if code == 500 || expected(&cmd.cmd, code) {
            score += 100;
        }
        if contains(msg, &cmd.cmd) {
            score += 20;
        }
        if contains(msg, &cmd.arg) {
            score += 10;
        }
        let better = match best {
            None => true,
            Some((s, b)) => score > s || (score == s && b.seq > cmd.seq),
        };
        if better {
            best = Some((score, cmd));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(seq: u64, c: &str, a: &str) -> CmdArg {
        CmdArg {
            ts: Time(0),
            cmd: c.into(),
            arg: a.into(),
            seq,
            cwd_consumed: false,
        }
    }

    #[test]
    fn the_command_whose_codes_fit_wins_then_the_oldest() {
        let p = [cmd(1, "PASV", ""), cmd(2, "RETR", "x"), cmd(3, "RETR", "y")];
        assert_eq!(best_pending(p.iter(), 227, b"Entering").unwrap().seq, 1);
        assert_eq!(best_pending(p.iter(), 226, b"done").unwrap().seq, 2);
        assert_eq!(best_pending(p.iter(), 150, b"Opening y").unwrap().seq, 3);
        assert!(best_pending([].iter(), 200, b"").is_none());
    }
}

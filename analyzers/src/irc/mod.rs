//! IRC: the lines, their weirds and every event in `grammars/irc.npac` and
//! `grammars/irc.evt`; here the two JOIN member lists the grammar cannot zip
//! yet (a channel with the key at the same position) and `irc.log` (`log.rs`).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_irc.rs"));
}
pub mod log;
pub use generated::irc::*;

use netpac_runtime::parse::Pdu;
use netpac_runtime::text::{before, contains, drop_prefix, split_words, word};
use netpac_runtime::zeek::ZString;

/// Zeek's `irc_join_list` is a set: each member once, in the order first seen.
fn push_once(list: &mut Vec<IrcJoinInfo>, info: IrcJoinInfo) {
    let same = |a: &IrcJoinInfo| {
        a.nick == info.nick
            && a.channel == info.channel
            && a.password == info.password
            && a.usermode == info.usermode
    };
    if !list.iter().any(same) {
        list.push(info);
    }
}

/// `JOIN #a,#b key_a`: one member per channel, with the key at its position
/// (empty without one); the nick is the prefix's up to `!`, empty without `!` (IRC.cc).
pub fn join_list(pdu: &Pdu<'_>, prefix: &[u8], params: &[u8]) -> Vec<IrcJoinInfo> {
    let params = drop_prefix(params, b":");
    let nick = if contains(prefix, b"!") {
        pdu.string(before(prefix, b"!"))
    } else {
        ZString::default()
    };
    let mut keys = split_words(word(params, b' ', 1), b',');
    let mut list = Vec::new();
    for channel in split_words(word(params, b' ', 0), b',') {
        let key = keys.next().unwrap_or(&[]);
        let info = IrcJoinInfo {
            nick: nick.clone(),
            channel: pdu.string(channel),
            password: pdu.string(key),
            usermode: ZString::default(),
        };
        push_once(&mut list, info);
    }
    list
}

/// `NJOIN #chan :@@creator,@op,+voiced,plain` (server to server): one member per
/// nick, its mode from the `@@`, `@` or `+` in front (IRC.cc).
pub fn njoin_list(pdu: &Pdu<'_>, params: &[u8]) -> Vec<IrcJoinInfo> {
    let channel = pdu.string(word(params, b' ', 0));
    let users = drop_prefix(word(params, b' ', 1), b":");
    let mut list = Vec::new();
    for user in split_words(users, b',') {
        let (nick, mode): (&[u8], &'static str) = if let Some(n) = user.strip_prefix(b"@@") {
            (n, "creator")
        } else if let Some(n) = user.strip_prefix(b"@") {
            (n, "operator")
        } else if let Some(n) = user.strip_prefix(b"+") {
            (n, "voice")
        } else {
            (user, "none")
        };
        let info = IrcJoinInfo {
            nick: pdu.string(nick),
            channel: channel.clone(),
            password: ZString::default(),
            usermode: ZString::from(mode),
        };
        push_once(&mut list, info);
    }
    list
}

//! The login dialog of Rsh, Rlogin and Telnet: entirely `grammars/login.npac`, which
//! those grammars import (`import login;`) and run on each of their lines.

pub(crate) mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_login.rs"));
}
pub use generated::login::*;

use netpac_runtime::engine::Engine;
use netpac_runtime::zeek::ConnId;

/// The login dialog's state of connection `cid`, for Zeek's `get_login_state` and
/// `set_login_state`: the `dialog` state variable of its Telnet, Rlogin or Rsh analyzer.
fn dialog_of<'e>(engine: &'e mut Engine, cid: &ConnId) -> Option<&'e mut u64> {
    let tag = ["TELNET", "RLOGIN", "RSH"].into_iter().find(|t| engine.analyzer_mut(cid, t).is_some())?;
    let any = engine.analyzer_mut(cid, tag)?.as_any_mut()?;
    match tag {
        "TELNET" => any.downcast_mut::<crate::telnet::TELNETAnalyzer>().map(|a| &mut a.state.dialog),
        "RLOGIN" => any.downcast_mut::<crate::rlogin::RLOGINAnalyzer>().map(|a| &mut a.state.dialog),
        _ => any.downcast_mut::<crate::rsh::RSHAnalyzer>().map(|a| &mut a.state.dialog),
    }
}

/// Zeek's `get_login_state(cid)`: where the login dialog of connection `cid` stands,
/// 0 authenticating, 1 logged in, 2 skipped, 3 confused (`LOGIN_STATE_*`); `None`
/// when the connection has no Telnet, Rlogin or Rsh analyzer. (Zeek 8.2's own
/// function looks for an analyzer named "Login", which never runs, and so always
/// returns false.)
pub fn get_login_state(engine: &mut Engine, cid: &ConnId) -> Option<u64> {
    dialog_of(engine, cid).map(|d| *d)
}

/// Zeek's `set_login_state(cid, new_state)`: puts the login dialog of connection
/// `cid` in `new_state` (0 to 3, as [`get_login_state`] reports them; 2 stops its
/// login events). False when the connection has no such analyzer or the state is
/// not one of those.
pub fn set_login_state(engine: &mut Engine, cid: &ConnId, new_state: u64) -> bool {
    if new_state > 3 {
        return false;
    }
    match dialog_of(engine, cid) {
        Some(d) => {
            *d = new_state;
            true
        }
        None => false,
    }
}

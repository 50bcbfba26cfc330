//! XMPP: entirely `grammars/xmpp.npac` and `grammars/xmpp.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_xmpp.rs"));
}
pub use generated::xmpp::*;

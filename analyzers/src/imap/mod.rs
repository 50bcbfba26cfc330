//! IMAP: entirely `grammars/imap.npac` and `grammars/imap.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_imap.rs"));
}
pub use generated::imap::*;

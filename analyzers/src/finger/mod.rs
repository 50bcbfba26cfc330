//! Finger: entirely `grammars/finger.npac` and `grammars/finger.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_finger.rs"));
}
pub use generated::finger::*;

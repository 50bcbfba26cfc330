//! MySQL: entirely `grammars/mysql.npac` and `grammars/mysql.evt` (the packets
//! and the state machine that says what each is); `mysql.log` (`log.rs`) is
//! built from the mysql_* events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_mysql.rs"));
}
pub use generated::mysql::*;
pub mod log;

//! What one connection costs before it carries data (a SYN flood keeps a
//! million of these): the structures the engine allocates for it stay within
//! these bounds. Growing one is a decision, not an accident.

use netpac_runtime::conn::tcp::TcpEndpoint;
use netpac_runtime::conn::{Attached, Conn, TcpConn};
use std::mem::size_of;

#[test]
fn a_connection_without_data_stays_small() {
    // Boxed once per connection. 472: its creation order (8 bytes), which
    // keeps uids, timer order and the end-of-run drain the same in a
    // sharded run.
    assert!(size_of::<Conn>() <= 472, "Conn is {} bytes", size_of::<Conn>());
    // Boxed once per TCP connection; the reassemblers are built on the first
    // data or acknowledgement, payload detection on the first payload.
    assert!(size_of::<TcpConn>() <= 336, "TcpConn is {} bytes", size_of::<TcpConn>());
    assert!(size_of::<TcpEndpoint>() <= 136, "TcpEndpoint is {} bytes", size_of::<TcpEndpoint>());
    assert!(size_of::<Attached>() <= 56, "Attached is {} bytes", size_of::<Attached>());
}

//! SSL/TLS: the records, handshake messages and events are `grammars/ssl.npac`
//! and `grammars/ssl.evt`; `ssl.log` is built from the events in `log.rs`, with
//! the names of `consts/` (Zeek's consts.zeek tables).

pub mod consts;
pub mod log;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ssl.rs"));
}
pub use generated::ssl::*;

use netpac_runtime::parse::Pdu;
use netpac_runtime::zeek::ZString;

/// A session id as Zeek's hello events carry it (binpac's `to_string_val` of a
/// 32-byte array): zero-padded to 32 bytes, and 32 zero bytes when longer.
pub fn padded_session_id(_pdu: &Pdu<'_>, id: &[u8]) -> ZString {
    let mut out = [0u8; 32];
    if id.len() <= 32 {
        out[..id.len()].copy_from_slice(id);
    }
    ZString::from(out.to_vec())
}

/// Zeek's `set_ssl_established(c)`: the SSL analyzer of connection `cid` takes
/// both directions as encrypted and the connection as established, without an
/// `ssl_established` event (SSL.cc's `StartEncryption`). False when the connection
/// has no SSL analyzer.
pub fn set_ssl_established(engine: &mut netpac_runtime::engine::Engine, cid: &netpac_runtime::zeek::ConnId) -> bool {
    let Some(a) = engine.analyzer_mut(cid, "SSL") else {
        return false;
    };
    match a.as_any_mut().and_then(|a| a.downcast_mut::<SSLAnalyzer>()) {
        Some(ssl) => {
            start_encryption(&mut ssl.state);
            true
        }
        None => false,
    }
}

/// Both directions encrypted and the connection established, without an event.
pub fn start_encryption(state: &mut SSLState) {
    state.client_encrypted = 1;
    state.server_encrypted = 1;
    state.established = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_32_bytes() {
        let pdu = Pdu::new(b"");
        let short = padded_session_id(&pdu, &[1, 2]);
        assert_eq!(short.as_bytes().len(), 32);
        assert_eq!(&short.as_bytes()[..3], &[1, 2, 0]);
        assert_eq!(padded_session_id(&pdu, &[7; 33]).as_bytes(), &[0; 32]);
    }
}

//! GSSAPI with SPNEGO: `gssapi_neg_result` and the hand-off of Kerberos tokens to
//! the KRB analyzer, from tokens these tests build, through the engine. Zeek runs
//! GSSAPI under SMB and DCE-RPC; until netpac has those, the analyzer is put on a
//! port (`--analyzer-port GSSAPI=PORT`), each segment one token.

mod ber_support;
mod common;
mod lines_support;

use ber_support::*;
use common::*;
use lines_support::{orig, resp, session};
use netpac_runtime::zeek::Proto;

const SPNEGO: &str = "1.3.6.1.5.5.2";
const KRB5: &str = "1.2.840.113554.1.2.2";

fn ticket() -> Vec<u8> {
    let sname = seq(&[ctx(0, int(2)), ctx(1, seq(&[gstr(b"cifs"), gstr(b"fs.example.org")]))]);
    let enc = seq(&[ctx(0, int(18)), ctx(1, int(4)), ctx(2, octets(b"SERVICE-TICKET"))]);
    app(1, seq(&[ctx(0, int(5)), ctx(1, gstr(b"EXAMPLE.ORG")), ctx(2, sname), ctx(3, enc)]))
}

/// RFC 1964's framing of a Kerberos message: [APPLICATION 0], the OID, a token id.
fn krb_blob(token_id: [u8; 2], msg: Vec<u8>) -> Vec<u8> {
    tlv(0x60, &[oid(KRB5), token_id.to_vec(), msg].concat())
}

fn neg_token_init(mech_token: Vec<u8>) -> Vec<u8> {
    let init = seq(&[ctx(0, seq(&[oid(KRB5)])), ctx(2, octets(&mech_token))]);
    tlv(0x60, &[oid(SPNEGO), ctx(0, init)].concat())
}

fn neg_token_resp(state: u8, response_token: Option<Vec<u8>>) -> Vec<u8> {
    let mut parts = vec![ctx(0, tlv(0x0a, &[state])), ctx(1, oid(KRB5))];
    if let Some(t) = response_token {
        parts.push(ctx(2, octets(&t)));
    }
    ctx(1, seq(&parts))
}

fn events(frames: &[Frame]) -> Vec<String> {
    let mut registry = netpac_analyzers::registry();
    registry.register_port("GSSAPI", Proto::Tcp, 4445).unwrap();
    let out = run_with(frames, netpac_runtime::engine::Config::default(), registry, None);
    out.events
        .iter()
        .filter(|e| {
            let n = e["event"].as_str().unwrap();
            n.starts_with("gssapi") || n.starts_with("krb_") || n.starts_with("protocol_")
        })
        .map(|e| {
            let mut args = e["args"].as_object().unwrap().clone();
            args.remove("c");
            format!("{} {}", e["event"].as_str().unwrap(), serde_json::Value::Object(args))
        })
        .collect()
}

/// A client's NegTokenInit with a Kerberos AP-REQ, the server's accepting
/// NegTokenResp with the AP-REP, then a rejection, an NTLM token (no NTLM analyzer
/// yet: nothing), a MIC token and a NegTokenResp field Zeek has no case for.
#[test]
fn spnego_results_and_kerberos_tokens() {
    let ap_req = app(14, seq(&[ctx(0, int(5)), ctx(1, int(14)), ctx(2, bits(&[0x20, 0, 0, 0])), ctx(3, ticket()), ctx(4, seq(&[ctx(0, int(18)), ctx(2, octets(b"AUTH"))]))]));
    let ap_rep = app(15, seq(&[ctx(0, int(5)), ctx(1, int(15)), ctx(2, seq(&[ctx(0, int(18)), ctx(2, octets(b"REP"))]))]));
    let bad = ctx(1, seq(&[ctx(7, int(1))]));
    let pieces = [
        orig(&neg_token_init(krb_blob([1, 0], ap_req))),
        resp(&neg_token_resp(0, Some(krb_blob([2, 0], ap_rep)))),
        resp(&neg_token_resp(2, None)),
        orig(&neg_token_init(b"NTLMSSP\0\x01\0\0\0".to_vec())),
        orig(&[0x04, 0x04, 0x05, 0xff, 0, 0, 0, 0]),
        resp(&bad),
    ];
    let client = Host::v4("10.0.0.2", 50123);
    let server = Host::v4("10.0.0.1", 4445);
    insta::assert_snapshot!(events(&session(1.0, client, server, &pieces)).join("\n"));
}

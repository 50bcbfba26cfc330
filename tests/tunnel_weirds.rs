//! The weirds of Zeek's UDP tunnel analyzers about their own headers, and
//! the `_in_tunnel` names of packet-level weirds inside a tunnel. Each run
//! here was replayed through Zeek 8.2.2 (`NETPAC_TEST_PCAPS=DIR`), which wrote
//! the same weird.log rows.

mod common;
use common::*;

/// A run through every analyzer netpac has: the tunnels with events of
/// their own (Teredo, GTPv1, AYIYA) are grammars of the analyzers crate.
fn run_all(frames: &[Frame], config: Config) -> Output {
    run_with(frames, config, netpac_analyzers::registry(), None)
}

/// weird.log rows as `name addl source`, and the conn.log rows' service.
fn weirds_and_services(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let out = run_all(frames, Config::default());
    let rows = |log: &str, pick: &dyn Fn(&[&str]) -> String| -> Vec<String> {
        log.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| pick(&l.split('\t').collect::<Vec<_>>()))
            .collect()
    };
    (
        rows(&out.weird_log, &|v| format!("{} {} {}", v[6], v[7], v[10])),
        rows(&out.conn_log, &|v| format!("{}/{}", v[5], v[7])),
    )
}

/// Zeek 8.2.2 raises no weird for these on Teredo's port: its Teredo parser
/// only sees what protocol detection accepted.
#[test]
fn broken_teredo_headers_are_no_teredo() {
    let (client, relay) = (Host::v4("10.0.0.2", 40000), Host::v4("10.0.0.1", 3544));
    let ip6 = udp(1.0, Host::v6("2001::1", 1), Host::v6("2001::2", 2), b"x");
    let ip6 = &ip6.data[14..];
    let cases: [&[u8]; 4] = [
        b"\x00",
        b"\x00\x00\x01\x02",
        b"\x00\x01\x05\x00abc",
        &ip6[..39],
    ];
    for (i, payload) in cases.iter().enumerate() {
        let (weirds, services) =
            weirds_and_services(&[udp(1.0, client.port(40000 + i as u16), relay, payload)]);
        assert!(weirds.is_empty(), "{payload:?}: {weirds:?}");
        assert_eq!(services, ["3544/-"]);
    }
}

#[test]
fn vxlan_and_geneve_headers_without_a_packet() {
    let (a, b) = (Host::v4("10.0.0.1", 5555), Host::v4("10.0.0.2", 4789));
    // VXLAN and Geneve confirm a good header before finding nothing after it.
    let (weirds, services) = weirds_and_services(&[udp(1.0, a, b, &[0x08, 0, 0, 0, 0, 0, 1, 0])]);
    assert_eq!(weirds, ["vxlan_empty_packet - VXLAN"]);
    assert_eq!(services, ["4789/vxlan"]);
    let geneve = b.port(6081);
    let (weirds, services) =
        weirds_and_services(&[udp(1.0, a, geneve, &[0, 0, 0x65, 0x58, 0, 0, 1, 0])]);
    assert_eq!(weirds, ["geneve_empty_packet - GENEVE"]);
    assert_eq!(services, ["6081/geneve"]);
    let (weirds, services) = weirds_and_services(&[udp(
        1.0,
        a,
        geneve,
        &[0x80, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2],
    )]);
    assert_eq!(weirds, ["geneve_invalid_version 2 GENEVE"]);
    assert_eq!(services, ["6081/-"]);
}

#[test]
fn packet_weirds_inside_a_tunnel_are_named_so() {
    let (a, b) = (Host::v4("10.0.0.1", 5555), Host::v4("10.0.0.2", 4789));
    // VXLAN carrying an Ethernet frame with a truncated GRE packet inside.
    let gre = raw_ip4(
        1.0,
        Host::v4("192.168.0.1", 0),
        Host::v4("192.168.0.2", 0),
        47,
        &[0, 0],
    );
    let payload = [&[0x08u8, 0, 0, 0, 0, 0, 1, 0][..], &gre.data].concat();
    let (weirds, _) = weirds_and_services(&[udp(1.0, a, b, &payload)]);
    assert_eq!(weirds, ["truncated_GRE_in_tunnel - GRE"]);
}

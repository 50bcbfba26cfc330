//! ICMPv6 multicast listener discovery (MLD, RFC 2710 and RFC 3810) and
//! neighbor-discovery options as today's Zeek ICMP analyzer reads them:
//! the `icmpv6_mld_*` events and the weirds of messages cut short.

mod common;
use common::*;

fn weird_names(out: &Output) -> Vec<String> {
    out.weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(6).unwrap_or_default().to_string())
        .collect()
}

fn hosts() -> (Host, Host) {
    (Host::v6("fe80::1", 0), Host::v6("ff02::16", 0))
}

fn addr(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

/// An MLDv2 multicast address record.
fn record(kind: u8, group: &str, sources: &[&str], aux: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, (aux.len() / 4) as u8];
    r.extend_from_slice(&(sources.len() as u16).to_be_bytes());
    r.extend_from_slice(&addr(group));
    for s in sources {
        r.extend_from_slice(&addr(s));
    }
    r.extend_from_slice(aux);
    r
}

fn mld_events() -> Vec<&'static str> {
    vec![
        "icmpv6_mld_report_v1",
        "icmpv6_mld_done_v1",
        "icmpv6_mld_report_v2",
        "icmp_sent",
    ]
}

#[test]
fn mld_reports_raise_their_events() {
    let (host, routers) = hosts();
    let v2 = [
        record(4, "ff05::1:3", &[], b""),
        record(
            1,
            "ff0e::101",
            &["2001:db8::7", "2001:db8::8"],
            &[1, 2, 3, 4],
        ),
    ]
    .concat();
    let out = run_with(
        &[
            icmp6(1.0, host, routers, 131, 0, [0; 4], &addr("ff02::1:ff00:1")),
            icmp6(1.1, host, routers, 132, 0, [0; 4], &addr("ff02::1:ff00:1")),
            icmp6(1.2, host, routers, 143, 0, [0, 0, 0, 2], &v2),
        ],
        Config::default(),
        Registry::default(),
        Some(mld_events()),
    );
    assert!(weird_names(&out).is_empty(), "{}", out.weird_log);
    let events: Vec<_> = out
        .events
        .iter()
        .map(|e| (e["event"].clone(), e["args"].clone()))
        .collect();
    let args: Vec<_> = events
        .iter()
        .map(|(name, args)| {
            let mut a = args.clone();
            a.as_object_mut().unwrap().remove("c");
            (name.clone(), a)
        })
        .collect();
    insta::assert_json_snapshot!(args);
}

#[test]
fn mld_messages_cut_short_are_weird() {
    let (host, routers) = hosts();
    let whole = record(2, "ff05::2", &["2001:db8::1"], b"");
    let cut = record(1, "ff05::3", &["2001:db8::2", "2001:db8::3"], b"");
    let run_one = |frame: Frame| {
        let out = run_with(
            &[frame],
            Config::default(),
            Registry::default(),
            Some(mld_events()),
        );
        let names: Vec<String> = out
            .events
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect();
        (weird_names(&out), names, out)
    };
    // A v1 message without its whole multicast address.
    let (weirds, events, _) = run_one(icmp6(1.0, host, routers, 131, 0, [0; 4], &[0xff, 2, 0, 0]));
    assert_eq!(weirds, ["truncated_ICMPv6_MLDv1"]);
    assert!(events.is_empty(), "{events:?}");
    // Fewer than 20 bytes per announced record: no event.
    let (weirds, events, _) = run_one(icmp6(1.0, host, routers, 143, 0, [0, 0, 0, 3], &whole));
    assert_eq!(weirds, ["truncated_ICMPv6_MLDv2"]);
    assert!(events.is_empty(), "{events:?}");
    // Enough for the count, but the second record's sources are cut: the
    // first record is still reported.
    let body = [whole.clone(), cut[..cut.len() - 8].to_vec()].concat();
    let (weirds, events, out) = run_one(icmp6(1.0, host, routers, 143, 0, [0, 0, 0, 2], &body));
    assert_eq!(weirds, ["truncated_ICMPv6_MLDv2_record"]);
    assert_eq!(events, ["icmpv6_mld_report_v2"]);
    let groups = &out.events[0]["args"]["groups"];
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    assert_eq!(groups[0]["multicast_addr"], "ff05::2");
}

#[test]
fn neighbor_discovery_options_cut_short_are_weird_when_decoded() {
    let asker = Host::v6("fe80::1", 0);
    let all_routers = Host::v6("ff02::2", 0);
    let solicit = |options: &[u8]| icmp6(1.0, asker, all_routers, 133, 0, [0; 4], options);
    let lla = [1, 1, 2, 0, 0, 0, 0, 1];
    let cases: [(&[u8], &[&str], usize); 4] = [
        (&lla, &[], 1),
        // An option of length 0 ends the list.
        (
            &[&lla[..], &[1, 0, 9, 9, 9, 9, 9, 9]].concat(),
            &["zero_length_ICMPv6_ND_option"],
            1,
        ),
        // A single byte after the last option.
        (
            &[&lla[..], &[1]].concat(),
            &["truncated_ICMPv6_ND_options"],
            1,
        ),
        // An option longer than the message is kept, as payload.
        (&[&lla[..], &[1, 2, 5, 5]].concat(), &[], 2),
    ];
    for (options, want, count) in cases {
        let out = run_with(
            &[solicit(options)],
            Config::default(),
            Registry::default(),
            Some(vec!["icmp_router_solicitation"]),
        );
        assert_eq!(weird_names(&out), want, "{options:?}");
        let listed = out.events[0]["args"]["options"].as_array().unwrap();
        assert_eq!(listed.len(), count, "{options:?}: {listed:?}");
    }
    // Nobody asked for the event: Zeek does not read the options at all.
    let out = run_with(
        &[solicit(&[&lla[..], &[1, 0]].concat())],
        Config::default(),
        Registry::default(),
        Some(vec!["new_connection"]),
    );
    assert!(weird_names(&out).is_empty(), "{}", out.weird_log);
}

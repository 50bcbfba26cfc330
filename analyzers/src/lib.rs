//! netpac's protocol analyzers, one folder per protocol: the code generated
//! from its grammar (`grammars/<proto>.npac`, `.evt`), the glue a grammar
//! cannot say yet, and its log, built from its events.
#![forbid(unsafe_code)]

// Grammars name their extern helpers by crate path (`netpac_analyzers::dns::Name`),
// and the generated code lives in this crate too.
extern crate self as netpac_analyzers;

pub mod arp;
pub mod asn1;
pub mod ayiya;
pub mod bittorrent;
pub mod bittorrent_tracker;
pub mod dhcp;
pub mod dns;
pub mod file;
pub mod finger;
pub mod ftp;
pub mod gnutella;
pub mod gssapi;
pub mod gtpv1;
pub mod http;
pub mod ident;
pub mod imap;
pub mod irc;
pub mod krb;
pub mod login;
pub mod mime;
pub mod modbus;
pub mod mysql;
pub mod ntp;
pub mod pop3;
pub mod quic;
pub mod radius;
pub mod rdp;
pub mod rfb;
pub mod rlogin;
pub mod rsh;
pub mod sip;
pub mod smtp;
pub mod snmp;
pub mod socks;
pub mod ssh;
pub mod ssl;
pub mod syslog;
pub mod telnet;
pub mod teredo;
pub mod websocket;
pub mod x509;
pub mod xmpp;

use netpac_runtime::analyzer::Registry;
use netpac_runtime::engine::Config;
use netpac_runtime::event::{Events, PlacedSink};

/// Every analyzer netpac knows, for the engine to attach by port, signature or EtherType.
pub fn registry() -> Registry {
    let mut reg = Registry::default();
    arp::register(&mut reg);
    ayiya::register(&mut reg);
    bittorrent::register(&mut reg);
    bittorrent_tracker::register(&mut reg);
    gnutella::register(&mut reg);
    dhcp::register(&mut reg);
    ntp::register(&mut reg);
    radius::register(&mut reg);
    rdp::register(&mut reg);
    rfb::register(&mut reg);
    sip::register(&mut reg);
    syslog::register(&mut reg);
    teredo::register(&mut reg);
    dns::register(&mut reg);
    file::register(&mut reg);
    finger::register(&mut reg);
    rsh::register(&mut reg);
    rlogin::register(&mut reg);
    telnet::register(&mut reg);
    ftp::register(&mut reg);
    gssapi::register(&mut reg);
    gtpv1::register(&mut reg);
    http::register(&mut reg);
    ident::register(&mut reg);
    imap::register(&mut reg);
    irc::register(&mut reg);
    krb::register(&mut reg);
    modbus::register(&mut reg);
    mysql::register(&mut reg);
    pop3::register(&mut reg);
    quic::register(&mut reg);
    smtp::register(&mut reg);
    snmp::register(&mut reg);
    socks::register(&mut reg);
    ssh::register(&mut reg);
    ssl::register(&mut reg);
    websocket::register(&mut reg);
    xmpp::register(&mut reg);
    reg.add_file_analyzer(x509::FILE_ANALYZER);
    reg
}

/// Every event netpac can raise: the analyzers' events plus the
/// connection-level events the runtime raises itself.
pub fn event_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for list in [
        arp::EVENT_NAMES,
        ayiya::EVENT_NAMES,
        bittorrent::EVENT_NAMES,
        bittorrent_tracker::EVENT_NAMES,
        gnutella::EVENT_NAMES,
        dhcp::EVENT_NAMES,
        ntp::EVENT_NAMES,
        radius::EVENT_NAMES,
        rdp::EVENT_NAMES,
        rfb::EVENT_NAMES,
        sip::EVENT_NAMES,
        syslog::EVENT_NAMES,
        teredo::EVENT_NAMES,
        dns::EVENT_NAMES,
        file::EVENT_NAMES,
        finger::EVENT_NAMES,
        rsh::EVENT_NAMES,
        rlogin::EVENT_NAMES,
        telnet::EVENT_NAMES,
        ftp::EVENT_NAMES,
        gssapi::EVENT_NAMES,
        gtpv1::EVENT_NAMES,
        http::EVENT_NAMES,
        ident::EVENT_NAMES,
        imap::EVENT_NAMES,
        irc::EVENT_NAMES,
        krb::EVENT_NAMES,
        modbus::EVENT_NAMES,
        mysql::EVENT_NAMES,
        pop3::EVENT_NAMES,
        quic::EVENT_NAMES,
        smtp::EVENT_NAMES,
        snmp::EVENT_NAMES,
        socks::EVENT_NAMES,
        ssh::EVENT_NAMES,
        ssl::EVENT_NAMES,
        websocket::EVENT_NAMES,
        xmpp::EVENT_NAMES,
        x509::EVENT_NAMES,
    ] {
        names.extend_from_slice(list);
    }
    names.extend(
        netpac_runtime::conn::events::ENGINE_EVENTS
            .iter()
            .map(|id| id.name()),
    );
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

/// Subscribes every log to `events`: the engine's (`conn.log`, `weird.log`, `tunnel.log`)
/// and the protocols' (`dns.log`, `http.log`, `ftp.log`, `modbus.log`, `mysql.log`, `irc.log`, `kerberos.log`, `smtp.log`, the UDP services', `sip.log`, `snmp.log`, `ssh.log`, `ssl.log`, `x509.log`). They
/// write to the `Logs` the events were made with.
pub fn subscribe_logs(events: &mut Events, config: &Config) {
    for s in log_sinks(config) {
        events.subscribe(s.sink);
    }
}

/// The sinks of [`subscribe_logs`], in order, each placed for a sharded run:
/// those whose memory spans connections (weird.log's, DHCP's joins by
/// transaction id, IRC's expected DCC transfers, x509.log's certificates
/// logged lately) run once, in the merge.
pub fn log_sinks(config: &Config) -> Vec<PlacedSink> {
    let (mut sinks, tunnels) = netpac_runtime::engine::log_sinks(config);
    let per_worker = PlacedSink::per_worker;
    sinks.extend([
        per_worker(dns::log::DnsLogger::sink()),
        per_worker(http::log::HttpLogger::sink(tunnels.clone())),
        per_worker(ftp::log::FtpLogger::sink()),
        per_worker(modbus::log::ModbusLogger::sink()),
        per_worker(mysql::log::MysqlLogger::sink()),
        per_worker(quic::log::QuicLogger::sink()),
        PlacedSink::global(irc::log::IrcLogger::sink()),
        per_worker(krb::log::KrbLogger::sink()),
        per_worker(smtp::log::SmtpLogger::sink()),
        per_worker(socks::log::SocksLogger::sink(tunnels)),
        PlacedSink::global(dhcp::log::DhcpLogger::sink()),
        per_worker(ntp::log::NtpLogger::sink()),
        per_worker(radius::log::RadiusLogger::sink()),
        per_worker(snmp::log::SnmpLogger::sink()),
        per_worker(rdp::log::RdpLogger::sink()),
        per_worker(rfb::log::RfbLogger::sink()),
        per_worker(syslog::log::SyslogLogger::sink()),
        per_worker(sip::log::SipLogger::sink()),
        per_worker(ssh::log::SshLogger::sink()),
        per_worker(ssl::log::SslLogger::sink()),
        per_worker(websocket::log::WebSocketLogger::sink()),
        PlacedSink::global(x509::log::X509Logger::sink()),
    ]);
    sinks
}

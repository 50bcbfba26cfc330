//! Wire formats below the analyzers, read in place (smoltcp-style views:
//! `new_checked`/`check_len`, then field accessors): IPv4, IPv6 and its
//! extension headers, TCP, UDP, ICMP, GRE, and the Internet checksum, shared
//! by the decoder, the engine and the UDP tunnels.

pub mod checksum;
pub mod gre;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod udp;

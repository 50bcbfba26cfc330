//! ARP (`grammars/arp.npac`, `grammars/arp.evt`). The glue here: Zeek's `bad_arp` reports addresses of packets whose length
//! fields are not Ethernet/IPv4. It reads a 6-byte hardware and a 4-byte
//! protocol address at the offsets the lengths give, which may overlap each
//! other or run past the packet; here they are read within the frame's
//! payload only, missing bytes as zeros.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_arp.rs"));
}
pub use generated::arp::*;

use netpac_runtime::parse::{mac_string, Pdu};
use netpac_runtime::zeek::ZString;
use std::net::{IpAddr, Ipv4Addr};

/// `N` bytes of the PDU at `off`, zero-filled past its end.
fn bytes_at<const N: usize>(pdu: &Pdu<'_>, off: u64) -> [u8; N] {
    let mut out = [0u8; N];
    let data = pdu.data();
    if let Ok(start) = usize::try_from(off) {
        if start < data.len() {
            let avail = &data[start..data.len().min(start.saturating_add(N))];
            out[..avail.len()].copy_from_slice(avail);
        }
    }
    out
}

/// `mac_at(off)` in `arp.evt`: the six bytes at `off` as Zeek prints a MAC address.
pub fn mac_at(pdu: &Pdu<'_>, off: u64) -> ZString {
    mac_string(&bytes_at::<6>(pdu, off))
}

/// `ipv4_at(off)` in `arp.evt`: the four bytes at `off` as an IPv4 address.
pub fn ipv4_at(pdu: &Pdu<'_>, off: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(bytes_at::<4>(pdu, off)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_past_the_payload_are_zero_filled() {
        let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let pdu = Pdu::new(&data);
        assert_eq!(mac_at(&pdu, 4).as_bytes(), b"05:06:07:08:00:00");
        assert_eq!(ipv4_at(&pdu, 6), "7.8.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(
            ipv4_at(&pdu, u64::MAX),
            "0.0.0.0".parse::<IpAddr>().unwrap()
        );
    }
}

//! IP address ranges: which addresses are special (loopback, private, …) and the ranges granted
//! with `--allow-private`. See the [policy documentation](super) for how they are used.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::{Error, Result};

/// An address range granted with `--allow-private`: `10.0.0.0/8`, `fe80::/10`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// The first address of the range (host bits cleared).
    base: IpAddr,
    /// The prefix length in bits.
    prefix: u8,
}

impl AddrRange {
    /// Parses `ADDR` or `ADDR/PREFIX`; host bits below the prefix must be zero.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("address range {text:?}: {why}"));
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let base: IpAddr = addr
            .parse()
            .map_err(|_| bad("expected an IPv4 or IPv6 address such as 10.0.0.0/8 or fe80::/10"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(&format!("the prefix must be a number from 0 to {max}")))?,
        };
        let range = AddrRange { base, prefix };
        if range.masked(base) != bits(base) {
            return Err(bad("bits are set below the prefix length"));
        }
        Ok(range)
    }

    /// Whether `addr` lies in the range; an IPv4-mapped IPv6 address counts as its IPv4 address.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        addr.is_ipv4() == self.base.is_ipv4() && self.masked(addr) == bits(self.base)
    }

    /// `addr`'s bits with everything below the prefix cleared.
    fn masked(&self, addr: IpAddr) -> u128 {
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        bits(addr) & mask
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The address `url`'s host names literally, if it is an IP address rather than a name.
///
/// The `url` crate keeps the host of a non-special scheme (`tcp`, `tls`, `dns`) as text even when it
/// is an IPv4 address, so the text is parsed here as well.
pub fn host_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(a) => Some(IpAddr::V4(a)),
        Host::Ipv6(a) => Some(IpAddr::V6(a)),
        Host::Domain(d) => d
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix(']'))
            .unwrap_or(d)
            .parse()
            .ok(),
    }
}

/// An address as a number (IPv4 in the low 32 bits).
fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it reaches.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of special range `addr` lies in, or `None` for an ordinary (public) address.
///
/// IPv4: 0.0.0.0/8 unspecified, 127.0.0.0/8 loopback, 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16
/// private, 100.64.0.0/10 shared (carrier-grade NAT), 169.254.0.0/16 link-local, 224.0.0.0/4
/// multicast, 240.0.0.0/4 reserved (with the broadcast address). IPv6: `::` unspecified, `::1`
/// loopback, fc00::/7 and fec0::/10 private, fe80::/10 link-local, ff00::/8 multicast, the rest of
/// ::/96 reserved; an IPv4 address embedded in ::ffff:0:0/96 (mapped), 64:ff9b::/96 (NAT64) or
/// 2002::/16 (6to4) is judged as that IPv4 address.
pub fn special_address(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => special_v6(a),
    }
}

/// [`special_address`] for IPv4.
fn special_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [b0, b1, ..] = a.octets();
    match (b0, b1) {
        (0, _) => Some("unspecified"),
        (127, _) => Some("loopback"),
        (10, _) | (192, 168) => Some("private"),
        (172, 16..=31) => Some("private"),
        (100, 64..=127) => Some("shared (carrier-grade NAT)"),
        (169, 254) => Some("link-local"),
        (224..=239, _) => Some("multicast"),
        (240..=255, _) => Some("reserved"),
        _ => None,
    }
}

/// [`special_address`] for IPv6.
fn special_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if a.is_unspecified() {
        Some("unspecified")
    } else if a.is_loopback() {
        Some("loopback")
    } else if let Some(v4) = a.to_ipv4_mapped() {
        special_v4(v4)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        special_v4(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        special_v4(embedded(s[1], s[2]))
    } else if s[..6] == [0; 6] {
        Some("reserved")
    } else if s[0] & 0xfe00 == 0xfc00 || s[0] & 0xffc0 == 0xfec0 {
        Some("private")
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if s[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_classified() {
        let cases = [
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("100.128.0.1", None),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("reserved")),
            ("8.8.8.8", None),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("2002:7f00:1::", Some("loopback")),
            ("::127.0.0.1", Some("reserved")),
            ("fc00::1", Some("private")),
            ("fd12:3456::1", Some("private")),
            ("fec0::1", Some("private")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("2001:4860:4860::8888", None),
        ];
        for (text, kind) in cases {
            assert_eq!(special_address(addr(text)), kind, "{text}");
        }
    }

    #[test]
    fn address_ranges_parse_and_match() {
        let r = AddrRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(addr("10.255.0.1")));
        assert!(r.contains(addr("::ffff:10.0.0.1")));
        assert!(!r.contains(addr("11.0.0.1")));
        assert!(!r.contains(addr("::a00:1")));
        assert_eq!(r.to_string(), "10.0.0.0/8");
        let one = AddrRange::parse("127.0.0.1").unwrap();
        assert!(one.contains(addr("127.0.0.1")));
        assert!(!one.contains(addr("127.0.0.2")));
        let v6 = AddrRange::parse("fe80::/10").unwrap();
        assert!(v6.contains(addr("fe80::1")));
        assert!(!v6.contains(addr("fec0::1")));
        assert!(AddrRange::parse("0.0.0.0/0")
            .unwrap()
            .contains(addr("1.2.3.4")));
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "::/129",
            "host",
            "10/8",
            "10.0.0.0/x",
            "",
        ] {
            assert!(AddrRange::parse(bad).is_err(), "{bad}");
        }
    }
}
